//! Model artifacts: SHA-256 digests and Ed25519-signed manifests with lineage.
//!
//! An edge gateway loads nothing it cannot verify. The registry signs a [`Manifest`] naming the
//! model, its artifact's digest, its feature spec and its lineage; a gateway checks that
//! manifest with [`verify`] against its [`TrustedKeys`] and the bytes it fetched. Everything
//! here is pure except the key files and environment variables in [`keys`] and [`trusted`].

mod digest;
mod encoding;
pub mod keys;
pub mod manifest;
pub mod signing;
pub mod trusted;

pub use digest::sha256_hex;
pub use encoding::EncodingError;
pub use keys::{KeyError, PublicKey, SavedKeyPair, SigningKeyPair};
pub use manifest::{
    ArtifactRef, FeatureSpecRef, Lineage, MANIFEST_DOMAIN, Manifest, ManifestError,
};
pub use signing::{SignedManifest, VerifyError, sign, verify, verify_manifest};
pub use trusted::TrustedKeys;
