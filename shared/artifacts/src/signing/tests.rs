use std::collections::BTreeMap;

use chrono::DateTime;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::{ArtifactRef, FeatureSpecRef, Lineage, sha256_hex};

/// A manifest as the registry would write it.
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

const ARTIFACT: &[u8] = b"pretend this is an ONNX model";

fn registry_key() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[9u8; 32])
}

fn trusting(key: &SigningKeyPair) -> TrustedKeys {
    TrustedKeys::from_keys([key.public_key().clone()])
}

fn signed_for(artifact: &[u8]) -> SignedManifest {
    sign(sample(artifact), &registry_key()).unwrap()
}

fn flip_signature_bit(signed: &mut SignedManifest, bit: usize) {
    let mut bytes = STANDARD.decode(&signed.signature).unwrap();
    bytes[bit / 8] ^= 1 << (bit % 8);
    signed.signature = STANDARD.encode(bytes);
}

#[test]
fn a_signed_manifest_verifies_with_its_artifact() {
    let signed = signed_for(ARTIFACT);
    assert_eq!(
        verify(&signed, ARTIFACT, &trusting(&registry_key())),
        Ok(())
    );
}

fn with_reference(mut manifest: Manifest) -> Manifest {
    manifest.reference = ["co2_ppm", "co2_ppm_lag1"]
        .iter()
        .map(|name| edgeops_contracts::monitoring::FeatureReference {
            name: (*name).into(),
            edges: vec![420.5, 480.25, 610.0],
            shares: vec![0.3, 0.3, 0.3, 0.1],
            min: 398.0,
            max: 1_250.0,
            mean: 505.125,
            std: 265.0 / 3.0,
            rows: 4_032,
        })
        .collect();
    manifest
}

#[test]
fn a_manifest_with_a_reference_verifies_after_a_trip_through_json() {
    let signed = sign(with_reference(sample(ARTIFACT)), &registry_key()).unwrap();
    let read: SignedManifest =
        serde_json::from_slice(&serde_json::to_vec(&signed).unwrap()).unwrap();
    assert_eq!(read.manifest.reference.len(), 2);
    assert_eq!(verify(&read, ARTIFACT, &trusting(&registry_key())), Ok(()));
}

#[test]
fn a_manifest_without_a_reference_signs_the_bytes_it_always_did() {
    let manifest = sample(ARTIFACT);
    let bytes = manifest.canonical_bytes().unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("reference"));
    assert_eq!(
        verify(&signed_for(ARTIFACT), ARTIFACT, &trusting(&registry_key())),
        Ok(())
    );
}

#[test]
fn an_altered_reference_breaks_the_signature() {
    let mut signed = sign(with_reference(sample(ARTIFACT)), &registry_key()).unwrap();
    signed.manifest.reference[1].edges[0] = 420.0;
    assert!(verify(&signed, ARTIFACT, &trusting(&registry_key())).is_err());
}

#[test]
fn it_survives_a_trip_through_json() {
    let signed = signed_for(ARTIFACT);
    let read: SignedManifest =
        serde_json::from_slice(&serde_json::to_vec_pretty(&signed).unwrap()).unwrap();
    assert_eq!(verify(&read, ARTIFACT, &trusting(&registry_key())), Ok(()));
}

#[test]
fn one_altered_artifact_byte_is_a_digest_mismatch() {
    let signed = signed_for(ARTIFACT);
    let mut tampered = ARTIFACT.to_vec();
    tampered[3] ^= 0x01;
    let err = verify(&signed, &tampered, &trusting(&registry_key())).unwrap_err();
    assert_eq!(
        err,
        VerifyError::DigestMismatch {
            expected: sha256_hex(ARTIFACT),
            actual: sha256_hex(&tampered),
        }
    );
    assert!(err.to_string().contains(&sha256_hex(ARTIFACT)));
}

#[test]
fn a_truncated_artifact_is_a_size_mismatch() {
    let signed = signed_for(ARTIFACT);
    let err = verify(
        &signed,
        &ARTIFACT[..ARTIFACT.len() - 1],
        &trusting(&registry_key()),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::SizeMismatch { expected, actual } if expected == actual + 1)
    );
}

#[test]
fn a_rewritten_digest_in_the_manifest_breaks_the_signature() {
    // An attacker who swaps the artifact and updates the digest still cannot re-sign.
    let evil = b"a different model".as_slice();
    let mut signed = signed_for(ARTIFACT);
    signed.manifest.artifact = crate::ArtifactRef::of("co2-room/3.onnx", evil);
    let err = verify(&signed, evil, &trusting(&registry_key())).unwrap_err();
    assert!(
        matches!(err, VerifyError::BadSignature { ref model, version: 3, .. } if model == "co2-room")
    );
}

#[test]
fn an_altered_signature_fails() {
    let mut signed = signed_for(ARTIFACT);
    flip_signature_bit(&mut signed, 100);
    assert!(matches!(
        verify(&signed, ARTIFACT, &trusting(&registry_key())),
        Err(VerifyError::BadSignature { .. })
    ));
    signed.signature = "not base64!".into();
    assert!(matches!(
        verify(&signed, ARTIFACT, &trusting(&registry_key())),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn a_manifest_signed_by_an_untrusted_key_is_refused_by_key_id() {
    let stranger = SigningKeyPair::from_secret_bytes(&[66u8; 32]);
    let signed = sign(sample(ARTIFACT), &stranger).unwrap();
    let err = verify(&signed, ARTIFACT, &trusting(&registry_key())).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnknownKey {
            key_id: stranger.key_id().to_owned()
        }
    );
    assert!(err.to_string().contains(stranger.key_id()));
}

#[test]
fn claiming_a_trusted_key_id_does_not_help_a_stranger() {
    let stranger = SigningKeyPair::from_secret_bytes(&[66u8; 32]);
    let mut signed = sign(sample(ARTIFACT), &stranger).unwrap();
    signed.key_id = registry_key().key_id().to_owned();
    assert!(matches!(
        verify(&signed, ARTIFACT, &trusting(&registry_key())),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn trust_is_checked_before_the_signature_and_the_signature_before_the_digest() {
    let stranger = SigningKeyPair::from_secret_bytes(&[66u8; 32]);
    let mut signed = sign(sample(ARTIFACT), &stranger).unwrap();
    flip_signature_bit(&mut signed, 0);
    let trusted = trusting(&registry_key());
    assert!(matches!(
        verify(&signed, b"other", &trusted),
        Err(VerifyError::UnknownKey { .. })
    ));
    let mut signed = signed_for(ARTIFACT);
    flip_signature_bit(&mut signed, 0);
    assert!(matches!(
        verify(&signed, b"other", &trusted),
        Err(VerifyError::BadSignature { .. })
    ));
}

proptest! {
    #[test]
    fn any_single_bit_flip_in_the_artifact_fails(
        artifact in proptest::collection::vec(any::<u8>(), 1..512),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let signed = signed_for(&artifact);
        let mut flipped = artifact.clone();
        flipped[position.index(artifact.len())] ^= 1 << bit;
        let result = verify(&signed, &flipped, &trusting(&registry_key()));
        prop_assert!(
            matches!(result, Err(VerifyError::DigestMismatch { .. })),
            "got {:?}",
            result
        );
    }

    #[test]
    fn any_single_bit_flip_in_the_signature_fails(bit in 0usize..512) {
        let mut signed = signed_for(ARTIFACT);
        flip_signature_bit(&mut signed, bit);
        let result = verify(&signed, ARTIFACT, &trusting(&registry_key()));
        prop_assert!(
            matches!(result, Err(VerifyError::BadSignature { .. })),
            "got {:?}",
            result
        );
    }
}
