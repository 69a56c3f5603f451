-- Schema version 9 (issue 14): security-definer functions that nothing in a session can redirect.
--
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
                               'USING (tenant_id = (SELECT public.alto_tenant())) '
                               'WITH CHECK (tenant_id = (SELECT public.alto_tenant()))', part);
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

CREATE OR REPLACE FUNCTION public.alto_tenants()
    RETURNS TABLE (tenant_id bigint, name text, settings jsonb, created_utc timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT t.tenant_id, t.name, t.settings, t.created_utc FROM public.tenant t ORDER BY t.tenant_id $$;

-- Runs as the caller (row-level security applies), so its path only needs the same order.
ALTER FUNCTION public.alto_feed_ops(bigint, bigint, text[], text[], text[], bigint[], text[],
    timestamptz[], timestamptz[], timestamptz[], timestamptz[], text[])
    SET search_path = pg_catalog, public, pg_temp;
