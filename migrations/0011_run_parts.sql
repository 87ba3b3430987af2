-- netdrift schema, migration 11: runs that repeat themselves cost next to nothing.
--
-- `run_parts` holds a run's drift items, coverage findings, configuration and the bulky parts
-- of its summary content-addressed: `hash` is the SHA-256 of `body`, the part's JSON text. A run
-- recorded from this schema on (its record's "format" is 2) names its parts by address: the
-- record holds the addresses of its item list ([[item id, scope, severity, item address], ...]),
-- of its coverage list ([[scope, finding address], ...]) and of its configuration, and its
-- summary names each list-valued part as {"part": ADDRESS}. The chain hash covers the record, so
-- it covers every part through its address. Runs recorded before keep their whole record and
-- their rows in `drift_items` and `coverage`, as they were.
CREATE TABLE run_parts (
    hash TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- A collection identical to the scope's newest snapshot (same source, status, problems, kinds
-- not read and manifest) is not stored again: that snapshot's `seen_at` moves to the new
-- collection's time. A snapshot thus stands for the same state seen from `taken_at` to
-- `seen_at` (NULL: seen once, at `taken_at`).
ALTER TABLE snapshots ADD COLUMN seen_at TEXT;
