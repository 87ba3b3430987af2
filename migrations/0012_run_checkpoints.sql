-- netdrift schema, migration 12: run retention. Old runs are pruned as a prefix of the chain
-- (never the newest run), and a checkpoint takes their place. Its `record` (the exact JSON its
-- hash covers) names the range pruned: the first and last run and how many, when they
-- finished, the `prev_hash` of the first (`anchor`, the previous checkpoint's `head`, or
-- genesis) and the hash of the last (`head`), to which the first run kept links. Checkpoints
-- chain as runs do: hash = sha256(prev_hash || "\n" || record).
CREATE TABLE run_checkpoints (
    id        INTEGER PRIMARY KEY,
    last_run  INTEGER NOT NULL,
    record    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
