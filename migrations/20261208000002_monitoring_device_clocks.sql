-- Each device's clock as its stored summaries tell it: its latest reading and newest window.
-- Silence is judged for every device of a site at each summary, so these are kept per device
-- as summaries are stored, instead of aggregated from all the site's windows per device each
-- time (which made a summary's cost grow with the site's devices times its stored windows).
CREATE TABLE monitoring.device_clocks (
    site_id         text        NOT NULL,
    device_id       text        NOT NULL,
    last_reading_at timestamptz,
    newest_window   timestamptz NOT NULL,
    PRIMARY KEY (site_id, device_id)
);

INSERT INTO monitoring.device_clocks (site_id, device_id, last_reading_at, newest_window)
SELECT site_id, device_id, max(last_reading_at), max(window_start)
FROM monitoring.windows
GROUP BY site_id, device_id;
