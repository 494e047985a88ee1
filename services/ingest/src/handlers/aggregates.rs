//! The batch handler for `edgeops.aggregates.>`: validate, write, refuse what is malformed.

use async_nats::jetstream::Message;
use edgeops_bus::Outcome;
use edgeops_contracts::aggregate::parse_aggregates;
use edgeops_store::sqlx::{self, PgPool};

pub struct AggregatesHandler {
    pub pool: PgPool,
}

impl edgeops_bus::BatchHandler for AggregatesHandler {
    async fn handle(&self, batch: &[Message]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for message in batch {
            let outcome = match parse_aggregates(message.subject.as_str(), &message.payload) {
                Err(rejection) => Outcome::Reject(rejection),
                Ok((site, device, aggregates)) => {
                    match write(&self.pool, site.as_str(), device.as_str(), &aggregates).await {
                        Ok(()) => Outcome::Ack,
                        Err(err) => Outcome::Retry {
                            reason: format!("postgres: {err}"),
                        },
                    }
                }
            };
            outcomes.push(outcome);
        }
        outcomes
    }
}

async fn write(
    pool: &PgPool,
    site: &str,
    device: &str,
    aggregates: &[edgeops_contracts::aggregate::WindowAggregate],
) -> Result<(), sqlx::Error> {
    let metrics: Vec<&str> = aggregates.iter().map(|a| a.metric.as_str()).collect();
    let starts: Vec<_> = aggregates.iter().map(|a| a.window_start).collect();
    let secs: Vec<i32> = aggregates
        .iter()
        .map(|a| i32::try_from(a.window_secs).unwrap_or(i32::MAX))
        .collect();
    let mins: Vec<f64> = aggregates.iter().map(|a| a.min).collect();
    let maxs: Vec<f64> = aggregates.iter().map(|a| a.max).collect();
    let means: Vec<f64> = aggregates.iter().map(|a| a.mean).collect();
    let counts: Vec<i64> = aggregates
        .iter()
        .map(|a| i64::try_from(a.count).unwrap_or(i64::MAX))
        .collect();
    sqlx::query(
        "INSERT INTO ingest.aggregates (site_id, device_id, metric, window_start, window_secs, min, max, mean, count)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::timestamptz[], $5::int4[], $6::float8[], $7::float8[], $8::float8[], $9::int8[])
         ON CONFLICT DO NOTHING",
    )
    .bind(site)
    .bind(device)
    .bind(&metrics)
    .bind(&starts)
    .bind(&secs)
    .bind(&mins)
    .bind(&maxs)
    .bind(&means)
    .bind(&counts)
    .execute(pool)
    .await?;
    Ok(())
}
