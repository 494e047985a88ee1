-- monitoring owns this schema. It reads no other service's tables: what it judges arrives in
-- the gateways' window summaries (edgeops.summaries.>), and its incidents are events.

-- One row per device and hour of target time, as the gateway summarised it. Keyed by the
-- window, so a summary resent after an outage or redelivered after a restart counts once.
CREATE SCHEMA IF NOT EXISTS monitoring;

CREATE TABLE monitoring.windows (
    site_id         text        NOT NULL,
    device_id       text        NOT NULL,
    window_start    timestamptz NOT NULL,
    window_secs     integer     NOT NULL,
    readings        bigint      NOT NULL,
    last_reading_at timestamptz,
    stuck_metrics   text[]      NOT NULL DEFAULT '{}',
    summary         jsonb       NOT NULL,
    -- The hub's clock: when it arrived (a site whose summaries stop is offline).
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, device_id, window_start)
);
CREATE INDEX windows_site_received_idx ON monitoring.windows (site_id, received_at);

-- The paired live error of each model version per device and window (sums, so windows add).
CREATE TABLE monitoring.model_windows (
    model        text             NOT NULL,
    version      integer          NOT NULL,
    site_id      text             NOT NULL,
    device_id    text             NOT NULL,
    window_start timestamptz      NOT NULL,
    metric       text             NOT NULL,
    horizon_bins integer          NOT NULL,
    judged       bigint           NOT NULL,
    unusable     bigint           NOT NULL,
    sum_c        double precision NOT NULL,
    sum_b        double precision NOT NULL,
    sum_d_sq     double precision NOT NULL,
    PRIMARY KEY (model, version, site_id, device_id, window_start)
);

-- The serving model's live inputs per device and window, counted on its training reference's
-- bins (input drift is judged on these, added up over the trailing day).
CREATE TABLE monitoring.feature_windows (
    model        text             NOT NULL,
    version      integer          NOT NULL,
    site_id      text             NOT NULL,
    device_id    text             NOT NULL,
    window_start timestamptz      NOT NULL,
    feature      text             NOT NULL,
    counts       bigint[]         NOT NULL,
    below_range  bigint           NOT NULL,
    above_range  bigint           NOT NULL,
    sum          double precision NOT NULL,
    sum_sq       double precision NOT NULL,
    PRIMARY KEY (model, version, site_id, device_id, feature, window_start)
);

-- The concept-drift detector per device and model version (its in-control level, its
-- Page-Hinkley statistic and the last window fed), so a restart resumes it.
CREATE TABLE monitoring.concept_state (
    scope text  PRIMARY KEY,
    state jsonb NOT NULL
);

-- The hub's dead letters as monitoring counted them (by stream sequence, so each once), for
-- jumps per reason. Pruned after 7 days.
CREATE TABLE monitoring.dead_letters (
    stream_sequence bigint      PRIMARY KEY,
    reason          text        NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX dead_letters_reason_at_idx ON monitoring.dead_letters (reason, at);

-- Incidents as operators list them: a projection of the incident events (rebuilt by replay;
-- each event applies once, by its id).
CREATE TABLE monitoring.incidents (
    incident    uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    scope       text        NOT NULL,
    site_id     text,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz,
    evidence    jsonb       NOT NULL,
    recovery    jsonb
);
CREATE INDEX incidents_open_idx ON monitoring.incidents (closed_at, opened_at DESC);

CREATE TABLE monitoring.applied_events (
    event_id uuid PRIMARY KEY
);
