//! `monitoring.incidents`: the incident events as operators list them. Each event applies
//! once (its id goes into `monitoring.applied_events` in the same transaction), so
//! redelivery and replay are harmless; a rebuild empties the tables and replays.

use edgeops_eventsourcing::{Applied, Projection, ProjectionError, Recorded};
use sqlx::PgConnection;

use crate::domain::{IncidentEvent, IncidentState};

pub struct IncidentsProjection;

impl Projection for IncidentsProjection {
    type Aggregate = IncidentState;
    const TABLES: &'static str = "monitoring.incidents, monitoring.applied_events";

    async fn apply(
        &self,
        conn: &mut PgConnection,
        recorded: &Recorded<IncidentEvent>,
    ) -> Result<Applied, ProjectionError> {
        let first = sqlx::query(
            "INSERT INTO monitoring.applied_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(recorded.meta.id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !first {
            return Ok(Applied::Duplicate);
        }
        match &recorded.event {
            IncidentEvent::Recovered(recovered) => {
                sqlx::query(
                    "UPDATE monitoring.incidents SET closed_at = $2, recovery = $3
                     WHERE incident = $1",
                )
                .bind(recovered.incident)
                .bind(recovered.at)
                .bind(serde_json::to_value(&recovered.evidence)?)
                .execute(&mut *conn)
                .await?;
            }
            other => {
                let Some(opened) = other.opened() else {
                    return Ok(Applied::Orphan);
                };
                sqlx::query(
                    "INSERT INTO monitoring.incidents
                         (incident, kind, scope, site_id, opened_at, evidence)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (incident) DO NOTHING",
                )
                .bind(opened.incident)
                .bind(
                    serde_json::to_value(opened.kind)?
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
                .bind(&opened.scope)
                .bind(opened.site.as_ref().map(|s| s.as_str().to_owned()))
                .bind(opened.at)
                .bind(serde_json::to_value(&opened.evidence)?)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(Applied::New)
    }
}
