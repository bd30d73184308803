//! The documentation: copies that must not drift, links that must lead somewhere, and a
//! README that stays the first hour (its Rust code is compiled as doctests of
//! `pillar-ai-server`, through `pillar/src/lib.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

const README: &str = include_str!("../README.md");
const CONFIGURATION: &str = include_str!("../docs/configuration.md");
const ENVIRONMENT: &str = include_str!("../pillar/ENVIRONMENT.md");
const LIB_RS: &str = include_str!("../pillar/src/lib.rs");

/// The README is what a user needs in the first hour; the reference goes to `docs/`.
const README_MAX_LINES: usize = 300;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `README.md` and every page of `docs/`, as (path from the root, text).
fn pages() -> Vec<(PathBuf, String)> {
    let root = root();
    let mut pages = vec![(PathBuf::from("README.md"), README.to_owned())];
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    for path in docs {
        let text = fs::read_to_string(&path).expect("a docs/ page is readable");
        pages.push((path.strip_prefix(&root).unwrap().to_path_buf(), text));
    }
    pages
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The fenced code blocks of a Markdown text: (info string, body).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    blocks
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, other punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's headings, as GitHub makes them (`-1`, `-2` for
/// repeated headings).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = Vec::new();
    for line in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(&line[hashes..]);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// The targets of the inline links and images of a Markdown text, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after
                .find(')')
                .expect("a link's target is closed on its line");
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => assert!(out.pop(), "{} leaves the repository", path.display()),
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The table of environment variables is written once, in `pillar/ENVIRONMENT.md` (which
/// the API docs include); `docs/configuration.md` repeats it, and the README points there
/// instead of keeping a third copy.
#[test]
fn the_configuration_page_repeats_the_environment_table_exactly() {
    assert!(
        ENVIRONMENT.starts_with("| variable | meaning | default |"),
        "pillar/ENVIRONMENT.md is no longer the table this test knows"
    );
    assert!(
        CONFIGURATION.contains(ENVIRONMENT),
        "docs/configuration.md's table of environment variables differs from \
         pillar/ENVIRONMENT.md; copy the file's table into docs/configuration.md"
    );
    for line in ENVIRONMENT.lines().skip(2) {
        let variable = line.split('|').nth(1).unwrap().trim();
        assert!(
            CONFIGURATION.contains(variable),
            "docs/configuration.md does not name {variable}"
        );
    }
    assert!(
        !README.contains("| variable | meaning | default |"),
        "the README has a copy of the environment table: link docs/configuration.md instead"
    );
    assert!(
        README.contains("](docs/configuration.md)"),
        "the README does not link docs/configuration.md"
    );
}

/// Every relative link and image of the README and of `docs/` leads to a file of the
/// repository, and every `#anchor` to a heading of its page.
#[test]
fn the_documentation_links_lead_somewhere() {
    let root = root();
    let mut broken = Vec::new();
    for (page, text) in pages() {
        for target in link_targets(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                normalize(&page.parent().unwrap().join(path))
            };
            if !root.join(&file).exists() {
                broken.push(format!(
                    "{}: {target} (no file {})",
                    page.display(),
                    file.display()
                ));
                continue;
            }
            if let Some(anchor) = anchor {
                let linked = fs::read_to_string(root.join(&file)).unwrap_or_default();
                if !anchors(&linked).iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{}: {target} (no heading #{anchor} in {})",
                        page.display(),
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// `docs/README.md` is the index of the pages: each one is listed there, and the README
/// links the index.
#[test]
fn the_docs_index_lists_every_page() {
    let pages = pages();
    let index = &pages
        .iter()
        .find(|(path, _)| path == Path::new("docs/README.md"))
        .expect("docs/README.md exists")
        .1;
    let listed = link_targets(index);
    for (path, _) in &pages {
        let name = path.file_name().unwrap().to_str().unwrap();
        if path.starts_with("docs") && name != "README.md" {
            assert!(
                listed
                    .iter()
                    .any(|target| target.split('#').next() == Some(name)),
                "docs/README.md does not list {name}"
            );
        }
    }
    assert!(
        README.contains("](docs/README.md)"),
        "the README does not link the index of docs/"
    );
}

/// The README stays what a user needs in the first hour.
#[test]
fn the_readme_stays_short() {
    let lines = README.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines (at most {README_MAX_LINES}): move reference material \
         to docs/ and link it"
    );
}

/// The README's Rust code is compiled: `pillar/src/lib.rs` includes it as doctests, and
/// its blocks are whole programs GitHub shows as they are compiled (no hidden `# ` lines),
/// with at most two fragments left uncompiled (`ignore`).
#[test]
fn the_readme_rust_code_is_compiled_as_written() {
    let include = "#[doc = include_str!(\"../../README.md\")]";
    let at = LIB_RS
        .find(include)
        .expect("pillar/src/lib.rs does not include README.md as doctests");
    assert!(
        LIB_RS[..at].trim_end().ends_with("#[cfg(doctest)]"),
        "the README's doctests are not under #[cfg(doctest)]"
    );

    let rust: Vec<(String, String)> = code_blocks(README)
        .into_iter()
        .filter(|(info, _)| info.split(',').next() == Some("rust"))
        .collect();
    assert!(!rust.is_empty(), "the README has no Rust code");
    let mut ignored = 0;
    for (info, body) in &rust {
        let attributes: Vec<&str> = info.split(',').skip(1).collect();
        if attributes.contains(&"ignore") {
            ignored += 1;
        }
        for attribute in &attributes {
            assert!(
                ["no_run", "ignore", "should_panic"].contains(attribute),
                "```{info}: a README block must compile (no `{attribute}`)"
            );
        }
        for line in body.lines() {
            let trimmed = line.trim_start();
            assert!(
                !(trimmed == "#" || trimmed.starts_with("# ")),
                "```{info} has a hidden line, which GitHub shows: {line:?}"
            );
        }
    }
    assert!(
        ignored <= 2,
        "{ignored} README blocks are not compiled (`ignore`)"
    );
    // The quickstart, the README's first Rust block, compiles.
    assert!(
        !rust[0].0.contains("ignore"),
        "the quickstart is not compiled"
    );
    // Code in other languages is marked as such, so rustdoc does not compile it as Rust.
    for (info, _) in code_blocks(README) {
        assert!(!info.is_empty(), "a README code block has no language");
    }
}
