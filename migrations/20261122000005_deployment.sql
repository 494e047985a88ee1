-- deployment owns this schema. It also reads (never writes) ingest.readings: the actual values
-- its health gates compare forecasts with, and the devices a site selector names.
CREATE SCHEMA IF NOT EXISTS deployment;

-- Forecasts the gateways sent upstream: the minimal store the rollout gates join with later
-- actual readings (ingest.readings) to measure each model version's live error. One row per
-- device, metric, version and forecast origin (version 0 and model '' = persistence), so
-- redelivery adds nothing. `received_at` is the hub's clock: gate windows are wall-clock
-- windows, whatever the sensors' clocks say. Rows older than the retention are pruned.
CREATE TABLE deployment.forecasts (
    site_id     text             NOT NULL,
    device_id   text             NOT NULL,
    metric      text             NOT NULL,
    origin_at   timestamptz      NOT NULL,
    target_at   timestamptz      NOT NULL,
    model       text             NOT NULL,
    version     integer          NOT NULL,
    value       double precision NOT NULL,
    received_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, device_id, metric, version, origin_at)
);
-- The gate's query: one device's forecasts received since the window opened.
CREATE INDEX forecasts_device_received_idx
    ON deployment.forecasts (site_id, device_id, received_at);
-- Pruning by age.
CREATE INDEX forecasts_received_idx ON deployment.forecasts (received_at);

-- Rollouts as the operators list them (a projection of the rollout events; rebuilt by
-- replay). Each update is guarded by the rollout's stream sequence, so redelivery is harmless.
CREATE TABLE deployment.rollouts (
    rollout_id    uuid        PRIMARY KEY,
    model         text        NOT NULL,
    version       integer     NOT NULL,
    status        text        NOT NULL,
    wave          integer     NOT NULL,
    waves         integer     NOT NULL,
    targets       integer     NOT NULL,
    switched      integer     NOT NULL,
    applied       integer     NOT NULL,
    failed        integer     NOT NULL,
    started_by    jsonb       NOT NULL,
    last_actor    jsonb       NOT NULL,
    last_event    text        NOT NULL,
    -- The latest gate verdict, rollback or cancel reason.
    reason        text,
    started_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_sequence bigint      NOT NULL
);
CREATE INDEX rollouts_status_idx ON deployment.rollouts (status, updated_at);
