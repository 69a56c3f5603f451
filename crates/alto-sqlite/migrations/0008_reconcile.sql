-- Alto schema, version 8 (SQLite): what reconciliation against the tier targets needs
-- (docs/adr/0015-reconciliation.md).
--
-- 1. The LOST flag of a STUBBED tier object: when reconciliation found its object missing or not
--    as recorded (size, entity tag, digest). A flag, not a state (alto_core::lifecycle): set and
--    cleared on STUBBED objects only, kept by the transitions out of STUBBED, cleared with the
--    stored object by a new incarnation.
-- 2. The tier id ledger: every tier object id ever given, and to which tenant. Object keys end
--    with their object's id (`….~{tier_id}.{incarnation}`), so an object that no record claims any
--    more (its plan withdrawn after the upload, its record pruned) is known to be the tenant's
--    own by its id. Ids are never given twice from this version on: a new tier object's id is
--    above every id the ledger holds (SQLite would reuse the highest rowid once its row is
--    deleted), and the ledger refuses an id it already holds.

ALTER TABLE tier_object ADD COLUMN lost_utc INTEGER;
ALTER TABLE tier_object ADD COLUMN lost_reason TEXT
    CHECK (lost_reason IS NULL OR lost_reason IN ('missing', 'size', 'etag', 'digest'));

CREATE TABLE tier_id_ledger (
    tier_id   INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL
) STRICT;

INSERT INTO tier_id_ledger (tier_id, tenant_id) SELECT tier_id, tenant_id FROM tier_object;

CREATE TRIGGER tier_id_ledger_add AFTER INSERT ON tier_object
BEGIN
    INSERT INTO tier_id_ledger (tier_id, tenant_id) VALUES (NEW.tier_id, NEW.tenant_id);
END;

UPDATE alto_meta SET value = '8' WHERE key = 'schema_version';

PRAGMA user_version = 8;
