-- Schema version 12 (issue 19, deliverable 3): what reconciliation against the tier targets
-- needs (docs/adr/0015-reconciliation.md). The same logical additions as alto-sqlite's
-- 0008_reconcile.sql.
--
-- 1. The LOST flag of a STUBBED tier object (`lost_utc`, `lost_reason`): reconciliation found
--    its object missing or not as recorded (size, entity tag, digest). A flag, not a state
--    (alto_core::lifecycle::may_flag_lost): set and cleared on a STUBBED object only, in a write
--    that changes nothing else of its state, target or stored object; kept by the transitions out
--    of STUBBED; cleared by a new incarnation. The guard of version 10 is amended to say so
--    explicitly: before, a raw UPDATE could have set a flag on any object, in any state, together
--    with a state change. Nothing about the flag opens a way to an object's location: every check
--    of version 10 on the target URI and the stored object still runs on every write.
--
-- 2. The tier id ledger (`tier_id_ledger`): every tier object id ever given, and to which tenant.
--    Object keys end with their object's id (`….~{tier_id}.{incarnation}`, unique in the
--    database), so an object no record claims any more (its plan withdrawn after the upload, its
--    record pruned) is known to be the tenant's own by its id, and an object of another tenant —
--    which a hostile tenant's rule could make appear under its own prefix by pointing its target
--    inside the other tenant's key space — is never taken for one of its own. For that the id
--    must be the database's: `GENERATED ALWAYS` still lets any inserter say
--    `OVERRIDING SYSTEM VALUE`, so the guard now gives every new row the identity sequence's next
--    value, whatever the statement said, and the sequence is moved past every id present. The
--    ledger is written by an owner's trigger function alone (the application role may only read
--    its tenant's rows), so no login can claim an id.

ALTER TABLE public.tier_object
    ADD COLUMN lost_utc    timestamptz,
    ADD COLUMN lost_reason text CHECK (lost_reason IN ('missing', 'size', 'etag', 'digest')),
    ADD CONSTRAINT tier_object_lost_whole CHECK (num_nulls(lost_utc, lost_reason) IN (0, 2));

-- Keyed like every table, by tenant first: the ids themselves are unique because they all come
-- from the one sequence (below), so no key on the id alone is needed to keep a tenant from
-- claiming another's, and none lets one tenant's write collide with another's.
CREATE TABLE public.tier_id_ledger (
    tenant_id bigint NOT NULL,
    tier_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, tier_id)
);
ALTER TABLE public.tier_id_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tier_id_ledger FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.tier_id_ledger
    USING (tenant_id = (SELECT public.alto_session_tenant()))
    WITH CHECK (tenant_id = (SELECT public.alto_session_tenant()));
REVOKE ALL ON public.tier_id_ledger FROM PUBLIC;
GRANT SELECT ON public.tier_id_ledger TO alto_app;

-- The ids present, and the sequence past them. Row-level security binds the owner too (FORCE,
-- 0003): lifted for these two statements, inside this migration's transaction.
ALTER TABLE public.tier_object NO FORCE ROW LEVEL SECURITY;
ALTER TABLE public.tier_id_ledger NO FORCE ROW LEVEL SECURITY;
-- An id two tenants hold (only `OVERRIDING SYSTEM VALUE` could have made one) is nobody's.
INSERT INTO public.tier_id_ledger (tier_id, tenant_id)
    SELECT tier_id, min(tenant_id) FROM public.tier_object
    GROUP BY tier_id HAVING count(DISTINCT tenant_id) = 1;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('public.tier_object', 'tier_id'),
    greatest((SELECT max(tier_id) FROM public.tier_object),
             (SELECT last_value FROM public.tier_object_tier_id_seq)));
ALTER TABLE public.tier_object FORCE ROW LEVEL SECURITY;
ALTER TABLE public.tier_id_ledger FORCE ROW LEVEL SECURITY;

-- A new tier object's id is the identity sequence's next value, which the guard takes itself
-- (below; the application role may use the sequence, which only burns ids). Every statement's
-- new rows go into the ledger at once, through this function, which runs as the owner (the
-- application role has no right to write the ledger); row-level security keeps each row to the
-- session's tenant, as it keeps the tier objects.
GRANT USAGE ON SEQUENCE public.tier_object_tier_id_seq TO alto_app;

CREATE FUNCTION public.alto_tier_id_ledger_add() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO public.tier_id_ledger (tenant_id, tier_id)
        SELECT a.tenant_id, a.tier_id FROM added a;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION public.alto_tier_id_ledger_add() FROM PUBLIC;

CREATE TRIGGER tier_id_ledger_add AFTER INSERT ON public.tier_object
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION public.alto_tier_id_ledger_add();

-- Version 10's guard, with the tier id and the LOST flag (marked "version 12").
CREATE OR REPLACE FUNCTION public.alto_tier_object_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    tenant_name text;
    share_name text;
    want_prefix text;
    want_suffix text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'PLANNED' OR NEW.incarnation <> 1 OR NEW.object_key IS NOT NULL THEN
            RAISE EXCEPTION 'a new tier object is planned, with nothing stored (got state %, incarnation %)',
                NEW.state, NEW.incarnation
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- Version 12: nothing lost yet, and an id no tenant ever had.
        IF NEW.lost_utc IS NOT NULL OR NEW.lost_reason IS NOT NULL THEN
            RAISE EXCEPTION 'a new tier object is planned, with nothing lost'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.tier_id := pg_catalog.nextval('public.tier_object_tier_id_seq'::regclass);
        NEW.target_root := public.alto_target_root(NEW.target_uri, NEW.path_key);
        RETURN NEW;
    END IF;

    IF NEW.tier_id <> OLD.tier_id OR NEW.tenant_id <> OLD.tenant_id OR NEW.share_id <> OLD.share_id THEN
        RAISE EXCEPTION 'tier object %: its identity, tenant and share are fixed', OLD.tier_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.incarnation < OLD.incarnation THEN
        RAISE EXCEPTION 'tier object %: the incarnation cannot go back from % to %',
            OLD.tier_id, OLD.incarnation, NEW.incarnation
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.incarnation > OLD.incarnation THEN
        IF NEW.state <> 'PLANNED' OR NEW.object_key IS NOT NULL
            OR OLD.state NOT IN ('REHYDRATED', 'DELETED') THEN
            RAISE EXCEPTION 'tier object %: a new incarnation is a new plan of a rehydrated or deleted object, with nothing stored (% → %)',
                OLD.tier_id, OLD.state, NEW.state
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- Version 12: a new incarnation has lost nothing.
        IF NEW.lost_utc IS NOT NULL OR NEW.lost_reason IS NOT NULL THEN
            RAISE EXCEPTION 'tier object %: a new incarnation has lost nothing', OLD.tier_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.target_root := public.alto_target_root(NEW.target_uri, NEW.path_key);
        RETURN NEW;
    END IF;

    -- The same incarnation.
    IF NEW.state <> OLD.state AND (OLD.state, NEW.state) NOT IN (
        ('PLANNED', 'STUBBED'), ('STUBBED', 'REHYDRATED'), ('STUBBED', 'DELETED'),
        ('REHYDRATED', 'DELETED')) THEN
        RAISE EXCEPTION 'tier object %: % → % is not a lifecycle transition', OLD.tier_id, OLD.state, NEW.state
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    -- Version 12: the LOST flag is set or cleared on a STUBBED object that stays STUBBED
    -- (alto_core::lifecycle::may_flag_lost); the checks below still hold the rest of the row.
    IF (NEW.lost_utc, NEW.lost_reason) IS DISTINCT FROM (OLD.lost_utc, OLD.lost_reason)
        AND NOT (OLD.state = 'STUBBED' AND NEW.state = 'STUBBED') THEN
        RAISE EXCEPTION 'tier object %: only a STUBBED object is flagged lost, in a write that keeps it STUBBED (% → %)',
            OLD.tier_id, OLD.state, NEW.state
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    IF OLD.object_key IS NOT NULL THEN
        IF (NEW.object_key, NEW.object_size, NEW.object_sha256, NEW.object_etag, NEW.owner_uid,
            NEW.owner_gid, NEW.file_mode, NEW.original_mtime_utc)
           IS DISTINCT FROM
           (OLD.object_key, OLD.object_size, OLD.object_sha256, OLD.object_etag, OLD.owner_uid,
            OLD.owner_gid, OLD.file_mode, OLD.original_mtime_utc) THEN
            RAISE EXCEPTION 'tier object %: its stored object is recorded once, when it is stubbed', OLD.tier_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.object_key IS NOT NULL THEN
        IF NOT (OLD.state = 'PLANNED' AND NEW.state = 'STUBBED') THEN
            RAISE EXCEPTION 'tier object %: a stored object is recorded by stubbing a planned object', OLD.tier_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT t.name INTO tenant_name FROM public.tenant t WHERE t.tenant_id = NEW.tenant_id;
        SELECT s.name INTO share_name FROM public.share s
            WHERE s.tenant_id = NEW.tenant_id AND s.share_id = NEW.share_id;
        want_prefix := public.alto_key_segment(tenant_name) || '/' || public.alto_key_segment(share_name) || '/';
        want_suffix := '.~' || NEW.tier_id || '.' || NEW.incarnation;
        IF want_prefix IS NULL OR NOT pg_catalog.starts_with(NEW.object_key, want_prefix)
            OR pg_catalog.right(NEW.object_key, pg_catalog.length(want_suffix)) <> want_suffix
            OR pg_catalog.length(NEW.object_key) <= pg_catalog.length(want_prefix) + pg_catalog.length(want_suffix)
            OR (NEW.object_key COLLATE "C") ~ '(^|/)\.\.(/|$)' THEN
            RAISE EXCEPTION 'tier object %: object key % is not this object''s (%…%)',
                OLD.tier_id, NEW.object_key, want_prefix, want_suffix
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;

    -- The target root is the guard's own column: what a write puts there is ignored.
    NEW.target_root := OLD.target_root;
    IF NEW.target_uri <> OLD.target_uri AND NOT (OLD.state = 'PLANNED' AND NEW.state = 'PLANNED') THEN
        -- Only a move (or a re-key) carries it: the same target root, the new key's path. (A
        -- move may change the path key in an earlier statement of the transaction.)
        IF OLD.target_root IS NULL
            OR public.alto_target_root(NEW.target_uri, NEW.path_key) IS DISTINCT FROM OLD.target_root THEN
            RAISE EXCEPTION 'tier object %: its target is set by planning it (it is %)', OLD.tier_id, OLD.state
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.target_uri <> OLD.target_uri THEN
        NEW.target_root := public.alto_target_root(NEW.target_uri, NEW.path_key);
    END IF;
    RETURN NEW;
END
$$;
