-- netdrift schema, migration 4: remediations made by `netdrift revert --apply`. Each row is
-- one revert: who ran it and when, the ticket, the calls and what became of each, the state
-- the resource was in before (the drifted state the calls were computed from) and after, and
-- whether the next collection confirmed the item gone.

CREATE TABLE remediations (
    id           INTEGER PRIMARY KEY,
    item         TEXT NOT NULL,
    scope_key    TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    direction    TEXT NOT NULL,
    run_by       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    ticket       TEXT,
    steps        TEXT NOT NULL,
    outcomes     TEXT NOT NULL,
    before_state TEXT,
    after_state  TEXT,
    confirmed    INTEGER NOT NULL
);
CREATE INDEX remediations_time ON remediations(started_at);
