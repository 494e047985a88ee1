//! What an incident is about. Each scope and kind is one incident aggregate, so one incident
//! opens one event and closes with one `recovered`, whatever the number of windows judged.

use edgeops_contracts::monitoring::IncidentKind;
use edgeops_contracts::{DeviceId, SiteId};

/// The thing judged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// One model version's forecasts and inputs at one device.
    DeviceModel {
        site: SiteId,
        device: DeviceId,
        model: String,
        version: u32,
    },
    /// A device's data (silence).
    Device { site: SiteId, device: DeviceId },
    /// A site's link (offline).
    Site { site: SiteId },
    /// The hub's dead letters of one reason (a jump in them).
    DeadLetters { reason: String },
}

impl Scope {
    /// The scope's key: dot-separated tokens, so it is a subject suffix as it stands
    /// (`device.s1.room-1.co2-room.v3`, `data.s1.room-1`, `site.s1`).
    pub fn key(&self) -> String {
        match self {
            Scope::DeviceModel {
                site,
                device,
                model,
                version,
            } => format!("device.{site}.{device}.{model}.v{version}"),
            Scope::Device { site, device } => format!("data.{site}.{device}"),
            Scope::Site { site } => format!("site.{site}"),
            Scope::DeadLetters { reason } => format!("dlq.{reason}"),
        }
    }

    /// The incident aggregate's id: the scope's key and the kind.
    pub fn incident_id(&self, kind: IncidentKind) -> String {
        let kind = match kind {
            IncidentKind::DriftDetected => "drift",
            IncidentKind::PerformanceDegraded => "performance",
            IncidentKind::DeviceSilent => "silent",
            IncidentKind::SiteOffline => "offline",
            IncidentKind::DataQuality => "quality",
        };
        format!("{}.{kind}", self.key())
    }

    pub fn site(&self) -> Option<&SiteId> {
        match self {
            Scope::DeviceModel { site, .. } | Scope::Device { site, .. } | Scope::Site { site } => {
                Some(site)
            }
            Scope::DeadLetters { .. } => None,
        }
    }

    pub fn device(&self) -> Option<&DeviceId> {
        match self {
            Scope::DeviceModel { device, .. } | Scope::Device { device, .. } => Some(device),
            Scope::Site { .. } | Scope::DeadLetters { .. } => None,
        }
    }

    pub fn model(&self) -> Option<(&str, u32)> {
        match self {
            Scope::DeviceModel { model, version, .. } => Some((model, *version)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_subject_tokens_and_differ_per_kind() {
        let scope = Scope::DeviceModel {
            site: SiteId::parse("s1").unwrap(),
            device: DeviceId::parse("room-1").unwrap(),
            model: "co2-room".into(),
            version: 3,
        };
        assert_eq!(scope.key(), "device.s1.room-1.co2-room.v3");
        assert_ne!(
            scope.incident_id(IncidentKind::DriftDetected),
            scope.incident_id(IncidentKind::PerformanceDegraded)
        );
        assert!(!scope.incident_id(IncidentKind::DriftDetected).contains(' '));
    }
}
