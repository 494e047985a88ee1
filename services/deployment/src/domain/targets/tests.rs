//! Target selection: given the fleet, when selecting, then these devices (or this refusal).

use super::*;

fn site(name: &str, tags: &[&str]) -> KnownSite {
    KnownSite {
        site: SiteId::parse(name).unwrap(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn ids(site: &str, device: &str) -> (SiteId, DeviceId) {
    (
        SiteId::parse(site).unwrap(),
        DeviceId::parse(device).unwrap(),
    )
}

#[test]
fn sites_by_name_and_by_tag_once_each() {
    let known = [
        site("s1", &["eu"]),
        site("s2", &[]),
        site("s3", &["eu", "x"]),
    ];
    let selector = Selector {
        sites: vec!["s1".into(), "s2".into()],
        tags: vec!["eu".into()],
        ..Selector::default()
    };
    let sites = select_sites(&selector, &known).unwrap();
    let names: Vec<_> = sites.iter().map(SiteId::as_str).collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
}

#[test]
fn unknown_sites_and_empty_selectors_are_refused() {
    let known = [site("s1", &[])];
    let unknown = Selector {
        sites: vec!["s9".into()],
        ..Selector::default()
    };
    assert_eq!(
        select_sites(&unknown, &known),
        Err(TargetError::UnknownSite("s9".into()))
    );
    assert_eq!(
        select_sites(&Selector::default(), &known),
        Err(TargetError::EmptySelector)
    );
}

/// The hub's clock in these tests, and arrivals `minutes_ago` before it.
fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000)
}

fn arrived(entries: &[(&str, i64)]) -> Arrivals {
    entries
        .iter()
        .map(|(key, minutes_ago)| {
            (
                (*key).to_owned(),
                now() - chrono::Duration::minutes(*minutes_ago),
            )
        })
        .collect()
}

fn fifteen_minutes() -> live::Liveness {
    live::Liveness::new(now(), live::DEFAULT_LIVE_WITHIN).unwrap()
}

#[test]
fn named_devices_join_the_seen_ones_sorted_without_duplicates() {
    let selector = Selector {
        devices: vec!["s2:room-1".into(), "s1:room-2".into()],
        ..Selector::default()
    };
    let seen = [ids("s1", "room-2"), ids("s1", "room-1")];
    let heard = arrived(&[("s1:room-1", 1), ("s1:room-2", 2), ("s2:room-1", 3)]);
    let targets = target_devices(&selector, &seen, &heard, &fifteen_minutes()).unwrap();
    assert_eq!(
        targets.live,
        [
            ids("s1", "room-1"),
            ids("s1", "room-2"),
            ids("s2", "room-1")
        ]
    );
    assert!(targets.silent.is_empty());
    let bad = Selector {
        devices: vec!["room-1".into()],
        ..Selector::default()
    };
    assert!(matches!(
        target_devices(&bad, &[], &heard, &fifteen_minutes()),
        Err(TargetError::BadDevice(_))
    ));
}

#[test]
fn silent_devices_of_a_site_are_left_out_and_reported_so_the_canary_is_live() {
    // Given a site whose alphabetically first rooms went quiet long ago
    let selector = Selector {
        sites: vec!["s1".into()],
        ..Selector::default()
    };
    let seen = [
        ids("s1", "room-1"),
        ids("s1", "room-2"),
        ids("s1", "room-3"),
        ids("s1", "room-4"),
    ];
    let heard = arrived(&[("s1:room-3", 0), ("s1:room-4", 14)]);
    // When selecting
    let targets = target_devices(&selector, &seen, &heard, &fifteen_minutes()).unwrap();
    // Then only the live ones are targets, the silent ones are named
    assert_eq!(targets.live, [ids("s1", "room-3"), ids("s1", "room-4")]);
    assert_eq!(targets.silent, ["s1:room-1", "s1:room-2"]);
    // and the canary (the front of the targets) is live
    let keys: Vec<String> = targets
        .live
        .iter()
        .map(|(s, d)| device_aggregate_id(s, d))
        .collect();
    let canary =
        crate::domain::wave_devices(&keys, &edgeops_deployment_api::Strategy::default(), 0);
    assert_eq!(canary, ["s1:room-3"]);
}

#[test]
fn an_arrival_older_than_the_window_is_silent_and_a_wider_window_makes_it_live() {
    let selector = Selector {
        sites: vec!["s1".into()],
        live_within_secs: Some(3_600),
        ..Selector::default()
    };
    let seen = [ids("s1", "room-1"), ids("s1", "room-2")];
    let heard = arrived(&[("s1:room-1", 16), ("s1:room-2", 90)]);
    let narrow = target_devices(&selector, &seen, &heard, &fifteen_minutes());
    assert!(
        matches!(narrow, Err(TargetError::NoLiveDevice { .. })),
        "{narrow:?}"
    );
    let within = live_within(&selector, live::DEFAULT_LIVE_WITHIN);
    assert_eq!(within, Duration::from_secs(3_600));
    let wide = live::Liveness::new(now(), within).unwrap();
    let targets = target_devices(&selector, &seen, &heard, &wide).unwrap();
    assert_eq!(targets.live, [ids("s1", "room-1")]);
    assert_eq!(targets.silent, ["s1:room-2"]);
}

#[test]
fn a_selection_without_a_live_device_is_refused_naming_the_silent_ones() {
    let selector = Selector {
        sites: vec!["s1".into()],
        ..Selector::default()
    };
    let seen = [ids("s1", "room-1"), ids("s1", "room-2")];
    let refused = target_devices(&selector, &seen, &Arrivals::new(), &fifteen_minutes());
    let Err(err) = refused else {
        panic!("expected a refusal, got {refused:?}")
    };
    assert_eq!(
        err,
        TargetError::NoLiveDevice {
            silent: vec!["s1:room-1".into(), "s1:room-2".into()],
            within: live::DEFAULT_LIVE_WITHIN,
        }
    );
    assert_eq!(
        err.to_string(),
        "no live device: nothing arrived at the hub in the last 15m from s1:room-1, s1:room-2"
    );
}

#[test]
fn a_named_silent_device_refuses_the_rollout_even_beside_live_ones() {
    let selector = Selector {
        sites: vec!["s1".into()],
        devices: vec!["s2:room-9".into(), "s1:room-1".into(), "s2:room-8".into()],
        ..Selector::default()
    };
    let seen = [ids("s1", "room-1"), ids("s1", "room-2")];
    let heard = arrived(&[("s1:room-1", 1), ("s1:room-2", 1), ("s2:room-8", 60)]);
    let err = target_devices(&selector, &seen, &heard, &fifteen_minutes()).unwrap_err();
    assert_eq!(
        err,
        TargetError::SilentNamed {
            devices: vec!["s2:room-8".into(), "s2:room-9".into()],
            within: live::DEFAULT_LIVE_WITHIN,
        }
    );
    assert!(err.to_string().contains("s2:room-8, s2:room-9"), "{err}");
}

#[test]
fn nothing_seen_is_no_device_and_long_lists_are_cut_in_refusals() {
    let selector = Selector {
        sites: vec!["s1".into()],
        ..Selector::default()
    };
    assert_eq!(
        target_devices(&selector, &[], &Arrivals::new(), &fifteen_minutes()),
        Err(TargetError::NoDevice)
    );
    let seen: Vec<_> = (0..25)
        .map(|i| ids("s1", &format!("room-{i:02}")))
        .collect();
    let err = target_devices(&selector, &seen, &Arrivals::new(), &fifteen_minutes()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("s1:room-19 and 5 more"), "{text}");
    assert!(!text.contains("s1:room-20"), "{text}");
}

#[test]
fn previous_versions_come_from_the_same_model_only() {
    let current = BTreeMap::from([
        (
            "s1:a".to_owned(),
            Some(Current {
                model: "co2".into(),
                version: 3,
            }),
        ),
        ("s1:b".to_owned(), None),
    ]);
    let previous = previous_versions("co2", current.clone()).unwrap();
    assert_eq!(previous["s1:a"], Some(3));
    assert_eq!(previous["s1:b"], None);
    assert!(matches!(
        previous_versions("pm25", current),
        Err(TargetError::OtherModel { .. })
    ));
}
