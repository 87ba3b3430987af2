-- netdrift schema, migration 15: an actor is stored once for the events of an import. An event's
-- actor was its JSON text, the same few hundred bytes for every event of a person, a pipeline
-- role or a session key: most of an event's row, so that 1,000,000 events took 489 MiB and a
-- pass that read many of them read pages no cache held. `audit_actors` keeps an actor's JSON,
-- and an event's `actor` is the integer id of its actor there. An import stores each distinct
-- actor of its events once; there is no index on the text (one would store each actor twice
-- where actors seldom repeat, as when every event carries its own session key), so two imports
-- may each store the same actor. This migration stores each distinct actor once.
CREATE TABLE audit_actors (
    id    INTEGER PRIMARY KEY,
    actor TEXT NOT NULL
);
-- Streamed into a unique index of the text (dropped below), not grouped: grouping sorted every
-- event's actor in memory (400 MB at 1,000,000 events).
CREATE UNIQUE INDEX audit_actors_15 ON audit_actors(actor);
INSERT OR IGNORE INTO audit_actors (actor) SELECT actor FROM audit_events ORDER BY id;
ALTER TABLE audit_events ADD COLUMN actor_id INTEGER REFERENCES audit_actors(id);
UPDATE audit_events SET actor_id = (SELECT a.id FROM audit_actors a WHERE a.actor = audit_events.actor);
DROP INDEX audit_actors_15;
ALTER TABLE audit_events DROP COLUMN actor;
ALTER TABLE audit_events RENAME COLUMN actor_id TO actor;
