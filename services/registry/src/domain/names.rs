//! The model-version aggregate's key. The names it is made of ([`ModelName`], and `Scope`
//! beside it) are what callers write too, so they live in `edgeops_registry_api`.

use std::fmt;

use edgeops_registry_api::ModelName;
use serde::{Deserialize, Serialize};

/// Identifies one model-version aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelVersionKey {
    pub model: ModelName,
    pub version: u32,
}

impl ModelVersionKey {
    /// `<model>.<version>`: the envelope's `aggregate_id`, and so the last two tokens of the
    /// version's subject `edgeops.events.model_version.<model>.<version>`. Two tokens, so that
    /// `edgeops.events.model_version.<model>.*` selects every version of one model (a model
    /// name never contains a dot). `Display` (`<model>/v<version>`) is the form for people.
    pub fn aggregate_id(&self) -> String {
        format!("{}.{}", self.model, self.version)
    }

    /// Reads an [`aggregate_id`](Self::aggregate_id) back.
    pub fn from_aggregate_id(id: &str) -> Option<Self> {
        let (model, version) = id.split_once('.')?;
        let version: u32 = version.parse().ok().filter(|v| *v > 0)?;
        Some(Self {
            model: ModelName::parse(model).ok()?,
            version,
        })
    }
}

impl fmt::Display for ModelVersionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/v{}", self.model, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aggregate_id_names_model_and_version() {
        let key = ModelVersionKey {
            model: ModelName::parse("co2-room").unwrap(),
            version: 7,
        };
        assert_eq!(key.aggregate_id(), "co2-room.7");
        assert_eq!(key.to_string(), "co2-room/v7");
        assert_eq!(
            ModelVersionKey::from_aggregate_id(&key.aggregate_id()),
            Some(key)
        );
        for bad in [
            "co2-room",
            "co2-room.0",
            "co2-room.x",
            "a b.1",
            "co2-room.1.2",
        ] {
            assert_eq!(ModelVersionKey::from_aggregate_id(bad), None, "{bad}");
        }
    }
}
