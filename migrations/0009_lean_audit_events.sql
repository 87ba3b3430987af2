-- netdrift schema, migration 9: audit events stored lean. Each field attribution reads is a
-- column of its own (the parsed resources, whether the request removes access, whether the
-- event is in the catalogue), and the records as the logs delivered them move out of the
-- events into `audit_records`, read only when asked: a bulk load builds events from their
-- columns and never parses a record. An event's record is entry `record_at` of block
-- `record_block`. A block's `codec` says how `data` is kept: 'json' (one record, its JSON text:
-- the records this migration moves) or 'lz4' (an lz4 block, its decompressed length first as
-- u32 LE, of the records in order, each its length as u32 LE then its JSON text; netdrift
-- writes many records a block, so what repeats from one record to the next is kept once).
ALTER TABLE audit_events ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE audit_events ADD COLUMN payload_removes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN catalogued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN record_block INTEGER;
ALTER TABLE audit_events ADD COLUMN record_at INTEGER;
CREATE TABLE audit_records (
    id    INTEGER PRIMARY KEY,
    codec TEXT NOT NULL,
    data  BLOB NOT NULL
);
INSERT INTO audit_records (id, codec, data)
    SELECT rowid, 'json', raw -> '$.raw' FROM audit_events
    WHERE coalesce(json_type(raw, '$.raw'), 'null') <> 'null';
UPDATE audit_events SET
    resources = coalesce(raw -> '$.resources', '[]'),
    payload_removes = coalesce(raw ->> '$.payload_removes', 0),
    catalogued = coalesce(raw ->> '$.catalogued', 0),
    record_block = CASE WHEN coalesce(json_type(raw, '$.raw'), 'null') <> 'null' THEN rowid END,
    record_at = CASE WHEN coalesce(json_type(raw, '$.raw'), 'null') <> 'null' THEN 0 END;
ALTER TABLE audit_events DROP COLUMN raw;
