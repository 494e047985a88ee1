//! Records the commit the service was built from (lineage's code version), when git knows it.
use std::process::Command;

fn main() {
    let sha = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if !sha.is_empty() {
        println!("cargo:rustc-env=EDGEOPS_GIT_SHA={sha}");
    }
    println!("cargo:rerun-if-changed=../../.git/HEAD");
}
