-- netdrift schema, migration 16: compact audit events. Every event carried the file or object
-- it came from and when it was imported as text (20 bytes for the time, 20 to 150 for a path
-- or an `s3://` key), the same for every event of an import, and its time as 24 bytes of
-- RFC 3339 text, again in each of its links and in two indexes. `audit_imports` keeps each
-- import's source and time once, an event names its import by integer id, and event times are
-- integer Unix milliseconds in `audit_events` and `audit_event_links` (their order is the
-- text's order: the text was always UTC to the millisecond or the second). An import row is
-- written with the first new event of a batch (its key is checked at commit, so a batch of
-- events already stored writes none).
CREATE TABLE audit_imports (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
-- Each distinct (source, imported_at) once, in the order of the first event of each; the index
-- is only for this migration.
CREATE UNIQUE INDEX audit_imports_16 ON audit_imports(source, imported_at);
INSERT OR IGNORE INTO audit_imports (source, imported_at)
    SELECT source, imported_at FROM audit_events ORDER BY id;
CREATE TABLE audit_events_16 (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL,
    -- Unix milliseconds.
    event_time      INTEGER NOT NULL,
    account         TEXT,
    region          TEXT,
    event_name      TEXT NOT NULL,
    succeeded       INTEGER NOT NULL,
    error           TEXT,
    actor           INTEGER NOT NULL REFERENCES audit_actors(id),
    payload         TEXT,
    issued_key      TEXT,
    resources       TEXT NOT NULL DEFAULT '[]',
    payload_removes INTEGER NOT NULL DEFAULT 0,
    catalogued      INTEGER NOT NULL DEFAULT 0,
    record_block    INTEGER,
    record_at       INTEGER,
    import          INTEGER NOT NULL REFERENCES audit_imports(id) DEFERRABLE INITIALLY DEFERRED
);
-- A time SQLite cannot read leaves NULL, which NOT NULL refuses: the migration fails and the
-- database stays at schema 15, never with an event moved in time.
INSERT INTO audit_events_16 (id, event_id, provider, event_time, account, region, event_name,
        succeeded, error, actor, payload, issued_key, resources, payload_removes, catalogued,
        record_block, record_at, import)
    SELECT e.id, e.event_id, e.provider,
        CAST(round(unixepoch(e.event_time, 'subsec') * 1000) AS INTEGER),
        e.account, e.region, e.event_name, e.succeeded, e.error, e.actor, e.payload,
        e.issued_key, e.resources, e.payload_removes, e.catalogued, e.record_block, e.record_at,
        (SELECT i.id FROM audit_imports i WHERE i.source = e.source AND i.imported_at = e.imported_at)
    FROM audit_events e ORDER BY e.id;
CREATE TABLE audit_event_links_16 (
    resource_id TEXT NOT NULL,
    -- Unix milliseconds: the event's.
    event_time  INTEGER NOT NULL,
    event       INTEGER NOT NULL REFERENCES audit_events_16(id),
    PRIMARY KEY (resource_id, event_time, event)
) WITHOUT ROWID;
INSERT INTO audit_event_links_16 (resource_id, event_time, event)
    SELECT l.resource_id, e.event_time, l.event
    FROM audit_event_links l JOIN audit_events_16 e ON e.id = l.event
    ORDER BY l.resource_id, e.event_time, l.event;
DROP INDEX audit_imports_16;
DROP TABLE audit_event_links;
DROP TABLE audit_events;
ALTER TABLE audit_events_16 RENAME TO audit_events;
ALTER TABLE audit_event_links_16 RENAME TO audit_event_links;
CREATE INDEX audit_events_time ON audit_events(provider, event_time);
CREATE INDEX audit_events_issued_key ON audit_events(issued_key) WHERE issued_key IS NOT NULL;
CREATE INDEX audit_events_account ON audit_events(provider, lower(account), event_time, region)
    WHERE issued_key IS NULL;
