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
            unfinished: BTreeMap::new(),
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

/// A start of co2 v3 to `targets`, given the rollouts still `unfinished`.
fn start_command(
    targets: BTreeMap<DeviceKey, Option<u32>>,
    strategy: Strategy,
    gates: GateSettings,
    unfinished: BTreeMap<Uuid, Started>,
) -> Command {
    Command::Start {
        rollout: Uuid::now_v7(),
        model: "co2".into(),
        version: 3,
        targets,
        strategy,
        gates,
        unfinished,
    }
}

#[test]
fn a_start_with_a_gate_that_cannot_pass_is_refused_before_its_targets() {
    for ratio in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let gates = GateSettings {
            max_error_ratio: ratio,
            ..GateSettings::default()
        };
        let command = start_command(BTreeMap::new(), Strategy::default(), gates, BTreeMap::new());
        let refused = decide(&Rollout::default(), command).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!("max_error_ratio must be a positive number, got {ratio}")
        );
    }
}

fn unfinished(id: Uuid, targets: BTreeMap<DeviceKey, Option<u32>>) -> BTreeMap<Uuid, Started> {
    let command = start_command(
        targets,
        Strategy::default(),
        GateSettings::default(),
        BTreeMap::new(),
    );
    let (first, _) = run(Rollout::default(), command);
    BTreeMap::from_iter(first.started.map(|started| (id, started)))
}

#[test]
fn a_bad_strategy_is_refused_before_a_busy_device() {
    let strategy = Strategy {
        canary_share: 0.0,
        waves: vec![1.0],
    };
    let busy = unfinished(Uuid::nil(), targets(3));
    let command = start_command(targets(3), strategy, GateSettings::default(), busy);
    assert!(matches!(
        decide(&Rollout::default(), command),
        Err(RolloutError::Plan(_))
    ));
}

#[test]
fn a_device_in_an_unfinished_rollout_cannot_join_another() {
    let other = Uuid::from_u128(7);
    let busy = unfinished(other, targets(2));
    let mut wanted = targets(3);
    wanted.remove("s0:room-000");
    let command = start_command(
        wanted,
        Strategy::default(),
        GateSettings::default(),
        busy.clone(),
    );
    let refused = decide(&Rollout::default(), command).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "device s1:room-001 is in unfinished rollout {other} (co2 v3); wait for it, or cancel it"
        )
    );
    let free = BTreeMap::from([("s2:room-002".to_owned(), None)]);
    let command = start_command(free, Strategy::default(), GateSettings::default(), busy);
    assert!(decide(&Rollout::default(), command).is_ok());
}
