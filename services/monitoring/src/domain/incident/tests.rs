use chrono::TimeZone;
use edgeops_contracts::{DeviceId, SiteId};

use super::*;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(i64::from(hour))
}

fn evidence(value: f64) -> Vec<Evidence> {
    vec![Evidence {
        statistic: "psi".into(),
        value,
        threshold: 0.25,
        window_start: at(0),
        window_end: at(1),
        samples: 300,
        reference_samples: 8_000,
        reference: "co2-room v3".into(),
        features: vec!["co2_lag_1".into()],
    }]
}

fn observe(kind: IncidentKind, hour: u32, verdict: Verdict) -> Observation {
    Observation {
        kind,
        scope: Scope::DeviceModel {
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("room-1").unwrap(),
            model: "co2-room".into(),
            version: 3,
        },
        at: at(hour),
        verdict,
        cool_down: Duration::hours(6),
        retrain: Some(RetrainHint {
            spec: "indoor_air".into(),
            horizon_bins: 12,
        }),
    }
}

/// Folds `observations` through decide and apply, returning every event.
fn run(observations: Vec<Observation>) -> Vec<IncidentEvent> {
    let mut state = IncidentState::default();
    let mut all = Vec::new();
    for observation in observations {
        for event in state.decide(observation) {
            state.apply(&event);
            all.push(event);
        }
    }
    all
}

#[test]
fn one_incident_opens_once_and_closes_once_however_many_windows_alarm() {
    let kind = IncidentKind::PerformanceDegraded;
    let events = run(vec![
        observe(kind, 1, Verdict::Alarm(evidence(0.4))),
        observe(kind, 2, Verdict::Alarm(evidence(0.5))),
        observe(kind, 3, Verdict::Unsure),
        observe(kind, 4, Verdict::Alarm(evidence(0.4))),
        observe(kind, 5, Verdict::Clear(evidence(0.05))),
        observe(kind, 6, Verdict::Clear(evidence(0.04))),
    ]);
    assert_eq!(events.len(), 2, "{events:#?}");
    let IncidentEvent::Opened(opened) = &events[0] else {
        panic!("{events:?}")
    };
    let IncidentEvent::Recovered(recovered) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(opened.incident, recovered.incident);
    assert_eq!(recovered.at, at(5));
    assert_eq!(opened.evidence, evidence(0.4), "the evidence it opened on");
}

#[test]
fn between_the_levels_an_open_incident_stays_open() {
    let kind = IncidentKind::PerformanceDegraded;
    let events = run(vec![
        observe(kind, 1, Verdict::Alarm(evidence(0.4))),
        observe(kind, 2, Verdict::Unsure),
        observe(kind, 3, Verdict::Unsure),
    ]);
    assert_eq!(events.len(), 1);
}

#[test]
fn an_alarm_within_the_cool_down_after_a_recovery_opens_nothing() {
    let kind = IncidentKind::PerformanceDegraded;
    let events = run(vec![
        observe(kind, 1, Verdict::Alarm(evidence(0.4))),
        observe(kind, 2, Verdict::Clear(evidence(0.05))),
        observe(kind, 5, Verdict::Alarm(evidence(0.4))),
        observe(kind, 8, Verdict::Alarm(evidence(0.4))),
    ]);
    assert_eq!(events.len(), 3, "{events:#?}");
    assert_eq!(events[2].opened().unwrap().at, at(8), "past the cool-down");
}

#[test]
fn a_clear_window_older_than_the_opening_does_not_close_it() {
    let kind = IncidentKind::DeviceSilent;
    let events = run(vec![
        observe(kind, 5, Verdict::Alarm(evidence(0.4))),
        observe(kind, 3, Verdict::Clear(evidence(0.0))),
    ]);
    assert_eq!(events.len(), 1);
}

#[test]
fn a_drift_opens_as_the_signal_training_retrains_on() {
    let events = run(vec![observe(
        IncidentKind::DriftDetected,
        1,
        Verdict::Alarm(evidence(0.4)),
    )]);
    let IncidentEvent::Drift(drift) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(drift.spec, "indoor_air");
    assert_eq!(drift.horizon_bins, 12);
    assert_eq!(drift.scope.key(), "site:s1");
    assert!(drift.reason.contains("co2_lag_1"), "{}", drift.reason);
    let opened = drift.incident.as_ref().unwrap();
    assert_eq!(opened.scope, "device.s1.room-1.co2-room.v3");
    assert_eq!(opened.evidence[0].features, vec!["co2_lag_1".to_owned()]);
}
