//! Documentation that is written once and repeated: the copies must not drift.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The README repeats the table of environment variables of `pillar/ENVIRONMENT.md`
/// (which the API docs include); a change to one must be made to the other.
#[test]
fn the_readme_repeats_the_environment_table_exactly() {
    let table = include_str!("../pillar/ENVIRONMENT.md");
    let readme = include_str!("../README.md");
    assert!(
        readme.contains(table),
        "README.md's table of environment variables differs from pillar/ENVIRONMENT.md; \
         copy the file's table into the README"
    );
}
