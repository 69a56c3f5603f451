-- Alto schema, version 1 (SQLite).
--
-- The same logical schema as alto-pg's migrations: tenant, share, scan, dir, file (per-scan
-- snapshots), file_current, tier_object, ingest_chunk, tier_job, audit_event. SQLite has no
-- row-level security, so every tenant-owned row carries tenant_id, every unique key leads with it,
-- and rows of one tenant can only point at rows of the same tenant (composite foreign keys on
-- (tenant_id, id) where a link crosses tables). The store binds tenant_id in every statement.
--
-- Conventions: STRICT tables; ids are INTEGER PRIMARY KEY (rowid); every *_utc and *_us column is
-- an INTEGER count of microseconds since the Unix epoch, UTC (ADR 0001); JSON is TEXT checked by
-- json_valid.

-- The Alto marker: `PRAGMA application_id` tells an Alto database from another program's SQLite
-- file, `PRAGMA user_version` is the schema version (also in alto_meta, for people).
PRAGMA application_id = 1097626735; -- 0x416C746F, "Alto"

CREATE TABLE alto_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

INSERT INTO alto_meta (key, value) VALUES ('schema', 'alto'), ('schema_version', '1');

CREATE TABLE tenant (
    tenant_id   INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    settings    TEXT NOT NULL CHECK (json_valid(settings)),
    created_utc INTEGER NOT NULL
) STRICT;

CREATE TABLE share (
    share_id       INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenant (tenant_id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('ntfs', 'smb', 'lucidlink', 'posix')),
    case_sensitive INTEGER NOT NULL CHECK (case_sensitive IN (0, 1)),
    mount_root     TEXT,
    created_utc    INTEGER NOT NULL,
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, share_id)
) STRICT;

CREATE TABLE scan (
    scan_id      INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL,
    share_id     INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('full', 'partial')),
    source       TEXT,
    started_utc  INTEGER NOT NULL,
    finished_utc INTEGER,
    UNIQUE (tenant_id, scan_id),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT;

-- Resuming: the newest unfinished scan of a share with the same source.
CREATE INDEX scan_unfinished ON scan (tenant_id, share_id, source) WHERE finished_utc IS NULL;

-- Directories of path keys, one row per (share, directory); dir_hash64 is
-- alto_core::path::dir_hash64 of dir_path (FNV-1a, stable across versions).
CREATE TABLE dir (
    dir_id     INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    share_id   INTEGER NOT NULL,
    dir_path   TEXT NOT NULL,
    dir_hash64 INTEGER NOT NULL,
    UNIQUE (tenant_id, share_id, dir_path),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT;

CREATE INDEX dir_tenant_hash ON dir (tenant_id, dir_hash64);

-- The ingest tables (file_current, file) declare no foreign keys: with one, SQLite must keep a
-- statement journal for every multi-row statement (an immediate foreign-key failure aborts the
-- statement), which cost about a tenth of ingest time. Their references (share, dir, scan,
-- file_current) are ids the store read in the same write transaction, scoped by tenant_id.

-- One mutable row per file: what the planner reads. AUTOINCREMENT: an id is never reused after
-- its row is deleted, so snapshot rows (file) always name the file they were taken of.
CREATE TABLE file_current (
    file_current_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            INTEGER NOT NULL,
    share_id             INTEGER NOT NULL, -- share (tenant_id, share_id)
    dir_id               INTEGER NOT NULL, -- dir
    name                 TEXT NOT NULL,    -- last segment of path_key
    path_key             TEXT NOT NULL,    -- alto_core::path::path_key of full_path
    full_path            TEXT NOT NULL,    -- exactly as last received
    size_bytes           INTEGER NOT NULL CHECK (size_bytes >= 0),
    mtime_us             INTEGER,
    atime_us             INTEGER,
    file_extension       TEXT,
    permissions          TEXT,
    owner                TEXT,
    file_hash            TEXT,
    last_accessed_source TEXT NOT NULL CHECK (last_accessed_source IN
                             ('initial_scan', 'incremental_scan', 'lucidlink_audit', 'manual')),
    atime_updated_utc    INTEGER,
    first_seen_scan_id   INTEGER NOT NULL, -- scan
    last_seen_scan_id    INTEGER NOT NULL, -- scan
    missing_since_utc    INTEGER,
    updated_utc          INTEGER NOT NULL,
    UNIQUE (tenant_id, share_id, path_key)
) STRICT;

-- Immutable per-scan snapshots (tenants with keep_history): the file as one scan saw it.
CREATE TABLE file (
    tenant_id       INTEGER NOT NULL,
    scan_id         INTEGER NOT NULL, -- scan
    file_current_id INTEGER NOT NULL, -- file_current
    full_path       TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    mtime_us        INTEGER,
    atime_us        INTEGER,
    file_extension  TEXT,
    permissions     TEXT,
    owner           TEXT,
    file_hash       TEXT,
    PRIMARY KEY (tenant_id, scan_id, file_current_id)
) STRICT, WITHOUT ROWID;

-- Idempotent ingest: a chunk id lands once per scan.
CREATE TABLE ingest_chunk (
    tenant_id       INTEGER NOT NULL,
    scan_id         INTEGER NOT NULL,
    chunk_id        TEXT NOT NULL,
    rows            INTEGER NOT NULL,
    new_files       INTEGER NOT NULL,
    changed_files   INTEGER NOT NULL,
    unchanged_files INTEGER NOT NULL,
    applied_utc     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, scan_id, chunk_id),
    FOREIGN KEY (tenant_id, scan_id) REFERENCES scan (tenant_id, scan_id)
) STRICT, WITHOUT ROWID;

-- The tier-2 record of a file and its lifecycle state (alto_core::lifecycle).
CREATE TABLE tier_object (
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
    UNIQUE (tenant_id, share_id, path_key),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share (tenant_id, share_id)
) STRICT;

CREATE INDEX tier_object_tenant_state ON tier_object (tenant_id, state);

-- Tiering jobs (the queue). Kept for schema parity with alto-pg: one SQLite database serves one
-- worker process at a time (capabilities: concurrent_workers = false).
CREATE TABLE tier_job (
    job_id          INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenant (tenant_id),
    rule            TEXT NOT NULL,
    target_uri      TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    files           INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    bytes_saved     INTEGER NOT NULL DEFAULT 0,
    seconds         REAL NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until_utc INTEGER,
    created_utc     INTEGER NOT NULL,
    updated_utc     INTEGER NOT NULL,
    UNIQUE (tenant_id, job_id)
) STRICT;

CREATE INDEX tier_job_queue ON tier_job (tenant_id, state, priority, job_id);

-- The audit trail. AUTOINCREMENT: ids increase in append order and are never reused. A parent
-- must be an event of the same tenant (composite foreign key).
CREATE TABLE audit_event (
    event_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenant (tenant_id),
    at_utc    INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL CHECK (json_valid(detail)),
    parent_id INTEGER,
    UNIQUE (tenant_id, event_id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES audit_event (tenant_id, event_id)
) STRICT;

CREATE INDEX audit_event_parent ON audit_event (tenant_id, parent_id) WHERE parent_id IS NOT NULL;

PRAGMA user_version = 1;
