-- Schema version 5: ingest without needless writes.
--
-- A full scan with snapshot history no longer rewrites the file_current rows it finds unchanged:
-- the scan's snapshot rows (`file`) already record that it saw them. When such a scan finishes,
-- the files it did not list are marked missing (their snapshot rows are absent), and the share
-- remembers the scan here. A file that is not missing and was seen by a scan before was then
-- seen by this one too, so its last seen scan is the greater of its own `last_seen_scan_id` and
-- this (see `crates/alto-pg/src/files.rs`).
ALTER TABLE share ADD COLUMN seen_scan_id bigint;
-- The newest ingest chunk of the tenant when that scan finished: a row written by a later chunk
-- (a scan overlapping it) keeps its own last seen scan.
ALTER TABLE share ADD COLUMN seen_chunk_id bigint;

-- `dir` gives up its foreign key to `share`, as `file_current` and `file` never had one: the
-- ingest is its only writer and takes the share id from the scan row of its own transaction, and
-- shares are never deleted. The per-row check was a third of the directory upsert (85,877
-- directories of a million-file inventory: 0.85 s of 2 s).
ALTER TABLE dir DROP CONSTRAINT dir_tenant_id_share_id_fkey;
