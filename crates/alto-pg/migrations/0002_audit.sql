-- The audit trail (seed 003 as corrected by DESIGN.md): append-only, partitioned by month of the
-- day the event was recorded, with a parent-child foreign key on (event id, event date). The
-- primary key leads with tenant_id like every other key.

CREATE SEQUENCE audit_event_id_seq AS bigint;

CREATE TABLE audit_event (
    tenant_id         bigint NOT NULL,
    event_id          bigint NOT NULL DEFAULT nextval('audit_event_id_seq'),
    -- The UTC day the event was recorded: the partition key.
    event_date        date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
    -- When it happened, as the caller says (a transition's `at`), or the recording time.
    event_utc         timestamptz NOT NULL,
    kind              text NOT NULL,
    subject           text NOT NULL,
    detail            jsonb NOT NULL DEFAULT '{}',
    parent_event_id   bigint,
    parent_event_date date,
    PRIMARY KEY (tenant_id, event_id, event_date),
    FOREIGN KEY (tenant_id, parent_event_id, parent_event_date)
        REFERENCES audit_event (tenant_id, event_id, event_date) ON DELETE RESTRICT,
    CHECK ((parent_event_id IS NULL) = (parent_event_date IS NULL))
) PARTITION BY RANGE (event_date);

ALTER SEQUENCE audit_event_id_seq OWNED BY audit_event.event_id;

-- Children of an event (seed 003's "parent lookup index").
CREATE INDEX audit_event_parent_idx ON audit_event (tenant_id, parent_event_id, parent_event_date)
    WHERE parent_event_id IS NOT NULL;

-- Rows of a month without its own partition land here.
CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT;

-- Create the monthly partitions from this month to `months_ahead` months ahead, each with the same
-- forced row-level security as every tenant table. Idempotent; a month whose rows already sit in
-- the default partition keeps them there. SECURITY DEFINER so that the application role, which
-- owns nothing, can keep partitions ahead of time (`PgStore::connect` calls it).
CREATE FUNCTION alto_audit_partitions(months_ahead integer DEFAULT 3) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
AS $$
DECLARE
    m       date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    part    text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. least(greatest(months_ahead, 0), 24) LOOP
        part := format('audit_event_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
        IF to_regclass(part) IS NULL THEN
            BEGIN
                EXECUTE format('CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)',
                               part, m, (m + interval '1 month')::date);
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
                EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
                EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                               'USING (tenant_id = (SELECT alto_tenant())) '
                               'WITH CHECK (tenant_id = (SELECT alto_tenant()))', part);
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
