//! Names of the JetStream resources the contracts refer to. Provisioning (in the bus crate)
//! decides their limits; the names live here because every component must agree on them.

/// Hub stream of forwarded readings (`edgeops.readings.>`), domain `hub`.
pub const HUB_READINGS: &str = "READINGS";
/// Hub stream of window aggregates from edge gateways (`edgeops.aggregates.>`), domain `hub`.
pub const HUB_AGGREGATES: &str = "AGGREGATES";
/// Hub stream of dead letters (`edgeops.dlq.>`), domain `hub`.
pub const DEAD_LETTERS: &str = "DEAD_LETTERS";
/// Hub stream of domain events (`edgeops.events.>`), domain `hub`.
pub const EVENTS: &str = "EVENTS";
/// Site stream of raw readings (`edgeops.raw.>`: every raw subject published at the site, so
/// that one naming another site is refused with a reason), domain `edge-<site>`.
pub const LOCAL_READINGS: &str = "READINGS_LOCAL";
/// Site stream of what the gateway set aside instead of forwarding
/// (`edgeops.local.dlq.<site>.<reason>`), domain `edge-<site>`.
pub const LOCAL_DEAD_LETTERS: &str = "DEAD_LETTERS_LOCAL";
/// Site stream of what the reduction policy let through, ready for the hub
/// (`edgeops.local.reduced.<site>.<body>`), domain `edge-<site>`: the forwarder sends it and the
/// inference feed forecasts from it, so the model sees at the site what preprocessing sees at
/// the hub.
pub const LOCAL_REDUCED: &str = "REDUCED_LOCAL";
/// Site stream of the gateway's window summaries (`edgeops.local.summaries.<site>.>`), domain
/// `edge-<site>`: kept until the summary forwarder has sent them, so an offline site sends its
/// windows when it returns.
pub const LOCAL_SUMMARIES: &str = "SUMMARIES_LOCAL";
/// Hub stream of window summaries from gateways (`edgeops.summaries.>`), domain `hub`.
pub const HUB_SUMMARIES: &str = "SUMMARIES";
/// Hub KV bucket of registered sites (key = site id).
pub const SITES_BUCKET: &str = "edgeops_sites";
/// Site KV bucket with the gateway's own state (forwarding cursor, ...).
/// ONNX models, one object per model version (`<model>/<training run>.onnx`).
pub const MODELS_BUCKET: &str = "edgeops_models";

pub const GATEWAY_STATE_BUCKET: &str = "edgeops_gateway";

/// The hub's JetStream domain.
pub const HUB_DOMAIN: &str = "hub";

/// The JetStream domain of one edge site's leaf server.
pub fn edge_domain(site: &crate::SiteId) -> String {
    format!("edge-{site}")
}

/// Hub KV bucket of each device's desired model (key `<site>.<device>`), written by deployment
/// and watched by gateways over their leaf link.
pub const DESIRED_BUCKET: &str = "edgeops_desired";
/// Site stream of the gateway's forecasts (`edgeops.forecasts.<site>.>`), domain `edge-<site>`.
pub const LOCAL_FORECASTS: &str = "FORECASTS_LOCAL";
/// Hub stream of forecasts forwarded by gateways (`edgeops.hub.forecasts.>`), domain `hub`.
pub const HUB_FORECASTS: &str = "FORECASTS";
