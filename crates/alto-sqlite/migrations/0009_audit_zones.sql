-- Alto schema, version 9 (SQLite): a zone map of the audit trail, so that a read filtered by
-- time (`alto audit --since/--until`) starts where the window starts instead of scanning every
-- older event of the tenant first (docs/adr/0014-audit-trail-in-commit-order.md).
--
-- Events are read in id order, and their times (`at_utc`, as the caller said) follow it only
-- roughly. Each run of 8,192 ids (`event_id / 8192`) keeps, per tenant, the least and greatest
-- time of its events; a trigger widens the run's bounds with every event appended, in the
-- appending transaction, so every event is always covered (events are never updated). A windowed
-- read starts at the first run after its position whose bounds meet the window, and reads
-- nothing when none does.

CREATE TABLE audit_zone (
    tenant_id INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    min_at    INTEGER NOT NULL,
    max_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, bucket)
) STRICT, WITHOUT ROWID;

INSERT INTO audit_zone (tenant_id, bucket, min_at, max_at)
    SELECT tenant_id, event_id / 8192, min(at_utc), max(at_utc) FROM audit_event
    GROUP BY tenant_id, event_id / 8192;

CREATE TRIGGER audit_event_zone AFTER INSERT ON audit_event
BEGIN
    INSERT INTO audit_zone (tenant_id, bucket, min_at, max_at)
        VALUES (NEW.tenant_id, NEW.event_id / 8192, NEW.at_utc, NEW.at_utc)
        ON CONFLICT (tenant_id, bucket) DO UPDATE
        SET min_at = min(min_at, excluded.min_at), max_at = max(max_at, excluded.max_at);
END;

UPDATE alto_meta SET value = '9' WHERE key = 'schema_version';

PRAGMA user_version = 9;
