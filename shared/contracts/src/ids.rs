//! Validated identifiers. A `SiteId` or `DeviceId` is also a NATS subject token, so the rules
//! forbid everything that would change a subject's meaning (`.`, `*`, `>`, whitespace).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest identifier we accept; keeps subjects, keys and database rows bounded.
pub const MAX_ID_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {MAX_ID_LEN} characters")]
    TooLong { kind: &'static str },
    #[error("{kind} {value:?} may only contain ASCII letters, digits, '-' and '_'")]
    InvalidCharacter { kind: &'static str, value: String },
}

fn validate(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { kind });
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !value.chars().all(allowed) {
        return Err(IdError::InvalidCharacter {
            kind,
            value: value.chars().take(MAX_ID_LEN).collect(),
        });
    }
    Ok(())
}

macro_rules! token_id {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("A validated ", $kind, " identifier, safe to use as one subject token.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(SiteId, "site");
token_id!(DeviceId, "device");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_subject_metacharacters() {
        for bad in ["a.b", "a*", ">", "a b", "", "ü"] {
            assert!(SiteId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(SiteId::parse("x".repeat(MAX_ID_LEN + 1)).is_err());
    }

    #[test]
    fn accepts_typical_names() {
        for good in ["site-1", "room_101", "BHMBCCMKT01"] {
            assert_eq!(DeviceId::parse(good).unwrap().as_str(), good);
        }
    }

    proptest! {
        #[test]
        fn valid_ids_never_contain_token_separators(s in "\\PC{0,80}") {
            if let Ok(id) = DeviceId::parse(s) {
                prop_assert!(!id.as_str().contains(['.', '*', '>', ' ']));
                prop_assert!(!id.as_str().is_empty() && id.as_str().len() <= MAX_ID_LEN);
            }
        }
    }
}
