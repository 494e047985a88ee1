//! The batch handler for the hub's `FORECASTS` stream: each forecast a gateway forwarded goes
//! into `deployment.forecasts` (one insert per batch; one stored before is skipped), where the
//! gates join it with the actual reading once that arrives.

use async_nats::jetstream::Message;
use edgeops_bus::Outcome;
use edgeops_contracts::deployment::Forecast;
use edgeops_contracts::{RejectCode, Rejection};
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
            match serde_json::from_slice::<Forecast>(&message.payload) {
                Ok(forecast) if forecast.value.is_finite() => {
                    forecasts.push(forecast);
                    stored.push(i);
                }
                Ok(_) => {
                    outcomes[i] = Outcome::Reject(Rejection::new(
                        RejectCode::NotANumber,
                        "the forecast's value is not a finite number",
                    ));
                }
                Err(err) => {
                    outcomes[i] =
                        Outcome::Reject(Rejection::new(RejectCode::InvalidJson, err.to_string()));
                }
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
