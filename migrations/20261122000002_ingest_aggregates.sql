-- Window aggregates from edge gateways: what the reduction policy held back, summarised.
-- Keyed on the window's identity, so a re-forwarded aggregate adds nothing.
CREATE TABLE ingest.aggregates (
    site_id      text             NOT NULL,
    device_id    text             NOT NULL,
    metric       text             NOT NULL,
    window_start timestamptz      NOT NULL,
    window_secs  integer          NOT NULL,
    min          double precision NOT NULL,
    max          double precision NOT NULL,
    mean         double precision NOT NULL,
    count        bigint           NOT NULL,
    ingested_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, device_id, metric, window_start, window_secs)
);
