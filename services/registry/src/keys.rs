//! Where the registry's signing key comes from. The secret never reaches a log: only its key
//! id does, and the error texts come from `edgeops_artifacts`, which never echoes a secret.

use std::path::Path;

use edgeops_artifacts::{KeyError, SigningKeyPair};

/// The environment variable that may hold the secret itself.
pub const SIGNING_KEY_ENV: &str = "EDGEOPS_SIGNING_KEY";

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(
        "no signing key: the registry signs every model it registers and will not start without \
         a key. Pass --signing-key-file <file> (or set EDGEOPS_SIGNING_KEY_FILE), or put the \
         secret in EDGEOPS_SIGNING_KEY. Create a key pair with \
         `edgeops keys generate --dir <dir> --name registry` and give gateways the .pub file"
    )]
    Missing,
    #[error("loading the signing key: {0}")]
    Unreadable(#[from] KeyError),
}

/// Which source a key is read from, decided before anything is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource<'a> {
    File(&'a Path),
    Environment,
}

/// A file named on the command line wins over the environment variable: it is the more
/// explicit of the two.
pub fn choose_source(
    file: Option<&Path>,
    env_is_set: bool,
) -> Result<KeySource<'_>, SigningKeyError> {
    match (file, env_is_set) {
        (Some(path), _) => Ok(KeySource::File(path)),
        (None, true) => Ok(KeySource::Environment),
        (None, false) => Err(SigningKeyError::Missing),
    }
}

/// Loads the key the configuration names, or explains how to provide one.
pub fn load(file: Option<&Path>) -> Result<SigningKeyPair, SigningKeyError> {
    let env_is_set = std::env::var_os(SIGNING_KEY_ENV).is_some();
    let key = match choose_source(file, env_is_set)? {
        KeySource::File(path) => SigningKeyPair::load_from_file(path)?,
        KeySource::Environment => SigningKeyPair::load_from_env(SIGNING_KEY_ENV)?,
    };
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_anywhere_is_refused_with_the_ways_to_provide_one() {
        let err = choose_source(None, false).unwrap_err();
        let text = err.to_string();
        for named in [
            "--signing-key-file",
            "EDGEOPS_SIGNING_KEY_FILE",
            "EDGEOPS_SIGNING_KEY",
            "edgeops keys generate",
        ] {
            assert!(text.contains(named), "{named} missing from: {text}");
        }
    }

    #[test]
    fn a_file_wins_over_the_environment() {
        let path = Path::new("/keys/registry.key");
        assert_eq!(
            choose_source(Some(path), true).unwrap(),
            KeySource::File(path)
        );
        assert_eq!(choose_source(None, true).unwrap(), KeySource::Environment);
    }

    #[test]
    fn a_missing_key_file_is_named_and_a_saved_one_loads() {
        let err = load(Some(Path::new("/surely/not/here.key"))).unwrap_err();
        assert!(err.to_string().contains("/surely/not/here.key"), "{err}");
        let dir =
            std::env::temp_dir().join(format!("edgeops-registry-keys-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = SigningKeyPair::from_secret_bytes(&[9; 32]);
        let saved = key.save(&dir, "registry").unwrap();
        let loaded = load(Some(&saved.secret)).unwrap();
        assert_eq!(loaded.key_id(), key.key_id());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
