//! Which model each device serves, and the one before it.
//!
//! A forecast takes the device's current model as an `Arc` (a read lock held for a clone) and
//! computes with that model alone; a swap replaces the `Arc` in one assignment under the write
//! lock, after the new model was verified, loaded and warmed up elsewhere. So a swap never
//! pauses forecasting for longer than an assignment, no forecast sees a half-loaded model, and
//! a forecast that started on the old model finishes on it. The previous model stays loaded:
//! rolling back is another assignment, with no fetch and no load.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use edgeops_contracts::DeviceId;
use edgeops_contracts::deployment::DesiredModel;

use super::active::ActiveModel;

/// A device's current and previous model.
#[derive(Debug, Default, Clone)]
pub struct Slots {
    pub current: Option<Arc<ActiveModel>>,
    pub previous: Option<Arc<ActiveModel>>,
}

#[derive(Debug, Default)]
pub struct ModelTable {
    devices: RwLock<HashMap<DeviceId, Slots>>,
}

impl ModelTable {
    /// The model serving `device` now, if any.
    pub fn current(&self, device: &DeviceId) -> Option<Arc<ActiveModel>> {
        self.read().get(device).and_then(|s| s.current.clone())
    }

    pub fn slots(&self, device: &DeviceId) -> Slots {
        self.read().get(device).cloned().unwrap_or_default()
    }

    pub fn devices(&self) -> Vec<DeviceId> {
        self.read().keys().cloned().collect()
    }

    /// Sets both slots of a device at once (restoring from the cache at start).
    pub fn restore(&self, device: &DeviceId, slots: Slots) {
        self.write().insert(device.clone(), slots);
    }

    /// Makes `model` current; the model it replaces becomes the previous one.
    pub fn install(&self, device: &DeviceId, model: Arc<ActiveModel>) {
        let mut devices = self.write();
        let slots = devices.entry(device.clone()).or_default();
        if let Some(replaced) = slots.current.replace(model) {
            slots.previous = Some(replaced);
        }
    }

    /// If the previous model serves `desired`, swaps current and previous and returns the
    /// model now serving.
    pub fn roll_back_to(
        &self,
        device: &DeviceId,
        desired: &DesiredModel,
    ) -> Option<Arc<ActiveModel>> {
        let mut devices = self.write();
        let slots = devices.get_mut(device)?;
        if !slots.previous.as_ref().is_some_and(|p| p.serves(desired)) {
            return None;
        }
        std::mem::swap(&mut slots.current, &mut slots.previous);
        slots.current.clone()
    }

    /// Stops serving a model (desired state removed): forecasts fall back to persistence; the
    /// model is kept as the previous one, ready for a rollback.
    pub fn clear(&self, device: &DeviceId) -> bool {
        let mut devices = self.write();
        let Some(slots) = devices.get_mut(device) else {
            return false;
        };
        match slots.current.take() {
            Some(current) => {
                slots.previous = Some(current);
                true
            }
            None => false,
        }
    }

    /// A poisoned lock means a panic mid-assignment elsewhere; an `Option<Arc>` is never
    /// half-written, so the map is still valid.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<DeviceId, Slots>> {
        self.devices.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<DeviceId, Slots>> {
        self.devices.write().unwrap_or_else(PoisonError::into_inner)
    }
}
