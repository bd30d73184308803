//! The examples are the `[[example]]` targets beside this file; this library is empty.
