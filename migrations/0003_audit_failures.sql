-- netdrift schema, migration 3: audit-log reads that failed. A window recorded here is one the
-- logs could not be read for: attribution says so instead of reading silence as "no change".

CREATE TABLE audit_failures (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    -- Account, project, organization or subscription; '*' when the failed input names none
    -- (an audit file that could not be read at all).
    account      TEXT NOT NULL,
    region       TEXT,
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    code         TEXT NOT NULL,
    operation    TEXT,
    message      TEXT NOT NULL,
    source       TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX audit_failures_account ON audit_failures(provider, account, window_end);

-- Facts about the database itself (`demo` = 1 marks a database the demo owns and may recreate).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
