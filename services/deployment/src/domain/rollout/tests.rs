use super::*;
use edgeops_evaluation::Comparison;

fn targets(n: usize) -> BTreeMap<DeviceKey, Option<u32>> {
    (0..n)
        .map(|i| (format!("s{}:room-{i:03}", i % 3), Some(1)))
        .collect()
}

fn given(events: &[RolloutEvent]) -> Rollout {
    events.iter().fold(Rollout::default(), apply)
}

fn run(rollout: Rollout, command: Command) -> (Rollout, Vec<RolloutEvent>) {
    let events = decide(&rollout, command).unwrap();
    (events.iter().fold(rollout, apply), events)
}

fn start(n: usize) -> Rollout {
    run(
        Rollout::default(),
        Command::Start {
            rollout: Uuid::nil(),
            model: "co2".into(),
            version: 2,
            targets: targets(n),
            strategy: Strategy::default(),
            gates: GateSettings::default(),
        },
    )
    .0
}

/// The wave's devices all applied; 500 forecasts judged, the new version's RMSE `new_rmse`
/// against persistence's 10, each known to within a few percent.
fn healthy(rollout: &Rollout, new_rmse: f64) -> Evidence {
    Evidence {
        applied: rollout.current_wave_devices().len(),
        failed: 0,
        elapsed_secs: 10_000,
        live: Some(Comparison {
            forecasts: 500,
            devices: 12,
            candidate_mse: new_rmse * new_rmse,
            baseline_mse: 100.0,
            lrv_cc: 500.0,
            lrv_cb: 250.0,
            lrv_bb: 500.0,
            ..Comparison::default()
        }),
    }
}

fn apply_wave(mut rollout: Rollout) -> Rollout {
    for device in rollout.current_wave_devices().to_vec() {
        rollout = run(rollout, Command::RecordApplied { device, version: 2 }).0;
    }
    rollout
}

#[test]
fn canary_then_waves_then_complete() {
    let mut rollout = start(120);
    assert_eq!(rollout.current_wave_devices().len(), 12, "10 % canary");
    for expected_wave in 1..=2 {
        rollout = apply_wave(rollout);
        let evidence = healthy(&rollout, 9.5);
        let (next, events) = run(rollout, Command::Evaluate(evidence));
        assert!(matches!(events[0], RolloutEvent::GatePassed { .. }));
        assert!(
            matches!(events[1], RolloutEvent::WaveAdvanced { wave, .. } if wave == expected_wave)
        );
        rollout = next;
    }
    rollout = apply_wave(rollout);
    let evidence = healthy(&rollout, 9.5);
    let (done, events) = run(rollout, Command::Evaluate(evidence));
    assert_eq!(events.last(), Some(&RolloutEvent::Completed));
    assert_eq!(done.status, Some(Status::Completed));
    assert_eq!(done.switched.len(), 120);
}

#[test]
fn a_worse_model_is_rolled_back_by_its_gate() {
    let rollout = apply_wave(start(120));
    let evidence = healthy(&rollout, 25.0);
    let canaries = rollout.current_wave_devices().to_vec();
    let (after, events) = run(rollout, Command::Evaluate(evidence));
    assert!(
        matches!(&events[0], RolloutEvent::GateFailed { wave: 0, reason } if reason.contains("MSE 6.25x") && reason.contains("500 forecasts of 12 devices"))
    );
    assert!(matches!(&events[1], RolloutEvent::RolledBack { devices, .. } if *devices == canaries));
    assert_eq!(after.status, Some(Status::RolledBack));
    assert!(
        decide(&after, Command::Evaluate(healthy(&after, 1.0)))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_paused_rollout_does_not_advance_but_its_gate_still_protects() {
    let rollout = apply_wave(start(50));
    let (paused, _) = run(rollout, Command::Pause);
    assert!(
        decide(&paused, Command::Evaluate(healthy(&paused, 10.0)))
            .unwrap()
            .is_empty()
    );
    let failed = decide(&paused, Command::Evaluate(healthy(&paused, 99.0))).unwrap();
    assert!(matches!(failed[0], RolloutEvent::GateFailed { .. }));
    assert!(matches!(
        decide(&paused, Command::Pause),
        Err(RolloutError::WrongStatus(..))
    ));
    let (resumed, _) = run(paused, Command::Resume);
    assert_eq!(resumed.status, Some(Status::Running));
}

#[test]
fn acks_for_another_version_or_twice_change_nothing() {
    let rollout = start(10);
    let device = rollout.current_wave_devices()[0].clone();
    assert!(
        decide(
            &rollout,
            Command::RecordApplied {
                device: device.clone(),
                version: 1
            }
        )
        .unwrap()
        .is_empty()
    );
    let (once, _) = run(
        rollout,
        Command::RecordApplied {
            device: device.clone(),
            version: 2,
        },
    );
    assert!(
        decide(&once, Command::RecordApplied { device, version: 2 })
            .unwrap()
            .is_empty()
    );
}

#[test]
fn finished_rollouts_refuse_operators_with_a_reason() {
    let rollout = start(10);
    let (cancelled, _) = run(
        rollout,
        Command::Cancel {
            reason: "wrong model".into(),
        },
    );
    assert!(matches!(
        decide(
            &cancelled,
            Command::Cancel {
                reason: "again".into()
            }
        ),
        Err(RolloutError::WrongStatus(Status::Cancelled, _))
    ));
    assert!(matches!(
        decide(&given(&[]), Command::Pause),
        Err(RolloutError::NotStarted)
    ));
}

#[test]
fn a_manual_rollback_returns_every_switched_device() {
    let rollout = apply_wave(start(40));
    let (advanced, _) = run(rollout.clone(), Command::Evaluate(healthy(&rollout, 10.0)));
    let switched = advanced.switched.clone();
    let (_, events) = run(
        advanced,
        Command::Rollback {
            reason: "operator".into(),
        },
    );
    assert!(matches!(&events[0], RolloutEvent::RolledBack { devices, .. } if *devices == switched));
}
