-- Alto schema, version 4 (SQLite): share roots, and the stored object of a stub.
--
-- The same logical additions as alto-pg's 0007_share_roots_stored_objects.sql. Every new column
-- is nullable, so existing rows read as before: a share without a root (catalogue-only) and tier
-- objects without a record of their stored object (`TierObject::stored` is None).

-- The share's directory on the hosts the workers run on (alto_core::path::check_root: absolute,
-- no `..` segment). Set by a new share, by ensure_share on a share that has none, or by
-- set_share_root.
ALTER TABLE share ADD COLUMN root TEXT;

-- alto_core::StoredObject, written with the stub (Action::Stub) in the transition's statement and
-- cleared when the object is planned again (a new incarnation); rehydration and deletion keep it.
-- Either all of them are set (object_etag may still be NULL: not every target gives one) or none.
-- Sizes, owners and modes are INTEGERs within their Rust types' ranges (u64 stored as a
-- non-negative i64, u32); the original's mtime is microseconds since the epoch, UTC.
ALTER TABLE tier_object ADD COLUMN object_key TEXT;
ALTER TABLE tier_object ADD COLUMN object_size INTEGER CHECK (object_size >= 0);
ALTER TABLE tier_object ADD COLUMN object_sha256 TEXT;
ALTER TABLE tier_object ADD COLUMN object_etag TEXT;
ALTER TABLE tier_object ADD COLUMN owner_uid INTEGER CHECK (owner_uid BETWEEN 0 AND 4294967295);
ALTER TABLE tier_object ADD COLUMN owner_gid INTEGER CHECK (owner_gid BETWEEN 0 AND 4294967295);
ALTER TABLE tier_object ADD COLUMN file_mode INTEGER CHECK (file_mode BETWEEN 0 AND 4294967295);
ALTER TABLE tier_object ADD COLUMN original_mtime_utc INTEGER CHECK (
    (object_key IS NULL AND object_size IS NULL AND object_sha256 IS NULL
        AND object_etag IS NULL AND owner_uid IS NULL AND owner_gid IS NULL
        AND file_mode IS NULL AND original_mtime_utc IS NULL)
    OR (object_key IS NOT NULL AND object_size IS NOT NULL AND object_sha256 IS NOT NULL
        AND owner_uid IS NOT NULL AND owner_gid IS NOT NULL AND file_mode IS NOT NULL
        AND original_mtime_utc IS NOT NULL));

UPDATE alto_meta SET value = '4' WHERE key = 'schema_version';

PRAGMA user_version = 4;
