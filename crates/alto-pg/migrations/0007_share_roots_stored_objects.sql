-- Schema version 7: share roots, and the stored object of a stub.
--
-- The same logical additions as alto-sqlite's 0004_share_roots_stored_objects.sql. Every new
-- column is nullable without a default, so nothing is rewritten and existing rows read as before:
-- shares without a root (catalogue-only) and tier objects without a record of their stored object
-- (`TierObject::stored` is None). The CHECK constraints are verified by one scan of tier_object.
--
-- Row-level security: the columns belong to tables whose `tenant_isolation` policies (0003) cover
-- whole rows, and the application role's grants on `share` and `tier_object` are table-wide, so
-- nothing else changes. No view or SECURITY DEFINER function lists these tables' columns
-- (`alto_tenants()` reads `tenant` only); `alto_feed_ops` (0004), which runs as the caller, moves
-- a tier object by updating its key and keeps these columns.

-- The share's directory on the hosts the workers run on (alto_core::path::check_root: absolute,
-- no `..` segment). Set by a new share, by ensure_share on a share that has none, or by
-- set_share_root.
ALTER TABLE share ADD COLUMN root text;

-- alto_core::StoredObject, written with the stub (Action::Stub) in the transition's statement and
-- cleared when the object is planned again (a new incarnation, by a transition or a committed
-- plan); rehydration and deletion keep it. All of it or none of it (object_etag may still be
-- NULL: not every target gives one). The u32 owner, group and mode are bigints in u32's range;
-- the u64 size a non-negative bigint.
ALTER TABLE tier_object
    ADD COLUMN object_key         text,
    ADD COLUMN object_size        bigint CHECK (object_size >= 0),
    ADD COLUMN object_sha256      text,
    ADD COLUMN object_etag        text,
    ADD COLUMN owner_uid          bigint CHECK (owner_uid BETWEEN 0 AND 4294967295),
    ADD COLUMN owner_gid          bigint CHECK (owner_gid BETWEEN 0 AND 4294967295),
    ADD COLUMN file_mode          bigint CHECK (file_mode BETWEEN 0 AND 4294967295),
    ADD COLUMN original_mtime_utc timestamptz,
    ADD CONSTRAINT tier_object_stored_whole CHECK (
        num_nulls(object_key, object_size, object_sha256, owner_uid, owner_gid, file_mode,
                  original_mtime_utc) IN (0, 7)
        AND (object_key IS NOT NULL OR object_etag IS NULL));
