//! Fetching an artifact from the hub's object store over the leaf link.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::object_store::GetErrorKind;
use edgeops_contracts::deployment::{DesiredModel, RefusalReason};
use tokio::io::AsyncReadExt;

use super::active::Refusal;

/// Longest a fetch may take before it counts as a transient failure (a link that died
/// mid-transfer must not stall the deployer).
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The object is not there: a refusal, not worth retrying.
    #[error(transparent)]
    Refused(Refusal),
    /// The link or the hub failed: retry later.
    #[error("fetching {object} from {bucket}: {message}")]
    Transient {
        bucket: String,
        object: String,
        message: String,
    },
}

/// The artifact bytes `desired` names (unverified: the caller verifies them).
pub async fn fetch(
    hub_api: &jetstream::Context,
    desired: &DesiredModel,
) -> Result<Vec<u8>, FetchError> {
    let object = desired.signed.manifest.artifact.object_name.clone();
    let transient = |message: String| FetchError::Transient {
        bucket: desired.bucket.clone(),
        object: object.clone(),
        message,
    };
    let fetching = async {
        let store = hub_api
            .get_object_store(&desired.bucket)
            .await
            .map_err(|e| transient(e.to_string()))?;
        let mut reader = store.get(&object).await.map_err(|e| match e.kind() {
            GetErrorKind::NotFound | GetErrorKind::InvalidName => {
                FetchError::Refused(Refusal::new(
                    RefusalReason::ArtifactMissing,
                    format!("no object {object:?} in bucket {}: {e}", desired.bucket),
                ))
            }
            _ => transient(e.to_string()),
        })?;
        let expected = usize::try_from(desired.signed.manifest.artifact.size_bytes).unwrap_or(0);
        let mut bytes = Vec::with_capacity(expected.min(64 * 1024 * 1024));
        reader
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| transient(e.to_string()))?;
        Ok(bytes)
    };
    tokio::time::timeout(FETCH_TIMEOUT, fetching)
        .await
        .map_err(|_| transient(format!("no complete transfer within {FETCH_TIMEOUT:?}")))?
}
