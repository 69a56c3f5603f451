-- Schema version 8: path keys by the share's rule, and the records that could not take theirs.
--
-- The same logical additions as alto-sqlite's 0005_path_key_collisions.sql. Keys are now derived
-- by alto_core::path::share_key: on POSIX and LucidLink shares only `/` separates (a `\`, a `//`
-- and a trailing `/` are kept as written, except in drive-letter and UNC paths), and every key is
-- Unicode NFC. Rows written before hold keys of the older rule (every path normalised as a
-- Windows path, no NFC). SQL cannot derive the new keys: `alto_pg::migrate` re-derives them in
-- Rust right after this file (crates/alto-pg/src/rekey.rs), in one transaction, while
-- alto_meta's `path_keys` row reads `pending` (and `PgStore::connect` refuses the database until
-- it has run). A record whose new key is free moves to it, with its directory, its tier object
-- and its snapshot rows (`file`); one whose new key another record of the share already holds
-- stays where it is, beside that record, and is listed in `path_key_collision`. Nothing is
-- merged. The `path_keys` row then holds the outcome (JSON: keys re-derived, collisions, when).
--
-- Row-level security: `path_key_collision` is a tenant's table like every other (forced, policy
-- `tenant_isolation`); the application role may read it. `alto_meta` holds no tenant's data.

CREATE TABLE alto_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO alto_meta (key, value) VALUES ('path_keys', 'pending');
GRANT SELECT ON alto_meta TO alto_app;

CREATE TABLE path_key_collision (
    tenant_id    bigint NOT NULL,
    collision_id bigint GENERATED ALWAYS AS IDENTITY,
    share_id     bigint NOT NULL,
    -- The record left at its old key (file_current.path_key, the older rule's) and its path.
    old_key      text COLLATE "C" NOT NULL,
    full_path    text NOT NULL,
    -- Its key by the share's rule, which another record of the share holds.
    new_key      text COLLATE "C" NOT NULL,
    recorded_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, collision_id),
    UNIQUE (tenant_id, share_id, old_key, new_key),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
ALTER TABLE path_key_collision ENABLE ROW LEVEL SECURITY;
ALTER TABLE path_key_collision FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON path_key_collision
    USING (tenant_id = (SELECT alto_tenant()))
    WITH CHECK (tenant_id = (SELECT alto_tenant()));
GRANT SELECT ON path_key_collision TO alto_app;
