//! The rules against this workspace as `cargo metadata` describes it.

use std::process::Command;

use edgeops_depcheck::{RULES, graph_from_metadata, violations};

#[test]
fn the_workspace_breaks_no_dependency_rule() {
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
    let graph = graph_from_metadata(&metadata).unwrap();
    for expected in [
        "edgeops-contracts",
        "edgeops-deployment",
        "edgeops-registry-api",
    ] {
        assert!(
            graph.crates.iter().any(|c| c.name == expected),
            "{expected} is missing from the metadata: the check would prove nothing"
        );
    }
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
