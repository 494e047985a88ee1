//! The operator docs name every stream and bucket that provisioning creates, and no stream that
//! it does not: the names come from the topology functions, so a stream added there fails this
//! test until docs/tilt.md says what it holds.

// Test code: a failed step fails the test, with its reason.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

use edgeops_bus::Topology;
use edgeops_bus::topology::{
    HubSettings, SiteSettings, hub_topology, site_inference_topology, site_topology,
};
use edgeops_contracts::SiteId;

/// Streams the docs describe before provisioning creates them (work in flight elsewhere). A name
/// here may be documented without being provisioned; once provisioned, it is checked as any other.
const ANNOUNCED: &[&str] = &[];

fn doc(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hub() -> Topology {
    hub_topology(&HubSettings::default())
}

fn site() -> Vec<Topology> {
    let site = SiteId::parse("s1").unwrap();
    vec![
        site_topology(&site, &SiteSettings::default()),
        site_inference_topology(&site),
    ]
}

fn stream_names(topologies: &[Topology]) -> BTreeSet<String> {
    topologies
        .iter()
        .flat_map(|t| t.streams.iter().map(|s| s.name.clone()))
        .collect()
}

/// Streams, KV buckets and object stores, by the names an operator uses for them.
fn all_names(topologies: &[Topology]) -> BTreeSet<String> {
    let mut names = stream_names(topologies);
    for t in topologies {
        names.extend(t.key_values.iter().map(|kv| kv.bucket.clone()));
        names.extend(t.object_stores.iter().map(|o| o.bucket.clone()));
    }
    names
}

/// The backticked names in the second column of the table under `## Streams and buckets`.
fn table_names(text: &str) -> BTreeSet<String> {
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Streams and buckets"))
        .expect("docs/tilt.md has a `## Streams and buckets` section");
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.starts_with("| domain"))
        .map(|l| {
            let cell = l.split('|').nth(2).unwrap_or_default();
            cell.trim().trim_matches('`').to_owned()
        })
        .collect()
}

/// `provisioned ⊆ listed ⊆ provisioned ∪ ANNOUNCED`, with what is wrong when not.
fn check(what: &str, listed: &BTreeSet<String>, provisioned: &BTreeSet<String>) {
    let missing: Vec<_> = provisioned.difference(listed).collect();
    assert!(
        missing.is_empty(),
        "{what}: provisioned but not documented: {missing:?}"
    );
    let unknown: Vec<_> = listed
        .iter()
        .filter(|n| !provisioned.contains(*n) && !ANNOUNCED.contains(&n.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "{what}: documented but never provisioned: {unknown:?}"
    );
}

#[test]
fn the_tilt_guide_lists_every_stream_and_bucket_provisioned() {
    let text = doc("docs/tilt.md");
    let mut provisioned = all_names(&[hub()]);
    provisioned.extend(all_names(&site()));
    check("docs/tilt.md's table", &table_names(&text), &provisioned);
}

/// Every `stream ls` line whose comment names streams names exactly its domain's streams.
#[test]
fn stream_listings_in_the_docs_name_only_provisioned_streams() {
    let hub_streams = stream_names(&[hub()]);
    let site_streams = stream_names(&site());
    let mut checked = 0;
    for file in ["docs/tilt.md", "README.md"] {
        for line in doc(file).lines().filter(|l| l.contains(" stream ls ")) {
            let Some((command, comment)) = line.split_once('#') else {
                continue;
            };
            let listed: BTreeSet<String> = comment
                .split([',', ' '])
                .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_'))
                .filter(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                .map(str::to_owned)
                .collect();
            if listed.is_empty() {
                continue;
            }
            let provisioned = if command.contains("--js-domain hub") {
                &hub_streams
            } else if command.contains("--js-domain edge-") {
                &site_streams
            } else {
                panic!("{file}: a stream listing without a domain: {line}");
            };
            check(&format!("{file}: {}", line.trim()), &listed, provisioned);
            checked += 1;
        }
    }
    assert!(checked >= 2, "found {checked} stream listings to check");
}
