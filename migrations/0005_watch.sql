-- netdrift schema, migration 5: continuous detection (`netdrift watch`, the daemon's watch loop).

-- Where each scope's audit read last ended: the next tick reads from here, less the overlap
-- that late deliveries need. Only moves forward.
CREATE TABLE watch_cursors (
    scope_key  TEXT PRIMARY KEY,
    position   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- What was delivered (webhook), once per drift item or re-read failure, and when a later run
-- found it gone: the resolution, with who reverted it when the logs say.
CREATE TABLE deliveries (
    item_id      TEXT PRIMARY KEY,
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
    resolved_by  TEXT
);
CREATE INDEX deliveries_open ON deliveries(scope_key) WHERE resolved_at IS NULL;
