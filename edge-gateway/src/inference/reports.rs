//! Reported state: `edge.model_applied` and `edge.model_refused` events on the device
//! aggregate's subject in the hub's `EVENTS` stream.
//!
//! A report is built (and its event id fixed) when the decision is made, then published by a
//! background task that retries until the hub acknowledges it: an apply or refusal during a
//! flaky uplink still reaches deployment once the link holds, and the fixed id lets JetStream
//! drop a resend whose first attempt did arrive. Reports wait in a bounded queue; if the link
//! stays down long enough to fill it, the newest reports are dropped with a warning (the next
//! desired-state change or reconnect reports the device's state again).

use std::time::Duration;

use async_nats::jetstream;
use edgeops_bus::publish_event;
use edgeops_contracts::deployment::{
    AppliedFrom, DEVICE_AGGREGATE, DesiredModel, ModelApplied, ModelRefused, device_aggregate_id,
};
use edgeops_contracts::envelope::EventData;
use edgeops_contracts::{Actor, DeviceId, EventEnvelope, SiteId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::backoff::Backoff;

use super::active::{ActiveModel, Refusal};

/// Reports waiting for the hub, at most.
const QUEUE: usize = 1024;

/// One queued report, its envelope (and id) already fixed.
enum Report {
    Applied(EventEnvelope<ModelApplied>),
    Refused(EventEnvelope<ModelRefused>),
}

/// Sends reports to the publishing task.
#[derive(Clone)]
pub struct Reporter {
    site: SiteId,
    queue: mpsc::Sender<Report>,
}

impl Reporter {
    /// The reporter and the task that publishes its reports to `hub` until `shutdown`.
    pub fn spawn(
        site: SiteId,
        hub: jetstream::Context,
        shutdown: CancellationToken,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, pending) = mpsc::channel(QUEUE);
        let task = tokio::spawn(publish_reports(hub, pending, shutdown));
        (Self { site, queue }, task)
    }

    /// `model` serves `device`, in answer to `rollout`'s desired state.
    pub fn applied(
        &self,
        device: &DeviceId,
        model: &ActiveModel,
        rollout: Option<Uuid>,
        from: AppliedFrom,
    ) {
        let data = ModelApplied {
            site: self.site.clone(),
            device: device.clone(),
            model: model.desired.model.clone(),
            version: model.desired.version,
            warm_up_us: model.warm_up_us(),
            from,
            rollout,
        };
        let event = self.envelope(device, data, rollout);
        self.send(device, Report::Applied(event));
    }

    pub fn refused(&self, device: &DeviceId, desired: &DesiredModel, refusal: &Refusal) {
        let data = ModelRefused {
            site: self.site.clone(),
            device: device.clone(),
            model: desired.model.clone(),
            version: desired.version,
            reason: refusal.reason,
            detail: refusal.detail.clone(),
            rollout: desired.rollout,
        };
        let event = self.envelope(device, data, desired.rollout);
        self.send(device, Report::Refused(event));
    }

    /// The device's event, in the rollout's flow when there is one.
    fn envelope<T: EventData>(
        &self,
        device: &DeviceId,
        data: T,
        rollout: Option<Uuid>,
    ) -> EventEnvelope<T> {
        let id = device_aggregate_id(&self.site, device);
        let actor = Actor::Device(format!("gateway:{}", self.site));
        let mut event = EventEnvelope::new(DEVICE_AGGREGATE, &id, actor, data);
        if let Some(rollout) = rollout {
            event.meta.correlation_id = rollout;
        }
        event
    }

    fn send(&self, device: &DeviceId, report: Report) {
        if self.queue.try_send(report).is_err() {
            tracing::warn!(%device, "report queue full or closed; report dropped");
        }
    }
}

async fn publish_reports(
    hub: jetstream::Context,
    mut pending: mpsc::Receiver<Report>,
    shutdown: CancellationToken,
) {
    while let Some(report) = tokio::select! {
        next = pending.recv() => next,
        () = shutdown.cancelled() => None,
    } {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            let (published, meta) = match &report {
                Report::Applied(event) => (publish_event(&hub, event, None).await, &event.meta),
                Report::Refused(event) => (publish_event(&hub, event, None).await, &event.meta),
            };
            match published {
                Ok(_) => {
                    tracing::info!(event_type = %meta.event_type, aggregate = %meta.aggregate_id, "reported");
                    break;
                }
                Err(err) => {
                    tracing::warn!(event_type = %meta.event_type, error = %err, backoff = ?backoff.next(), "report not acknowledged by the hub; retrying");
                }
            }
            if backoff.wait(&shutdown).await {
                return;
            }
        }
    }
}
