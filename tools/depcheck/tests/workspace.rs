//! The rules against this workspace as `cargo metadata` describes it, and its source as it is.

// Helpers of a test: a failed step must fail the test at once.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use edgeops_depcheck::internals::{SourceFile, internal_uses};
use edgeops_depcheck::{Graph, RULES, graph_from_metadata, violations};

fn workspace() -> (PathBuf, Graph) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let root = PathBuf::from(metadata["workspace_root"].as_str().unwrap());
    let graph = graph_from_metadata(&metadata).unwrap();
    for expected in [
        "edgeops-contracts",
        "edgeops-deployment",
        "edgeops-registry-api",
        "edgeops-ingest",
        "edgeops-cli",
        "edgeops-testkit",
        "edgeops-integration-tests",
    ] {
        assert!(
            graph.crates.iter().any(|c| c.name == expected),
            "{expected} is missing from the metadata: the check would prove nothing"
        );
    }
    (root, graph)
}

#[test]
fn the_workspace_breaks_no_dependency_rule() {
    let (_, graph) = workspace();
    let found: Vec<String> = violations(&graph, RULES)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        found.is_empty(),
        "forbidden dependencies:\n{}",
        found.join("\n")
    );
}

/// Every `.rs` file under `dir` (build output and hidden directories skipped).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn sources(root: &Path, graph: &Graph) -> Vec<SourceFile> {
    let mut files = Vec::new();
    for krate in &graph.crates {
        let mut paths = Vec::new();
        rust_files(&root.join(&krate.dir), &mut paths);
        for path in paths {
            files.push(SourceFile {
                krate: krate.name.clone(),
                path: path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
                text: std::fs::read_to_string(&path).unwrap(),
            });
        }
    }
    files
}

#[test]
fn no_crate_names_another_services_handlers_or_store() {
    let (root, graph) = workspace();
    let files = sources(&root, &graph);
    assert!(
        files.iter().any(|f| f.krate == "edgeops-cli") && files.len() > 100,
        "only {} source files found: the check would prove nothing",
        files.len()
    );
    let found: Vec<String> = internal_uses(&graph, &files)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        found.is_empty(),
        "paths into a service's internals:\n{}",
        found.join("\n")
    );
}

#[test]
fn a_deliberate_use_of_a_services_store_in_the_real_tree_is_reported() {
    let (root, graph) = workspace();
    let mut files = sources(&root, &graph);
    files.push(SourceFile {
        krate: "edgeops-cli".into(),
        path: "cli/src/deliberate.rs".into(),
        text: "fn f() { let _ = edgeops_training::store::runs; }\n".into(),
    });
    let found = internal_uses(&graph, &files);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].path.as_str(), found[0].named.as_str()),
        ("cli/src/deliberate.rs", "edgeops_training::store")
    );
}
