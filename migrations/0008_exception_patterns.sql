-- netdrift schema, migration 8: pattern exceptions kept in a baseline file (`[[exception]]`
-- next to `[[scope]]`). `baseline import` replaces the patterns an earlier import of the same
-- file brought (they are kept, marked replaced); each row is the pattern as written (JSON).
CREATE TABLE exception_patterns (
    id          INTEGER PRIMARY KEY,
    baseline_id INTEGER NOT NULL REFERENCES baselines(id),
    origin      TEXT NOT NULL,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    replaced_at TEXT
);
CREATE INDEX exception_patterns_active ON exception_patterns(origin) WHERE replaced_at IS NULL;
