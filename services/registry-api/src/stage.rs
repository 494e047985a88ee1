//! Lifecycle stages and which moves between them are allowed.
//!
//! | from \ to | staging | prod | archived |
//! |-----------|---------|------|----------|
//! | dev       | yes     | no   | yes      |
//! | staging   | —       | yes  | yes      |
//! | prod      | no      | —    | yes      |
//! | archived  | no      | no   | —        |
//!
//! No skipping: a version reaches prod only through staging, where it runs on canaries.
//! No demotion: a prod version that should stop serving is archived, and the previous prod
//! version (still in prod) serves again. Archived is final, so an audit trail never shows a
//! withdrawn model coming back under the same version.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Dev,
    Staging,
    Prod,
    Archived,
}

/// Every allowed move, the table above as data.
pub const TRANSITIONS: &[(Stage, Stage)] = &[
    (Stage::Dev, Stage::Staging),
    (Stage::Staging, Stage::Prod),
    (Stage::Dev, Stage::Archived),
    (Stage::Staging, Stage::Archived),
    (Stage::Prod, Stage::Archived),
];

impl Stage {
    pub fn can_move_to(self, to: Stage) -> bool {
        TRANSITIONS.contains(&(self, to))
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Dev => "dev",
            Stage::Staging => "staging",
            Stage::Prod => "prod",
            Stage::Archived => "archived",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Stage; 4] = [Stage::Dev, Stage::Staging, Stage::Prod, Stage::Archived];

    #[test]
    fn only_the_tabled_moves_are_allowed() {
        let allowed: Vec<(Stage, Stage)> = ALL
            .iter()
            .flat_map(|from| ALL.iter().map(move |to| (*from, *to)))
            .filter(|(from, to)| from.can_move_to(*to))
            .collect();
        assert_eq!(allowed.len(), TRANSITIONS.len());
        assert!(!Stage::Dev.can_move_to(Stage::Prod), "no skipping staging");
        assert!(!Stage::Prod.can_move_to(Stage::Staging), "no demotion");
        assert!(ALL.iter().all(|to| !Stage::Archived.can_move_to(*to)));
        assert!(ALL.iter().all(|s| !s.can_move_to(*s)));
    }

    #[test]
    fn stages_are_written_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Stage::Staging).unwrap(),
            "\"staging\""
        );
        assert_eq!(Stage::Prod.to_string(), "prod");
    }
}
