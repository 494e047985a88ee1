//! Validated names a caller of the registry writes. A model name becomes a subject token and
//! an object-store prefix, so it follows the same rules as site and device ids; a scope says
//! which sensors a model serves.

use std::fmt;

use edgeops_contracts::training::Scope as TrainingScope;
use edgeops_contracts::{DeviceId, SiteId};
use serde::{Deserialize, Serialize};

const MAX_MODEL_NAME_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("model name {0:?} must be 1 to {MAX_MODEL_NAME_LEN} ASCII letters, digits, '-' or '_'")]
    InvalidModelName(String),
    #[error(
        "scope {value:?} is not \"fleet\", \"site:<site>\" or \"device:<site>/<device>\": {reason}"
    )]
    InvalidScope { value: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelName(String);

impl ModelName {
    pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
        let value = value.into();
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if value.is_empty() || value.len() > MAX_MODEL_NAME_LEN || !value.chars().all(allowed) {
            return Err(NameError::InvalidModelName(value));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ModelName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ModelName> for String {
    fn from(name: ModelName) -> Self {
        name.0
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which sensors a version serves; "current prod" is answered per scope.
/// Written `fleet`, `site:<site>`, `device:<site>/<device>` or `group:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    Fleet,
    Site(SiteId),
    Device(SiteId, DeviceId),
    /// A named set of devices, as training defines it; the registry needs only the name,
    /// which is what "current prod for this scope" is keyed on.
    Group(SiteId),
}

impl Scope {
    pub fn parse(value: &str) -> Result<Self, NameError> {
        let invalid = |reason: String| NameError::InvalidScope {
            value: value.to_owned(),
            reason,
        };
        if value == "fleet" {
            return Ok(Scope::Fleet);
        }
        if let Some(site) = value.strip_prefix("site:") {
            return Ok(Scope::Site(
                SiteId::parse(site).map_err(|e| invalid(e.to_string()))?,
            ));
        }
        if let Some(name) = value.strip_prefix("group:") {
            return Ok(Scope::Group(
                SiteId::parse(name).map_err(|e| invalid(e.to_string()))?,
            ));
        }
        if let Some(rest) = value.strip_prefix("device:") {
            let (site, device) = rest
                .split_once('/')
                .ok_or_else(|| invalid("no '/' between site and device".into()))?;
            return Ok(Scope::Device(
                SiteId::parse(site).map_err(|e| invalid(e.to_string()))?,
                DeviceId::parse(device).map_err(|e| invalid(e.to_string()))?,
            ));
        }
        Err(invalid("unknown kind".into()))
    }
}

/// Training's scope (`edgeops_contracts::training::Scope`) in the registry's form. Total: every
/// scope training can train for has a registry scope, so no completed run is refused for it.
impl From<&TrainingScope> for Scope {
    fn from(scope: &TrainingScope) -> Self {
        match scope {
            TrainingScope::Site { site } => Scope::Site(site.clone()),
            TrainingScope::Device { site, device } => Scope::Device(site.clone(), device.clone()),
            TrainingScope::Group { name, .. } => Scope::Group(name.clone()),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Fleet => f.write_str("fleet"),
            Scope::Site(site) => write!(f, "site:{site}"),
            Scope::Device(site, device) => write!(f, "device:{site}/{device}"),
            Scope::Group(name) => write!(f, "group:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_text_form() {
        for text in [
            "fleet",
            "site:s1",
            "device:s1/room-1",
            "group:lecture-rooms",
        ] {
            let scope = Scope::parse(text).unwrap();
            assert_eq!(scope.to_string(), text);
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
    }

    #[test]
    fn malformed_scopes_and_names_are_refused() {
        for bad in [
            "",
            "site:",
            "site:a.b",
            "device:s1",
            "device:s1/",
            "room:1",
            "group:",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a.b", "a b", "x*"] {
            assert!(ModelName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<ModelName>("\"a.b\"").is_err());
    }

    #[test]
    fn every_training_scope_has_a_registry_scope() {
        let site = SiteId::parse("s1").unwrap();
        let device = DeviceId::parse("room-1").unwrap();
        let cases = [
            (TrainingScope::Site { site: site.clone() }, "site:s1"),
            (
                TrainingScope::Device {
                    site: site.clone(),
                    device: device.clone(),
                },
                "device:s1/room-1",
            ),
            (
                TrainingScope::Group {
                    name: SiteId::parse("labs").unwrap(),
                    devices: vec![(site, device)],
                },
                "group:labs",
            ),
        ];
        for (training, text) in cases {
            assert_eq!(Scope::from(&training).to_string(), text);
        }
    }
}
