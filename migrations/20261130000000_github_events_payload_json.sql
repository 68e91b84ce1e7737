-- Payloads are kept as `json`, the bytes GitHub sent (after the intake's NUL
-- replacement), checked to be JSON on the way in, not converted to `jsonb`.
-- PostgreSQL 15 spends more on building `jsonb` than on the rest of storing a
-- delivery (pgbench, 8.6 KB payloads, 4 rows a commit: 22,600 rows/s as jsonb,
-- 30,200 as json), and the intake's acknowledgement waits for that insert.
-- Nothing here queries inside payloads but the event log's one-event view,
-- which casts; handlers read them whole (json is also cheaper to send back).
ALTER TABLE github_events ALTER COLUMN payload TYPE JSON USING payload::json;
ALTER TABLE github_events ALTER COLUMN payload SET COMPRESSION lz4;
-- Keep a compressed payload of up to ~8 KB in the row rather than moving it to
-- the TOAST table: one heap insert instead of three and a TOAST index entry
-- per delivery (about 2,500 bytes for an 11.6 KB issues.opened).
ALTER TABLE github_events SET (toast_tuple_target = 8160);
