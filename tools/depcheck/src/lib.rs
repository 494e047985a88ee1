//! The workspace's dependency rules, as data, and the check over `cargo metadata`.
//!
//! Two rules hold the architecture in place (docs/architecture.md, "Crates and their allowed
//! dependencies"): a service reaches another service only through that service's API crate
//! (`edgeops-<service>-api`), never its implementation crate; and `edgeops-contracts` stays pure
//! data, with no crate that does I/O among its dependencies. The integration tests and the test
//! kit stay apart from the CLI, and the kit from every service. [`RULES`] says so as a table and
//! [`violations`] is a pure function over a [`Graph`], so the rules are tested on a hand-built
//! graph as well as on the real workspace (`tests/workspace.rs`).
//!
//! [`internals`] checks the same boundary in the source: no crate outside a service names the
//! service's `handlers` or `store` modules.

pub mod internals;

use std::fmt;

/// A workspace crate: its package name, its directory relative to the workspace root (`/`
/// separated), and its normal (non-dev, non-build) dependencies by package name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    pub name: String,
    pub dir: String,
    pub deps: Vec<String>,
}

/// The workspace's crates and their normal dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub crates: Vec<Crate>,
}

/// Which crates a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// Every workspace crate in a directory under this one (`services`: services and their
    /// API crates alike).
    Under(&'static str),
    /// One crate by package name.
    Crate(&'static str),
}

/// Which dependencies a rule forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// Another service's implementation: a workspace crate under `services/` whose name does not
    /// end in `-api`. Derived from the graph, so a new service is covered the day it is added.
    OtherServiceImplementation,
    /// These package names.
    Crates(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub from: From,
    pub forbidden: Forbidden,
    /// What to do instead, written for whoever breaks the rule.
    pub why: &'static str,
}

/// Crates that do I/O (network, database, runtime, files, native libraries).
pub const IO_CRATES: &[&str] = &[
    "async-nats",
    "sqlx",
    "tokio",
    "tokio-util",
    "reqwest",
    "ort",
    "testcontainers",
    "edgeops-bus",
    "edgeops-store",
    "edgeops-artifacts",
    "edgeops-telemetry",
    "edgeops-eventsourcing",
    "edgeops-service-host",
];

/// The rules the test run enforces.
pub const RULES: &[Rule] = &[
    Rule {
        from: From::Under("services"),
        forbidden: Forbidden::OtherServiceImplementation,
        why: "a service calls another service through its API crate (edgeops-<service>-api), \
              never its implementation crate",
    },
    Rule {
        from: From::Crate("edgeops-contracts"),
        forbidden: Forbidden::Crates(IO_CRATES),
        why: "contracts is pure data shared by the edge and the hub: no crate that does I/O",
    },
    Rule {
        from: From::Crate("edgeops-integration-tests"),
        forbidden: Forbidden::Crates(&["edgeops-cli"]),
        why: "the integration tests share the simulator, replay, configs and stacks through \
              edgeops-testkit, not the operator's command",
    },
    Rule {
        from: From::Crate("edgeops-testkit"),
        forbidden: Forbidden::OtherServiceImplementation,
        why: "the test kit launches stacks and feeds them data; the demo, the bench and the \
              tests start services themselves, so the kit names no service implementation",
    },
    Rule {
        from: From::Crate("edgeops-testkit"),
        forbidden: Forbidden::Crates(&["edgeops-cli", "edgeops-integration-tests"]),
        why: "the test kit is what the CLI and the integration tests share, so it depends on \
              neither",
    },
];

/// One forbidden edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub from: String,
    pub to: String,
    pub why: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} depends on {}: {}", self.from, self.to, self.why)
    }
}

fn is_under(dir: &str, parent: &str) -> bool {
    dir.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('/'))
}

pub(crate) fn is_service_implementation(krate: &Crate) -> bool {
    is_under(&krate.dir, "services") && !krate.name.ends_with("-api")
}

/// Every edge of `graph` that one of `rules` forbids, in graph order.
pub fn violations(graph: &Graph, rules: &[Rule]) -> Vec<Violation> {
    let implementations: Vec<&str> = graph
        .crates
        .iter()
        .filter(|c| is_service_implementation(c))
        .map(|c| c.name.as_str())
        .collect();
    let mut found = Vec::new();
    for rule in rules {
        for krate in &graph.crates {
            let applies = match rule.from {
                From::Under(dir) => is_under(&krate.dir, dir),
                From::Crate(name) => krate.name == name,
            };
            if !applies {
                continue;
            }
            for dep in &krate.deps {
                let forbidden = match rule.forbidden {
                    Forbidden::OtherServiceImplementation => {
                        *dep != krate.name && implementations.contains(&dep.as_str())
                    }
                    Forbidden::Crates(names) => names.contains(&dep.as_str()),
                };
                if forbidden {
                    found.push(Violation {
                        from: krate.name.clone(),
                        to: dep.clone(),
                        why: rule.why,
                    });
                }
            }
        }
    }
    found
}

/// The graph in `cargo metadata --format-version 1 --no-deps` output: workspace members and
/// their normal dependencies (`kind` null; dev and build dependencies are not checked).
pub fn graph_from_metadata(metadata: &serde_json::Value) -> Result<Graph, String> {
    let root = metadata["workspace_root"]
        .as_str()
        .ok_or("metadata has no workspace_root")?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("metadata has no packages")?;
    let mut crates = Vec::with_capacity(packages.len());
    for package in packages {
        let name = package["name"].as_str().ok_or("a package has no name")?;
        let manifest = package["manifest_path"]
            .as_str()
            .ok_or_else(|| format!("{name} has no manifest_path"))?;
        let dir = manifest
            .strip_prefix(root)
            .and_then(|rest| rest.strip_suffix("Cargo.toml"))
            .map(|rel| {
                rel.trim_matches(|c| c == '/' || c == '\\')
                    .replace('\\', "/")
            })
            .ok_or_else(|| format!("{name}'s manifest {manifest} is outside {root}"))?;
        let deps = package["dependencies"]
            .as_array()
            .ok_or_else(|| format!("{name} has no dependencies list"))?
            .iter()
            .filter(|dep| dep["kind"].is_null())
            .filter_map(|dep| dep["name"].as_str().map(str::to_owned))
            .collect();
        crates.push(Crate {
            name: name.to_owned(),
            dir,
            deps,
        });
    }
    Ok(Graph { crates })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(name: &str, dir: &str, deps: &[&str]) -> Crate {
        Crate {
            name: name.into(),
            dir: dir.into(),
            deps: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn allowed_graph() -> Graph {
        Graph {
            crates: vec![
                krate("edgeops-contracts", "shared/contracts", &["serde", "sha2"]),
                krate(
                    "edgeops-registry-api",
                    "services/registry-api",
                    &["edgeops-bus"],
                ),
                krate(
                    "edgeops-registry",
                    "services/registry",
                    &["edgeops-registry-api", "sqlx"],
                ),
                krate(
                    "edgeops-deployment",
                    "services/deployment",
                    &["edgeops-registry-api", "edgeops-contracts"],
                ),
                krate(
                    "edgeops-cli",
                    "cli",
                    &["edgeops-registry", "edgeops-deployment"],
                ),
            ],
        }
    }

    #[test]
    fn api_crates_and_shared_crates_are_allowed() {
        assert_eq!(violations(&allowed_graph(), RULES), vec![]);
    }

    #[test]
    fn a_service_on_another_services_implementation_is_reported() {
        let mut graph = allowed_graph();
        graph.crates[3].deps.push("edgeops-registry".into());
        let found = violations(&graph, RULES);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].to_string(),
            "edgeops-deployment depends on edgeops-registry: a service calls another service \
             through its API crate (edgeops-<service>-api), never its implementation crate"
        );
    }

    #[test]
    fn an_api_crate_on_an_implementation_is_reported_too() {
        let mut graph = allowed_graph();
        graph.crates[1].deps.push("edgeops-deployment".into());
        let found = violations(&graph, RULES);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].from.as_str(), found[0].to.as_str()),
            ("edgeops-registry-api", "edgeops-deployment")
        );
    }

    #[test]
    fn contracts_on_an_io_crate_is_reported() {
        let mut graph = allowed_graph();
        graph.crates[0].deps.push("edgeops-artifacts".into());
        graph.crates[0].deps.push("tokio".into());
        let found: Vec<String> = violations(&graph, RULES)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("edgeops-contracts depends on edgeops-artifacts: "));
        assert!(found[1].starts_with("edgeops-contracts depends on tokio: "));
    }

    #[test]
    fn integration_tests_on_the_cli_is_reported() {
        let mut graph = allowed_graph();
        graph.crates.push(krate(
            "edgeops-integration-tests",
            "integration-tests",
            &["edgeops-testkit", "edgeops-registry"],
        ));
        assert_eq!(violations(&graph, RULES), vec![]);
        graph.crates[5].deps.push("edgeops-cli".into());
        let found: Vec<String> = violations(&graph, RULES)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "edgeops-integration-tests depends on edgeops-cli: the integration tests share \
                 the simulator, replay, configs and stacks through edgeops-testkit, not the \
                 operator's command"
            ]
        );
    }

    #[test]
    fn the_test_kit_on_a_service_or_the_cli_is_reported() {
        let mut graph = allowed_graph();
        graph.crates.push(krate(
            "edgeops-testkit",
            "shared/testkit",
            &[
                "edgeops-contracts",
                "edgeops-registry-api",
                "testcontainers",
            ],
        ));
        assert_eq!(violations(&graph, RULES), vec![]);
        graph.crates[5].deps.push("edgeops-registry".into());
        graph.crates[5].deps.push("edgeops-cli".into());
        let found: Vec<(String, String)> = violations(&graph, RULES)
            .into_iter()
            .map(|v| (v.from, v.to))
            .collect();
        assert_eq!(
            found,
            vec![
                ("edgeops-testkit".into(), "edgeops-registry".into()),
                ("edgeops-testkit".into(), "edgeops-cli".into()),
            ]
        );
    }

    #[test]
    fn metadata_gives_directories_and_normal_dependencies_only() {
        let metadata = serde_json::json!({
            "workspace_root": "/w",
            "packages": [{
                "name": "edgeops-deployment",
                "manifest_path": "/w/services/deployment/Cargo.toml",
                "dependencies": [
                    {"name": "edgeops-registry-api", "kind": null},
                    {"name": "proptest", "kind": "dev"},
                ],
            }],
        });
        let graph = graph_from_metadata(&metadata).unwrap();
        assert_eq!(
            graph.crates,
            vec![krate(
                "edgeops-deployment",
                "services/deployment",
                &["edgeops-registry-api"]
            )]
        );
    }
}
