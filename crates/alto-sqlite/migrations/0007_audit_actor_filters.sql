-- Alto schema, version 7 (SQLite): who wrote each audit event, indexes for filtered reads, and
-- the job events that chain a job's file events.
--
-- `actor` is the writing process's account of itself (user, uid, host, program, pid, source) as
-- JSON; events written before this version have `{}`. SQLite serialises writers, so event ids
-- are already in commit order and remain the read position. The indexes serve `alto audit`'s
-- filters: by kind, by subject and by time, each in read order (children: audit_event_parent,
-- whose rowid order is read order).

ALTER TABLE audit_event ADD COLUMN actor TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(actor));

CREATE INDEX audit_event_kind ON audit_event (tenant_id, kind, event_id);
CREATE INDEX audit_event_subject ON audit_event (tenant_id, subject, event_id);
CREATE INDEX audit_event_at ON audit_event (tenant_id, at_utc);

-- A job's `job.create` event, the parent of its files' events and of its outcome (NULL for jobs
-- committed before this version).
ALTER TABLE tier_job ADD COLUMN event_id INTEGER;

UPDATE alto_meta SET value = '7' WHERE key = 'schema_version';

PRAGMA user_version = 7;
