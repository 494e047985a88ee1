//! The public keys a verifier accepts signatures from. A gateway holds these and nothing else:
//! it can check the registry's signatures but never make one.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::keys::{KeyError, PublicKey};

/// Trusted keys by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: BTreeMap<String, PublicKey>,
}

impl TrustedKeys {
    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        let mut trusted = Self::default();
        for key in keys {
            trusted.insert(key);
        }
        trusted
    }

    pub fn insert(&mut self, key: PublicKey) {
        self.keys.insert(key.key_id().to_owned(), key);
    }

    /// A directory (every `*.pub` file in it) or a single `.pub` file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        if path.is_dir() {
            Self::from_dir(path)
        } else {
            Self::from_file(path)
        }
    }

    /// Every `*.pub` file in `dir`, so that rotating keys is adding and removing files.
    pub fn from_dir(dir: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|ext| ext == "pub") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut trusted = Self::default();
        for file in files {
            trusted.add_lines(&read(&file)?, &format!("key file {}", file.display()))?;
        }
        trusted.non_empty(&format!("directory {}", dir.display()))
    }

    /// One file with one key per line; blank lines and `#` comments are skipped.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let origin = format!("key file {}", path.display());
        let mut trusted = Self::default();
        trusted.add_lines(&read(path)?, &origin)?;
        trusted.non_empty(&origin)
    }

    /// Keys from an environment variable (e.g. `EDGEOPS_TRUSTED_KEYS`), comma-separated.
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let value = std::env::var(var).map_err(|_| KeyError::EnvMissing {
            var: var.to_owned(),
        })?;
        Self::from_list(&value, &format!("environment variable {var}"))
    }

    /// Keys in hex or base64, separated by commas or newlines.
    pub fn from_list(value: &str, origin: &str) -> Result<Self, KeyError> {
        let mut trusted = Self::default();
        let entries = value.split([',', '\n']).map(str::trim);
        for (n, entry) in entries.filter(|e| !e.is_empty()).enumerate() {
            trusted.insert(PublicKey::parse(
                entry,
                &format!("key #{} of {origin}", n + 1),
            )?);
        }
        trusted.non_empty(origin)
    }

    pub fn contains(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    pub fn get(&self, key_id: &str) -> Option<&PublicKey> {
        self.keys.get(key_id)
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn add_lines(&mut self, text: &str, origin: &str) -> Result<(), KeyError> {
        let lines = text.lines().map(str::trim);
        for line in lines.filter(|l| !l.is_empty() && !l.starts_with('#')) {
            self.insert(PublicKey::parse(line, origin)?);
        }
        Ok(())
    }

    /// An empty trust set would refuse every model with a puzzling "unknown key"; a wrong
    /// path is better reported at startup.
    fn non_empty(self, origin: &str) -> Result<Self, KeyError> {
        if self.is_empty() {
            return Err(KeyError::NoTrustedKeys {
                origin: origin.to_owned(),
            });
        }
        Ok(self)
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKeyPair;

    fn key(n: u8) -> SigningKeyPair {
        SigningKeyPair::from_secret_bytes(&[n; 32])
    }

    #[test]
    fn a_directory_trusts_every_pub_file_and_ignores_secrets() {
        let dir = tempfile::tempdir().unwrap();
        key(1).save(dir.path(), "a").unwrap();
        key(2).save(dir.path(), "b").unwrap();
        let trusted = TrustedKeys::load(dir.path()).unwrap();
        assert_eq!(trusted.len(), 2);
        assert!(trusted.contains(key(1).key_id()) && trusted.contains(key(2).key_id()));
    }

    #[test]
    fn a_single_file_is_trusted_alone() {
        let dir = tempfile::tempdir().unwrap();
        let saved = key(1).save(dir.path(), "a").unwrap();
        key(2).save(dir.path(), "b").unwrap();
        let trusted = TrustedKeys::load(&saved.public).unwrap();
        assert_eq!(trusted.key_ids().collect::<Vec<_>>(), [key(1).key_id()]);
    }

    #[test]
    fn a_comma_separated_list_mixes_hex_and_base64() {
        let one = key(1).public_key().to_base64();
        let two = hex::encode(key(2).public_key().verifying_key().as_bytes());
        let trusted = TrustedKeys::from_list(&format!(" {one} ,{two},"), "env").unwrap();
        assert_eq!(trusted.len(), 2);
        assert!(!trusted.contains(key(3).key_id()));
    }

    #[test]
    fn nothing_to_trust_is_an_error_that_names_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let err = TrustedKeys::from_dir(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::NoTrustedKeys { .. }));
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        assert!(TrustedKeys::from_list(" , ", "EDGEOPS_TRUSTED_KEYS").is_err());
        assert!(TrustedKeys::from_env("EDGEOPS_TEST_SURELY_UNSET_7f3a").is_err());
    }

    #[test]
    fn a_bad_entry_is_located() {
        let good = key(1).public_key().to_base64();
        let err =
            TrustedKeys::from_list(&format!("{good},nope"), "EDGEOPS_TRUSTED_KEYS").unwrap_err();
        assert!(
            err.to_string().contains("key #2 of EDGEOPS_TRUSTED_KEYS"),
            "{err}"
        );
    }
}
