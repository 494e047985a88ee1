-- deployment owns this schema.
CREATE SCHEMA IF NOT EXISTS deployment;

-- Forecasts the gateways sent upstream: the minimal store the rollout gates join with later
-- actual readings (ingest.readings) to measure each model version's live error. One row per
-- device, forecast origin and version (version 0 = persistence), so redelivery adds nothing.
CREATE TABLE deployment.forecasts (
    site_id     text             NOT NULL,
    device_id   text             NOT NULL,
    origin_at   timestamptz      NOT NULL,
    target_at   timestamptz      NOT NULL,
    model       text             NOT NULL,
    version     integer          NOT NULL,
    value       double precision NOT NULL,
    received_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, device_id, version, origin_at)
);
CREATE INDEX forecasts_version_received_idx ON deployment.forecasts (model, version, received_at);

-- Rollouts as the operators see them (a projection of the rollout events; rebuilt by replay).
CREATE TABLE deployment.rollouts (
    rollout_id   uuid        PRIMARY KEY,
    model        text        NOT NULL,
    version      integer     NOT NULL,
    status       text        NOT NULL,
    wave         integer     NOT NULL,
    targets      integer     NOT NULL,
    applied      integer     NOT NULL,
    failed       integer     NOT NULL,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    last_sequence bigint     NOT NULL
);
