-- netdrift schema, migration 1. Append-only: never edit a shipped migration, add a new one.

CREATE TABLE scopes (
    key      TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    account  TEXT NOT NULL,
    region   TEXT
);

-- Content-addressed resource states: one row per distinct canonical state, whatever the number
-- of snapshots that contain it.
CREATE TABLE resource_states (
    hash        TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    access_hash TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX resource_states_resource ON resource_states(resource_id);

-- Content-addressed snapshot manifests: the sorted list of [resource_id, state_hash].
CREATE TABLE manifests (
    hash TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE resource_index (
    resource_id TEXT NOT NULL,
    scope_key   TEXT NOT NULL REFERENCES scopes(key),
    PRIMARY KEY (resource_id, scope_key)
) WITHOUT ROWID;

CREATE TABLE snapshots (
    id             INTEGER PRIMARY KEY,
    scope_key      TEXT NOT NULL REFERENCES scopes(key),
    source         TEXT NOT NULL,
    taken_at       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('complete', 'partial', 'failed')),
    problems       TEXT NOT NULL DEFAULT '[]',
    uncollected    TEXT NOT NULL DEFAULT '[]',
    manifest_hash  TEXT REFERENCES manifests(hash),
    resource_count INTEGER NOT NULL,
    rule_count     INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX snapshots_scope_time ON snapshots(scope_key, taken_at);

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    reason      TEXT NOT NULL,
    ticket      TEXT,
    selector    TEXT NOT NULL,
    origin      TEXT NOT NULL
);

-- state_hash NULL: the resource is approved as absent.
CREATE TABLE baseline_entries (
    baseline_id INTEGER NOT NULL REFERENCES baselines(id),
    scope_key   TEXT NOT NULL REFERENCES scopes(key),
    resource_id TEXT NOT NULL,
    state_hash  TEXT REFERENCES resource_states(hash),
    PRIMARY KEY (baseline_id, scope_key, resource_id)
) WITHOUT ROWID;
CREATE INDEX baseline_entries_scope ON baseline_entries(scope_key, resource_id, baseline_id);

CREATE TABLE exceptions (
    id          INTEGER PRIMARY KEY,
    drift_id    TEXT NOT NULL,
    scope_key   TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    direction   TEXT NOT NULL,
    envelope    TEXT NOT NULL,
    owner       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    ticket      TEXT,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX exceptions_resource ON exceptions(scope_key, resource_id, direction);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    summary     TEXT NOT NULL,
    -- The exact JSON the chain hash covers: sha256(prev_hash || "\n" || record).
    record      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TABLE run_snapshots (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    PRIMARY KEY (run_id, snapshot_id)
) WITHOUT ROWID;

CREATE TABLE drift_items (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    item_id   TEXT NOT NULL,
    scope_key TEXT NOT NULL,
    severity  TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id)
) WITHOUT ROWID;

CREATE TABLE coverage (
    run_id    INTEGER NOT NULL REFERENCES runs(id),
    scope_key TEXT NOT NULL,
    body      TEXT NOT NULL
);

-- Evidence exports and the snapshots they contain (kept by retention).
CREATE TABLE evidence_exports (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to   TEXT NOT NULL,
    file        TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL
);

CREATE TABLE evidence_snapshots (
    export_id   INTEGER NOT NULL REFERENCES evidence_exports(id),
    snapshot_id INTEGER NOT NULL,
    PRIMARY KEY (export_id, snapshot_id)
) WITHOUT ROWID;
