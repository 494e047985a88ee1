//! Model artifacts: SHA-256 digests and Ed25519-signed manifests with lineage.
//!
//! An edge gateway loads nothing it cannot verify. The registry signs a [`Manifest`] naming the
//! model, its artifact's digest, its feature spec and its lineage; a gateway checks that
//! manifest with [`verify`] against its [`TrustedKeys`] and the bytes it fetched. Everything
//! here is pure except the key files and environment variables in [`keys`] and [`trusted`].

//!
//! The manifest itself is wire data and is defined once, in `edgeops_contracts::manifest`
//! (with the digest spelling, `edgeops_contracts::digest`); this crate signs, verifies and keeps
//! the keys. The re-exports below let a signer or verifier name everything from one place.

mod encoding;
pub mod keys;
pub mod signing;
pub mod trusted;

pub use edgeops_contracts::digest::sha256_hex;
pub use edgeops_contracts::manifest::{
    ArtifactRef, FeatureSpecRef, Lineage, MANIFEST_DOMAIN, Manifest, ManifestError, SignedManifest,
};
pub use encoding::EncodingError;
pub use keys::{KeyError, PublicKey, SavedKeyPair, SigningKeyPair};
pub use signing::{VerifyError, sign, verify, verify_manifest};
pub use trusted::TrustedKeys;
