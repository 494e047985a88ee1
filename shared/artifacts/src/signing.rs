//! Signing a manifest, and the three checks a verifier makes before it loads a model.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signature;
use edgeops_contracts::digest::sha256_hex;
use edgeops_contracts::manifest::{Manifest, ManifestError, SignedManifest};

use crate::keys::{PublicKey, SigningKeyPair};
use crate::trusted::TrustedKeys;

/// Why a model must not be loaded. Messages are written for an operator reading a refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "manifest is signed by key {key_id}, which is not trusted here; \
         install its .pub file among the trusted keys or re-sign with a trusted key"
    )]
    UnknownKey { key_id: String },
    #[error(
        "signature by key {key_id} does not match the manifest of {model} v{version}: \
         the manifest or its signature was altered"
    )]
    BadSignature {
        key_id: String,
        model: String,
        version: u32,
    },
    #[error(
        "artifact is {actual} bytes but the signed manifest says {expected}: \
         truncated, padded or not the signed artifact"
    )]
    SizeMismatch { expected: u64, actual: u64 },
    #[error(
        "artifact SHA-256 is {actual} but the signed manifest says {expected}: \
         corrupted or not the signed artifact"
    )]
    DigestMismatch { expected: String, actual: String },
}

/// Signs `manifest`. Fails only for a manifest no verifier could read back (non-finite metrics).
pub fn sign(manifest: Manifest, key: &SigningKeyPair) -> Result<SignedManifest, ManifestError> {
    let signature = key.sign_bytes(&manifest.canonical_bytes()?);
    Ok(SignedManifest {
        manifest,
        key_id: key.key_id().to_owned(),
        signature: STANDARD.encode(signature.to_bytes()),
    })
}

/// Checks the signer is trusted and the signature covers this manifest; returns the signer.
/// Enough for the registry, which has no artifact bytes at hand; a loader calls [`verify`].
pub fn verify_manifest<'t>(
    signed: &SignedManifest,
    trusted: &'t TrustedKeys,
) -> Result<&'t PublicKey, VerifyError> {
    let key = trusted
        .get(&signed.key_id)
        .ok_or_else(|| VerifyError::UnknownKey {
            key_id: signed.key_id.clone(),
        })?;
    let bad = || VerifyError::BadSignature {
        key_id: signed.key_id.clone(),
        model: signed.manifest.model.clone(),
        version: signed.manifest.version,
    };
    let bytes: [u8; 64] = STANDARD
        .decode(&signed.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    // A manifest without canonical bytes (a non-finite metric) was never signed by `sign`.
    let message = signed.manifest.canonical_bytes().map_err(|_| bad())?;
    if !key.verify(&message, &Signature::from_bytes(&bytes)) {
        return Err(bad());
    }
    Ok(key)
}

/// Everything a gateway checks before loading `artifact`, in this order: the signer is
/// trusted, the signature covers the manifest, and the bytes are the ones the manifest names.
/// Checking the signature before the digest means a digest comparison is only ever made
/// against a value someone trusted vouched for.
pub fn verify(
    signed: &SignedManifest,
    artifact: &[u8],
    trusted: &TrustedKeys,
) -> Result<(), VerifyError> {
    verify_manifest(signed, trusted)?;
    let expected = &signed.manifest.artifact;
    let actual_size = artifact.len() as u64;
    if actual_size != expected.size_bytes {
        return Err(VerifyError::SizeMismatch {
            expected: expected.size_bytes,
            actual: actual_size,
        });
    }
    let actual = sha256_hex(artifact);
    if !actual.eq_ignore_ascii_case(&expected.sha256) {
        return Err(VerifyError::DigestMismatch {
            expected: expected.sha256.clone(),
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
