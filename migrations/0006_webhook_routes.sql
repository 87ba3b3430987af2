-- netdrift schema, migration 6: webhook routes (`[[report.webhook]]`). What was delivered is
-- kept per route: the network team's channel and the default one each get an item once. Every
-- delivery made before routes existed went to the one webhook there was, the route named
-- "default" (what `[report] webhook_url` is now).
CREATE TABLE deliveries_by_route (
    route        TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('drift', 'coverage')),
    scope_key    TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    direction    TEXT NOT NULL,
    severity     TEXT NOT NULL,
    line         TEXT NOT NULL,
    run_id       INTEGER NOT NULL,
    delivered_at TEXT NOT NULL,
    resolved_at  TEXT,
    resolved_run INTEGER,
    resolved_by  TEXT,
    PRIMARY KEY (route, item_id)
);
INSERT INTO deliveries_by_route
    SELECT 'default', item_id, kind, scope_key, resource_id, direction, severity, line, run_id,
           delivered_at, resolved_at, resolved_run, resolved_by
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_by_route RENAME TO deliveries;
CREATE INDEX deliveries_open ON deliveries(route, scope_key) WHERE resolved_at IS NULL;
