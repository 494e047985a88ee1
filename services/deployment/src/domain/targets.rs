//! Which devices a rollout targets, and what each served before. Pure: the service reads the
//! registered sites, the devices seen per site, when each last reached the hub and the current
//! desired state, then asks here.
//!
//! A selector names sites, site tags and devices. The sites it covers are the named ones plus
//! every registered site carrying any of the tags; the candidates are every device seen at those
//! sites plus the devices named (`<site>:<device>`). Tags are site tags (`edgeops site
//! register --tag`): devices have none. Only *live* candidates are targets ([`live`]): a silent
//! device of a selected site is left out and reported; a silent device named on its own, or a
//! selection with no live device at all, refuses the rollout and names the silent ones.

pub mod live;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use edgeops_contracts::deployment::device_aggregate_id;
use edgeops_contracts::{DeviceId, SiteId};
use edgeops_deployment_api::Selector;
use edgeops_deployment_api::selector::human;

use super::events::DeviceKey;

/// A registered site as the selector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSite {
    pub site: SiteId,
    pub tags: Vec<String>,
}

/// What a device's desired state holds now, as far as a rollout cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub model: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("select sites, tags or devices: an empty selector would target nothing")]
    EmptySelector,
    #[error("{0:?} is not a site id: {1}")]
    BadSite(String, String),
    #[error("{0:?} is not a device (<site>:<device>)")]
    BadDevice(String),
    #[error("site {0} is not registered")]
    UnknownSite(String),
    #[error("the live window must be longer than zero (and shorter than the calendar)")]
    BadWindow,
    #[error("the selector matches no device: no readings seen at the selected sites yet")]
    NoDevice,
    #[error(
        "no live device: nothing arrived at the hub in the last {} from {}",
        human(*within),
        listed(silent)
    )]
    NoLiveDevice {
        silent: Vec<DeviceKey>,
        within: Duration,
    },
    #[error(
        "silent: nothing arrived at the hub in the last {} from {}; leave them out, or wait until they report",
        human(*within),
        listed(devices)
    )]
    SilentNamed {
        devices: Vec<DeviceKey>,
        within: Duration,
    },
    #[error("device {device} is set to model {model}; a rollout of {wanted} would replace it")]
    OtherModel {
        device: DeviceKey,
        model: String,
        wanted: String,
    },
}

/// `<site>:<device>` into its parts, both validated.
pub fn parse_device_key(key: &str) -> Option<(SiteId, DeviceId)> {
    let (site, device) = key.split_once(':')?;
    Some((SiteId::parse(site).ok()?, DeviceId::parse(device).ok()?))
}

/// The sites `selector` covers, from the registered `known` ones.
pub fn select_sites(selector: &Selector, known: &[KnownSite]) -> Result<Vec<SiteId>, TargetError> {
    if selector.is_empty() {
        return Err(TargetError::EmptySelector);
    }
    let mut sites = BTreeSet::new();
    for name in &selector.sites {
        let site =
            SiteId::parse(name).map_err(|e| TargetError::BadSite(name.clone(), e.to_string()))?;
        if !known.iter().any(|k| k.site == site) {
            return Err(TargetError::UnknownSite(name.clone()));
        }
        sites.insert(site);
    }
    for known_site in known {
        if known_site.tags.iter().any(|t| selector.tags.contains(t)) {
            sites.insert(known_site.site.clone());
        }
    }
    Ok(sites.into_iter().collect())
}

/// When each device's latest reading reached the hub, as far back as the live window reaches
/// (older arrivals are not looked up: they are all "silent").
pub type Arrivals = BTreeMap<DeviceKey, DateTime<Utc>>;

/// A selection split by liveness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// The rollout's targets, sorted; the canary is drawn from the front.
    pub live: Vec<(SiteId, DeviceId)>,
    /// Devices seen at the selected sites that are silent, sorted: left out, and reported.
    pub silent: Vec<DeviceKey>,
}

/// Devices named in a refusal before "and N more": enough to act on, short enough to read.
const NAMED_IN_A_REFUSAL: usize = 20;

fn listed(devices: &[DeviceKey]) -> String {
    let shown = devices.len().min(NAMED_IN_A_REFUSAL);
    let mut text = devices[..shown].join(", ");
    if devices.len() > shown {
        text.push_str(&format!(" and {} more", devices.len() - shown));
    }
    text
}

/// The devices the selector names on their own (`<site>:<device>`), validated.
pub fn named_devices(selector: &Selector) -> Result<Vec<(SiteId, DeviceId)>, TargetError> {
    selector
        .devices
        .iter()
        .map(|key| parse_device_key(key).ok_or_else(|| TargetError::BadDevice(key.clone())))
        .collect()
}

/// The live window a request asks for, or `default` when it asks for none.
pub fn live_within(selector: &Selector, default: Duration) -> Duration {
    selector
        .live_within_secs
        .map_or(default, Duration::from_secs)
}

/// The targets: the live ones among the devices seen at the selected sites and the devices
/// named, sorted. Refused when a named device is silent (the operator asked for it by name: it
/// must not be dropped quietly) or when no candidate is live.
pub fn target_devices(
    selector: &Selector,
    seen: &[(SiteId, DeviceId)],
    arrivals: &Arrivals,
    live: &live::Liveness,
) -> Result<Targets, TargetError> {
    let is_live = |key: &DeviceKey| live.is_live(arrivals.get(key).copied());
    let mut candidates: BTreeMap<DeviceKey, (SiteId, DeviceId)> = seen
        .iter()
        .map(|(s, d)| (device_aggregate_id(s, d), (s.clone(), d.clone())))
        .collect();
    let mut silent_named = BTreeSet::new();
    for (site, device) in named_devices(selector)? {
        let key = device_aggregate_id(&site, &device);
        if !is_live(&key) {
            silent_named.insert(key.clone());
        }
        candidates.insert(key, (site, device));
    }
    if !silent_named.is_empty() {
        return Err(TargetError::SilentNamed {
            devices: silent_named.into_iter().collect(),
            within: live.within(),
        });
    }
    if candidates.is_empty() {
        return Err(TargetError::NoDevice);
    }
    let (live_ones, silent): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(|(key, _)| is_live(key));
    let silent: Vec<DeviceKey> = silent.into_iter().map(|(key, _)| key).collect();
    if live_ones.is_empty() {
        return Err(TargetError::NoLiveDevice {
            silent,
            within: live.within(),
        });
    }
    Ok(Targets {
        live: live_ones.into_iter().map(|(_, ids)| ids).collect(),
        silent,
    })
}

/// Each target's previous version of `model` (`None`: no model), refusing devices set to
/// another model: rolling them back would need that model, which a rollout does not track.
pub fn previous_versions(
    model: &str,
    current: BTreeMap<DeviceKey, Option<Current>>,
) -> Result<BTreeMap<DeviceKey, Option<u32>>, TargetError> {
    current
        .into_iter()
        .map(|(device, current)| match current {
            Some(c) if c.model != model => Err(TargetError::OtherModel {
                device,
                model: c.model,
                wanted: model.to_owned(),
            }),
            other => Ok((device, other.map(|c| c.version))),
        })
        .collect()
}

#[cfg(test)]
mod tests;
