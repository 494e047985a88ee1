-- What one service publishes for another to read: a read-only view per named reader, created by
-- the owner's migration. No service names another's tables; each reads another's data only
-- through such a view (docs/architecture.md, "Who reads whose data"), and the owner keeps the
-- view's columns and meaning when it changes its tables. The Postgres roles of the security
-- issue grant each reader SELECT on its views only.

-- ingest → deployment: the accepted readings, for the live devices of a site (by arrival,
-- `ingested_at`) and the actual values that judge live forecasts.
CREATE VIEW ingest.readings_for_deployment AS
    SELECT site_id, device_id, observed_at, metrics, ingested_at
    FROM ingest.readings;

-- preprocessing → training: the feature rows, per spec and version.
CREATE VIEW preprocessing.features_for_training AS
    SELECT site_id, device_id, spec_name, spec_version, bin_start, features, interpolated
    FROM preprocessing.features;
