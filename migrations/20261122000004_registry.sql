-- The registry owns this schema. Every table is a projection of the model-version events in the
-- EVENTS stream (edgeops.events.model_version.>): `edgeops-registry rebuild-projection` empties
-- them all and replays the stream. No column takes a default from the clock or a sequence, so a
-- rebuild yields identical rows.
CREATE SCHEMA IF NOT EXISTS registry;

-- Every event applied, keyed on its id: the projection's idempotency ledger. An event delivered
-- again finds its id here and changes nothing.
CREATE TABLE registry.applied_events (
    event_id        uuid        PRIMARY KEY,
    stream_sequence bigint      NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    model           text        NOT NULL,
    version         integer     NOT NULL,
    occurred_at     timestamptz NOT NULL
);

CREATE TABLE registry.models (
    model               text        PRIMARY KEY,
    first_registered_at timestamptz NOT NULL
);

-- One row per version: registration, holdout metrics, the signed manifest and the current stage.
CREATE TABLE registry.model_versions (
    model               text             NOT NULL REFERENCES registry.models (model),
    version             integer          NOT NULL,
    scope               text             NOT NULL,
    stage               text             NOT NULL,
    stage_since         timestamptz,
    registered_at       timestamptz      NOT NULL,
    registered_by       jsonb            NOT NULL,
    artifact_object     text             NOT NULL,
    artifact_sha256     text             NOT NULL,
    artifact_size_bytes bigint           NOT NULL,
    feature_spec        jsonb            NOT NULL,
    horizon_bins        integer          NOT NULL,
    holdout_fingerprint text             NOT NULL,
    holdout_rows        bigint           NOT NULL,
    training_run        uuid             NOT NULL,
    dataset_fingerprint text             NOT NULL,
    code_version        text             NOT NULL,
    metrics             jsonb,
    candidate_rmse      double precision,
    persistence_rmse    double precision,
    signed_manifest     jsonb,
    signer_key_id       text,
    signed_at           timestamptz,
    PRIMARY KEY (model, version)
);

-- "Which version serves this scope": the latest to enter prod.
CREATE INDEX model_versions_prod ON registry.model_versions (model, scope, stage_since DESC)
    WHERE stage = 'prod';

-- Stage history: who moved which version where, when and why.
CREATE TABLE registry.stage_changes (
    event_id        uuid        PRIMARY KEY REFERENCES registry.applied_events (event_id),
    stream_sequence bigint      NOT NULL,
    model           text        NOT NULL,
    version         integer     NOT NULL,
    from_stage      text        NOT NULL,
    to_stage        text        NOT NULL,
    actor           jsonb       NOT NULL,
    reason          text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    FOREIGN KEY (model, version) REFERENCES registry.model_versions (model, version)
);

-- Refused promotions, on record like the promotions that passed.
CREATE TABLE registry.gate_failures (
    event_id        uuid        PRIMARY KEY REFERENCES registry.applied_events (event_id),
    stream_sequence bigint      NOT NULL,
    model           text        NOT NULL,
    version         integer     NOT NULL,
    to_stage        text        NOT NULL,
    gate            text        NOT NULL,
    reason          text        NOT NULL,
    actor           jsonb       NOT NULL,
    failed_at       timestamptz NOT NULL,
    FOREIGN KEY (model, version) REFERENCES registry.model_versions (model, version)
);

CREATE INDEX stage_changes_version ON registry.stage_changes (model, version, stream_sequence);
CREATE INDEX gate_failures_version ON registry.gate_failures (model, version, stream_sequence);
