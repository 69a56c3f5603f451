-- Alto schema, version 5 (SQLite): path keys by the share's rule, and the records that could not
-- take theirs.
--
-- The same logical additions as alto-pg's 0008_path_key_collisions.sql. Keys are now derived by
-- alto_core::path::share_key: on POSIX and LucidLink shares only `/` separates (a `\`, a `//` and
-- a trailing `/` are kept as written, except in drive-letter and UNC paths), and every key is
-- Unicode NFC. Rows written before hold keys of the older rule (every path normalised as a
-- Windows path, no NFC). SQL cannot derive the new keys, so the store re-derives them in Rust
-- right after this file, in the same transaction (crates/alto-sqlite/src/rekey.rs), while
-- alto_meta's `path_keys` row reads `pending`: a record whose new key is free moves to it (with
-- its name, directory and tier object); one whose new key another record of the share already
-- holds stays where it is, beside that record, and is listed here. Nothing is merged. The
-- `path_keys` row then holds the outcome (JSON: keys re-derived, collisions, when).

CREATE TABLE path_key_collision (
    collision_id    INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL,
    share_id        INTEGER NOT NULL,
    file_current_id INTEGER NOT NULL, -- the record left at its old key
    old_key         TEXT NOT NULL,    -- its key (the older rule's)
    full_path       TEXT NOT NULL,    -- its path, as last received
    new_key         TEXT NOT NULL,    -- its key by the share's rule
    other_id        INTEGER NOT NULL, -- the record that holds new_key (file_current_id)
    recorded_utc    INTEGER NOT NULL,
    UNIQUE (tenant_id, share_id, old_key, new_key),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT;

INSERT INTO alto_meta (key, value) VALUES ('path_keys', 'pending');

UPDATE alto_meta SET value = '5' WHERE key = 'schema_version';

PRAGMA user_version = 5;
