//! The forwarding cursor: the last local stream sequence the hub has acknowledged. Kept in the
//! site's KV bucket, so a restarted gateway resumes exactly after it.

use async_nats::jetstream::kv::Store;

const CURSOR_KEY: &str = "forward.cursor";

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("reading the forward cursor: {0}")]
    Read(#[source] async_nats::Error),
    #[error("stored forward cursor {0:?} is not a sequence number")]
    Corrupt(String),
    #[error("saving the forward cursor: {0}")]
    Write(#[source] async_nats::Error),
}

pub struct Cursor {
    bucket: Store,
}

impl Cursor {
    pub fn new(bucket: Store) -> Self {
        Self { bucket }
    }

    /// The last acknowledged local sequence; 0 when nothing was forwarded yet.
    pub async fn load(&self) -> Result<u64, CursorError> {
        let stored = self
            .bucket
            .get(CURSOR_KEY)
            .await
            .map_err(|e| CursorError::Read(e.into()))?;
        match stored {
            None => Ok(0),
            Some(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                text.trim().parse().map_err(|_| CursorError::Corrupt(text))
            }
        }
    }

    pub async fn save(&self, sequence: u64) -> Result<(), CursorError> {
        self.bucket
            .put(CURSOR_KEY, sequence.to_string().into())
            .await
            .map_err(|e| CursorError::Write(e.into()))?;
        Ok(())
    }
}
