//! Signing keys: the registry's secret, its public half, and the files and variables they
//! live in. A secret never appears in `Debug`, `Display` or an error message, and its bytes are
//! wiped when the key is dropped.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use edgeops_contracts::digest::sha256_hex;
use rand_core::{OsRng, RngCore};
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::encoding::{EncodingError, decode_key, encode_key};

/// Hex characters of a key id: 64 bits of sha256(public key) tell a handful of keys apart and
/// stay short enough to read out loud.
const KEY_ID_HEX_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random source failed: {0}")]
    Randomness(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to overwrite existing key file {path}")]
    AlreadyExists { path: PathBuf },
    #[error("key name {name:?} must be letters, digits, '-' or '_'")]
    InvalidName { name: String },
    #[error("environment variable {var} is not set (or not valid UTF-8)")]
    EnvMissing { var: String },
    #[error("{origin} {reason}")]
    Malformed {
        origin: String,
        reason: EncodingError,
    },
    #[error("{origin} is not a valid Ed25519 public key")]
    InvalidPublicKey { origin: String },
    #[error("no trusted public keys found in {origin}")]
    NoTrustedKeys { origin: String },
}

impl KeyError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
        move |source| KeyError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// An Ed25519 public key and its short id, the name signed manifests refer to it by.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    key_id: String,
}

impl PublicKey {
    pub fn from_verifying_key(key: VerifyingKey) -> Self {
        let mut key_id = sha256_hex(key.as_bytes());
        key_id.truncate(KEY_ID_HEX_LEN);
        Self { key, key_id }
    }

    /// Parses hex or base64; `origin` names where the text came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bytes = decode_key(text).map_err(|reason| KeyError::Malformed {
            origin: origin.to_owned(),
            reason,
        })?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPublicKey {
            origin: origin.to_owned(),
        })?;
        Ok(Self::from_verifying_key(key))
    }

    /// First 16 hex characters of sha256(public key bytes).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn to_base64(&self) -> String {
        encode_key(self.key.as_bytes())
    }

    /// Strict verification: refuses non-canonical and small-order encodings, so one message
    /// has one valid signature per key.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.key.verify_strict(message, signature).is_ok()
    }

    /// The `.pub` file form: a comment naming the key id, then the key in base64.
    pub fn to_file_contents(&self) -> String {
        format!(
            "# edgeops ed25519 public key {}\n{}\n",
            self.key_id,
            self.to_base64()
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.key_id).finish()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519 public key {}", self.key_id)
    }
}

/// Where [`SigningKeyPair::save`] wrote the two halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedKeyPair {
    pub secret: PathBuf,
    pub public: PathBuf,
}

/// The registry's signing key. Not `Clone`: one copy of a secret is easier to account for.
/// `ed25519_dalek::SigningKey` zeroizes its bytes on drop, and so does this wrapper.
pub struct SigningKeyPair {
    secret: SigningKey,
    public: PublicKey,
}

impl ZeroizeOnDrop for SigningKeyPair {}

impl SigningKeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(seed.as_mut_slice())
            .map_err(|e| KeyError::Randomness(e.to_string()))?;
        Ok(Self::from_secret_bytes(&seed))
    }

    /// A key from its 32 secret bytes (deterministic keys for tests and fixtures).
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Self {
        let secret = SigningKey::from_bytes(secret);
        let public = PublicKey::from_verifying_key(secret.verifying_key());
        Self { secret, public }
    }

    /// Parses a secret written in hex or base64 (as in a `.key` file or an environment value).
    pub fn parse_secret(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bytes = decode_key(text).map_err(|reason| KeyError::Malformed {
            origin: origin.to_owned(),
            reason,
        })?;
        Ok(Self::from_secret_bytes(&bytes))
    }

    /// Reads a `.key` file as [`save`](Self::save) writes it.
    pub fn load_from_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(fs::read(path).map_err(KeyError::io(path))?);
        let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::Malformed {
            origin: format!("key file {}", path.display()),
            reason: EncodingError::NotHexOrBase64,
        })?;
        Self::parse_secret(text, &format!("key file {}", path.display()))
    }

    /// Reads the secret from an environment variable (e.g. `EDGEOPS_SIGNING_KEY`), for
    /// deployments that inject secrets as variables rather than files.
    pub fn load_from_env(var: &str) -> Result<Self, KeyError> {
        let value = Zeroizing::new(std::env::var(var).map_err(|_| KeyError::EnvMissing {
            var: var.to_owned(),
        })?);
        Self::parse_secret(&value, &format!("environment variable {var}"))
    }

    /// Writes `<name>.key` (the secret, mode 0600) and `<name>.pub` into `dir`. Refuses to
    /// replace either file: overwriting a key is how signed models become unverifiable.
    pub fn save(&self, dir: &Path, name: &str) -> Result<SavedKeyPair, KeyError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || !name.chars().all(valid) {
            return Err(KeyError::InvalidName {
                name: name.to_owned(),
            });
        }
        let paths = SavedKeyPair {
            secret: dir.join(format!("{name}.key")),
            public: dir.join(format!("{name}.pub")),
        };
        for path in [&paths.secret, &paths.public] {
            if path.exists() {
                return Err(KeyError::AlreadyExists { path: path.clone() });
            }
        }
        let mut secret = Zeroizing::new(self.export_secret_base64().to_string());
        secret.push('\n');
        write_new(&paths.secret, secret.as_bytes(), 0o600)?;
        if let Err(e) = write_new(
            &paths.public,
            self.public.to_file_contents().as_bytes(),
            0o644,
        ) {
            // Best effort: a secret whose public half was never written is of no use to anyone.
            let _ = fs::remove_file(&paths.secret);
            return Err(e);
        }
        Ok(paths)
    }

    /// The secret in base64, for moving it into a secret store or an environment variable.
    pub fn export_secret_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(encode_key(self.secret.as_bytes()))
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn key_id(&self) -> &str {
        self.public.key_id()
    }

    pub fn sign_bytes(&self, message: &[u8]) -> Signature {
        self.secret.sign(message)
    }
}

/// Creates `path` (never replacing it) with `mode` on Unix, and writes `contents` durably.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => KeyError::AlreadyExists {
            path: path.to_owned(),
        },
        _ => KeyError::Io {
            path: path.to_owned(),
            source,
        },
    })?;
    file.write_all(contents).map_err(KeyError::io(path))?;
    file.sync_all().map_err(KeyError::io(path))
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("key_id", &self.public.key_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519 signing key {} (secret redacted)", self.key_id())
    }
}

#[cfg(test)]
mod tests;
