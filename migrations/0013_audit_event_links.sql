-- netdrift schema, migration 13: an event's resources are found by range, not by probe. Each
-- event gets an explicit integer id (its old implicit rowid, which a VACUUM could renumber),
-- and `audit_event_links` keys each (resource, event) pair by resource, then event time, then
-- event id: the events of a resource in a window are one range of the link index, each joined
-- to its event by integer key, where `audit_event_resources` found every event a second time
-- through the text index on `event_id`.
CREATE TABLE audit_events_13 (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL,
    event_time      TEXT NOT NULL,
    account         TEXT,
    region          TEXT,
    event_name      TEXT NOT NULL,
    succeeded       INTEGER NOT NULL,
    error           TEXT,
    actor           TEXT NOT NULL,
    payload         TEXT,
    issued_key      TEXT,
    source          TEXT NOT NULL,
    imported_at     TEXT NOT NULL,
    resources       TEXT NOT NULL DEFAULT '[]',
    payload_removes INTEGER NOT NULL DEFAULT 0,
    catalogued      INTEGER NOT NULL DEFAULT 0,
    record_block    INTEGER,
    record_at       INTEGER
);
INSERT INTO audit_events_13 (id, event_id, provider, event_time, account, region, event_name,
        succeeded, error, actor, payload, issued_key, source, imported_at, resources,
        payload_removes, catalogued, record_block, record_at)
    SELECT rowid, event_id, provider, event_time, account, region, event_name, succeeded, error,
        actor, payload, issued_key, source, imported_at, resources, payload_removes, catalogued,
        record_block, record_at
    FROM audit_events ORDER BY rowid;
CREATE TABLE audit_event_links (
    resource_id TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    event       INTEGER NOT NULL REFERENCES audit_events_13(id),
    PRIMARY KEY (resource_id, event_time, event)
) WITHOUT ROWID;
INSERT INTO audit_event_links (resource_id, event_time, event)
    SELECT r.resource_id, e.event_time, e.id
    FROM audit_event_resources r JOIN audit_events_13 e ON e.event_id = r.event_id;
DROP TABLE audit_event_resources;
DROP TABLE audit_events;
ALTER TABLE audit_events_13 RENAME TO audit_events;
CREATE INDEX audit_events_time ON audit_events(provider, event_time);
CREATE INDEX audit_events_issued_key ON audit_events(issued_key) WHERE issued_key IS NOT NULL;
