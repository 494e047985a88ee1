//! Span and metric names, in one scheme: `edgeops.<service>.<operation>`. Dashboards in
//! `infra/grafana/` depend on these strings; the test below pins them.

pub const INGEST_BATCH_SPAN: &str = "edgeops.ingest.write_batch";
pub const INGEST_READINGS_ACCEPTED: &str = "edgeops.ingest.readings.accepted";
pub const INGEST_READINGS_DUPLICATE: &str = "edgeops.ingest.readings.duplicate";
pub const INGEST_READINGS_REJECTED: &str = "edgeops.ingest.readings.rejected";
pub const INGEST_LAG_MESSAGES: &str = "edgeops.ingest.lag.messages";
pub const GATEWAY_FORWARDED: &str = "edgeops.gateway.messages.forwarded";
pub const GATEWAY_RAW_BYTES: &str = "edgeops.gateway.bytes.raw";
pub const GATEWAY_FORWARDED_BYTES: &str = "edgeops.gateway.bytes.forwarded";
pub const CONSUMER_DEAD_LETTERED: &str = "edgeops.bus.dead_lettered";

/// Window summaries monitoring handled, by `outcome` (`stored`, `duplicate`, `rejected`).
pub const MONITORING_SUMMARIES: &str = "edgeops.monitoring.summaries";
/// Forecasts judged at the edge that monitoring counted, by `model` and `version`.
pub const MONITORING_JUDGED_FORECASTS: &str = "edgeops.monitoring.forecasts.judged";
/// Incident events, by `kind` and `event` (`opened`, `recovered`).
pub const MONITORING_INCIDENTS: &str = "edgeops.monitoring.incidents";
/// Skill vs persistence of each device's window, by `model` and `version` (a histogram: the
/// fleet's spread of live skill).
pub const MONITORING_WINDOW_SKILL: &str = "edgeops.monitoring.window.skill";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_follows_the_scheme() {
        for name in [
            MONITORING_SUMMARIES,
            MONITORING_JUDGED_FORECASTS,
            MONITORING_INCIDENTS,
            MONITORING_WINDOW_SKILL,
            INGEST_BATCH_SPAN,
            INGEST_READINGS_ACCEPTED,
            INGEST_READINGS_DUPLICATE,
            INGEST_READINGS_REJECTED,
            INGEST_LAG_MESSAGES,
            GATEWAY_FORWARDED,
            GATEWAY_RAW_BYTES,
            GATEWAY_FORWARDED_BYTES,
            CONSUMER_DEAD_LETTERED,
        ] {
            let parts: Vec<&str> = name.split('.').collect();
            assert!(parts.len() >= 3 && parts[0] == "edgeops", "{name}");
            assert!(parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')), "{name}");
        }
    }
}
