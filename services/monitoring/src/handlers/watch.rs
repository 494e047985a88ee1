//! The site-link watch: a site whose summaries stop arriving (by the hub's clock) is offline,
//! one incident for the site; it also renews the dead-letter verdicts, so a jump closes once
//! its hour has passed. Its devices are not judged silent meanwhile: silence is judged
//! on the site's own latest reading, which stops with it.

use std::time::Duration;

use chrono::Utc;
use edgeops_contracts::SiteId;
use edgeops_contracts::monitoring::IncidentKind;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::dead_letters;
use super::incidents::Incidents;
use crate::domain::judge::{self, Levels};
use crate::domain::{Observation, Scope};
use crate::store;

pub async fn watch_site_links(
    pool: PgPool,
    incidents: Incidents,
    levels: Levels,
    every: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let arrivals = match store::last_arrivals(&pool).await {
            Ok(arrivals) => arrivals,
            Err(err) => {
                tracing::warn!(error = %err, "reading the sites' last summaries; retrying");
                continue;
            }
        };
        let now = Utc::now();
        match store::recent_dead_letter_reasons(&pool).await {
            Ok(reasons) => {
                for reason in reasons {
                    if let Err(err) =
                        dead_letters::judge_reason(&pool, &incidents, &levels, &reason, now).await
                    {
                        tracing::warn!(error = %err, reason, "judging dead letters; retrying next tick");
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "reading dead-letter reasons; retrying"),
        }
        for (site, last) in arrivals {
            let Ok(site) = SiteId::parse(site) else {
                continue;
            };
            let verdict = judge::site_link(last, now, &levels);
            let observation = Observation {
                kind: IncidentKind::SiteOffline,
                scope: Scope::Site { site },
                at: now,
                verdict,
                cool_down: chrono::Duration::zero(),
                retrain: None,
            };
            if let Err(err) = incidents.observe(observation).await {
                tracing::warn!(error = %err, "judging a site's link; retrying next tick");
            }
        }
    }
}
