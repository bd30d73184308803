//! Every file in `examples/` is an `[[example]]` target, so CI builds and lints it and
//! `cargo run --example <name>` (each file's own header) works.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn every_file_in_examples_is_a_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let declared: BTreeSet<String> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("path = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|path| *path != "src/lib.rs")
        .map(str::to_owned)
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    let missing: Vec<_> = files.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "examples/{missing:?} not declared as [[example]] in examples/Cargo.toml: they would \
         never be compiled"
    );
    let stale: Vec<_> = declared.difference(&files).collect();
    assert!(
        stale.is_empty(),
        "[[example]] paths with no file: {stale:?}"
    );
    // Each target's name is its file's, so `cargo run --example <file stem>` works.
    for file in &files {
        let stem = file.trim_end_matches(".rs");
        assert!(
            manifest.contains(&format!("name = \"{stem}\"\npath = \"{file}\"")),
            "examples/{file} must be the [[example]] named `{stem}`"
        );
    }
}
