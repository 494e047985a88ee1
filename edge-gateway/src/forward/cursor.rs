//! The gateway's cursors, kept in the site's KV bucket so a restarted gateway resumes exactly
//! after them: how far the reduction stage has read `READINGS_LOCAL`, and how far the hub has
//! acknowledged `REDUCED_LOCAL`.

use async_nats::jetstream::kv::Store;

/// The last raw sequence the reduction stage recorded the outcome of.
pub const REDUCE_KEY: &str = "reduce.cursor";
/// The last `REDUCED_LOCAL` sequence the hub acknowledged.
pub const SEND_KEY: &str = "send.cursor";
/// Before the reduction stage, the forwarder read raw readings and kept its place here (a raw
/// sequence). A gateway upgraded in place reduces from after it.
const LEGACY_FORWARD_KEY: &str = "forward.cursor";

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("reading the cursor {key}: {source}")]
    Read {
        key: &'static str,
        #[source]
        source: async_nats::Error,
    },
    #[error("stored cursor {key} = {text:?} is not a sequence number")]
    Corrupt { key: &'static str, text: String },
    #[error("saving the cursor {key}: {source}")]
    Write {
        key: &'static str,
        #[source]
        source: async_nats::Error,
    },
}

pub struct Cursor {
    bucket: Store,
    key: &'static str,
}

impl Cursor {
    pub fn new(bucket: Store, key: &'static str) -> Self {
        Self { bucket, key }
    }

    /// The reduction stage's cursor, taking over the place of a gateway from before the stage.
    pub async fn reduction(bucket: Store) -> Result<Self, CursorError> {
        let cursor = Self::new(bucket.clone(), REDUCE_KEY);
        if cursor.stored().await?.is_none()
            && let Some(legacy) = Self::new(bucket, LEGACY_FORWARD_KEY).stored().await?
        {
            tracing::info!(
                cursor = legacy,
                "reducing after the place of the forwarder before the reduction stage"
            );
            cursor.save(legacy).await?;
        }
        Ok(cursor)
    }

    /// The saved sequence; 0 when nothing was saved yet.
    pub async fn load(&self) -> Result<u64, CursorError> {
        Ok(self.stored().await?.unwrap_or(0))
    }

    async fn stored(&self) -> Result<Option<u64>, CursorError> {
        let key = self.key;
        let stored = self.bucket.get(key).await.map_err(|e| CursorError::Read {
            key,
            source: e.into(),
        })?;
        let Some(bytes) = stored else { return Ok(None) };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match text.trim().parse() {
            Ok(sequence) => Ok(Some(sequence)),
            Err(_) => Err(CursorError::Corrupt { key, text }),
        }
    }

    pub async fn save(&self, sequence: u64) -> Result<(), CursorError> {
        let key = self.key;
        self.bucket
            .put(key, sequence.to_string().into())
            .await
            .map_err(|e| CursorError::Write {
                key,
                source: e.into(),
            })?;
        Ok(())
    }
}
