-- Alto's PostgreSQL schema, version 1 (DESIGN.md §3; seeds 001 and 003 as corrected there).
--
-- Run by `alto_pg::migrate` as the owner, after it has made sure the application role `alto_app`
-- exists. Forward-only: later versions add files, never edit this one.
--
-- Conventions:
-- * Every table that holds a tenant's rows has `tenant_id bigint NOT NULL`, and every primary and
--   unique key leads with it (the one exception is `tenant.name`, the directory's lookup key).
-- * Times are `timestamptz` (microsecond resolution, as `alto_core::time::Micros`).
-- * Path keys and names that are listed in order use COLLATE "C": byte order, the same order as
--   the reference store's Rust strings, whatever the database's default collation.

-- The tenant of the current transaction (`set_config('app.tenant_id', …, true)`), or NULL.
CREATE FUNCTION alto_tenant() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::bigint $$;

-- The tenant name the current transaction may look up or create (`app.tenant_name`), or NULL.
CREATE FUNCTION alto_tenant_name() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_name', true), '') $$;

-- Microseconds since the Unix epoch of a timestamp (exact: extract returns numeric).
CREATE FUNCTION alto_micros(timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $$;

CREATE TABLE tenant (
    tenant_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (btrim(name) <> ''),
    -- alto_core::TenantSettings as JSON (serde defaults fill fields added later).
    settings    jsonb NOT NULL DEFAULT '{}',
    created_utc timestamptz NOT NULL DEFAULT now(),
    updated_utc timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_name_key UNIQUE (name)
);

CREATE TABLE share (
    tenant_id      bigint NOT NULL REFERENCES tenant,
    share_id       bigint GENERATED ALWAYS AS IDENTITY,
    name           text COLLATE "C" NOT NULL CHECK (btrim(name) <> ''),
    kind           text NOT NULL CHECK (kind IN ('ntfs', 'smb', 'lucidlink', 'posix')),
    case_sensitive boolean NOT NULL,
    -- For feeds: the prefix the inventory uses for the filespace root.
    mount_root     text,
    created_utc    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE scan (
    tenant_id    bigint NOT NULL,
    scan_id      bigint GENERATED ALWAYS AS IDENTITY,
    share_id     bigint NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('full', 'partial')),
    -- The input's identity: an unfinished scan of the same source is resumed.
    source       text,
    started_utc  timestamptz NOT NULL DEFAULT now(),
    finished_utc timestamptz,
    missing      bigint,
    PRIMARY KEY (tenant_id, scan_id),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
CREATE INDEX scan_open_idx ON scan (tenant_id, share_id, source) WHERE finished_utc IS NULL;
CREATE INDEX scan_share_idx ON scan (tenant_id, share_id, scan_id);

-- Directories of a share, by key (the directory part of the path key), deduplicated.
CREATE TABLE dir (
    tenant_id  bigint NOT NULL,
    dir_id     bigint GENERATED ALWAYS AS IDENTITY (CACHE 1000),
    share_id   bigint NOT NULL,
    dir_path   text COLLATE "C" NOT NULL,
    -- FNV-1a of dir_path (alto_core::path::dir_hash64): stable across versions.
    dir_hash64 bigint NOT NULL,
    PRIMARY KEY (tenant_id, dir_id),
    UNIQUE (tenant_id, share_id, dir_path),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
CREATE INDEX dir_hash_idx ON dir (tenant_id, share_id, dir_hash64);

-- One mutable row per file: what the planner reads. Never deleted: a file a full scan no longer
-- sees gets `missing_since` (soft delete). No foreign keys to share, dir and scan on purpose (see
-- docs/adr/0004): the merge statement is the only writer and takes those ids from rows of the
-- same transaction; a per-row RI check would cost as much as the insert itself.
CREATE TABLE file_current (
    tenant_id            bigint NOT NULL,
    share_id             bigint NOT NULL,
    dir_id               bigint NOT NULL,
    size_bytes           bigint NOT NULL,
    modified_utc         timestamptz,
    accessed_utc         timestamptz,
    atime_updated_utc    timestamptz,
    first_seen_scan_id   bigint NOT NULL,
    last_seen_scan_id    bigint NOT NULL,
    -- The ingest_chunk that inserted the row or last changed its values.
    changed_chunk_id     bigint NOT NULL,
    missing_since        timestamptz,
    path_key             text COLLATE "C" NOT NULL,
    -- The path exactly as last received.
    full_path            text NOT NULL,
    extension            text,
    permissions          text,
    owner                text,
    file_hash            text,
    last_accessed_source text NOT NULL
        CHECK (last_accessed_source IN ('initial_scan', 'incremental_scan', 'lucidlink_audit', 'manual')),
    PRIMARY KEY (tenant_id, share_id, path_key)
) WITH (fillfactor = 80);

-- Immutable per-scan snapshots (kept when the tenant's `keep_history` is on): an append-only log
-- of what each scan saw, one row each time an inventory listed a file, with the values as listed.
-- The file is (share_id, path_key), the key of file_current.
CREATE TABLE file (
    tenant_id    bigint NOT NULL,
    scan_id      bigint NOT NULL,
    share_id     bigint NOT NULL,
    size_bytes   bigint NOT NULL,
    modified_utc timestamptz,
    accessed_utc timestamptz,
    path_key     text COLLATE "C" NOT NULL,
    full_path    text NOT NULL,
    extension    text,
    permissions  text,
    owner        text,
    file_hash    text
);
CREATE INDEX file_scan_brin ON file USING brin (tenant_id, scan_id);

-- Staging shape for the ingest: each session COPYs into a private temporary copy of it
-- (`CREATE TEMP TABLE … (LIKE staging_file)`): COPY cannot write into a table with row-level
-- security, and a temporary table is visible to its session alone. This table stays empty.
CREATE UNLOGGED TABLE staging_file (
    dir_id       bigint NOT NULL,
    size_bytes   bigint NOT NULL,
    modified_utc timestamptz,
    accessed_utc timestamptz,
    path_key     text COLLATE "C" NOT NULL,
    full_path    text NOT NULL,
    extension    text,
    permissions  text,
    owner        text,
    file_hash    text
);

-- Chunks applied per scan: a chunk applied twice changes nothing.
CREATE TABLE ingest_chunk (
    tenant_id   bigint NOT NULL,
    scan_id     bigint NOT NULL,
    chunk_key   text NOT NULL,
    chunk_id    bigint GENERATED ALWAYS AS IDENTITY,
    rows        bigint NOT NULL DEFAULT 0,
    new         bigint NOT NULL DEFAULT 0,
    changed     bigint NOT NULL DEFAULT 0,
    unchanged   bigint NOT NULL DEFAULT 0,
    applied_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scan_id, chunk_key),
    FOREIGN KEY (tenant_id, scan_id) REFERENCES scan
);

-- The tier-2 record of a file: lifecycle state with optimistic concurrency.
CREATE TABLE tier_object (
    tenant_id         bigint NOT NULL,
    tier_id           bigint GENERATED ALWAYS AS IDENTITY,
    share_id          bigint NOT NULL,
    path_key          text COLLATE "C" NOT NULL,
    -- The path as received when the object was created.
    full_path         text NOT NULL,
    state             text NOT NULL CHECK (state IN ('PLANNED', 'STUBBED', 'REHYDRATED', 'DELETED')),
    version           bigint NOT NULL CHECK (version > 0),
    incarnation       integer NOT NULL CHECK (incarnation > 0),
    target_uri        text NOT NULL,
    planned_by        text NOT NULL,
    planned_utc       timestamptz NOT NULL,
    acted_utc         timestamptz,
    last_accessed_utc timestamptz,
    access_count      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, tier_id),
    UNIQUE (tenant_id, share_id, path_key),
    FOREIGN KEY (tenant_id, share_id, path_key) REFERENCES file_current
);
CREATE INDEX tier_object_state_idx ON tier_object (tenant_id, state);

-- Tiering jobs: batches of one rule's files going to one target, claimed with SKIP LOCKED.
CREATE TABLE tier_job (
    tenant_id    bigint NOT NULL,
    job_id       bigint GENERATED ALWAYS AS IDENTITY,
    rule         text NOT NULL,
    target       text NOT NULL,
    priority     bigint NOT NULL,
    state        text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    files        bigint NOT NULL DEFAULT 0,
    bytes        bigint NOT NULL DEFAULT 0,
    bytes_saved  bigint NOT NULL DEFAULT 0,
    seconds      double precision NOT NULL DEFAULT 0,
    attempts     integer NOT NULL DEFAULT 0,
    lease_owner  text,
    lease_until  timestamptz,
    last_error   text,
    created_utc  timestamptz NOT NULL DEFAULT now(),
    updated_utc  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, job_id)
);
CREATE INDEX tier_job_queue_idx ON tier_job (tenant_id, priority, job_id) WHERE state = 'queued';

CREATE TABLE tier_job_item (
    tenant_id bigint NOT NULL,
    job_id    bigint NOT NULL,
    tier_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, job_id, tier_id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES tier_job ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, tier_id) REFERENCES tier_object ON DELETE CASCADE
);

-- Access feed (LucidLink audit trail): a cursor per (node, file stem) as the byte offset of the
-- last complete line, events already applied, and the staged events (kept 24 h).
CREATE TABLE feed_cursor (
    tenant_id   bigint NOT NULL,
    share_id    bigint NOT NULL,
    node_id     text NOT NULL,
    stem        text NOT NULL,
    byte_offset bigint NOT NULL DEFAULT 0 CHECK (byte_offset >= 0),
    updated_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id, node_id, stem),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);

CREATE TABLE feed_event_processed (
    tenant_id     bigint NOT NULL,
    share_id      bigint NOT NULL,
    event_id      text NOT NULL,
    processed_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id, event_id),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);

CREATE TABLE staging_feed_event (
    tenant_id    bigint NOT NULL,
    share_id     bigint NOT NULL,
    event_id     text NOT NULL,
    action       text NOT NULL,
    event_utc    timestamptz NOT NULL,
    entry_path   text NOT NULL,
    target_path  text,
    user_name    text,
    received_utc timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, share_id, event_id)
);
CREATE INDEX staging_feed_event_age_idx ON staging_feed_event (tenant_id, received_utc);

-- Feed events for paths the inventory does not know (per-tenant policy `unknown_paths = queue`).
CREATE TABLE feed_unknown_path (
    tenant_id     bigint NOT NULL,
    share_id      bigint NOT NULL,
    path_key      text COLLATE "C" NOT NULL,
    entry_path    text NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    events        bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, share_id, path_key),
    FOREIGN KEY (tenant_id, share_id) REFERENCES share
);
