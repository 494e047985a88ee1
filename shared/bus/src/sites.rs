//! Registering a site: a `site.registered` event in the event stream (the record of who added
//! it and when) and the site's entry in the `edgeops_sites` KV bucket (what ingest watches).

use async_nats::jetstream::Context;
use edgeops_contracts::envelope::{Actor, EventEnvelope};
use edgeops_contracts::events::SiteRegistered;
use edgeops_contracts::streams;

use crate::publish::{PublishEventError, publish_event};

#[derive(Debug, thiserror::Error)]
pub enum RegisterSiteError {
    #[error(transparent)]
    Event(#[from] PublishEventError),
    #[error("writing the sites bucket: {0}")]
    Bucket(#[source] async_nats::Error),
}

/// Registers (or re-registers, with new details) a site on the hub.
pub async fn register_site(
    js: &Context,
    site: SiteRegistered,
    actor: Actor,
) -> Result<(), RegisterSiteError> {
    let key = site.site.to_string();
    let event = EventEnvelope::new("site", &key, actor, site);
    publish_event(js, &event, None).await?;
    let bucket = js
        .get_key_value(streams::SITES_BUCKET)
        .await
        .map_err(|e| RegisterSiteError::Bucket(e.into()))?;
    let value = serde_json::to_vec(&event.data)
        .map_err(|e| RegisterSiteError::Event(PublishEventError::Encode(e)))?;
    bucket
        .put(key, value.into())
        .await
        .map_err(|e| RegisterSiteError::Bucket(e.into()))?;
    Ok(())
}
