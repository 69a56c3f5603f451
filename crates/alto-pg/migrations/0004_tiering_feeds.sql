-- Schema version 4: the job queue (leases with fencing tokens, backoff, outcomes), the link from
-- a tier object to its job, and the access-feed state (cursors per feed, the unknown-path event
-- queue). See docs/adr/0004-postgres-store.md, "Tiering" and "Feeds".
--
-- Tables of schema 1 that nothing ever wrote and that this version supersedes are dropped:
-- `tier_job_item` (a tier object names its job in `tier_object.job_id`: one job per object at a
-- time, and the link moves with the object when a feed re-keys it), `feed_unknown_path` (an
-- aggregate; the queue keeps whole events, `feed_unknown_event`), `staging_feed_event` (a batch
-- is staged in a session-private temporary table, like the ingest) and `feed_event_processed`
-- (one row per event: `feed_event_range` keeps the same facts in one row per id prefix and
-- batch).

DROP TABLE tier_job_item;
DROP TABLE feed_unknown_path;
DROP TABLE staging_feed_event;
DROP TABLE feed_event_processed;

-- The job queue. `token` is the fencing token: bumped by every claim, finish and cancel, and
-- named by every write a worker makes under its lease.
ALTER TABLE tier_job
    ADD COLUMN token         bigint NOT NULL DEFAULT 0,
    ADD COLUMN not_before    timestamptz,
    ADD COLUMN finished_utc  timestamptz,
    ADD COLUMN files_stubbed bigint NOT NULL DEFAULT 0,
    ADD COLUMN files_skipped bigint NOT NULL DEFAULT 0,
    ADD COLUMN files_failed  bigint NOT NULL DEFAULT 0,
    ADD COLUMN bytes_moved   bigint NOT NULL DEFAULT 0;
-- Running jobs by lease expiry: a claim takes over an expired lease.
CREATE INDEX tier_job_lease_idx ON tier_job (tenant_id, lease_until) WHERE state = 'running';
-- The job table is the hot spot of many workers: keep its pages with room for HOT updates.
ALTER TABLE tier_job SET (fillfactor = 70);

-- The job a tier object is planned in (NULL once that job has ended).
ALTER TABLE tier_object
    ADD COLUMN job_id bigint,
    ADD FOREIGN KEY (tenant_id, job_id) REFERENCES tier_job;
CREATE INDEX tier_object_job_idx ON tier_object (tenant_id, job_id) WHERE job_id IS NOT NULL;

-- A feed that moves a file re-keys its `file_current` row and its tier object in one
-- transaction; the reference from the object to the file is checked at commit there.
ALTER TABLE tier_object ALTER CONSTRAINT tier_object_tenant_id_share_id_path_key_fkey
    DEFERRABLE INITIALLY IMMEDIATE;

-- Feed cursors are per feed (`lucid`, `batch`, …) and keep the line count too.
ALTER TABLE feed_cursor
    ADD COLUMN feed text NOT NULL DEFAULT 'lucid',
    ADD COLUMN line bigint NOT NULL DEFAULT 0 CHECK (line >= 0),
    DROP CONSTRAINT feed_cursor_pkey,
    ADD PRIMARY KEY (tenant_id, share_id, feed, node_id, stem);
ALTER TABLE feed_cursor ALTER COLUMN feed DROP DEFAULT;

-- Event ids applied per share, for de-duplication. An id `<prefix>/<number>` (LucidLink:
-- `node/stem/offset`; pushed batches: `batch-id/index`), with the number in canonical decimal, is
-- kept as that number in the sorted array of its prefix's row of the batch that applied it; any
-- other id is a row of its own (prefix = the id, numbers = {-1}). The mapping is one-to-one, so
-- an id is a duplicate exactly when some row of its prefix holds its number. A batch writes one
-- row per prefix instead of one per event.
CREATE TABLE feed_event_range (
    tenant_id     bigint NOT NULL,
    share_id      bigint NOT NULL,
    prefix        text COLLATE "C" NOT NULL,
    lo            bigint NOT NULL,
    hi            bigint NOT NULL CHECK (hi >= lo),
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    numbers       bigint[] NOT NULL,
    processed_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id, prefix, lo, seq),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
ALTER TABLE feed_event_range ENABLE ROW LEVEL SECURITY;
ALTER TABLE feed_event_range FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feed_event_range
    USING (tenant_id = (SELECT alto_tenant()))
    WITH CHECK (tenant_id = (SELECT alto_tenant()));

-- Events for paths the inventory does not know (tenant policy `unknown_paths = "queue"`), whole,
-- oldest first.
CREATE TABLE feed_unknown_event (
    tenant_id   bigint NOT NULL,
    share_id    bigint NOT NULL,
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    event_id    text NOT NULL,
    event_utc   timestamptz NOT NULL,
    action      text NOT NULL,
    entry_path  text NOT NULL,
    target_path text,
    user_name   text,
    queued_utc  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id, seq),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
ALTER TABLE feed_unknown_event ENABLE ROW LEVEL SECURITY;
ALTER TABLE feed_unknown_event FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feed_unknown_event
    USING (tenant_id = (SELECT alto_tenant()))
    WITH CHECK (tenant_id = (SELECT alto_tenant()));

-- Workers serve every tenant, so the application role may list the tenant directory, through
-- this function alone. It runs as the owner (SECURITY DEFINER), and the owner — whom the forced
-- row-level security binds too — may read every tenant row for it (policy `tenant_directory`).
-- The application role itself still sees only its own tenant, or the one it named.
CREATE POLICY tenant_directory ON tenant FOR SELECT TO CURRENT_USER USING (true);
CREATE FUNCTION alto_tenants()
    RETURNS TABLE (tenant_id bigint, name text, settings jsonb, created_utc timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$ SELECT tenant_id, name, settings, created_utc FROM tenant ORDER BY tenant_id $$;
REVOKE ALL ON FUNCTION alto_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alto_tenants() TO alto_app;

-- Moves and placeholder records of one feed batch, applied in event order on the server (one
-- round trip for all of them). The caller has decided every step (the store's apply_events
-- replays the batch in memory first); this only carries them out. Runs as the caller, so
-- row-level security applies. The caller defers tier_object's reference to file_current.
--
-- kind 'move': file key → target key (full path, directory): a file already at the target is
--   replaced; the tier object moves along (version + 1), replacing the target's object, and
--   keeps its job (or takes over the replaced object's job).
-- kind 'placeholder': insert a file record from what the event said.
CREATE FUNCTION alto_feed_ops(
    p_tenant bigint, p_share bigint, p_kind text[], p_key text[], p_full text[], p_dir bigint[],
    p_target text[], p_accessed timestamptz[], p_modified timestamptz[],
    p_missing timestamptz[], p_atime timestamptz[], p_ext text[])
    RETURNS integer
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
AS $$
DECLARE
    i      integer;
    s_obj  bigint;
    s_job  bigint;
    t_job  bigint;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_kind, 1), 0) LOOP
        IF p_kind[i] = 'placeholder' THEN
            INSERT INTO file_current (tenant_id, share_id, dir_id, size_bytes, modified_utc,
                accessed_utc, atime_updated_utc, first_seen_scan_id, last_seen_scan_id,
                changed_chunk_id, missing_since, path_key, full_path, extension,
                last_accessed_source)
            VALUES (p_tenant, p_share, p_dir[i], 0, p_modified[i], p_accessed[i], p_atime[i],
                0, 0, 0, p_missing[i], p_key[i], p_full[i], p_ext[i], 'lucidlink_audit');
        ELSIF p_kind[i] = 'move' THEN
            s_obj := NULL;
            s_job := NULL;
            t_job := NULL;
            SELECT tier_id, job_id INTO s_obj, s_job FROM tier_object
                WHERE tenant_id = p_tenant AND share_id = p_share AND path_key = p_key[i];
            IF p_target[i] = p_key[i] THEN
                UPDATE file_current SET full_path = p_full[i]
                    WHERE tenant_id = p_tenant AND share_id = p_share AND path_key = p_key[i];
                UPDATE tier_object SET full_path = p_full[i], version = version + 1
                    WHERE tenant_id = p_tenant AND tier_id = s_obj;
                CONTINUE;
            END IF;
            IF s_obj IS NOT NULL THEN
                DELETE FROM tier_object
                    WHERE tenant_id = p_tenant AND share_id = p_share AND path_key = p_target[i]
                    RETURNING job_id INTO t_job;
            END IF;
            DELETE FROM file_current
                WHERE tenant_id = p_tenant AND share_id = p_share AND path_key = p_target[i];
            UPDATE file_current SET path_key = p_target[i], full_path = p_full[i],
                    dir_id = p_dir[i]
                WHERE tenant_id = p_tenant AND share_id = p_share AND path_key = p_key[i];
            IF s_obj IS NOT NULL THEN
                UPDATE tier_object SET path_key = p_target[i], full_path = p_full[i],
                        version = version + 1, job_id = coalesce(s_job, t_job)
                    WHERE tenant_id = p_tenant AND tier_id = s_obj;
            END IF;
        ELSE
            RAISE EXCEPTION 'alto_feed_ops: unknown kind %', p_kind[i];
        END IF;
    END LOOP;
    RETURN coalesce(array_length(p_kind, 1), 0);
END
$$;
REVOKE ALL ON FUNCTION alto_feed_ops(bigint, bigint, text[], text[], text[], bigint[], text[],
    timestamptz[], timestamptz[], timestamptz[], timestamptz[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alto_feed_ops(bigint, bigint, text[], text[], text[], bigint[], text[],
    timestamptz[], timestamptz[], timestamptz[], timestamptz[], text[]) TO alto_app;

-- A feed's move re-keys (and may replace) a file record: the only place a file_current row is
-- ever deleted.
GRANT DELETE ON file_current TO alto_app;
GRANT SELECT, INSERT, DELETE ON feed_unknown_event, feed_event_range TO alto_app;
