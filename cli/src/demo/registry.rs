//! The demo's registry step: the trained model becomes a signed version, the demo checks the
//! signature and digest against the artifact in the object store as a gateway would, and
//! promotes the version to prod through the registry's gates.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use edgeops_artifacts::{SigningKeyPair, TrustedKeys, verify};
use edgeops_contracts::streams;
use edgeops_contracts::training::TrainingCompleted;
use edgeops_registry_api::RegistryClient;
use edgeops_registry_api::Stage;
use edgeops_registry_api::{PromoteRequest, VersionDetail};
use tokio::io::AsyncReadExt as _;

use super::report;

/// The demo's signing key, made fresh in the demo's working directory: the registry signs with
/// the secret half, the gateway trusts the public half.
pub struct DemoKeys {
    pub signing: SigningKeyPair,
    pub public_file: PathBuf,
}

pub fn generate_keys(dir: &Path) -> anyhow::Result<DemoKeys> {
    let signing = SigningKeyPair::generate()?;
    let keys_dir = dir.join("keys");
    std::fs::create_dir_all(&keys_dir)?;
    let saved = signing.save(&keys_dir, "registry")?;
    report::step(&format!(
        "signing key {} generated (secret {}, mode 0600; the gateway trusts {})",
        signing.key_id(),
        saved.secret.display(),
        saved.public.display()
    ));
    Ok(DemoKeys {
        signing,
        public_file: saved.public,
    })
}

/// Waits for the registry to register the run's model, verifies it, promotes it to prod.
pub async fn register_and_promote(
    js: &async_nats::jetstream::Context,
    done: &TrainingCompleted,
    trusted_file: &Path,
) -> anyhow::Result<VersionDetail> {
    let registry = RegistryClient::new(js.client());
    let detail = wait_for_version(&registry, done).await?;
    let summary = &detail.summary;
    report::step(&format!(
        "registry: {} v{} registered from run {} and signed (key {}); stage {}",
        summary.model,
        summary.version,
        done.run,
        detail.signer_key_id.as_deref().unwrap_or("none"),
        summary.stage
    ));
    verify_as_a_gateway_would(js, &registry, &detail, trusted_file).await?;
    let promoted = registry
        .promote(&PromoteRequest {
            model: summary.model.clone(),
            version: summary.version,
            to: Stage::Prod,
            actor: "demo".into(),
        })
        .await
        .context("promoting the first model to prod")?;
    report::step(&format!(
        "registry: {} v{} promoted to {} (gates: beats persistence, no prod version to be worse than)",
        promoted.model, promoted.version, promoted.stage
    ));
    Ok(detail)
}

pub async fn wait_for_version(
    registry: &RegistryClient,
    done: &TrainingCompleted,
) -> anyhow::Result<VersionDetail> {
    let model = &done.request.model;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Before the first registration the model is unknown: that answer is an error too.
        if let Ok(versions) = registry.versions(model).await {
            for summary in versions {
                let detail = registry.version(model, summary.version).await?;
                // Signed, and through auto-staging (moved, or refused on record).
                let staged = !detail.stage_history.is_empty() || !detail.gate_failures.is_empty();
                if detail.lineage.training_run == done.run
                    && detail.signer_key_id.is_some()
                    && staged
                {
                    return Ok(detail);
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the registry did not register run {} within 60 s", done.run);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn verify_as_a_gateway_would(
    js: &async_nats::jetstream::Context,
    registry: &RegistryClient,
    detail: &VersionDetail,
    trusted_file: &Path,
) -> anyhow::Result<()> {
    let signed = registry
        .manifest(&detail.summary.model, detail.summary.version)
        .await?;
    let store = js.get_object_store(streams::MODELS_BUCKET).await?;
    let mut object = store
        .get(&signed.manifest.artifact.object_name)
        .await
        .context("fetching the artifact")?;
    let mut bytes = Vec::new();
    object.read_to_end(&mut bytes).await?;
    let trusted = TrustedKeys::load(trusted_file)?;
    verify(&signed, &bytes, &trusted).context("the manifest does not verify")?;
    report::step(&format!(
        "manifest verified: {} bytes of ONNX, sha256 {}…, Ed25519 signature by a trusted key",
        bytes.len(),
        &signed.manifest.artifact.sha256[..16]
    ));
    Ok(())
}
