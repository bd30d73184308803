//! Integration tests of the `pillar` workspace live beside this file; this library is
//! empty.
