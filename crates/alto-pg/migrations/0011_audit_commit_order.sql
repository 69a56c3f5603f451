-- Schema version 11 (issue 19): the audit trail is read in commit order, and says who wrote it.
--
-- Event ids come from a sequence when a row is inserted, not when its transaction commits: a
-- reader that resumed after "the last id it saw" could pass an event whose transaction was still
-- running and never see it. Each event now records the writing transaction's id (`writer_xid`,
-- 64-bit, epoch-extended), and readers order by (writer_xid, event_id) and only read events of
-- transactions below the horizon `alto_audit_horizon()`: every transaction below it has ended,
-- so nothing can appear behind a reader's position later. Events written before this version
-- have writer_xid 0 and stay in id order, before every later one.
--
-- `actor` is the writing process's account of itself (user, host, program, pid, source), which
-- the client sets per transaction in `alto.actor`, plus `db_user`, the login the database
-- authenticated. A trigger fills both, and writer_xid, on every insert, whatever the statement
-- says: no login can place an event behind readers' positions or claim another login's name.

ALTER TABLE audit_event ADD COLUMN writer_xid bigint NOT NULL DEFAULT 0;
ALTER TABLE audit_event ADD COLUMN actor jsonb NOT NULL DEFAULT '{}';

CREATE FUNCTION alto_audit_stamp() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
AS $$
BEGIN
    NEW.writer_xid := pg_current_xact_id()::text::bigint;
    NEW.actor := coalesce(nullif(current_setting('alto.actor', true), '')::jsonb, '{}'::jsonb)
                 || jsonb_build_object('db_user', session_user::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_event_stamp BEFORE INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION alto_audit_stamp();

-- The horizon of the reading statement's snapshot: its oldest transaction still running, or the
-- first not yet started, leaving out the transactions of other databases on the server and of
-- autovacuum (they cannot write audit events here; without this, any long transaction anywhere
-- on the server, or an ANALYZE, would hold every trail back). pg_snapshot_xmin would be the same
-- minus that refinement. A transaction is left out only when pg_stat_activity names it with
-- another database or autovacuum and no client of this database shares it (parallel workers
-- show their leader's), which it can only do for a transaction that truly is one of those; a
-- transaction that ended since the snapshot is kept, so the horizon is never too high. Read it once per statement: `(SELECT alto_audit_horizon())`.
CREATE FUNCTION alto_audit_horizon() RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH snap AS (SELECT pg_current_snapshot() AS s),
    here AS (SELECT oid FROM pg_database WHERE datname = current_database()),
    elsewhere AS (
        SELECT backend_xid::text::bigint AS x FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL
          AND (datid IS DISTINCT FROM (SELECT oid FROM here)
               OR backend_type = 'autovacuum worker')
        EXCEPT
        SELECT backend_xid::text::bigint FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL AND datid = (SELECT oid FROM here)
          AND backend_type IS DISTINCT FROM 'autovacuum worker')
    SELECT least(
        (SELECT pg_snapshot_xmax(s)::text::bigint FROM snap),
        (SELECT min(x::text::bigint) FROM snap, pg_snapshot_xip(s) AS x
         WHERE (x::text::bigint % 4294967296) NOT IN (SELECT x FROM elsewhere)))
$$;

-- Read order, and the filters of `alto audit`, each in read order.
CREATE INDEX audit_event_position_idx ON audit_event (tenant_id, writer_xid, event_id);
CREATE INDEX audit_event_kind_idx ON audit_event (tenant_id, kind, writer_xid, event_id);
CREATE INDEX audit_event_subject_idx ON audit_event (tenant_id, subject, writer_xid, event_id);
CREATE INDEX audit_event_time_idx ON audit_event (tenant_id, event_utc);
CREATE INDEX audit_event_children_idx ON audit_event (tenant_id, parent_event_id, writer_xid, event_id)
    WHERE parent_event_id IS NOT NULL;

-- A job's `job.create` event: the parent of its files' events and of its outcome (NULL for jobs
-- committed before this version). The pair names the event as the audit foreign keys do.
ALTER TABLE tier_job ADD COLUMN audit_event_id bigint;
ALTER TABLE tier_job ADD COLUMN audit_event_date date;
