//! Deployment against real NATS (hub and leaves), Postgres, the registry, ingest and edge
//! gateways running real ONNX models: a rollout across three sites goes canary -> waves ->
//! complete within 10 s; a version with clearly worse live error is rolled back by its gate and
//! the devices serve the previous version again; on two days of live-like data in Postgres the
//! gate fails a version 10 % worse than persistence, passes one 10 % better, and waits on few;
//! two operators acting at once on one rollout get one success and one refusal with the reason.

mod fixtures;
mod fleet;
mod live_gate;
mod operators;
mod restart;
mod rollback;
