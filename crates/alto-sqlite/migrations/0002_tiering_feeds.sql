-- Alto schema, version 2 (SQLite): the tiering job queue and access feeds.
--
-- The same logical additions as alto-pg's 0004_tiering_feeds.sql: leases with a fencing token,
-- retry backoff and outcome counts on tier_job; the job a tier object is planned in; processed
-- feed event ids (duplicates), the unknown-path event queue, and feed cursors. Conventions as in
-- 0001: STRICT tables, every unique key leads with tenant_id, links between tenant-owned rows are
-- composite (tenant_id, id) foreign keys, times are INTEGER microseconds since the epoch (UTC).

-- The job queue. `token` is the fencing token: bumped by every claim, finish and cancel, and
-- named by every write a worker makes under its lease.
ALTER TABLE tier_job ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tier_job ADD COLUMN not_before_utc INTEGER;  -- backoff after a failed attempt
ALTER TABLE tier_job ADD COLUMN last_error TEXT;
ALTER TABLE tier_job ADD COLUMN files_stubbed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tier_job ADD COLUMN files_skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tier_job ADD COLUMN files_failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tier_job ADD COLUMN bytes_moved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tier_job ADD COLUMN finished_utc INTEGER;

-- The job a tier object is planned in (NULL once that job has ended). SQLite cannot add a
-- composite foreign key to an existing table, so tier_object is rebuilt with the link (nothing
-- references tier_object, so the rebuild is a plain copy).
CREATE TABLE tier_object_v2 (
    tier_id           INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL,
    share_id          INTEGER NOT NULL,
    file_current_id   INTEGER NOT NULL UNIQUE REFERENCES file_current (file_current_id),
    path_key          TEXT NOT NULL,
    full_path         TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('PLANNED', 'STUBBED', 'REHYDRATED', 'DELETED')),
    version           INTEGER NOT NULL,
    incarnation       INTEGER NOT NULL,
    target_uri        TEXT NOT NULL,
    planned_by        TEXT NOT NULL,
    planned_utc       INTEGER NOT NULL,
    acted_utc         INTEGER,
    last_accessed_utc INTEGER,
    access_count      INTEGER NOT NULL DEFAULT 0,
    job_id            INTEGER,
    UNIQUE (tenant_id, share_id, path_key),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES tier_job (tenant_id, job_id)
) STRICT;

INSERT INTO tier_object_v2 (tier_id, tenant_id, share_id, file_current_id, path_key, full_path,
    state, version, incarnation, target_uri, planned_by, planned_utc, acted_utc,
    last_accessed_utc, access_count, job_id)
SELECT tier_id, tenant_id, share_id, file_current_id, path_key, full_path, state, version,
    incarnation, target_uri, planned_by, planned_utc, acted_utc, last_accessed_utc, access_count,
    NULL
FROM tier_object;

DROP TABLE tier_object;
ALTER TABLE tier_object_v2 RENAME TO tier_object;

CREATE INDEX tier_object_tenant_state ON tier_object (tenant_id, state);
CREATE INDEX tier_object_job ON tier_object (tenant_id, job_id) WHERE job_id IS NOT NULL;

-- Feed event ids already applied (or refused as clock skew), per share: a re-read feed is a
-- batch of duplicates. `outcome` keeps what the event did, for the record.
CREATE TABLE feed_event (
    tenant_id   INTEGER NOT NULL,
    share_id    INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_utc   INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'stale', 'skewed', 'unknown', 'other')),
    applied_utc INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, share_id, event_id),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT, WITHOUT ROWID;

-- Events for paths the inventory does not know (tenant policy `unknown_paths = "queue"`), whole,
-- oldest first.
CREATE TABLE feed_unknown_event (
    seq         INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL,
    share_id    INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_utc   INTEGER NOT NULL,
    action      TEXT NOT NULL,
    entry_path  TEXT NOT NULL,
    target_path TEXT,
    user_name   TEXT,
    queued_utc  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT;

CREATE INDEX feed_unknown_event_share ON feed_unknown_event (tenant_id, share_id, seq);

-- Where reading each audit file of a feed stands, saved in the transaction that applied the
-- events read up to it.
CREATE TABLE feed_cursor (
    tenant_id    INTEGER NOT NULL,
    share_id     INTEGER NOT NULL,
    feed         TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    stem         TEXT NOT NULL,
    offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0),
    line         INTEGER NOT NULL CHECK (line >= 0),
    updated_utc  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, share_id, feed, node_id, stem),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT, WITHOUT ROWID;

UPDATE alto_meta SET value = '2' WHERE key = 'schema_version';

PRAGMA user_version = 2;
