//! Each service owns one Postgres schema and names no other's tables: what it reads of another
//! service's data it reads through a view the owner publishes for it (see the migrations and
//! docs/architecture.md, "Who reads whose data"). This test reads every service's source.

use std::path::{Path, PathBuf};

/// The services and the schema each owns.
const OWNERS: [(&str, &str); 7] = [
    ("ingest", "ingest"),
    ("preprocessing", "preprocessing"),
    ("training", "training"),
    ("registry", "registry"),
    ("deployment", "deployment"),
    ("monitoring", "monitoring"),
    ("audit", "audit"),
];

/// The views a service may read of another's schema: (reader, `schema.view`).
const PUBLISHED_VIEWS: [(&str, &str); 2] = [
    ("deployment", "ingest.readings_for_deployment"),
    ("training", "preprocessing.features_for_training"),
];

/// A place where `reader`'s source names `relation` of a schema it does not own.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    reader: String,
    file: String,
    line: usize,
    relation: String,
}

/// Every `schema.relation` in `source` with a schema of the table: a schema name not preceded by
/// an identifier character or a dot (so `self.deployment.x` and `edgeops_ingest::` are not).
fn relations_named(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (schema, _) in OWNERS {
            let needle = format!("{schema}.");
            let mut from = 0;
            while let Some(at) = line[from..].find(&needle) {
                let start = from + at;
                let before = line[..start].chars().next_back();
                let relation: String = line[start + needle.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let standalone =
                    before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
                if standalone && !relation.is_empty() {
                    found.push((number + 1, format!("{schema}.{relation}")));
                }
                from = start + needle.len();
            }
        }
    }
    found
}

/// What `reader`'s file `file` (with text `source`) names that it must not.
fn violations(reader: &str, file: &str, source: &str) -> Vec<Violation> {
    let own = OWNERS
        .iter()
        .find(|(service, _)| *service == reader)
        .map(|(_, schema)| *schema);
    relations_named(source)
        .into_iter()
        .filter(|(_, relation)| {
            let schema = relation.split('.').next().unwrap_or_default();
            Some(schema) != own && !PUBLISHED_VIEWS.contains(&(reader, relation.as_str()))
        })
        .map(|(line, relation)| Violation {
            reader: reader.to_owned(),
            file: file.to_owned(),
            line,
            relation,
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn no_service_names_another_services_tables() {
    let mut found = Vec::new();
    let mut read = 0;
    for (service, _) in OWNERS {
        let mut files = Vec::new();
        rust_files(
            &workspace().join("services").join(service).join("src"),
            &mut files,
        );
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            read += 1;
            found.extend(violations(service, &file.display().to_string(), &source));
        }
    }
    assert!(read > 50, "the services' sources were read ({read} files)");
    assert!(found.is_empty(), "cross-schema SQL: {found:#?}");
}

#[test]
fn a_service_reading_another_services_table_is_caught_and_its_view_is_not() {
    let source = r#"
        const LATEST: &str = "SELECT max(ingested_at) FROM ingest.readings WHERE site_id = $1";
        const VIEW: &str = "SELECT * FROM ingest.readings_for_deployment";
        const OWN: &str = "SELECT * FROM deployment.forecasts";
        // ingest.readings in a comment is prose
        let name = self.deployment.name; let path = edgeops_ingest::store;
    "#;
    assert_eq!(
        violations("deployment", "fleet.rs", source),
        vec![Violation {
            reader: "deployment".into(),
            file: "fleet.rs".into(),
            line: 2,
            relation: "ingest.readings".into(),
        }]
    );
    assert_eq!(
        violations("training", "store.rs", source).len(),
        3,
        "training may read none of these"
    );
}

#[test]
fn every_published_view_is_created_by_its_owners_migration_and_documented() {
    let migrations = std::fs::read_dir(workspace().join("migrations"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let docs = std::fs::read_to_string(workspace().join("docs/architecture.md")).unwrap();
    for (reader, view) in PUBLISHED_VIEWS {
        assert!(
            migrations.contains(&format!("CREATE VIEW {view} ")),
            "{view} (for {reader}) is created by a migration"
        );
        assert!(docs.contains(view), "docs/architecture.md documents {view}");
    }
}
