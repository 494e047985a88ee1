use super::*;
use crate::Crate;

fn graph() -> Graph {
    let krate = |name: &str, dir: &str| Crate {
        name: name.into(),
        dir: dir.into(),
        deps: vec![],
    };
    Graph {
        crates: vec![
            krate("edgeops-ingest", "services/ingest"),
            krate("edgeops-registry-api", "services/registry-api"),
            krate("edgeops-cli", "cli"),
        ],
    }
}

fn file(krate: &str, text: &str) -> SourceFile {
    SourceFile {
        krate: krate.into(),
        path: format!("{krate}/src/lib.rs"),
        text: text.into(),
    }
}

#[test]
fn another_crate_naming_a_services_store_or_handlers_is_reported() {
    let found = internal_uses(
        &graph(),
        &[file(
            "edgeops-cli",
            "use edgeops_ingest::IngestConfig;\n\
             fn f() { edgeops_ingest::store::write_readings(); }\n\
             use edgeops_ingest::handlers::consume;\n",
        )],
    );
    let named: Vec<(usize, &str)> = found.iter().map(|u| (u.line, u.named.as_str())).collect();
    assert_eq!(
        named,
        vec![
            (2, "edgeops_ingest::store"),
            (3, "edgeops_ingest::handlers")
        ]
    );
    assert_eq!(
        found[0].to_string(),
        "edgeops-cli/src/lib.rs:2 (edgeops-cli) names edgeops_ingest::store: use what the \
         service exports at its crate root instead"
    );
}

#[test]
fn the_service_itself_its_root_exports_and_api_crates_are_allowed() {
    let found = internal_uses(
        &graph(),
        &[
            file(
                "edgeops-ingest",
                "use edgeops_ingest::store::write_readings;",
            ),
            file(
                "edgeops-cli",
                "use edgeops_ingest::write_readings; use edgeops_ingest::stored::X;\n\
                 use my_edgeops_ingest::store; use edgeops_registry_api::handlers;",
            ),
        ],
    );
    assert_eq!(found, vec![]);
}

#[test]
fn comments_and_string_literals_are_not_code() {
    let text = "// edgeops_ingest::store in prose\n\
                /* edgeops_ingest::handlers /* nested */ still prose */\n\
                let a = \"edgeops_ingest::store \\\" quoted\";\n\
                let b = r#\"edgeops_ingest::store \"inside\"\"#;\n\
                let c = '\"'; let d: &'static str = \"\";\n\
                edgeops_ingest::store::f();\n";
    let found = internal_uses(&graph(), &[file("edgeops-cli", text)]);
    let lines: Vec<usize> = found.iter().map(|u| u.line).collect();
    assert_eq!(lines, vec![6], "{}", code_only(text));
}
