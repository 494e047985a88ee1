-- Readings arrive roughly in ingested_at order, so a BRIN index (one summary per block range)
-- serves "what arrived since t" as well as a B-tree does, at almost no cost per insert: the
-- B-tree was a second index entry, and its WAL, for every row written.
DROP INDEX IF EXISTS ingest.readings_ingested_at_idx;
CREATE INDEX readings_ingested_at_brin ON ingest.readings USING brin (ingested_at);
