//! Which devices a rollout targets, and what each served before. Pure: the service reads the
//! registered sites, the devices seen per site and the current desired state, then asks here.
//!
//! A selector names sites, site tags and devices. The sites it covers are the named ones plus
//! every registered site carrying any of the tags; the targets are every device seen at those
//! sites plus the devices named (`<site>:<device>`). Tags are site tags (`edgeops site
//! register --tag`): devices have none.

use std::collections::{BTreeMap, BTreeSet};

use edgeops_contracts::deployment::device_aggregate_id;
use edgeops_contracts::{DeviceId, SiteId};
use serde::{Deserialize, Serialize};

use super::events::DeviceKey;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    #[serde(default)]
    pub sites: Vec<String>,
    /// Site tags: every registered site carrying any of them.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Devices as `<site>:<device>`.
    #[serde(default)]
    pub devices: Vec<String>,
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.tags.is_empty() && self.devices.is_empty()
    }
}

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

/// The targets: every device seen at the selected sites plus the named devices, sorted.
pub fn target_devices(
    selector: &Selector,
    seen: &[(SiteId, DeviceId)],
) -> Result<Vec<(SiteId, DeviceId)>, TargetError> {
    let mut targets: BTreeMap<DeviceKey, (SiteId, DeviceId)> = seen
        .iter()
        .map(|(s, d)| (device_aggregate_id(s, d), (s.clone(), d.clone())))
        .collect();
    for key in &selector.devices {
        let parsed = parse_device_key(key).ok_or_else(|| TargetError::BadDevice(key.clone()))?;
        targets.insert(device_aggregate_id(&parsed.0, &parsed.1), parsed);
    }
    Ok(targets.into_values().collect())
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
mod tests {
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
            devices: vec![],
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

    #[test]
    fn named_devices_join_the_seen_ones_sorted_without_duplicates() {
        let selector = Selector {
            devices: vec!["s2:room-1".into(), "s1:room-2".into()],
            ..Selector::default()
        };
        let seen = [ids("s1", "room-2"), ids("s1", "room-1")];
        let targets = target_devices(&selector, &seen).unwrap();
        assert_eq!(
            targets,
            [
                ids("s1", "room-1"),
                ids("s1", "room-2"),
                ids("s2", "room-1")
            ]
        );
        let bad = Selector {
            devices: vec!["room-1".into()],
            ..Selector::default()
        };
        assert!(matches!(
            target_devices(&bad, &[]),
            Err(TargetError::BadDevice(_))
        ));
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
}
