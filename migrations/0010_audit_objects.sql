-- netdrift schema, migration 10: the audit-log objects a source read (an S3 trail's delivered
-- files, `s3://BUCKET/KEY`), each recorded with the events of its batch, so that none is read
-- twice; an object that could not be read keeps why (it is reported once, as a failed audit
-- read naming it).
CREATE TABLE audit_objects (
    object  TEXT PRIMARY KEY,
    source  TEXT NOT NULL,
    events  INTEGER NOT NULL,
    error   TEXT,
    read_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_objects_read ON audit_objects(read_at);
