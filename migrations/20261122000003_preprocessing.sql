-- preprocessing owns this schema.
CREATE SCHEMA IF NOT EXISTS preprocessing;

-- Its own copy of the samples it consumed (readings are consumed, not read from ingest's schema):
-- one per (site, device, ts), so redelivery and replay add nothing.
CREATE TABLE preprocessing.samples (
    site_id     text        NOT NULL,
    device_id   text        NOT NULL,
    observed_at timestamptz NOT NULL,
    metrics     jsonb       NOT NULL,
    PRIMARY KEY (site_id, device_id, observed_at)
);

-- Feature rows, one per device, spec version and bin; columns in the order the spec names them
-- (edgeops-features `FeatureSpec::names`). Training reads these; a model records the spec version.
CREATE TABLE preprocessing.features (
    site_id      text               NOT NULL,
    device_id    text               NOT NULL,
    spec_name    text               NOT NULL,
    spec_version integer            NOT NULL,
    bin_start    timestamptz        NOT NULL,
    features     double precision[] NOT NULL,
    interpolated boolean            NOT NULL,
    PRIMARY KEY (site_id, device_id, spec_name, spec_version, bin_start)
);
