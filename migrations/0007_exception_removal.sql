-- netdrift schema, migration 7: `netdrift exception remove`. A removed exception stops covering
-- drift but stays in the history (evidence exports keep it), with who removed it, when and why.
ALTER TABLE exceptions ADD COLUMN removed_at TEXT;
ALTER TABLE exceptions ADD COLUMN removed_by TEXT;
ALTER TABLE exceptions ADD COLUMN removed_reason TEXT;
