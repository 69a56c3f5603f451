-- Alto schema, version 6 (SQLite): bounded path keys.
--
-- Keys longer than alto_core::path::MAX_KEY_BYTES (2,600 bytes) are now bounded by the core
-- (alto_core::path::bound_key: a directory prefix and a marker segment holding the SHA-256 of the
-- whole key), so every store keys long paths alike. A database written before inventories
-- refused such paths may hold longer keys, which a re-ingest would no longer find. SQL cannot
-- compute the bounded keys, so when there is such a key, alto_meta's `path_keys` row is set back
-- to `pending` and the store re-derives keys in Rust right after this file, in the same
-- transaction (crates/alto-sqlite/src/rekey.rs, which takes keys over 2,600 bytes as
-- candidates): such a record moves to its bounded key with its name, directory and tier object.
-- A database without such a key is left as it is.

UPDATE alto_meta SET value = 'pending'
 WHERE key = 'path_keys'
   AND EXISTS (SELECT 1 FROM file_current WHERE length(CAST(path_key AS BLOB)) > 2600);

UPDATE alto_meta SET value = '6' WHERE key = 'schema_version';

PRAGMA user_version = 6;
