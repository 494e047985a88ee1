//! The batch handler for the hub's `FORECASTS` stream: each forecast a gateway forwarded (a pack
//! of one device's forecasts, one per feature bin, or a single forecast published by hand) goes
//! into `deployment.forecasts` (one insert per batch; one stored before is skipped), where the
//! gates join it with the actual reading once that arrives.

use async_nats::jetstream::Message;
use edgeops_bus::Outcome;
use edgeops_contracts::deployment::decode_hub_forecasts;
use sqlx::PgPool;

use crate::live_error::store_forecasts;

pub struct ForecastsHandler {
    pub pool: PgPool,
}

impl edgeops_bus::BatchHandler for ForecastsHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = vec![Outcome::Ack; batch.len()];
        let mut forecasts = Vec::with_capacity(batch.len());
        let mut stored = Vec::with_capacity(batch.len());
        for (i, message) in batch.iter().enumerate() {
            match decode_hub_forecasts(&message.payload) {
                Ok(carried) => {
                    forecasts.extend(carried);
                    stored.push(i);
                }
                Err(rejection) => outcomes[i] = Outcome::Reject(rejection),
            }
        }
        if forecasts.is_empty() {
            return outcomes;
        }
        if let Err(err) = store_forecasts(&self.pool, &forecasts).await {
            tracing::warn!(error = %err, forecasts = forecasts.len(), "storing forecasts failed; will retry");
            for i in stored {
                outcomes[i] = Outcome::Retry {
                    reason: err.to_string(),
                };
            }
        }
        outcomes
    }
}
