-- ingest owns this schema; no other service writes here.
CREATE SCHEMA IF NOT EXISTS ingest;

-- One row per accepted reading. The primary key is the natural identity of a reading
-- (site, device, timestamp): it is what makes redelivery, a re-forwarded backlog or a
-- replayed stream idempotent without relying on the JetStream duplicate window.
-- It also serves the main query, a time range for one device, as an index range scan.
CREATE TABLE ingest.readings (
    site_id      text        NOT NULL,
    device_id    text        NOT NULL,
    observed_at  timestamptz NOT NULL,
    metrics      jsonb       NOT NULL,
    -- where it came from in the hub stream, for tracing a row back to its message
    hub_sequence bigint      NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, device_id, observed_at)
);

-- Recent-first scans across the fleet (dashboards, lag checks).
CREATE INDEX readings_ingested_at_idx ON ingest.readings (ingested_at);
