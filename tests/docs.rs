//! The repository carries its own contract: `src/SPEC.md` (and the known answers in
//! `tests/data/`) must stay identical to the shared originals in `../shared/` beside the
//! checkout. Where `../shared/` is absent (a plain clone), the check is skipped with a note.

use crate::util::{TestNode, run_to_exit};
use std::path::{Path, PathBuf};

/// The repository root (this crate's manifest directory).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/` beside the checkout, when it exists.
fn shared() -> Option<PathBuf> {
    let dir = root().join("..").join("shared");
    dir.join("SPEC.md").is_file().then_some(dir)
}

/// Fails, naming both files and the first differing line, when they differ.
fn assert_same(ours: &str, theirs: &str) {
    let Some(shared) = shared() else {
        println!("note: ../shared/ is not beside this checkout; {ours} is not compared");
        return;
    };
    let ours_path = root().join(ours);
    let theirs_path = shared.join(theirs);
    if !theirs_path.is_file() {
        println!(
            "note: {} does not exist; {ours} is not compared",
            theirs_path.display()
        );
        return;
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
    };
    let (a, b) = (read(&ours_path), read(&theirs_path));
    if a == b {
        return;
    }
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1;
    panic!(
        "{} differs from {} (first at line {line}); copy the shared one over: cp {} {}",
        ours_path.display(),
        theirs_path.display(),
        theirs_path.display(),
        ours_path.display()
    );
}

#[test]
fn spec_in_the_repository_is_the_shared_contract() {
    assert!(
        root().join("src/SPEC.md").is_file(),
        "src/SPEC.md is the repository's copy of the contract"
    );
    assert_same("src/SPEC.md", "SPEC.md");
}

#[test]
fn known_answers_in_the_repository_are_the_shared_ones() {
    assert_same("tests/data/vectors.json", "vectors.json");
    assert_same("tests/data/rfc8554-vectors.json", "rfc8554-vectors.json");
}

/// README: a node started again with another `--difficulty` (or `--reward`) on the same data
/// directory is refused, and the message says both ways out: the flag that keeps the
/// chain, and the exact `rm -rf` that starts over.
#[test]
fn a_directory_of_another_network_is_refused_with_both_ways_out() {
    let mut node = TestNode::start(&[]);
    node.mine();
    node.terminate();
    let dir = node.data_dir.display().to_string();
    for (flags, keep) in [
        (["--difficulty", "9"], "start with --difficulty 8"),
        (["--reward", "7"], "start with --reward 50"),
    ] {
        let mut args = vec!["--port", "0", "--data-dir", &dir];
        if flags[0] == "--reward" {
            args.extend(["--difficulty", "8"]);
        }
        args.extend(flags);
        let outcome = run_to_exit(&args);
        assert!(!outcome.status.success(), "{}", outcome.command_line);
        for wanted in [keep, &format!("`rm -rf {dir}`"), "--data-dir"] {
            assert!(
                outcome.stderr.contains(wanted),
                "`{}` must say {wanted:?}; stderr:\n{}",
                outcome.command_line,
                outcome.stderr
            );
        }
    }
    // Nothing was changed: the node starts again with its own flags and keeps its block.
    node.restart();
    assert_eq!(node.chain().len(), 2);
}

/// A clone has no `../shared/`: the documents a reader opens point to the repository's own
/// copy of the contract.
#[test]
fn documents_point_to_the_contract_in_the_repository() {
    for file in [
        "README.md",
        "scripts/README.md",
        "scripts/openapi.yaml",
        "scripts/minichain.postman_collection.json",
        "src/lib.rs",
    ] {
        let text = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|error| panic!("cannot read {file}: {error}"));
        assert!(
            !text.contains("../shared/SPEC.md") && !text.contains("shared/SPEC.md"),
            "{file} cites ../shared/SPEC.md, which a clone does not have; cite src/SPEC.md"
        );
        assert!(
            text.contains("src/SPEC.md"),
            "{file} should tell where the contract is: src/SPEC.md"
        );
    }
}
