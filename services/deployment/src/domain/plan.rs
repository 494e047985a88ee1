//! Which devices get the new version when: a canary share first, then waves up to everyone.
//! Targets are sorted, so the same rollout over the same fleet always picks the same canaries.

use edgeops_deployment_api::Strategy;

/// The devices of wave `wave` (0 = canary) out of sorted `targets`.
pub fn wave_devices<'a>(targets: &'a [String], strategy: &Strategy, wave: usize) -> &'a [String] {
    let counts = strategy.cumulative_counts(targets.len());
    let end = counts.get(wave).copied().unwrap_or(targets.len());
    let start = if wave == 0 {
        0
    } else {
        counts.get(wave - 1).copied().unwrap_or(end)
    };
    &targets[start.min(end)..end]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::{prop_assert, prop_assert_eq, proptest};

    use super::*;

    #[test]
    fn a_hundred_devices_go_ten_then_fifty_then_all() {
        let counts = Strategy::default().cumulative_counts(100);
        assert_eq!(counts, vec![10, 50, 100]);
    }

    #[test]
    fn one_device_is_its_own_canary_and_done() {
        assert_eq!(Strategy::default().cumulative_counts(1), vec![1]);
    }

    #[test]
    fn bad_strategies_are_refused() {
        let bad = |canary_share, waves: Vec<f64>| {
            Strategy {
                canary_share,
                waves,
            }
            .validate()
            .is_err()
        };
        assert!(bad(0.0, vec![1.0]));
        assert!(bad(0.1, vec![0.6, 0.5, 1.0]));
        assert!(bad(0.1, vec![0.5, 0.9]));
        assert!(bad(0.5, vec![0.4, 1.0]));
        assert!(!bad(0.1, vec![0.5, 1.0]));
    }

    proptest! {
        /// Waves partition the targets: every device exactly once, canary first.
        #[test]
        fn waves_cover_every_device_once(n in 1usize..500, canary in 0.01f64..0.5) {
            let strategy = Strategy { canary_share: canary, waves: vec![0.6, 1.0] };
            let targets: Vec<String> = (0..n).map(|i| format!("s:{i:04}")).collect();
            let waves = strategy.cumulative_counts(n).len();
            let mut seen = Vec::new();
            for wave in 0..waves {
                let devices = wave_devices(&targets, &strategy, wave);
                prop_assert!(!devices.is_empty());
                seen.extend_from_slice(devices);
            }
            prop_assert_eq!(seen, targets);
        }
    }
}
