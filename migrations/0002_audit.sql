-- netdrift schema, migration 2: control-plane audit events for attribution.

CREATE TABLE audit_events (
    event_id    TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    account     TEXT,
    region      TEXT,
    event_name  TEXT NOT NULL,
    succeeded   INTEGER NOT NULL,
    error       TEXT,
    actor       TEXT NOT NULL,
    payload     TEXT,
    issued_key  TEXT,
    raw         TEXT NOT NULL,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events(provider, event_time);
CREATE INDEX audit_events_issued_key ON audit_events(issued_key) WHERE issued_key IS NOT NULL;

CREATE TABLE audit_event_resources (
    resource_id TEXT NOT NULL,
    event_id    TEXT NOT NULL REFERENCES audit_events(event_id),
    PRIMARY KEY (resource_id, event_id)
) WITHOUT ROWID;

-- Which accounts and time windows have logs at all (to tell "no logs" from "logs are silent").
CREATE TABLE audit_coverage (
    provider     TEXT NOT NULL,
    account      TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    source       TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_coverage_window ON audit_coverage(provider, account, window_start, window_end);
