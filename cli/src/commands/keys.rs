//! `edgeops keys generate`: the registry's Ed25519 signing key pair. The secret goes to the
//! registry (`--signing-key-file`), the public half to every gateway that must trust its models.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use edgeops_artifacts::{SavedKeyPair, SigningKeyPair};

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key pair: `<name>.key` (the secret, mode 0600) and `<name>.pub`. Never
    /// overwrites: replacing a key makes every model it signed unverifiable.
    Generate {
        /// Directory to write the two files into (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// File name stem: letters, digits, '-', '_'.
        #[arg(long, default_value = "registry")]
        name: String,
    },
}

/// Writes a new key pair; returns its key id and where the halves went.
pub fn generate(dir: &Path, name: &str) -> anyhow::Result<(String, SavedKeyPair)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = SigningKeyPair::generate()?;
    let saved = key.save(dir, name)?;
    Ok((key.key_id().to_owned(), saved))
}

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { dir, name } => {
            let (key_id, saved) = generate(&dir, &name)?;
            println!("key id      {key_id}");
            println!(
                "public key  {}  (give it to gateways as a trusted key)",
                saved.public.display()
            );
            println!(
                "secret key  {}  (mode 0600; the registry's --signing-key-file)",
                saved.secret.display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_loads_back_and_is_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("edgeops-keys-{}", uuid::Uuid::now_v7()));
        let (key_id, saved) = generate(&dir, "registry").unwrap();
        let secret = SigningKeyPair::load_from_file(&saved.secret).unwrap();
        assert_eq!(secret.key_id(), key_id);
        let trusted = edgeops_artifacts::TrustedKeys::load(&saved.public).unwrap();
        assert!(trusted.contains(&key_id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&saved.secret)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = generate(&dir, "registry").unwrap_err();
        assert!(
            again.to_string().contains("refusing to overwrite"),
            "{again}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
