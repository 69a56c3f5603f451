-- Schema version 13 (issue 19): a zone map of the audit trail, so that a read filtered by time
-- (`alto audit --since/--until`) starts where the window starts instead of scanning, in read
-- order, every older event of the tenant first.
--
-- Events are read in commit order, (writer_xid, event_id), and their times (`event_utc`, as the
-- caller said) follow that order only roughly, so no index gives "the first event at or after T
-- in read order". A zone is a run of consecutive events in read order (8,192 of them) with the
-- least and greatest `event_utc` among them. Zones are only ever made below the commit-order
-- horizon, where no event can appear any more, and the application role can neither update nor
-- delete events, so a zone's bounds stay true for ever (a sweep that removed events would only
-- make them looser). A filtered read skips every zone whose bounds miss the window, up to the
-- first one that may hold a match; the events after the last zone are read as before.
--
-- Zones are made by `alto_audit_skip` itself, lazily, for the session's tenant: it runs as the
-- owner, and the application role may only read them, so no login can write a zone that would
-- hide events from a reader.

CREATE TABLE public.audit_zone (
    tenant_id bigint NOT NULL,
    -- The zone's last event, in read order (the key: zones are contiguous, each starts right
    -- after the one before).
    hi_xid    bigint NOT NULL,
    hi_id     bigint NOT NULL,
    -- Its first event.
    lo_xid    bigint NOT NULL,
    lo_id     bigint NOT NULL,
    min_utc   timestamptz NOT NULL,
    max_utc   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, hi_xid, hi_id)
);
ALTER TABLE public.audit_zone ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_zone FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.audit_zone
    USING (tenant_id = (SELECT public.alto_session_tenant()))
    WITH CHECK (tenant_id = (SELECT public.alto_session_tenant()));
REVOKE ALL ON public.audit_zone FROM PUBLIC;
GRANT SELECT ON public.audit_zone TO alto_app;

-- Where a read of the session tenant's events with `event_utc` in [since, until) (either may be
-- NULL: unbounded) and a position after (after_xid, after_id) may start: the position it may
-- read after, which is never before (after_xid, after_id). Makes the zones not yet made first,
-- unless another session is making them (then it uses those there are: every zone is
-- complete when its transaction commits).
CREATE FUNCTION public.alto_audit_skip(since timestamptz, until timestamptz,
                                       after_xid bigint, after_id bigint,
                                       OUT skip_xid bigint, OUT skip_id bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    t bigint := public.alto_session_tenant();
    zone_size CONSTANT integer := 8192;
    horizon bigint;
    last_xid bigint := -9223372036854775808;
    last_id bigint := -9223372036854775808;
    hi record;
    found_zone record;
BEGIN
    skip_xid := after_xid;
    skip_id := after_id;
    IF t IS NULL THEN
        RETURN;
    END IF;
    -- Make the zones below the horizon that are not made yet (at most one maker per tenant).
    IF pg_try_advisory_xact_lock(1952736624, (t % 2147483647)::integer) THEN
        SELECT z.hi_xid, z.hi_id INTO hi FROM public.audit_zone z
        WHERE z.tenant_id = t ORDER BY z.hi_xid DESC, z.hi_id DESC LIMIT 1;
        IF FOUND THEN
            last_xid := hi.hi_xid;
            last_id := hi.hi_id;
        END IF;
        horizon := public.alto_audit_horizon();
        -- One ordered pass over the events not in a zone yet: numbered in read order, cut
        -- into runs of zone_size, each whole run a zone (its first and last positions are the
        -- least and greatest of the [writer_xid, event_id] arrays, which compare in read order).
        INSERT INTO public.audit_zone (tenant_id, hi_xid, hi_id, lo_xid, lo_id, min_utc, max_utc)
        SELECT t, (max(e.p))[1], (max(e.p))[2], (min(e.p))[1], (min(e.p))[2], min(e.u), max(e.u)
        FROM (SELECT ARRAY[a.writer_xid, a.event_id] AS p, a.event_utc AS u,
                     (row_number() OVER (ORDER BY a.writer_xid, a.event_id) - 1) / zone_size AS k
              FROM public.audit_event a
              WHERE a.tenant_id = t AND (a.writer_xid, a.event_id) > (last_xid, last_id)
                AND a.writer_xid < horizon) AS e
        GROUP BY e.k HAVING count(*) = zone_size
        ON CONFLICT DO NOTHING;
    END IF;
    -- The first zone after the position that may hold a match: read from its first event.
    SELECT z.lo_xid, z.lo_id INTO found_zone FROM public.audit_zone z
    WHERE z.tenant_id = t AND (z.hi_xid, z.hi_id) > (after_xid, after_id)
      AND (since IS NULL OR z.max_utc >= since)
      AND (until IS NULL OR z.min_utc < until)
    ORDER BY z.hi_xid, z.hi_id LIMIT 1;
    IF FOUND THEN
        IF (found_zone.lo_xid, found_zone.lo_id - 1) > (after_xid, after_id) THEN
            skip_xid := found_zone.lo_xid;
            skip_id := found_zone.lo_id - 1;
        END IF;
        RETURN;
    END IF;
    -- None may: read after the last zone.
    SELECT z.hi_xid, z.hi_id INTO hi FROM public.audit_zone z
    WHERE z.tenant_id = t ORDER BY z.hi_xid DESC, z.hi_id DESC LIMIT 1;
    IF FOUND AND (hi.hi_xid, hi.hi_id) > (after_xid, after_id) THEN
        skip_xid := hi.hi_xid;
        skip_id := hi.hi_id;
    END IF;
END
$$;
REVOKE ALL ON FUNCTION public.alto_audit_skip(timestamptz, timestamptz, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.alto_audit_skip(timestamptz, timestamptz, bigint, bigint) TO alto_app;
