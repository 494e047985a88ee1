//! The monitoring service through real NATS and Postgres: summaries in, incidents out.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use edgeops_contracts::monitoring::{ModelWindow, PairedErrorSums, WINDOW_SECS, WindowSummary};
use edgeops_contracts::{DeviceId, EventEnvelope, SiteId, streams, subjects};
use edgeops_integration_tests::services::spawn_monitoring_with;
use edgeops_integration_tests::{TestStack, check, wait_until};
use edgeops_monitoring::MonitoringConfig;
use edgeops_monitoring_api::{IncidentsRequest, MonitoringClient, StatusRequest};

use crate::support::{stream_messages, wait_for_dead_letters};

fn hour(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
}

/// One device's hour: 12 judged forecasts with the model's and persistence's mean squared
/// errors as given.
fn summary(
    site: &str,
    device: &str,
    h: i64,
    model_mse: f64,
    persistence_mse: f64,
) -> WindowSummary {
    WindowSummary {
        site: SiteId::parse(site).unwrap(),
        device: DeviceId::parse(device).unwrap(),
        window_start: hour(h),
        window_secs: WINDOW_SECS,
        readings: 120,
        last_reading_at: Some(hour(h + 1) - chrono::Duration::seconds(30)),
        stuck_metrics: Vec::new(),
        models: vec![ModelWindow {
            model: "co2-room".into(),
            version: 1,
            metric: "co2".into(),
            horizon_bins: 12,
            error: PairedErrorSums {
                judged: 12,
                unusable: 0,
                sum_c: 12.0 * model_mse,
                sum_b: 12.0 * persistence_mse,
                sum_d_sq: 12.0 * (model_mse - persistence_mse).powi(2),
            },
        }],
        features: Vec::new(),
        features_of: None,
    }
}

async fn send(js: &async_nats::jetstream::Context, summary: &WindowSummary) {
    send_raw(
        js,
        &subjects::hub_summary(&summary.site, &summary.device),
        serde_json::to_vec(summary).unwrap(),
    )
    .await;
}

async fn send_raw(js: &async_nats::jetstream::Context, subject: &str, payload: Vec<u8>) {
    js.publish(subject.to_owned(), payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Monitoring's incident events so far: (subject, event type).
async fn incident_events(js: &async_nats::jetstream::Context) -> Vec<(String, String)> {
    stream_messages(js, streams::EVENTS)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.starts_with("edgeops.events.monitor."))
        .map(|(subject, payload)| {
            let envelope =
                EventEnvelope::decode(&payload, &edgeops_contracts::events::upcasters()).unwrap();
            (subject, envelope.meta.event_type)
        })
        .collect()
}

async fn wait_for_incident_events(
    js: &async_nats::jetstream::Context,
    expected: usize,
) -> Vec<(String, String)> {
    wait_until(
        &format!("{expected} incident events"),
        Duration::from_secs(60),
        || async {
            let events = incident_events(js).await;
            assert!(
                events.len() <= expected,
                "more incident events than expected: {events:#?}"
            );
            check(events.len() == expected, format!("{events:?}"))
                .map(|done| done.map(|()| events.clone()))
        },
    )
    .await
}

#[tokio::test]
async fn a_degraded_model_opens_one_incident_that_one_recovery_closes_and_bad_summaries_are_dead_lettered()
 {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let mut config = MonitoringConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    config.offline_after_secs = 365 * 24 * 3600;
    let monitoring = spawn_monitoring_with(config.clone());
    let js = stack.hub_js().await;

    // Bad input: dead-lettered with its reason; monitoring goes on.
    send_raw(&js, "edgeops.summaries.s1.room-1", b"{\"site\":".to_vec()).await;
    send(&js, &summary("s9", "room-1", 0, 1.0, 1.0)).await;
    let dead = wait_for_dead_letters(&js, streams::DEAD_LETTERS, 2).await;
    let reasons: Vec<&str> = dead.iter().map(|(_, d)| d.reason.code.as_str()).collect();
    assert_eq!(reasons, ["invalid_json", "unknown_site"], "{dead:#?}");

    // Eight hours at twice persistence's error, then eight at half of it.
    for h in 0..8 {
        send(&js, &summary("s1", "room-1", h, 200.0, 100.0)).await;
    }
    for h in 8..16 {
        send(&js, &summary("s1", "room-1", h, 50.0, 100.0)).await;
    }
    let events = wait_for_incident_events(&js, 2).await;
    let subject = "edgeops.events.monitor.device.s1.room-1.co2-room.v1.performance";
    assert_eq!(
        events,
        [
            (
                subject.to_owned(),
                "monitoring.performance_degraded".to_owned()
            ),
            (subject.to_owned(), "monitoring.recovered".to_owned()),
        ]
    );

    // A summary resent (an outage's retry) counts once, and a restart resumes where it was.
    monitoring.shutdown().await;
    let monitoring = spawn_monitoring_with(config);
    send(&js, &summary("s1", "room-1", 3, 200.0, 100.0)).await;
    send(&js, &summary("s1", "room-1", 16, 50.0, 100.0)).await;
    let client = MonitoringClient::new(stack.hub_client().await);
    let status = wait_until(
        "the 17th window judged",
        Duration::from_secs(30),
        || async {
            let status = client
                .status(&StatusRequest::default())
                .await
                .map_err(|e| e.to_string())?;
            let judged = status.versions.first().map(|v| v.windows[2].judged);
            check(judged == Some(17 * 12), format!("{judged:?}"))
                .map(|d| d.map(|()| status.clone()))
        },
    )
    .await;
    let week = &status.versions[0].windows[2];
    assert_eq!(week.span, "7d");
    let expected_skill = 1.0 - (8.0 * 200.0 + 9.0 * 50.0) / (17.0 * 100.0);
    assert!(
        (week.skill.unwrap() - expected_skill).abs() < 1e-9,
        "{week:?}"
    );
    assert!(status.open_incidents.is_empty(), "{status:#?}");
    let incidents = client
        .incidents(&IncidentsRequest::default())
        .await
        .unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert!(incidents[0].closed_at.is_some());
    assert_eq!(incidents[0].evidence[0].statistic, "skill_vs_persistence");
    assert_eq!(incident_events(&js).await.len(), 2, "nothing opened twice");
    monitoring.shutdown().await;
}

#[tokio::test]
async fn a_site_gone_quiet_is_one_site_offline_incident_not_one_per_device() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let mut config = MonitoringConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    config.offline_after_secs = 2;
    config.check_every_secs = 1;
    let monitoring = spawn_monitoring_with(config);
    let js = stack.hub_js().await;
    for device in ["room-1", "room-2", "room-3"] {
        send(&js, &summary("s1", device, 0, 50.0, 100.0)).await;
    }
    let events = wait_for_incident_events(&js, 1).await;
    assert_eq!(
        events,
        [(
            "edgeops.events.monitor.site.s1.offline".to_owned(),
            "monitoring.site_offline".to_owned()
        )]
    );
    // The site returns with six hours of windows at once: the incident closes, and no device
    // is silent (silence is judged on the site's own clock).
    for h in 1..7 {
        for device in ["room-1", "room-2", "room-3"] {
            send(&js, &summary("s1", device, h, 50.0, 100.0)).await;
        }
    }
    let events = wait_for_incident_events(&js, 2).await;
    assert_eq!(events[1].1, "monitoring.recovered");
    monitoring.shutdown().await;
}

mod regime_shift {
    //! A calibration offset at one room, through a real gateway serving a verified model and
    //! the monitoring service: drift at that room within two simulated hours, naming the
    //! inputs that moved; none at the steady room.

    use std::collections::BTreeMap;

    use edgeops_artifacts::sign;
    use edgeops_contracts::deployment::DesiredModel;
    use edgeops_contracts::{DeviceId, SiteId};
    use edgeops_features::compute_rows;
    use edgeops_integration_tests::services::{spawn_gateway_observed, spawn_monitoring_with};

    use super::*;
    use crate::edge_inference::fixtures::{
        SITE, desired, gateway_config, manifest, minute, model_bytes, object_name, put_desired_for,
        reading_values, spec, store_object, trusted_key, wait_until_feeding,
    };
    use crate::support::{raw_subject, wait_for_local_stream};

    const STEADY: &str = "room-1";
    const SHIFTED: &str = "room-2";
    /// The minute the shifted room's CO2 sensor starts reading 1,500 ppm high.
    const SHIFT_AT: i64 = 180;
    const OFFSET_PPM: f64 = 1_500.0;

    fn values(device: &str, m: i64) -> BTreeMap<String, f64> {
        let mut values = reading_values(m);
        if device == SHIFTED && m >= SHIFT_AT {
            *values.get_mut("co2_ppm").unwrap() += OFFSET_PPM;
        }
        values
    }

    /// The model's training reference: its input rows over two weeks of the steady rooms.
    fn training_reference() -> Vec<edgeops_contracts::monitoring::FeatureReference> {
        let spec = spec();
        let mut samples: BTreeMap<String, Vec<(DateTime<Utc>, f64)>> = BTreeMap::new();
        for m in -14 * 1_440..0 {
            for (metric, value) in reading_values(m) {
                samples.entry(metric).or_default().push((minute(m), value));
            }
        }
        let rows = compute_rows(&spec, &samples, None);
        spec.names()
            .iter()
            .enumerate()
            .map(|(i, name)| {
                edgeops_features::feature_reference(name, rows.iter().map(|r| r.values[i])).unwrap()
            })
            .collect()
    }

    async fn model_with_reference(stack: &TestStack) -> DesiredModel {
        let bytes = model_bytes(1);
        store_object(stack, &object_name(1), &bytes).await;
        let mut manifest = manifest(1, &bytes);
        manifest.reference = training_reference();
        desired(sign(manifest, &trusted_key()).unwrap())
    }

    async fn publish(leaf: &async_nats::Client, device: &str, m: i64) {
        let js = async_nats::jetstream::with_domain(leaf.clone(), format!("edge-{SITE}"));
        let payload =
            serde_json::json!({"ts": minute(m).to_rfc3339(), "metrics": values(device, m)});
        js.publish(
            raw_subject(SITE, device),
            serde_json::to_vec(&payload).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }

    /// Monitoring's drift signals so far, by room.
    async fn drifts(
        js: &async_nats::jetstream::Context,
    ) -> Vec<edgeops_contracts::training::DriftDetected> {
        stream_messages(js, streams::EVENTS)
            .await
            .into_iter()
            .filter_map(|(_, payload)| {
                let envelope =
                    EventEnvelope::decode(&payload, &edgeops_contracts::events::upcasters())
                        .ok()?;
                (envelope.meta.event_type == "monitoring.drift_detected")
                    .then(|| serde_json::from_value(envelope.data).ok())?
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_calibration_offset_is_drift_at_that_room_within_two_hours_and_nowhere_else() {
        let stack = TestStack::start(&[SITE]).await;
        stack.register_sites(&[SITE]).await;
        let mut config = MonitoringConfig::local(stack.hub_url.clone(), stack.database_url.clone());
        config.offline_after_secs = 365 * 24 * 3600;
        let monitoring = spawn_monitoring_with(config);
        let cache = tempfile::tempdir().unwrap();
        let (gateway, _, inference) = spawn_gateway_observed(gateway_config(&stack, cache.path()));
        let leaf = stack.leaf_client(SITE).await;
        wait_for_local_stream(&leaf, SITE).await;
        wait_until_feeding(&inference).await;
        let model = model_with_reference(&stack).await;
        let site = SiteId::parse(SITE).unwrap();
        for device in [STEADY, SHIFTED] {
            put_desired_for(&stack, &site, &DeviceId::parse(device).unwrap(), &model).await;
        }
        wait_until("both rooms serving v1", Duration::from_secs(60), || async {
            let applied: std::collections::BTreeSet<String> =
                stream_messages(&stack.hub_js().await, streams::EVENTS)
                    .await
                    .into_iter()
                    .filter(|(_, payload)| {
                        EventEnvelope::decode(payload, &edgeops_contracts::events::upcasters())
                            .is_ok_and(|e| e.meta.event_type == "edge.model_applied")
                    })
                    .map(|(subject, _)| subject)
                    .collect();
            check(applied.len() == 2, format!("{applied:?}"))
        })
        .await;

        // Three steady hours, then two hours and a half with the offset at one room.
        for m in 0..=SHIFT_AT + 150 {
            for device in [STEADY, SHIFTED] {
                publish(&leaf, device, m).await;
            }
        }
        let js = stack.hub_js().await;
        let found = wait_until("a drift signal", Duration::from_secs(120), || async {
            let found = drifts(&js).await;
            check(!found.is_empty(), "none yet").map(|d| d.map(|()| found.clone()))
        })
        .await;
        let incident = found[0].incident.clone().unwrap();
        assert_eq!(
            incident.device.as_ref().map(|d| d.as_str()),
            Some(SHIFTED),
            "{incident:#?}"
        );
        assert!(
            incident.at <= minute(SHIFT_AT + 120),
            "detected at {}, more than two hours after the shift at {}",
            incident.at,
            minute(SHIFT_AT)
        );
        let moved: Vec<&String> = incident.evidence.iter().flat_map(|e| &e.features).collect();
        assert!(
            !moved.is_empty() && moved.iter().all(|f| f.starts_with("co2")),
            "the inputs that moved are the CO2 ones: {moved:?}"
        );
        // Every window of both rooms is judged by now (the gateway emits in window order).
        assert!(
            drifts(&js).await.iter().all(|d| {
                d.incident
                    .as_ref()
                    .and_then(|i| i.device.as_ref())
                    .map(|d| d.as_str())
                    == Some(SHIFTED)
            }),
            "no drift at the steady room"
        );
        gateway.shutdown().await;
        monitoring.shutdown().await;
    }
}

mod stationary {
    //! Thirty simulated days of three stationary rooms (a daily cycle and noise in every
    //! input, a model steadily better than persistence) through the monitoring service at its
    //! default levels: no incident of any kind.

    use std::f64::consts::TAU;

    use edgeops_artifacts::sign;
    use edgeops_contracts::monitoring::{FeatureReference, FeatureWindow, ModelVersionRef};
    use edgeops_contracts::{DeviceId, SiteId};

    use super::*;
    use crate::edge_inference::fixtures::{desired, manifest, put_desired_for, trusted_key};

    const DAYS: i64 = 30;
    const ROOMS: [&str; 3] = ["room-1", "room-2", "room-3"];
    /// Rows (forecast origins) per hour: 5-minute bins.
    const PER_HOUR: i64 = 12;

    /// A small seeded generator (xorshift64*), so the run is the same every time.
    struct Rng(u64);

    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform().max(1e-12), self.uniform());
            (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
        }
    }

    /// An input with a daily cycle: CO2 (ppm) and temperature (°C) at slot `k` of the day.
    fn input(feature: &str, slot: i64, rng: &mut Rng) -> f64 {
        let phase = (slot as f64 / (24 * PER_HOUR) as f64) * TAU;
        match feature {
            "co2_ppm" => 700.0 + 250.0 * phase.sin() + 40.0 * rng.normal(),
            _ => 21.0 + 1.5 * phase.cos() + 0.3 * rng.normal(),
        }
    }

    const FEATURES: [&str; 2] = ["co2_ppm", "temperature_c"];

    fn references(rng: &mut Rng) -> Vec<FeatureReference> {
        FEATURES
            .iter()
            .map(|feature| {
                let values: Vec<f64> = (0..28 * 24 * PER_HOUR)
                    .map(|slot| input(feature, slot, rng))
                    .collect();
                edgeops_features::feature_reference(feature, values).unwrap()
            })
            .collect()
    }

    fn summary(
        room: &str,
        hour: i64,
        references: &[FeatureReference],
        rng: &mut Rng,
    ) -> WindowSummary {
        let mut features = Vec::new();
        for reference in references {
            let mut window = FeatureWindow {
                name: reference.name.clone(),
                counts: vec![0; reference.edges.len() + 1],
                below_range: 0,
                above_range: 0,
                sum: 0.0,
                sum_sq: 0.0,
            };
            for k in 0..PER_HOUR {
                let value = input(&reference.name, hour * PER_HOUR + k, rng);
                window.counts[reference.bin_of(value)] += 1;
                window.below_range += u64::from(value < reference.min);
                window.above_range += u64::from(value > reference.max);
                window.sum += value;
                window.sum_sq += value * value;
            }
            features.push(window);
        }
        let mut error = PairedErrorSums::default();
        for _ in 0..PER_HOUR {
            // Persistence's error, and the model's at 80 % of it plus its own noise.
            let persistence = 30.0 * rng.normal();
            let model = 0.8 * persistence + 10.0 * rng.normal();
            let (c, b) = (model * model, persistence * persistence);
            error.judged += 1;
            error.sum_c += c;
            error.sum_b += b;
            error.sum_d_sq += (c - b).powi(2);
        }
        let mut made = super::summary("s1", room, hour, 1.0, 1.0);
        made.models[0].error = error;
        made.features = features;
        made.features_of = Some(ModelVersionRef {
            model: "co2-room".into(),
            version: 1,
        });
        made
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn thirty_days_of_stationary_rooms_raise_no_incident_at_the_default_levels() {
        let stack = TestStack::start(&[]).await;
        stack.register_sites(&["s1"]).await;
        let mut rng = Rng(0x5eed_cafe_f00d_d00d);
        let references = references(&mut rng);
        let mut model = manifest(1, b"model");
        model.model = "co2-room".into();
        model.reference = references.clone();
        let model = desired(sign(model, &trusted_key()).unwrap());
        let site = SiteId::parse("s1").unwrap();
        for room in ROOMS {
            put_desired_for(&stack, &site, &DeviceId::parse(room).unwrap(), &model).await;
        }
        let mut config = MonitoringConfig::local(stack.hub_url.clone(), stack.database_url.clone());
        config.offline_after_secs = 365 * 24 * 3600;
        let monitoring = spawn_monitoring_with(config);
        let js = stack.hub_js().await;
        for hour in 0..DAYS * 24 {
            for room in ROOMS {
                send(&js, &summary(room, hour, &references, &mut rng)).await;
            }
        }
        let client = MonitoringClient::new(stack.hub_client().await);
        let week = 7 * 24 * PER_HOUR as u64 * ROOMS.len() as u64;
        wait_until("every window judged", Duration::from_secs(300), || async {
            let status = client
                .status(&StatusRequest::default())
                .await
                .map_err(|e| e.to_string())?;
            let newest = status
                .versions
                .first()
                .map(|v| (v.latest_window, v.windows[2].judged));
            check(
                newest == Some((hour(DAYS * 24 - 1), week)),
                format!("{newest:?}"),
            )
        })
        .await;
        let events = incident_events(&js).await;
        assert!(
            events.is_empty(),
            "incidents on stationary rooms: {events:#?}"
        );
        monitoring.shutdown().await;
    }
}

#[tokio::test]
async fn a_jump_in_dead_letters_of_one_reason_is_one_data_quality_incident() {
    let stack = TestStack::start(&[]).await;
    stack.register_sites(&["s1"]).await;
    let mut config = MonitoringConfig::local(stack.hub_url.clone(), stack.database_url.clone());
    config.offline_after_secs = 365 * 24 * 3600;
    let monitoring = spawn_monitoring_with(config);
    let js = stack.hub_js().await;
    // Two stray ones are no jump; twenty-five in a row are.
    for _ in 0..25 {
        send_raw(&js, "edgeops.summaries.s1.room-1", b"not json".to_vec()).await;
    }
    wait_for_dead_letters(&js, streams::DEAD_LETTERS, 25).await;
    let events = wait_for_incident_events(&js, 1).await;
    assert_eq!(
        events,
        [(
            "edgeops.events.monitor.dlq.invalid_json.quality".to_owned(),
            "monitoring.data_quality".to_owned()
        )]
    );
    let client = MonitoringClient::new(stack.hub_client().await);
    let open = wait_until(
        "the incident projected",
        Duration::from_secs(30),
        || async {
            let open = client
                .incidents(&IncidentsRequest {
                    open_only: true,
                    limit: None,
                })
                .await
                .map_err(|e| e.to_string())?;
            check(open.len() == 1, format!("{open:?}")).map(|d| d.map(|()| open.clone()))
        },
    )
    .await;
    assert_eq!(open[0].evidence[0].statistic, "dead_letters_per_hour");
    assert!(open[0].evidence[0].value >= 20.0, "{open:?}");
    monitoring.shutdown().await;
}
