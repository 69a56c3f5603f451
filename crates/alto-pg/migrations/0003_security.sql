-- Tenant isolation in the database (DESIGN.md §3 "Multi-tenancy"; docs/adr/0004).
--
-- Row-level security is enabled and FORCED on every table with a tenant_id, so it binds the table
-- owner too; superusers still bypass it, which is why the library runs as `alto_app` (NOLOGIN,
-- NOSUPERUSER, NOBYPASSRLS, owns nothing). Every policy reads the per-transaction setting
-- `app.tenant_id` (`set_config('app.tenant_id', $1, true)`): it dies with the transaction, so a
-- pooled connection carries no tenant into its next use, and with no tenant set nothing is visible.

-- Every table (and partition) with a tenant_id but `tenant` itself: one policy for all commands.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT c.oid::regclass
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant'
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %s '
                       'USING (tenant_id = (SELECT alto_tenant())) '
                       'WITH CHECK (tenant_id = (SELECT alto_tenant()))', t);
    END LOOP;
END
$$;

-- The tenant directory: a transaction sees its own tenant, or the one whose name it declared in
-- `app.tenant_name` (looking a tenant up by name, creating one). It can only insert the tenant it
-- declared, update only its own, and never delete.
ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_select ON tenant FOR SELECT
    USING (tenant_id = (SELECT alto_tenant()) OR name = (SELECT alto_tenant_name()));
CREATE POLICY tenant_insert ON tenant FOR INSERT
    WITH CHECK (name = (SELECT alto_tenant_name()));
CREATE POLICY tenant_update ON tenant FOR UPDATE
    USING (tenant_id = (SELECT alto_tenant()))
    WITH CHECK (tenant_id = (SELECT alto_tenant()));

-- What the application role may do: no DDL, no TRUNCATE, audit events are append-only, file
-- records and directories are never deleted.
GRANT USAGE ON SCHEMA public TO alto_app;
GRANT SELECT, INSERT, UPDATE ON tenant, share, scan, file_current, ingest_chunk TO alto_app;
GRANT SELECT, INSERT ON dir TO alto_app;
GRANT SELECT, INSERT, DELETE ON file TO alto_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tier_object, tier_job, tier_job_item TO alto_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON feed_cursor, feed_event_processed, staging_feed_event, feed_unknown_path TO alto_app;
GRANT SELECT, INSERT ON audit_event TO alto_app;
GRANT USAGE ON SEQUENCE audit_event_id_seq TO alto_app;
-- Only its shape, for `CREATE TEMP TABLE … (LIKE staging_file)`; it never holds rows.
GRANT SELECT ON staging_file TO alto_app;
REVOKE ALL ON FUNCTION alto_audit_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION alto_audit_partitions(integer) TO alto_app;

SELECT alto_audit_partitions(3);
