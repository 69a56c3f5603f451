-- Schema version 9 (issue 14): tenant-bound logins, and security-definer functions that nothing
-- in a session can redirect.
--
-- Part 1, tenant-bound logins. Before this, every policy compared tenant_id with the setting
-- `app.tenant_id`, which any session may set: every login with the application role's grants
-- could act for every tenant. Now a login role can be bound to one tenant (`tenant_login`,
-- written by `alto_pg::login::create_login` as the owner, readable by nobody else), and every
-- policy compares with `alto_session_tenant()`: for a bound `session_user` its tenant, whatever
-- the setting says (a setting naming another tenant raises insufficient_privilege), for any other
-- login the setting, as before. `session_user` is the login itself: `SET ROLE`/`RESET ROLE` do
-- not change it, and only a superuser can (`SET SESSION AUTHORIZATION`). Bound logins are also
-- members of the cluster-wide NOLOGIN role `alto_bound` (roles are shared by every database of a
-- cluster): a member without a binding in this database is refused here, so a login bound in
-- one Alto database is not an all-tenants login in another.
--
-- Part 2, the search path.
-- Functions that run as the owner (SECURITY DEFINER) pin their search_path and name every
-- relation with its schema. The path is `pg_catalog, public, pg_temp`, with the session's
-- temporary schema named LAST on purpose: a search_path that leaves pg_temp out does not drop it,
-- PostgreSQL then searches it FIRST for relation and type names (measured on 15: with
-- `search_path = pg_catalog, public`, a temporary table named `pg_class` hides the catalog and
-- one named `text` turns `'x'::text` into a record type). Named last, it is searched after
-- pg_catalog and public, and never for functions or operators. The schema-qualified names are
-- what make the lookups exact; the pinned path keeps types and operators in pg_catalog.
--
-- Before this, `alto_audit_partitions()` looked its partitions up unqualified with
-- `search_path = public, pg_temp`, so a temporary table named like a missing month's partition
-- made it skip creating that month.

-- Part 1: the binding, and the functions every policy compares with.

CREATE TABLE public.tenant_login (
    role        name PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES public.tenant,
    created_utc timestamptz NOT NULL DEFAULT now()
);
-- Only the owner reads or writes it (the functions below run as the owner). Forced row-level
-- security like every table with a tenant_id, with one policy for the owner alone.
REVOKE ALL ON public.tenant_login FROM PUBLIC;
ALTER TABLE public.tenant_login ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tenant_login FORCE ROW LEVEL SECURITY;
CREATE POLICY login_directory ON public.tenant_login TO CURRENT_USER USING (true) WITH CHECK (true);

-- The tenant `session_user` is bound to, or NULL for a login bound to none. A member of
-- `alto_bound` (a bound login) without a binding in this database is refused.
CREATE FUNCTION public.alto_login_tenant() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    bound bigint;
BEGIN
    SELECT l.tenant_id INTO bound FROM public.tenant_login l WHERE l.role = session_user;
    IF bound IS NULL AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles r ON r.oid = m.member
        JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
        WHERE r.rolname = session_user AND g.rolname = 'alto_bound')
    THEN
        RAISE EXCEPTION 'the login % is bound to a tenant of another database', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN bound;
END
$$;

-- The tenant the current statement may see and change: the login's own for a bound login (a
-- setting naming another tenant raises), else `app.tenant_id` (set per transaction), or NULL.
CREATE FUNCTION public.alto_session_tenant() RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    asked bigint := nullif(pg_catalog.current_setting('app.tenant_id', true), '')::bigint;
    bound bigint := public.alto_login_tenant();
BEGIN
    IF bound IS NULL THEN
        RETURN asked;
    END IF;
    IF asked IS NOT NULL AND asked <> bound THEN
        RAISE EXCEPTION 'the login % is bound to tenant %: it cannot act for tenant %',
            session_user, bound, asked
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN bound;
END
$$;

-- The tenant name a transaction may look up or create (`app.tenant_name`): never for a bound
-- login (it sees its own tenant through alto_session_tenant() and creates none).
CREATE FUNCTION public.alto_session_tenant_name() RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF public.alto_login_tenant() IS NOT NULL THEN
        RETURN NULL;
    END IF;
    RETURN nullif(pg_catalog.current_setting('app.tenant_name', true), '');
END
$$;

REVOKE ALL ON FUNCTION public.alto_login_tenant(), public.alto_session_tenant(),
    public.alto_session_tenant_name() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.alto_login_tenant(), public.alto_session_tenant(),
    public.alto_session_tenant_name() TO alto_app;

-- Every policy compares with the session's tenant, never with the bare setting.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT p.polrelid::regclass FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND p.polname = 'tenant_isolation'
    LOOP
        EXECUTE pg_catalog.format('ALTER POLICY tenant_isolation ON %s '
                       'USING (tenant_id = (SELECT public.alto_session_tenant())) '
                       'WITH CHECK (tenant_id = (SELECT public.alto_session_tenant()))', t);
    END LOOP;
END
$$;
ALTER POLICY tenant_select ON public.tenant
    USING (tenant_id = (SELECT public.alto_session_tenant())
           OR name = (SELECT public.alto_session_tenant_name()));
ALTER POLICY tenant_insert ON public.tenant
    WITH CHECK (name = (SELECT public.alto_session_tenant_name()));
ALTER POLICY tenant_update ON public.tenant
    USING (tenant_id = (SELECT public.alto_session_tenant()))
    WITH CHECK (tenant_id = (SELECT public.alto_session_tenant()));

-- Part 2: the search path of every function that runs as the owner.

CREATE OR REPLACE FUNCTION public.alto_audit_partitions(months_ahead integer DEFAULT 3)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    m       date := pg_catalog.date_trunc('month', pg_catalog.now() AT TIME ZONE 'UTC')::date;
    part    text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. least(greatest(months_ahead, 0), 24) LOOP
        part := pg_catalog.format('audit_event_y%sm%s', pg_catalog.to_char(m, 'YYYY'),
                                  pg_catalog.to_char(m, 'MM'));
        IF pg_catalog.to_regclass(pg_catalog.format('public.%I', part)) IS NULL THEN
            BEGIN
                EXECUTE pg_catalog.format(
                    'CREATE TABLE public.%I PARTITION OF public.audit_event FOR VALUES FROM (%L) TO (%L)',
                    part, m, (m + interval '1 month')::date);
                EXECUTE pg_catalog.format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', part);
                EXECUTE pg_catalog.format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', part);
                EXECUTE pg_catalog.format('CREATE POLICY tenant_isolation ON public.%I '
                               'USING (tenant_id = (SELECT public.alto_session_tenant())) '
                               'WITH CHECK (tenant_id = (SELECT public.alto_session_tenant()))',
                               part);
                created := created + 1;
            EXCEPTION WHEN check_violation OR duplicate_table OR duplicate_object THEN
                NULL; -- rows of that month are in the default partition, or a concurrent call made it
            END;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$;

-- The tenant directory for workers: every tenant, or a bound login's own alone.
CREATE OR REPLACE FUNCTION public.alto_tenants()
    RETURNS TABLE (tenant_id bigint, name text, settings jsonb, created_utc timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.tenant_id, t.name, t.settings, t.created_utc FROM public.tenant t
    WHERE t.tenant_id = coalesce(public.alto_login_tenant(), t.tenant_id)
    ORDER BY t.tenant_id
$$;

-- Runs as the caller (row-level security applies), so its path only needs the same order.
ALTER FUNCTION public.alto_feed_ops(bigint, bigint, text[], text[], text[], bigint[], text[],
    timestamptz[], timestamptz[], timestamptz[], timestamptz[], text[])
    SET search_path = pg_catalog, public, pg_temp;
