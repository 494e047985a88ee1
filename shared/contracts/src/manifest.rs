//! The manifest: what a signature vouches for. It names the model and version, the exact
//! artifact bytes (by digest and size), the feature spec the model expects, the metrics it was
//! accepted on and where it came from, so an auditor can trace a running model to its data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::digest::sha256_hex;

/// Prefix of the signed bytes. It keeps a manifest signature from ever being valid for another
/// kind of message signed with the same key, and names the canonical form's version: change
/// the struct layout below and this becomes `v2`.
pub const MANIFEST_DOMAIN: &[u8] = b"edgeops-manifest-v1\n";

/// The object a manifest describes, as stored in the JetStream object store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRef {
    pub object_name: String,
    /// Lowercase hex, as [`sha256_hex`] writes it.
    pub sha256: String,
    pub size_bytes: u64,
}

impl ArtifactRef {
    /// Describes `bytes` stored under `object_name`.
    pub fn of(object_name: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            object_name: object_name.into(),
            sha256: sha256_hex(bytes),
            size_bytes: bytes.len() as u64,
        }
    }
}

/// The feature spec a model was trained on. A gateway must compute exactly these inputs, in
/// this order, with this spec version, or the model's outputs mean nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpecRef {
    pub name: String,
    pub version: u32,
    /// Feature names in the order of the model's input tensor.
    pub inputs: Vec<String>,
}

/// Where a model came from: enough to reproduce or audit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    pub training_run: Uuid,
    /// Content digest of the training data set (equal data, equal fingerprint).
    pub dataset_fingerprint: String,
    /// The code that trained it (a git revision or release).
    pub code_version: String,
}

/// What the registry signs and a gateway verifies. Unknown fields are refused: a field a
/// verifier does not know is a field its signature check would silently ignore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub model: String,
    pub version: u32,
    pub artifact: ArtifactRef,
    pub feature_spec: FeatureSpecRef,
    /// How many bins ahead the model forecasts.
    pub horizon_bins: u32,
    /// Holdout scores the model was accepted on (`rmse`, `persistence_rmse`, ...).
    pub metrics: BTreeMap<String, f64>,
    pub lineage: Lineage,
    pub created_at: DateTime<Utc>,
    /// Each input's distribution in the training rows, in input order: what monitoring and the
    /// gateway compare live inputs against. Empty for a model trained before references were
    /// recorded (and then absent from the canonical bytes, so its signature still holds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference: Vec<crate::monitoring::FeatureReference>,
}

/// A manifest with the signature over its [canonical bytes](Manifest::canonical_bytes).
/// Signing and verifying live in `edgeops-artifacts`; this is the data that travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedManifest {
    pub manifest: Manifest,
    /// Which key signed (the signer's key id: hex SHA-256 of its public key, shortened).
    pub key_id: String,
    /// The 64-byte Ed25519 signature in standard base64.
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// JSON has no spelling for NaN or infinity; serde_json would write `null`, which no
    /// verifier could read back into the signed value.
    #[error("metric {name:?} is not a finite number; a manifest can only carry finite metrics")]
    NonFiniteMetric { name: String },
    #[error("encoding the manifest: {0}")]
    Encode(#[from] serde_json::Error),
}

impl Manifest {
    /// The bytes a signature covers: [`MANIFEST_DOMAIN`] followed by compact serde_json.
    ///
    /// This is canonical because serde_json writes struct fields in declaration order, map keys
    /// in `BTreeMap` (sorted) order, no whitespace, floats in their shortest round-tripping
    /// form, timestamps as RFC 3339 and UUIDs hyphenated. A verifier that parses a manifest and
    /// calls this again gets the very bytes the signer signed; one that parsed a changed
    /// manifest does not. Keep every map a `BTreeMap` and every float finite.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, ManifestError> {
        if let Some((name, _)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(ManifestError::NonFiniteMetric { name: name.clone() });
        }
        let mut bytes = MANIFEST_DOMAIN.to_vec();
        serde_json::to_writer(&mut bytes, self)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(artifact: &[u8]) -> Manifest {
        Manifest {
            model: "co2-room".into(),
            version: 3,
            artifact: ArtifactRef::of("co2-room/3.onnx", artifact),
            feature_spec: FeatureSpecRef {
                name: "indoor_air".into(),
                version: 3,
                inputs: vec!["co2_ppm".into(), "co2_ppm_lag1".into()],
            },
            horizon_bins: 12,
            metrics: BTreeMap::from([
                ("rmse".to_owned(), 41.25),
                ("persistence_rmse".to_owned(), 57.0),
            ]),
            lineage: Lineage {
                training_run: Uuid::from_u128(0x0189_0000_0000_7000_8000_0000_0000_0001),
                dataset_fingerprint: sha256_hex(b"dataset"),
                code_version: "abc1234".into(),
            },
            created_at: DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap_or_default(),
            reference: Vec::new(),
        }
    }

    #[test]
    fn canonical_bytes_survive_a_parse_and_reserialize() {
        let manifest = sample(b"model bytes");
        let bytes = manifest.canonical_bytes().unwrap();
        assert!(bytes.starts_with(MANIFEST_DOMAIN));
        let parsed: Manifest = serde_json::from_slice(&bytes[MANIFEST_DOMAIN.len()..]).unwrap();
        assert_eq!(parsed.canonical_bytes().unwrap(), bytes);
    }

    #[test]
    fn field_order_is_the_declaration_order() {
        let bytes = sample(b"x").canonical_bytes().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
        assert!(at("model") < at("version") && at("version") < at("artifact"));
        assert!(at("persistence_rmse") < at("rmse"), "map keys are sorted");
        assert!(at("lineage") < at("created_at"));
    }

    #[test]
    fn a_non_finite_metric_cannot_be_signed() {
        let mut manifest = sample(b"x");
        manifest.metrics.insert("mase".into(), f64::INFINITY);
        let err = manifest.canonical_bytes().unwrap_err();
        assert!(matches!(err, ManifestError::NonFiniteMetric { ref name } if name == "mase"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut value = serde_json::to_value(sample(b"x")).unwrap();
        value["trust_me"] = serde_json::json!(true);
        assert!(serde_json::from_value::<Manifest>(value).is_err());
    }
}
