-- Schema version 10 (issue 14): a tier object's location cannot be redirected by a raw UPDATE.
--
-- A root worker uploads to, fetches from and deletes at the place a tier object names: its
-- target URI (the target root and, before issue 13, the key) and the stored object's key. Any
-- login with the application role's grants, a tenant-bound one included, may run its own SQL
-- against its own tenant's rows; before this, an UPDATE could point a stub's record at another
-- object (another tenant's, in a shared bucket) and have a worker fetch it into the tenant's
-- share, or delete it as tier-2 clean-up.
--
-- The guard is a trigger (it binds every role, the owner's migrations too), not a column grant:
-- the legitimate writers are the planning and stubbing statements of alto_pg, which run as the
-- application role like everything else. It refuses every write those statements never make:
--   * a new row is PLANNED, with nothing stored (incarnation 1);
--   * the incarnation never goes down; a new incarnation is a new plan of a REHYDRATED or
--     DELETED object (or a re-plan of a stubbed file's record that was deleted): PLANNED,
--     nothing stored;
--   * within an incarnation the state moves only as the core's lifecycle table allows
--     (alto_core::lifecycle: PLANNED→STUBBED, STUBBED→REHYDRATED, STUBBED|REHYDRATED→DELETED);
--   * the stored object (key, size, digest, etag, owner, group, mode, mtime) is written once, by
--     the PLANNED→STUBBED transition, with the key alto_core::worker::object_key_of gives:
--     `{tenant}/{share}/….~{tier_id}.{incarnation}`, no `..` segment (tier ids are unique in the
--     database, so the key can name no other object), and never changes afterwards within the
--     incarnation;
--   * the target URI changes only while the object is PLANNED (planning it again), or with its
--     path key when a move or a re-key carries it: the same target root, the new key's path.
--     The root an object was planned with is kept in `target_root`, a column only this trigger
--     writes (a move changes the path key and the URI in two statements).
-- The workers check the stored key's form again before they fetch or delete
-- (alto_core::worker::check_stored_key), for every store.

-- alto_core::path::object_key: the key's segments (split at `/` and `\`) without empty and `.`
-- ones, joined with `/`.
CREATE FUNCTION public.alto_object_path(path_key text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT pg_catalog.array_to_string(ARRAY(
        SELECT t.s FROM pg_catalog.regexp_split_to_table(path_key, '[/\\]') WITH ORDINALITY AS t(s, n)
        WHERE t.s <> '' AND t.s <> '.' ORDER BY t.n), '/')
$$;

-- alto_core::worker::target_root: the target URI without its path's object key (NULL when it
-- does not end with it).
CREATE FUNCTION public.alto_target_root(target_uri text, path_key text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    k text := public.alto_object_path(path_key);
BEGIN
    IF k = '' OR pg_catalog.right(target_uri, pg_catalog.length(k)) <> k THEN
        RETURN NULL;
    END IF;
    RETURN pg_catalog.left(target_uri, pg_catalog.length(target_uri) - pg_catalog.length(k));
END
$$;

-- alto_core::worker::key_segment: a valid name as it is, any other with every byte that is not
-- alphanumeric (or `.`, `_`, `-` after the first) percent-encoded.
CREATE FUNCTION public.alto_key_segment(name text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    raw bytea := pg_catalog.convert_to(name, 'UTF8');
    out text := '';
    b int;
BEGIN
    IF pg_catalog.octet_length(raw) BETWEEN 1 AND 64
        AND (name COLLATE "C") ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' THEN
        RETURN name;
    END IF;
    FOR i IN 0 .. pg_catalog.octet_length(raw) - 1 LOOP
        b := pg_catalog.get_byte(raw, i);
        IF b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
            OR (b IN (45, 46, 95) AND out <> '') THEN
            out := out || pg_catalog.chr(b);
        ELSE
            out := out || '%' || pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b), 2, '0'));
        END IF;
    END LOOP;
    RETURN out;
END
$$;

CREATE FUNCTION public.alto_tier_object_guard() RETURNS trigger
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

-- The target root each object was planned with (NULL: its URI does not end with its path's
-- key, as no URI Alto writes does): kept by the guard, whatever a write puts there.
ALTER TABLE public.tier_object ADD COLUMN target_root text;
UPDATE public.tier_object SET target_root = public.alto_target_root(target_uri, path_key);

CREATE TRIGGER tier_object_guard BEFORE INSERT OR UPDATE ON public.tier_object
    FOR EACH ROW EXECUTE FUNCTION public.alto_tier_object_guard();
