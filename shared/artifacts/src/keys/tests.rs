use super::*;

fn fixed() -> SigningKeyPair {
    SigningKeyPair::from_secret_bytes(&[42u8; 32])
}

#[test]
fn generated_keys_differ_and_have_short_hex_ids() {
    let (a, b) = (
        SigningKeyPair::generate().unwrap(),
        SigningKeyPair::generate().unwrap(),
    );
    assert_ne!(a.key_id(), b.key_id());
    assert_eq!(a.key_id().len(), 16);
    assert!(a.key_id().bytes().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn key_id_is_the_start_of_the_public_keys_digest() {
    let key = fixed();
    let digest = sha256_hex(key.public_key().verifying_key().as_bytes());
    assert_eq!(key.key_id(), &digest[..16]);
}

#[test]
fn save_then_load_from_file_gives_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixed();
    let saved = key.save(dir.path(), "registry").unwrap();
    let loaded = SigningKeyPair::load_from_file(&saved.secret).unwrap();
    assert_eq!(loaded.key_id(), key.key_id());
    let public = fs::read_to_string(&saved.public).unwrap();
    assert_eq!(
        PublicKey::parse(public.lines().last().unwrap(), "test").unwrap(),
        *key.public_key()
    );
    assert_eq!(
        loaded.sign_bytes(b"m").to_bytes(),
        key.sign_bytes(b"m").to_bytes()
    );
}

#[cfg(unix)]
#[test]
fn the_secret_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let saved = fixed().save(dir.path(), "registry").unwrap();
    let mode = fs::metadata(&saved.secret).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn save_refuses_to_overwrite_either_file() {
    let dir = tempfile::tempdir().unwrap();
    let saved = fixed().save(dir.path(), "registry").unwrap();
    let before = fs::read(&saved.secret).unwrap();
    let other = SigningKeyPair::from_secret_bytes(&[1u8; 32]);
    let err = other.save(dir.path(), "registry").unwrap_err();
    assert!(matches!(err, KeyError::AlreadyExists { ref path } if *path == saved.secret));
    assert_eq!(fs::read(&saved.secret).unwrap(), before);

    fs::remove_file(&saved.secret).unwrap();
    let err = other.save(dir.path(), "registry").unwrap_err();
    assert!(matches!(err, KeyError::AlreadyExists { ref path } if *path == saved.public));
    assert!(!saved.secret.exists(), "no orphan secret is left behind");
}

#[test]
fn save_refuses_names_that_would_escape_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["", "../x", "a/b", "a.b"] {
        assert!(matches!(
            fixed().save(dir.path(), name),
            Err(KeyError::InvalidName { .. })
        ));
    }
}

#[test]
fn the_env_form_round_trips_in_base64_and_hex() {
    // Tests cannot set environment variables (that is `unsafe` in edition 2024), so the value
    // an operator would export is parsed the way `load_from_env` parses it.
    let key = fixed();
    let exported = key.export_secret_base64();
    let from_b64 = SigningKeyPair::parse_secret(&exported, "env").unwrap();
    let from_hex = SigningKeyPair::parse_secret(&hex::encode([42u8; 32]), "env").unwrap();
    assert_eq!(from_b64.key_id(), key.key_id());
    assert_eq!(from_hex.key_id(), key.key_id());
}

#[test]
fn a_missing_env_variable_is_named_in_the_error() {
    let err = SigningKeyPair::load_from_env("EDGEOPS_TEST_SURELY_UNSET_7f3a").unwrap_err();
    assert!(err.to_string().contains("EDGEOPS_TEST_SURELY_UNSET_7f3a"));
}

#[test]
fn a_malformed_env_value_names_the_variable_but_not_the_value() {
    let err = SigningKeyPair::parse_secret(
        "hunter2-is-my-key",
        "environment variable EDGEOPS_SIGNING_KEY",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("EDGEOPS_SIGNING_KEY"));
    assert!(!text.contains("hunter2"));
}

#[test]
fn debug_and_display_never_show_the_secret() {
    let key = fixed();
    let secret_b64 = key.export_secret_base64().to_string();
    let secret_hex = hex::encode([42u8; 32]);
    for shown in [format!("{key:?}"), format!("{key:#?}"), key.to_string()] {
        assert!(shown.contains(key.key_id()), "{shown}");
        assert!(!shown.contains(&secret_b64) && !shown.contains(&secret_hex));
        assert!(!shown.contains("42, 42"), "no raw bytes: {shown}");
    }
    assert!(format!("{key:?}").contains("<redacted>"));
}

#[test]
fn the_key_pair_wipes_its_secret_on_drop() {
    fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
    zeroized_on_drop::<SigningKeyPair>();
    zeroized_on_drop::<SigningKey>();
}

/// The variable the child process below reads; set only by the parent test.
const CHILD_VAR: &str = "EDGEOPS_ARTIFACTS_TEST_SIGNING_KEY";

/// Runs only as a child of `load_from_env_reads_an_exported_key` (setting a variable in this
/// process would be `unsafe`); on its own it finds the variable unset and has nothing to do.
#[test]
fn env_child_prints_the_loaded_key_id() {
    if std::env::var_os(CHILD_VAR).is_some() {
        let key = SigningKeyPair::load_from_env(CHILD_VAR).unwrap();
        println!("LOADED_KEY_ID={}", key.key_id());
    }
}

#[test]
fn load_from_env_reads_an_exported_key() {
    let key = fixed();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD_VAR, key.export_secret_base64().as_str())
        .args([
            "--exact",
            "keys::tests::env_child_prints_the_loaded_key_id",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("LOADED_KEY_ID={}", key.key_id())),
        "{stdout}"
    );
}
