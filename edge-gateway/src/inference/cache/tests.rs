use super::*;
use crate::inference::testing::{desired, key, model_bytes, spec_json};
use edgeops_features::FeatureSpec;

fn device(name: &str) -> DeviceId {
    DeviceId::parse(name).unwrap()
}

#[test]
fn devices_and_artifacts_round_trip_and_unreferenced_artifacts_go() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path());
    let spec = FeatureSpec::indoor_air();
    let (v1, v2) = (
        model_bytes(&spec, 1.0, spec_json(&spec)),
        model_bytes(&spec, 2.0, spec_json(&spec)),
    );
    let (d1, d2) = (
        desired(&spec, 1, &v1, &key()),
        desired(&spec, 2, &v2, &key()),
    );
    let digest = |d: &DesiredModel| d.signed.manifest.artifact.sha256.clone();
    cache.store_artifact(&digest(&d1), &v1).unwrap();
    cache.store_artifact(&digest(&d2), &v2).unwrap();
    let both = CachedDevice {
        current: Some(d2.clone()),
        previous: Some(d1.clone()),
    };
    cache.save_device(&device("room-1"), &both).unwrap();
    assert_eq!(cache.load_devices(), vec![(device("room-1"), both)]);
    assert_eq!(cache.read_artifact(&digest(&d1)).unwrap(), v1);

    let only_v2 = CachedDevice {
        current: Some(d2.clone()),
        previous: None,
    };
    cache.save_device(&device("room-1"), &only_v2).unwrap();
    assert!(
        cache.read_artifact(&digest(&d1)).is_err(),
        "v1 is no longer referenced"
    );
    assert_eq!(cache.read_artifact(&digest(&d2)).unwrap(), v2);
}

#[test]
fn a_digest_that_is_not_one_never_becomes_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("cache"));
    std::fs::write(dir.path().join("secret.onnx"), b"x").unwrap();
    let err = cache.read_artifact("../../secret").unwrap_err();
    assert!(matches!(err, CacheError::Invalid { .. }), "{err}");
}

#[test]
fn an_unreadable_entry_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path());
    let spec = FeatureSpec::indoor_air();
    let bytes = model_bytes(&spec, 1.0, spec_json(&spec));
    let good = CachedDevice {
        current: Some(desired(&spec, 1, &bytes, &key())),
        previous: None,
    };
    cache.save_device(&device("good"), &good).unwrap();
    std::fs::write(dir.path().join("devices/broken.json"), b"{not json").unwrap();
    std::fs::write(dir.path().join("devices/bad name.json"), b"{}").unwrap();
    assert_eq!(cache.load_devices(), vec![(device("good"), good)]);
}
