//! The subject scheme. Every subject in the system is built here and nowhere else, so the
//! README's table and the code cannot drift apart.
//!
//! | subject                                   | who publishes            | stored in (domain)        |
//! |-------------------------------------------|--------------------------|---------------------------|
//! | `edgeops.raw.<site>.<device>`             | sensors, at the site     | `READINGS_LOCAL` (edge-<site>) |
//! | `edgeops.readings.<site>.<device>`        | edge gateway, forwarded  | `READINGS` (hub)          |
//! | `edgeops.aggregates.<site>.<device>`      | edge gateway, windows    | `AGGREGATES` (hub)        |
//! | `edgeops.dlq.<consumer>.<reason>`         | any consumer             | `DEAD_LETTERS` (hub)      |
//! | `edgeops.local.dlq.<site>.<reason>`       | edge gateway, at the site | `DEAD_LETTERS_LOCAL` (edge-<site>) |
//! | `edgeops.local.reduced.<site>`            | edge gateway, at the site | `REDUCED_LOCAL` (edge-<site>) |
//! | `edgeops.events.<aggregate>.<id>`         | services                 | `EVENTS` (hub)            |
//! | `edgeops.svc.<service>.<endpoint>`        | request/reply endpoints  | -                         |
//! | `edgeops.forecasts.<site>.<device>`       | edge gateway, at the site | `FORECASTS_LOCAL` (edge-<site>) |
//! | `edgeops.hub.forecasts.<site>`            | edge gateway, forwarded  | `FORECASTS` (hub)         |
//! | `edgeops.hub.forecasts.<site>.<device>`   | by hand (one forecast)   | `FORECASTS` (hub)         |
//! | `edgeops.probe.<run>.<site>`              | a test stack, at the site | - (heard on the hub)     |

use crate::ids::{DeviceId, SiteId};

pub const ROOT: &str = "edgeops";
const RAW: &str = "edgeops.raw";
const READINGS: &str = "edgeops.readings";
const AGGREGATES: &str = "edgeops.aggregates";
const DLQ: &str = "edgeops.dlq";
const LOCAL_DLQ: &str = "edgeops.local.dlq";
const LOCAL_REDUCED: &str = "edgeops.local.reduced";
const EVENTS: &str = "edgeops.events";
const SERVICES: &str = "edgeops.svc";

/// Where a sensor publishes one reading at its site.
pub fn raw_reading(site: &SiteId, device: &DeviceId) -> String {
    format!("{RAW}.{site}.{device}")
}

/// Every raw reading of one site (the local stream's filter).
pub fn raw_readings_of_site(site: &SiteId) -> String {
    format!("{RAW}.{site}.>")
}

/// Every raw reading published at a leaf, whatever site its subject names. A site's local
/// stream captures them all, so a reading with another site in its subject is refused with a
/// reason instead of vanishing (the leaf link never carries raw readings either way).
pub fn all_raw_readings() -> String {
    format!("{RAW}.>")
}

/// The site a raw subject names (its third token), if any: the gateway refuses readings whose
/// subject names another site than its own.
pub fn site_of_raw_subject(raw_subject: &str) -> Option<&str> {
    let rest = raw_subject.strip_prefix(RAW)?.strip_prefix('.')?;
    rest.split('.').next().filter(|site| !site.is_empty())
}

/// Where the gateway forwards a reading to the hub.
pub fn hub_reading(site: &SiteId, device: &DeviceId) -> String {
    format!("{READINGS}.{site}.{device}")
}

/// The hub subject a raw subject is forwarded to: the same tokens under the hub prefix.
/// Tokens are not validated here on purpose: the gateway forwards whatever the local stream
/// captured, and ingest refuses a malformed subject with a reason, in the hub's dead letters.
pub fn hub_subject_for_raw(raw_subject: &str) -> Option<String> {
    let rest = raw_subject.strip_prefix(RAW)?.strip_prefix('.')?;
    Some(format!("{READINGS}.{rest}"))
}

/// Where the gateway sends the window aggregates of one device.
pub fn hub_aggregates(site: &SiteId, device: &DeviceId) -> String {
    format!("{AGGREGATES}.{site}.{device}")
}

pub fn all_hub_aggregates() -> String {
    format!("{AGGREGATES}.>")
}

/// Every forwarded reading of every site (the hub stream's filter).
pub fn all_hub_readings() -> String {
    format!("{READINGS}.>")
}

/// Where a consumer dead-letters a message it cannot process, with the reason in the subject
/// so that `nats sub 'edgeops.dlq.*.out_of_range'` shows one kind of failure.
pub fn dead_letter(consumer: &str, reason: &str) -> String {
    format!("{DLQ}.{consumer}.{reason}")
}

pub fn all_dead_letters() -> String {
    format!("{DLQ}.>")
}

/// The consumer token of what one site's gateway sets aside (`gateway-<site>`): one subject per
/// site and reason, so the gateway can see on the hub what it already reported after an outage.
pub fn gateway_consumer(site: &SiteId) -> String {
    format!("gateway-{site}")
}

/// Where a site's gateway keeps, at the site, what it set aside instead of forwarding (too
/// large, another site's subject, refused by the hub). Outside `edgeops.dlq.>` on purpose: the
/// hub's dead-letter stream would otherwise capture it over the leaf link too.
pub fn local_dead_letter(site: &SiteId, reason: &str) -> String {
    format!("{LOCAL_DLQ}.{site}.{reason}")
}

/// Every local dead letter of one site (the site's dead-letter stream's filter).
pub fn local_dead_letters_of_site(site: &SiteId) -> String {
    format!("{LOCAL_DLQ}.{site}.>")
}

/// Where the gateway's reduction stage records, at the site, what its policy lets through: one
/// message per reduced batch, holding the batch's hub messages.
pub fn local_reduced(site: &SiteId) -> String {
    format!("{LOCAL_REDUCED}.{site}")
}

/// Whether `subject` is a hub dead-letter subject.
pub fn is_dead_letter(subject: &str) -> bool {
    subject
        .strip_prefix(DLQ)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// The reason of a hub dead-letter subject (`edgeops.dlq.<consumer>.<reason>`).
pub fn dead_letter_reason(subject: &str) -> Option<&str> {
    let rest = subject.strip_prefix(DLQ)?.strip_prefix('.')?;
    let (consumer, reason) = rest.split_once('.')?;
    (!consumer.is_empty() && !reason.is_empty() && !reason.contains('.')).then_some(reason)
}

/// The subject of one aggregate instance's events (one subject per instance, so optimistic
/// concurrency can use `Nats-Expected-Last-Subject-Sequence`).
pub fn aggregate_events(aggregate_kind: &str, aggregate_id: &str) -> String {
    format!("{EVENTS}.{aggregate_kind}.{aggregate_id}")
}

/// Every event of one aggregate kind (`edgeops.events.<kind>.>`): a projection's filter.
pub fn all_aggregate_events(aggregate_kind: &str) -> String {
    format!("{EVENTS}.{aggregate_kind}.>")
}

/// The events of every instance whose id is `<first>.<token>`: with model-version ids
/// `<model>.<version>`, every version of one model (`edgeops.events.model_version.<model>.*`).
pub fn aggregate_events_under(aggregate_kind: &str, first: &str) -> String {
    format!("{EVENTS}.{aggregate_kind}.{first}.*")
}

pub fn all_events() -> String {
    format!("{EVENTS}.>")
}

/// A message a local stack publishes at a site's leaf to learn that the leaf link carries it
/// to the hub; `run` keeps two stacks on one machine apart. Stored nowhere.
pub fn link_probe(run: &str, site: &str) -> String {
    format!("{ROOT}.probe.{run}.{site}")
}

/// A request/reply endpoint of a service.
pub fn service_endpoint(service: &str, endpoint: &str) -> String {
    format!("{SERVICES}.{service}.{endpoint}")
}

/// The prefix a service's micro-service endpoints share (`edgeops.svc.<service>`).
pub fn service_group(service: &str) -> String {
    format!("{SERVICES}.{service}")
}

/// Site and device named by a hub or raw reading subject. Parses by matching the known
/// prefixes, not by position alone, and validates both tokens.
pub fn parse_reading_subject(subject: &str) -> Option<(SiteId, DeviceId)> {
    let rest = subject
        .strip_prefix(READINGS)
        .or_else(|| subject.strip_prefix(RAW))?
        .strip_prefix('.')?;
    let (site, device) = rest.split_once('.')?;
    Some((SiteId::parse(site).ok()?, DeviceId::parse(device).ok()?))
}

/// Site and device named by an aggregates subject.
pub fn parse_aggregate_subject(subject: &str) -> Option<(SiteId, DeviceId)> {
    let rest = subject.strip_prefix(AGGREGATES)?.strip_prefix('.')?;
    let (site, device) = rest.split_once('.')?;
    Some((SiteId::parse(site).ok()?, DeviceId::parse(device).ok()?))
}

/// Where the gateway publishes a device's forecasts at its site.
pub fn forecast(site: &SiteId, device: &DeviceId) -> String {
    format!("{FORECASTS}.{site}.{device}")
}

/// Every forecast of one site (the local forecast stream's filter).
pub fn forecasts_of_site(site: &SiteId) -> String {
    format!("{FORECASTS}.{site}.>")
}

/// Where the gateway forwards a device's forecasts to the hub. A prefix of its own (not
/// `edgeops.forecasts`) so the hub's stream never captures a site's local publishes.
pub fn hub_forecast(site: &SiteId, device: &DeviceId) -> String {
    format!("{HUB_FORECASTS}.{site}.{device}")
}

/// Where a site's gateway sends its forecasts to the hub: every device's of one flush in one
/// message (see `deployment::ForecastPack`), so what they share compresses away.
pub fn hub_forecasts_of_site(site: &SiteId) -> String {
    format!("{HUB_FORECASTS}.{site}")
}

/// Every forwarded forecast (the hub stream's filter).
pub fn all_hub_forecasts() -> String {
    format!("{HUB_FORECASTS}.>")
}

/// Where a gateway keeps a device's window summaries at its site until they are sent.
pub fn local_summary(site: &SiteId, device: &DeviceId) -> String {
    format!("{LOCAL_SUMMARIES}.{site}.{device}")
}

/// Every window summary of one site kept at the site (the local stream's filter).
pub fn local_summaries_of_site(site: &SiteId) -> String {
    format!("{LOCAL_SUMMARIES}.{site}.>")
}

/// Where a gateway sends a device's window summary to the hub.
pub fn hub_summary(site: &SiteId, device: &DeviceId) -> String {
    format!("{SUMMARIES}.{site}.{device}")
}

/// Where a gateway sends its site's window summaries to the hub, packed (a JSON array, as a
/// zstd frame when that is smaller).
pub fn hub_summaries_of_site(site: &SiteId) -> String {
    format!("{SUMMARIES}.{site}")
}

/// The site a hub summary pack subject names.
pub fn parse_summary_pack_subject(subject: &str) -> Option<SiteId> {
    let site = subject.strip_prefix(SUMMARIES)?.strip_prefix('.')?;
    SiteId::parse(site).ok()
}

/// Every window summary at the hub (the hub stream's filter).
pub fn all_hub_summaries() -> String {
    format!("{SUMMARIES}.>")
}

/// The site and device a hub summary subject names.
pub fn parse_summary_subject(subject: &str) -> Option<(SiteId, DeviceId)> {
    let rest = subject.strip_prefix(SUMMARIES)?.strip_prefix('.')?;
    let (site, device) = rest.split_once('.')?;
    Some((SiteId::parse(site).ok()?, DeviceId::parse(device).ok()?))
}

const FORECASTS: &str = "edgeops.forecasts";
const SUMMARIES: &str = "edgeops.summaries";
const LOCAL_SUMMARIES: &str = "edgeops.local.summaries";
const HUB_FORECASTS: &str = "edgeops.hub.forecasts";

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (SiteId, DeviceId) {
        (
            SiteId::parse("s1").unwrap(),
            DeviceId::parse("room-1").unwrap(),
        )
    }

    #[test]
    fn builds_documented_subjects() {
        let (site, device) = ids();
        assert_eq!(raw_reading(&site, &device), "edgeops.raw.s1.room-1");
        assert_eq!(hub_reading(&site, &device), "edgeops.readings.s1.room-1");
        assert_eq!(raw_readings_of_site(&site), "edgeops.raw.s1.>");
        assert_eq!(dead_letter("ingest", "nan"), "edgeops.dlq.ingest.nan");
        assert_eq!(link_probe("0a1b", "s1"), "edgeops.probe.0a1b.s1");
        assert_eq!(forecast(&site, &device), "edgeops.forecasts.s1.room-1");
        assert_eq!(forecasts_of_site(&site), "edgeops.forecasts.s1.>");
        assert_eq!(
            hub_forecast(&site, &device),
            "edgeops.hub.forecasts.s1.room-1"
        );
        assert_eq!(all_hub_forecasts(), "edgeops.hub.forecasts.>");
        assert_eq!(hub_forecasts_of_site(&site), "edgeops.hub.forecasts.s1");
        assert_eq!(
            aggregate_events_under("model_version", "co2"),
            "edgeops.events.model_version.co2.*"
        );
        assert_eq!(
            all_aggregate_events("model_version"),
            "edgeops.events.model_version.>"
        );
    }

    #[test]
    fn local_dead_letters_stay_outside_the_hubs_dead_letter_subjects() {
        let (site, _) = ids();
        assert_eq!(
            local_dead_letter(&site, "foreign_site"),
            "edgeops.local.dlq.s1.foreign_site"
        );
        assert!(!is_dead_letter(&local_dead_letter(&site, "foreign_site")));
        assert!(is_dead_letter(&dead_letter(&gateway_consumer(&site), "x")));
        assert!(!is_dead_letter("edgeops.dlqx.a.b"));
        assert_eq!(
            dead_letter_reason(&dead_letter(&gateway_consumer(&site), "foreign_site")),
            Some("foreign_site")
        );
        assert_eq!(dead_letter_reason("edgeops.dlq.ingest"), None);
        assert_eq!(dead_letter_reason("edgeops.readings.s1.d1"), None);
        assert_eq!(all_raw_readings(), "edgeops.raw.>");
    }

    #[test]
    fn reduced_records_name_their_site() {
        let (site, _) = ids();
        assert_eq!(local_reduced(&site), "edgeops.local.reduced.s1");
    }

    #[test]
    fn the_site_of_a_raw_subject_is_its_third_token() {
        assert_eq!(site_of_raw_subject("edgeops.raw.s2.x"), Some("s2"));
        assert_eq!(site_of_raw_subject("edgeops.raw.s1"), Some("s1"));
        assert_eq!(site_of_raw_subject("edgeops.raw."), None);
        assert_eq!(site_of_raw_subject("edgeops.readings.s1.x"), None);
    }

    #[test]
    fn parses_what_it_builds() {
        let (site, device) = ids();
        assert_eq!(
            parse_reading_subject(&hub_reading(&site, &device)),
            Some(ids())
        );
        assert_eq!(
            parse_reading_subject(&raw_reading(&site, &device)),
            Some(ids())
        );
    }

    #[test]
    fn forwarding_swaps_only_the_prefix() {
        assert_eq!(
            hub_subject_for_raw("edgeops.raw.s1.room-1").as_deref(),
            Some("edgeops.readings.s1.room-1")
        );
        assert_eq!(
            hub_subject_for_raw("edgeops.raw.s1.a.b").as_deref(),
            Some("edgeops.readings.s1.a.b")
        );
        assert_eq!(hub_subject_for_raw("edgeops.rawx.s1.d"), None);
    }

    #[test]
    fn refuses_foreign_or_malformed_subjects() {
        for bad in [
            "edgeops.readings.s1",
            "edgeops.readings.s1.a.b",
            "edgeops.readingsX.s1.d",
            "other.readings.s1.d",
            "edgeops.readings..d",
        ] {
            assert_eq!(parse_reading_subject(bad), None, "{bad}");
        }
    }
}
