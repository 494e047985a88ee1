//! The second boundary, in the source rather than in `Cargo.toml`: no crate outside a service
//! names that service's `handlers` or `store` modules (`edgeops_ingest::store::...`). What
//! others may use, a service re-exports at its crate root (`edgeops_ingest::write_readings`),
//! so its insides can move without breaking them. [`internal_uses`] is a pure function over
//! (crate, file, text) triples; `tests/workspace.rs` runs it on every `.rs` file of the tree.

use std::fmt;

use crate::{Graph, is_service_implementation};

/// A service's modules that no other crate may name.
pub const INTERNAL_MODULES: &[&str] = &["handlers", "store"];

/// One source file of a workspace crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The package it belongs to.
    pub krate: String,
    /// Its path, for the report.
    pub path: String,
    pub text: String,
}

/// A path into another service's internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalUse {
    pub krate: String,
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// What was named, `edgeops_ingest::store`.
    pub named: String,
}

impl fmt::Display for InternalUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} ({}) names {}: use what the service exports at its crate root instead",
            self.path, self.line, self.krate, self.named
        )
    }
}

/// Every mention of `edgeops_<service>::handlers` / `::store` in code (comments and string
/// literals are not code) of a file whose crate is not that service. Services are the
/// implementation crates of `graph` (under `services/`, not `-api`).
pub fn internal_uses(graph: &Graph, files: &[SourceFile]) -> Vec<InternalUse> {
    let services: Vec<(&str, String)> = graph
        .crates
        .iter()
        .filter(|c| is_service_implementation(c))
        .map(|c| (c.name.as_str(), c.name.replace('-', "_")))
        .collect();
    let mut found = Vec::new();
    for file in files {
        let code = code_only(&file.text);
        for (line_index, line) in code.lines().enumerate() {
            for (package, lib) in &services {
                if file.krate == *package {
                    continue;
                }
                for module in INTERNAL_MODULES {
                    let named = format!("{lib}::{module}");
                    if mentions(line, &named) {
                        found.push(InternalUse {
                            krate: file.krate.clone(),
                            path: file.path.clone(),
                            line: line_index + 1,
                            named,
                        });
                    }
                }
            }
        }
    }
    found
}

/// `path` as a whole path prefix: not inside a longer identifier on either side
/// (`edgeops_ingest::store` but not `my_edgeops_ingest::store` or `edgeops_ingest::stored`).
fn mentions(line: &str, path: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(path).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + path.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The text with comments and the contents of string and char literals blanked out (newlines
/// kept, so line numbers hold). A lexer just good enough for the paths we look for.
pub fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (i == 0
                || !is_ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i < 2 || !is_ident(chars[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
        {
            // A raw string r"..." / r#"..."# (or br...): ends at a quote and as many hashes.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            out.extend(std::iter::repeat_n(' ', j - i + 1));
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    out.extend(std::iter::repeat_n(' ', hashes + 1));
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    out.push(blank(ch));
                }
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{..}'.
            out.push_str("  ");
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            // 'x' (a lifetime like 'a never has a quote two characters on).
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
