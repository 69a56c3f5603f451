-- Alto schema, version 3 (SQLite): a full scan with snapshot history no longer rewrites the
-- file_current rows it finds unchanged.
--
-- The same idea as alto-pg's 0005_seen_by_snapshot.sql. Such a scan's snapshot rows (`file`)
-- already record that it saw those files; when it finishes, the files it neither wrote nor listed
-- are marked missing, and the share remembers the scan here. A file that is not missing and was
-- seen by a scan before was then seen by this one too, so its last seen scan is the greater of
-- its own `last_seen_scan_id` and the share's `seen_scan_id` (crates/alto-sqlite/src/sql.rs,
-- `last_seen!`). Until then a re-ingest rewrote every unchanged row only to move
-- `last_seen_scan_id`: every page of the table, written to the WAL and checkpointed again.

-- The newest full scan of the share that has finished.
ALTER TABLE share ADD COLUMN seen_scan_id INTEGER;
-- Ingest chunks applied to the share so far (each chunk that writes files takes the next
-- number), and how many had been applied when `seen_scan_id` finished.
ALTER TABLE share ADD COLUMN chunk_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE share ADD COLUMN seen_chunk_seq INTEGER NOT NULL DEFAULT 0;
-- The chunk (the share's `chunk_seq`) that last set `last_seen_scan_id`: a row written after the
-- share's seen scan finished (by a chunk of an older scan still running) keeps its own.
ALTER TABLE file_current ADD COLUMN chunk_seq INTEGER NOT NULL DEFAULT 0;

UPDATE alto_meta SET value = '3' WHERE key = 'schema_version';

PRAGMA user_version = 3;
