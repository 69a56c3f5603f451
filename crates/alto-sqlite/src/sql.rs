//! Every SQL statement of the store, as constants.
//!
//! SQLite has no row-level security, so tenant isolation is this file's job: every statement that
//! reads or writes a tenant's rows names `tenant_id = ?1` (bound from the `TenantId` the `Store`
//! method received) in each table it touches — in the multi-row statements, the tenant is bound in
//! every row (`tenant_id = v.tenant_id`, or the row's `tenant_id` value) — and a test below checks
//! that no statement forgets.
//! Values are always bound; bulk rows travel as one JSON array parameter per statement
//! (`json_each`, for lists of keys or ids) or as multi-row `VALUES` built from a [`Batch`]
//! template, so no value is ever spliced into SQL text.

use crate::batch::{Batch, prepared};

// ---- tenants and shares -------------------------------------------------------------------------

pub(crate) const TENANT_BY_NAME: &str =
    "SELECT tenant_id, name, settings, created_utc FROM tenant WHERE name = ?1";

pub(crate) const TENANT_INSERT: &str =
    "INSERT INTO tenant (name, settings, created_utc) VALUES (?1, ?2, ?3) RETURNING tenant_id";

pub(crate) const TENANT_SETTINGS: &str = "SELECT settings FROM tenant WHERE tenant_id = ?1";

pub(crate) const TENANT_SET_SETTINGS: &str = "UPDATE tenant SET settings = ?2 \
     WHERE tenant_id = ?1 RETURNING name, created_utc";

/// The columns `tenants::decode_share` reads, in its order.
macro_rules! share_columns {
    () => {
        "share_id, name, kind, case_sensitive, mount_root, root"
    };
}

pub(crate) const SHARE_BY_NAME: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM share WHERE tenant_id = ?1 AND name = ?2"
);

/// The tenant's shares, by name (`BINARY` collation: byte order, as Rust sorts strings).
pub(crate) const SHARES_ALL: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM share WHERE tenant_id = ?1 ORDER BY name"
);

pub(crate) const SHARE_INSERT: &str = "INSERT INTO share \
     (tenant_id, name, kind, case_sensitive, mount_root, root, created_utc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING share_id";

pub(crate) const SHARE_SET_MOUNT_ROOT: &str =
    "UPDATE share SET mount_root = ?3 WHERE tenant_id = ?1 AND share_id = ?2";

/// A root for a share that has none (`ensure_share` never replaces one).
pub(crate) const SHARE_FILL_ROOT: &str =
    "UPDATE share SET root = ?3 WHERE tenant_id = ?1 AND share_id = ?2 AND root IS NULL";

/// Set or clear a share's root, by name: no row back when there is no such share.
pub(crate) const SHARE_SET_ROOT: &str = concat!(
    "UPDATE share SET root = ?3 WHERE tenant_id = ?1 AND name = ?2 RETURNING ",
    share_columns!()
);

pub(crate) const SHARES_IN_ORDER: &str = "SELECT share_id, name, case_sensitive FROM share \
     WHERE tenant_id = ?1 AND (?2 IS NULL OR name = ?2) AND name >= ?3 ORDER BY name";

// ---- scans and ingest ---------------------------------------------------------------------------

/// A file's last seen scan, for a statement that names the file `f` and its share `h`. A full scan
/// with snapshot history does not rewrite the rows it finds unchanged ([`FILE_SEEN`] is for the
/// other scans); when it finishes, every file of the share it did not list is missing
/// ([`MARK_MISSING`]), and [`SHARE_SEEN`] records it on the share. So a file that is not missing,
/// was ever seen by a scan (the feeds' placeholders have 0) and was not written by a chunk applied
/// since (a chunk of an older scan still running) was seen by it.
macro_rules! last_seen {
    () => {
        "CASE WHEN f.missing_since_utc IS NULL AND f.last_seen_scan_id > 0 \
             AND h.seen_scan_id IS NOT NULL AND f.chunk_seq <= h.seen_chunk_seq \
             THEN max(f.last_seen_scan_id, h.seen_scan_id) ELSE f.last_seen_scan_id END"
    };
}
pub(crate) use last_seen;

pub(crate) const SCAN_UNFINISHED: &str = "SELECT scan_id, started_utc FROM scan \
     WHERE tenant_id = ?1 AND share_id = ?2 AND kind = ?3 AND source = ?4 \
     AND finished_utc IS NULL ORDER BY scan_id DESC LIMIT 1";

pub(crate) const SCAN_INSERT: &str = "INSERT INTO scan \
     (tenant_id, share_id, kind, source, started_utc) VALUES (?1, ?2, ?3, ?4, ?5) \
     RETURNING scan_id";

pub(crate) const SCAN_WITH_SHARE: &str = "SELECT s.share_id, s.kind, h.case_sensitive, \
     s.finished_utc IS NOT NULL, h.kind \
     FROM scan AS s JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = s.share_id \
     WHERE s.tenant_id = ?1 AND s.scan_id = ?2";

pub(crate) const SCAN_FINISH: &str = "UPDATE scan SET finished_utc = coalesce(finished_utc, ?3) \
     WHERE tenant_id = ?1 AND scan_id = ?2";

/// A full scan's unseen files: neither written by the scan (`last_seen_scan_id`) nor left alone as
/// unchanged and listed in its snapshot rows (a probe of `file`'s primary key each). A missing
/// file keeps the scan that last saw it, so the one [`last_seen!`] derives is written into it
/// (before [`SHARE_SEEN`] moves the share on).
pub(crate) const MARK_MISSING: &str = concat!(
    "UPDATE OR FAIL file_current AS f SET missing_since_utc = ?4, last_seen_scan_id = ",
    last_seen!(),
    " FROM share AS h WHERE h.tenant_id = ?1 AND h.share_id = ?2 \
     AND f.tenant_id = ?1 AND f.share_id = ?2 AND f.last_seen_scan_id <> ?3 \
     AND f.missing_since_utc IS NULL \
     AND NOT EXISTS (SELECT 1 FROM file AS s WHERE s.tenant_id = ?1 AND s.scan_id = ?3 \
         AND s.file_current_id = f.file_current_id)"
);

/// What [`MARK_MISSING`] would mark, counted without writing.
pub(crate) const COUNT_UNSEEN: &str = "SELECT count(*) FROM file_current AS f \
     WHERE f.tenant_id = ?1 AND f.share_id = ?2 AND f.last_seen_scan_id <> ?3 \
     AND f.missing_since_utc IS NULL \
     AND NOT EXISTS (SELECT 1 FROM file AS s WHERE s.tenant_id = ?1 AND s.scan_id = ?3 \
         AND s.file_current_id = f.file_current_id)";

/// A full scan has finished: every file of the share not missing now was seen by it.
pub(crate) const SHARE_SEEN: &str = "UPDATE share SET seen_scan_id = ?3, \
     seen_chunk_seq = chunk_seq WHERE tenant_id = ?1 AND share_id = ?2";

/// The number of an ingest chunk that writes the share's files.
pub(crate) const SHARE_NEXT_CHUNK: &str = "UPDATE share SET chunk_seq = chunk_seq + 1 \
     WHERE tenant_id = ?1 AND share_id = ?2 RETURNING chunk_seq";

/// Scans of a share whose snapshots fall out of `history_scans`: all but the newest `?3`.
pub(crate) const HISTORY_PRUNE: &str = "DELETE FROM file WHERE tenant_id = ?1 AND scan_id IN \
     (SELECT scan_id FROM scan WHERE tenant_id = ?1 AND share_id = ?2 \
      ORDER BY scan_id DESC LIMIT -1 OFFSET ?3)";

pub(crate) const CHUNK_SEEN: &str =
    "SELECT 1 FROM ingest_chunk WHERE tenant_id = ?1 AND scan_id = ?2 AND chunk_id = ?3";

pub(crate) const CHUNK_INSERT: &str = "INSERT INTO ingest_chunk (tenant_id, scan_id, chunk_id, \
     rows, new_files, changed_files, unchanged_files, applied_utc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// The current records of the chunk's keys (`?3`: JSON array of path keys), as one JSON array of
/// `[id, position of the key in ?3, full_path, size, mtime, atime, ext, permissions, owner, hash,
/// source, atime_updated, first_seen_scan, missing_since]`: one index probe per key, one value
/// back.
pub(crate) const EXISTING: &str = "SELECT json_group_array(json_array(f.file_current_id, \
     j.key, f.full_path, f.size_bytes, f.mtime_us, f.atime_us, f.file_extension, \
     f.permissions, f.owner, f.file_hash, f.last_accessed_source, f.atime_updated_utc, \
     f.first_seen_scan_id, f.missing_since_utc)) \
     FROM json_each(?3) AS j CROSS JOIN file_current AS f \
     WHERE f.tenant_id = ?1 AND f.share_id = ?2 AND f.path_key = j.value";

/// The next `file_current_id`: above every id ever used (AUTOINCREMENT's counter) and every id
/// present. Ingest assigns ids itself, in key order, under the write lock.
pub(crate) const NEXT_FILE_ID: &str = "SELECT max( \
     coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'file_current'), 0), \
     coalesce((SELECT max(file_current_id) FROM file_current), 0)) + 1";

/// New directories (conflicts are existing ones): `[tenant, share, dir_path, dir_hash64]`.
pub(crate) const DIR_INSERT: Batch = Batch {
    head: "INSERT OR FAIL INTO dir (tenant_id, share_id, dir_path, dir_hash64) VALUES ",
    row: "(?, ?, ?, ?)",
    tail: " ON CONFLICT (tenant_id, share_id, dir_path) DO NOTHING",
};

/// The ids of directories (`?3`: JSON array of directory paths), as a JSON array of
/// `[dir_id, dir_path]`.
pub(crate) const DIR_IDS: &str = "SELECT json_group_array(json_array(d.dir_id, d.dir_path)) \
     FROM json_each(?3) AS j CROSS JOIN dir AS d \
     WHERE d.tenant_id = ?1 AND d.share_id = ?2 AND d.dir_path = j.value";

/// New files: `[id, tenant, share, dir_id, name, path_key, full_path, size, mtime, atime, ext,
/// permissions, owner, hash, source, atime_updated, scan, scan, now, chunk_seq]` per row.
pub(crate) const FILE_INSERT: Batch = Batch {
    head: "INSERT OR FAIL INTO file_current (file_current_id, tenant_id, share_id, dir_id, name, \
           path_key, full_path, size_bytes, mtime_us, atime_us, file_extension, permissions, \
           owner, file_hash, last_accessed_source, atime_updated_utc, first_seen_scan_id, \
           last_seen_scan_id, missing_since_utc, updated_utc, chunk_seq) VALUES ",
    row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
    tail: "",
};

/// Changed files: `[tenant, share, id, full_path, size, mtime, atime, ext, permissions, owner,
/// hash, source, atime_updated, scan, now, chunk_seq]` per row.
pub(crate) const FILE_UPDATE: Batch = Batch {
    head: "WITH v (tenant_id, share_id, id, full_path, size_bytes, mtime_us, atime_us, \
           file_extension, permissions, owner, file_hash, source, atime_updated_utc, scan, now, \
           seq) AS (VALUES ",
    row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    tail: ") UPDATE OR FAIL file_current SET full_path = v.full_path, size_bytes = v.size_bytes, \
           mtime_us = v.mtime_us, atime_us = v.atime_us, file_extension = v.file_extension, \
           permissions = v.permissions, owner = v.owner, file_hash = v.file_hash, \
           last_accessed_source = v.source, atime_updated_utc = v.atime_updated_utc, \
           last_seen_scan_id = v.scan, missing_since_utc = NULL, updated_utc = v.now, \
           chunk_seq = v.seq \
           FROM v WHERE file_current.file_current_id = v.id \
           AND +file_current.tenant_id = v.tenant_id AND +file_current.share_id = v.share_id",
};

/// Files seen again unchanged, by a scan whose snapshot rows do not record them (a partial scan,
/// or no history). `?4`: JSON array of ids; `?5`: the chunk's number.
pub(crate) const FILE_SEEN: &str = "UPDATE OR FAIL file_current SET last_seen_scan_id = ?3, \
     chunk_seq = ?5 \
     WHERE file_current_id IN (SELECT value FROM json_each(?4)) \
     AND +tenant_id = ?1 AND +share_id = ?2";

/// Snapshots: the file as this scan left it, copied from `file_current` (`?3`: JSON array of
/// ids). A file seen twice by one scan keeps its last sighting.
pub(crate) const SNAPSHOT_INSERT: &str = "INSERT OR FAIL INTO file (tenant_id, scan_id, file_current_id, \
     full_path, size_bytes, mtime_us, atime_us, file_extension, permissions, owner, file_hash) \
     SELECT ?1, ?2, f.file_current_id, f.full_path, f.size_bytes, f.mtime_us, f.atime_us, \
     f.file_extension, f.permissions, f.owner, f.file_hash \
     FROM json_each(?3) AS j CROSS JOIN file_current AS f \
     WHERE f.file_current_id = j.value AND +f.tenant_id = ?1 \
     ON CONFLICT (tenant_id, scan_id, file_current_id) DO UPDATE SET \
     full_path = excluded.full_path, size_bytes = excluded.size_bytes, \
     mtime_us = excluded.mtime_us, atime_us = excluded.atime_us, \
     file_extension = excluded.file_extension, permissions = excluded.permissions, \
     owner = excluded.owner, file_hash = excluded.file_hash";

/// A feed batch's files whose last access (or modification) moved: `[tenant, id, atime,
/// source, atime updated, mtime, now]` per row.
pub(crate) const FILE_ACCESSED: Batch = Batch {
    head: "WITH v (tenant_id, id, atime_us, source, atime_updated_utc, mtime_us, now) AS (VALUES ",
    row: "(?, ?, ?, ?, ?, ?, ?)",
    tail: ") UPDATE OR FAIL file_current SET atime_us = v.atime_us, \
           last_accessed_source = v.source, atime_updated_utc = v.atime_updated_utc, \
           mtime_us = v.mtime_us, updated_utc = v.now \
           FROM v WHERE file_current.file_current_id = v.id \
           AND +file_current.tenant_id = v.tenant_id",
};

/// A feed batch's processed events: `[tenant, share, event id, event time, outcome, now]` per
/// row.
pub(crate) const EVENT_RECORD: Batch = Batch {
    head: "INSERT INTO feed_event (tenant_id, share_id, event_id, event_utc, outcome, \
           applied_utc) VALUES ",
    row: "(?, ?, ?, ?, ?, ?)",
    tail: "",
};

prepared!(DIR_INSERT_SQL = DIR_INSERT);
prepared!(FILE_ACCESSED_SQL = FILE_ACCESSED);
prepared!(EVENT_RECORD_SQL = EVENT_RECORD);
prepared!(FILE_INSERT_SQL = FILE_INSERT);
prepared!(FILE_UPDATE_SQL = FILE_UPDATE);

// ---- listing ------------------------------------------------------------------------------------

macro_rules! files_page {
    ($op:literal) => {
        concat!(
            "SELECT json_group_array(json_array(path_key, full_path, size_bytes, mtime_us, \
             atime_us, file_extension, permissions, owner, file_hash, last_accessed_source, \
             atime_updated_utc, first_seen_scan_id, last_seen_scan_id, missing_since_utc, \
             state, json(lost))) FROM (\
             SELECT f.path_key, f.full_path, f.size_bytes, f.mtime_us, f.atime_us, \
             f.file_extension, f.permissions, f.owner, f.file_hash, f.last_accessed_source, \
             f.atime_updated_utc, f.first_seen_scan_id, ",
            last_seen!(),
            " AS last_seen_scan_id, f.missing_since_utc, t.state, \
             CASE WHEN t.lost_utc IS NOT NULL THEN json_array(t.lost_utc, t.lost_reason) END \
             AS lost \
             FROM file_current AS f \
             CROSS JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = f.share_id \
             LEFT JOIN tier_object AS t \
             ON t.tenant_id = ?1 AND t.file_current_id = f.file_current_id \
             WHERE f.tenant_id = ?1 AND f.share_id = ?2 AND f.path_key ",
            $op,
            " ?3 AND (?4 OR f.missing_since_utc IS NULL) AND (?5 IS NULL OR t.state = ?5) \
             ORDER BY f.path_key LIMIT ?6) AS page"
        )
    };
}

/// One share's records after the key `?3`, in key order, as one JSON array of `[path_key,
/// full_path, size, mtime, atime, ext, permissions, owner, hash, source, atime_updated,
/// first_seen_scan, last_seen_scan, missing_since, state]` (one value instead of a row each: sqlx
/// hands rows over one at a time). `?4`: include missing files; `?5`: only this tier state (NULL:
/// any); `?6`: limit.
pub(crate) const FILES_AFTER: &str = files_page!(">");

/// [`FILES_AFTER`], from the key `?3` on (inclusive).
pub(crate) const FILES_FROM: &str = files_page!(">=");

// ---- reports ------------------------------------------------------------------------------------

/// The grouped values of a file row `c`: `age` and `sz` are bucket numbers (how many of the
/// thresholds `?3`–`?8`, oldest first, and `?9`–`?14` the value reaches; NULL: no time).
macro_rules! report_values {
    () => {
        "nullif(lower(c.file_extension), '') AS ext, nullif(c.owner, '') AS owner, \
         c.share_id AS share_id, c.size_bytes AS size, \
         (coalesce(c.atime_us, c.mtime_us) >= ?3) + (coalesce(c.atime_us, c.mtime_us) >= ?4) \
         + (coalesce(c.atime_us, c.mtime_us) >= ?5) + (coalesce(c.atime_us, c.mtime_us) >= ?6) \
         + (coalesce(c.atime_us, c.mtime_us) >= ?7) \
         + (coalesce(c.atime_us, c.mtime_us) >= ?8) AS age, \
         (c.size_bytes >= ?9) + (c.size_bytes >= ?10) + (c.size_bytes >= ?11) \
         + (c.size_bytes >= ?12) + (c.size_bytes >= ?13) + (c.size_bytes >= ?14) AS sz, \
         c.missing_since_utc IS NOT NULL AS missing"
    };
}

/// Every file of the tenant (of share `?2`, NULL: all), files and bytes per breakdown, as rows
/// `(breakdown, missing, text key, integer key, files, bytes, 0, 0, 0, 0)`: breakdown 0 is the
/// totals, 3 extension, 4 owner (text keys), 5 share id, 6 age, 7 size bucket (integer keys).
/// SQLite groups by sorting, so the file rows are grouped once by all their keys together (one
/// sort of the rows, with two sums) into `g`, a few thousand rows that each breakdown regroups.
pub(crate) const REPORT_FILES: &str = concat!(
    "WITH g AS MATERIALIZED (SELECT missing, ext, owner, share_id, age, sz, \
     count(*) AS n, sum(size) AS b FROM (SELECT ",
    report_values!(),
    " FROM file_current AS c WHERE c.tenant_id = ?1 AND (?2 IS NULL OR c.share_id = ?2)) \
     GROUP BY missing, share_id, sz, age, ext, owner) \
     SELECT 0, missing, NULL, NULL, sum(n), sum(b), 0, 0, 0, 0 FROM g GROUP BY missing \
     UNION ALL SELECT 3, missing, ext, NULL, sum(n), sum(b), 0, 0, 0, 0 FROM g \
     GROUP BY missing, ext \
     UNION ALL SELECT 4, missing, owner, NULL, sum(n), sum(b), 0, 0, 0, 0 FROM g \
     GROUP BY missing, owner \
     UNION ALL SELECT 5, missing, NULL, share_id, sum(n), sum(b), 0, 0, 0, 0 FROM g \
     GROUP BY missing, share_id \
     UNION ALL SELECT 6, missing, NULL, age, sum(n), sum(b), 0, 0, 0, 0 FROM g \
     GROUP BY missing, age \
     UNION ALL SELECT 7, missing, NULL, sz, sum(n), sum(b), 0, 0, 0, 0 FROM g \
     GROUP BY missing, sz"
);

/// Regrouped sums of `g` with the STUBBED and PLANNED parts.
macro_rules! report_tiered_sums {
    () => {
        "sum(n), sum(b), sum(CASE WHEN state = 'STUBBED' THEN n ELSE 0 END), \
         sum(CASE WHEN state = 'STUBBED' THEN b ELSE 0 END), \
         sum(CASE WHEN state = 'PLANNED' THEN n ELSE 0 END), \
         sum(CASE WHEN state = 'PLANNED' THEN b ELSE 0 END) FROM g GROUP BY missing"
    };
}

/// [`REPORT_FILES`] for the files that have a tier object (read from `tier_object`, each file
/// row by its id), with the STUBBED and PLANNED sums and breakdowns 1 (state) and 2 (rule); no
/// totals. The files without one are the difference (`ReportAggregates::combine`), so the read
/// of every file needs no join.
pub(crate) const REPORT_TIERED: &str = concat!(
    "WITH g AS MATERIALIZED (SELECT missing, state, rule, ext, owner, share_id, age, sz, \
     count(*) AS n, sum(size) AS b FROM (SELECT t.state AS state, t.planned_by AS rule, ",
    report_values!(),
    " FROM tier_object AS t \
     JOIN file_current AS c ON c.tenant_id = ?1 AND c.file_current_id = t.file_current_id \
     WHERE t.tenant_id = ?1 AND (?2 IS NULL OR t.share_id = ?2)) \
     GROUP BY missing, share_id, sz, age, state, rule, ext, owner) \
     SELECT 1, missing, state, NULL, ",
    report_tiered_sums!(),
    ", state UNION ALL SELECT 2, missing, rule, NULL, ",
    report_tiered_sums!(),
    ", rule UNION ALL SELECT 3, missing, ext, NULL, ",
    report_tiered_sums!(),
    ", ext UNION ALL SELECT 4, missing, owner, NULL, ",
    report_tiered_sums!(),
    ", owner UNION ALL SELECT 5, missing, NULL, share_id, ",
    report_tiered_sums!(),
    ", share_id UNION ALL SELECT 6, missing, NULL, age, ",
    report_tiered_sums!(),
    ", age UNION ALL SELECT 7, missing, NULL, sz, ",
    report_tiered_sums!(),
    ", sz"
);

/// A top-N list of a report: the files (not missing) sorted by `$inner` with `$filter`, joined
/// to their tier objects, in the same order (`$outer`). `?2`: only this share id (NULL: all);
/// `?3`: how many.
macro_rules! report_top {
    ($inner:literal, $outer:literal, $filter:literal) => {
        concat!(
            "SELECT x.name, x.path_key, x.full_path, x.size_bytes, x.atime_us, x.mtime_us, \
             x.owner, t.state FROM (\
             SELECT h.name AS name, c.file_current_id AS id, c.path_key AS path_key, \
             c.full_path AS full_path, c.size_bytes AS size_bytes, c.atime_us AS atime_us, \
             c.mtime_us AS mtime_us, c.owner AS owner \
             FROM file_current AS c \
             JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = c.share_id \
             WHERE c.tenant_id = ?1 AND (?2 IS NULL OR c.share_id = ?2) \
             AND c.missing_since_utc IS NULL ",
            $filter,
            " ORDER BY ",
            $inner,
            " LIMIT ?3) AS x \
             LEFT JOIN tier_object AS t ON t.tenant_id = ?1 AND t.file_current_id = x.id \
             ORDER BY ",
            $outer
        )
    };
}

/// The largest files of a report, largest first (ties by share name, then key).
pub(crate) const REPORT_LARGEST: &str = report_top!(
    "c.size_bytes DESC, h.name, c.path_key",
    "x.size_bytes DESC, x.name, x.path_key",
    ""
);

/// The oldest files of a report by last access (else modification), oldest first.
pub(crate) const REPORT_OLDEST: &str = report_top!(
    "coalesce(c.atime_us, c.mtime_us), h.name, c.path_key",
    "coalesce(x.atime_us, x.mtime_us), x.name, x.path_key",
    "AND coalesce(c.atime_us, c.mtime_us) IS NOT NULL"
);

// ---- tier objects -------------------------------------------------------------------------------

/// The columns `tier::decode_object` reads, in its order, of a tier object `t` and its share `h`
/// (every statement that returns tier objects selects these).
macro_rules! object_columns {
    () => {
        "t.tier_id, h.name, t.path_key, t.full_path, t.state, t.version, t.incarnation, \
         t.target_uri, t.planned_by, t.planned_utc, t.acted_utc, t.last_accessed_utc, \
         t.access_count, t.object_key, t.object_size, t.object_sha256, t.object_etag, \
         t.owner_uid, t.owner_gid, t.file_mode, t.original_mtime_utc, t.lost_utc, t.lost_reason"
    };
}
pub(crate) use object_columns;

pub(crate) const OBJECT_COLUMNS: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND h.name = ?2 AND t.path_key = ?3"
);

pub(crate) const FILE_FOR_OBJECT: &str = "SELECT f.file_current_id, f.share_id, f.full_path \
     FROM file_current AS f JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = f.share_id \
     WHERE f.tenant_id = ?1 AND h.name = ?2 AND f.path_key = ?3";

/// A new tier object, with its id from [`NEXT_TIER_ID`] (`?15`): the trigger `tier_id_ledger_add`
/// records it in the ledger, which refuses an id it holds.
pub(crate) const OBJECT_INSERT: &str = "INSERT INTO tier_object (tenant_id, share_id, \
     file_current_id, path_key, full_path, state, version, incarnation, target_uri, planned_by, \
     planned_utc, acted_utc, last_accessed_utc, access_count, tier_id) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING tier_id";

/// The next tier object id: above every id ever given (the ledger) and every id present, so no
/// id is given twice (schema version 8; object keys end with their object's id).
pub(crate) const NEXT_TIER_ID: &str = "SELECT max( \
     coalesce((SELECT max(tier_id) FROM tier_id_ledger), 0), \
     coalesce((SELECT max(tier_id) FROM tier_object), 0)) + 1";

/// Optimistic: only when the row still has the version the transition was computed from (`?3`).
/// `?13`–`?20`: the stored object (all NULL for none), written with the rest of the row; `?21`,
/// `?22` the LOST flag (cleared with the stored object by a new incarnation).
pub(crate) const OBJECT_UPDATE: &str = "UPDATE tier_object SET state = ?4, version = ?5, \
     incarnation = ?6, target_uri = ?7, planned_by = ?8, planned_utc = ?9, acted_utc = ?10, \
     last_accessed_utc = ?11, access_count = ?12, object_key = ?13, object_size = ?14, \
     object_sha256 = ?15, object_etag = ?16, owner_uid = ?17, owner_gid = ?18, file_mode = ?19, \
     original_mtime_utc = ?20, lost_utc = ?21, lost_reason = ?22 \
     WHERE tenant_id = ?1 AND tier_id = ?2 AND version = ?3";

/// One share's tier objects after a path key (`?3`; `''` from the start), in key order, of one
/// state or all (`?4` NULL), at most `?5`.
pub(crate) const OBJECTS_AFTER: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM tier_object AS t JOIN share AS h ON h.tenant_id = ?1 AND h.share_id = t.share_id \
     WHERE t.tenant_id = ?1 AND t.share_id = ?2 AND t.path_key > ?3 \
     AND (?4 IS NULL OR t.state = ?4) ORDER BY t.path_key LIMIT ?5"
);

/// Set or clear the LOST flag (`?5`, `?6`) of an object still in the state and version read.
pub(crate) const OBJECT_MARK_LOST: &str = "UPDATE tier_object SET lost_utc = ?5, lost_reason = ?6 \
     WHERE tenant_id = ?1 AND tier_id = ?2 AND version = ?3 AND state = ?4";

/// Which of the ids (a JSON array) the ledger gives to the tenant.
pub(crate) const OWNED_TIER_IDS: &str = "SELECT tier_id FROM tier_id_ledger \
     WHERE tenant_id = ?1 AND tier_id IN (SELECT value FROM json_each(?2)) ORDER BY tier_id";

pub(crate) const OBJECT_DELETE: &str =
    "DELETE FROM tier_object WHERE tenant_id = ?1 AND tier_id = ?2 AND version = ?3";

// ---- audit --------------------------------------------------------------------------------------

pub(crate) const AUDIT_EXISTS: &str =
    "SELECT 1 FROM audit_event WHERE tenant_id = ?1 AND event_id = ?2";

pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_event \
     (tenant_id, at_utc, kind, subject, detail, parent_id, actor) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, coalesce((SELECT actor FROM temp.alto_actor), '{}')) \
     RETURNING event_id, actor";

/// The writer connection's actor for this transaction (see `SqliteStore::write`).
pub(crate) const ACTOR_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS alto_actor (one INTEGER PRIMARY KEY CHECK (one = 1), actor TEXT NOT NULL)";
pub(crate) const ACTOR_SET: &str =
    "INSERT OR REPLACE INTO temp.alto_actor (one, actor) VALUES (1, ?1)";

/// The start of a page of the trail; `audit.rs` appends the filters given (each a bound
/// parameter from `?3` on), then the order and the limit.
pub(crate) const AUDIT_PAGE: &str = "SELECT event_id, at_utc, kind, subject, detail, parent_id, \
     actor FROM audit_event WHERE tenant_id = ?1";

/// Every multi-row statement, for the scoping test.
#[cfg(test)]
pub(crate) const BATCHES: &[(&str, Batch)] = &[
    ("DIR_INSERT", DIR_INSERT),
    ("FILE_INSERT", FILE_INSERT),
    ("FILE_UPDATE", FILE_UPDATE),
    ("FILE_ACCESSED", FILE_ACCESSED),
    ("EVENT_RECORD", EVENT_RECORD),
];

/// Every other statement, for the scoping test.
#[cfg(test)]
pub(crate) const ALL: &[(&str, &str)] = &[
    ("TENANT_BY_NAME", TENANT_BY_NAME),
    ("TENANT_INSERT", TENANT_INSERT),
    ("TENANT_SETTINGS", TENANT_SETTINGS),
    ("TENANT_SET_SETTINGS", TENANT_SET_SETTINGS),
    ("SHARE_BY_NAME", SHARE_BY_NAME),
    ("SHARE_INSERT", SHARE_INSERT),
    ("SHARE_SET_MOUNT_ROOT", SHARE_SET_MOUNT_ROOT),
    ("SHARES_ALL", SHARES_ALL),
    ("SHARE_FILL_ROOT", SHARE_FILL_ROOT),
    ("SHARE_SET_ROOT", SHARE_SET_ROOT),
    ("SHARES_IN_ORDER", SHARES_IN_ORDER),
    ("SCAN_UNFINISHED", SCAN_UNFINISHED),
    ("SCAN_INSERT", SCAN_INSERT),
    ("SCAN_WITH_SHARE", SCAN_WITH_SHARE),
    ("SCAN_FINISH", SCAN_FINISH),
    ("MARK_MISSING", MARK_MISSING),
    ("COUNT_UNSEEN", COUNT_UNSEEN),
    ("SHARE_SEEN", SHARE_SEEN),
    ("SHARE_NEXT_CHUNK", SHARE_NEXT_CHUNK),
    ("HISTORY_PRUNE", HISTORY_PRUNE),
    ("CHUNK_SEEN", CHUNK_SEEN),
    ("CHUNK_INSERT", CHUNK_INSERT),
    ("EXISTING", EXISTING),
    ("NEXT_FILE_ID", NEXT_FILE_ID),
    ("DIR_IDS", DIR_IDS),
    ("FILE_SEEN", FILE_SEEN),
    ("SNAPSHOT_INSERT", SNAPSHOT_INSERT),
    ("FILES_AFTER", FILES_AFTER),
    ("FILES_FROM", FILES_FROM),
    ("OBJECT_COLUMNS", OBJECT_COLUMNS),
    ("FILE_FOR_OBJECT", FILE_FOR_OBJECT),
    ("OBJECT_INSERT", OBJECT_INSERT),
    ("OBJECT_UPDATE", OBJECT_UPDATE),
    ("OBJECT_DELETE", OBJECT_DELETE),
    ("NEXT_TIER_ID", NEXT_TIER_ID),
    ("OBJECTS_AFTER", OBJECTS_AFTER),
    ("OBJECT_MARK_LOST", OBJECT_MARK_LOST),
    ("OWNED_TIER_IDS", OWNED_TIER_IDS),
    ("AUDIT_EXISTS", AUDIT_EXISTS),
    ("AUDIT_INSERT", AUDIT_INSERT),
    ("AUDIT_PAGE", AUDIT_PAGE),
    ("REPORT_FILES", REPORT_FILES),
    ("REPORT_TIERED", REPORT_TIERED),
    ("REPORT_LARGEST", REPORT_LARGEST),
    ("REPORT_OLDEST", REPORT_OLDEST),
];

#[cfg(test)]
mod tests {
    use super::{ALL, BATCHES};

    /// Statements that legitimately do not filter by tenant: they look a tenant up by its unique
    /// name (the one call that has no `TenantId` yet), create one, or read a key allocator.
    const UNSCOPED: &[&str] = &[
        "TENANT_BY_NAME",
        "TENANT_INSERT",
        "NEXT_FILE_ID",
        "NEXT_TIER_ID",
    ];

    /// Every table a statement names (after FROM, JOIN, INTO or UPDATE).
    fn tables(sql: &str) -> Vec<(String, Option<String>)> {
        let words: Vec<&str> = sql
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let mut out = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let up = w.to_ascii_uppercase();
            if matches!(up.as_str(), "FROM" | "JOIN" | "INTO" | "UPDATE") {
                // `UPDATE OR FAIL t`
                let i = if words
                    .get(i + 1)
                    .is_some_and(|w| w.eq_ignore_ascii_case("OR"))
                {
                    i + 2
                } else {
                    i
                };
                if let Some(t) = words.get(i + 1) {
                    if t.starts_with("json_each") || t.eq_ignore_ascii_case("SELECT") {
                        continue;
                    }
                    let alias = match words.get(i + 2) {
                        Some(a) if a.eq_ignore_ascii_case("AS") => words.get(i + 3),
                        _ => None,
                    };
                    out.push((t.to_string(), alias.map(|a| a.to_string())));
                }
            }
        }
        out
    }

    /// Why `sql` does not filter a table it names by tenant, if it does not.
    fn unscoped(sql: &str) -> Option<String> {
        for (table, alias) in tables(sql) {
            if sql.contains(&format!("WITH {table} ")) || sql.contains(&format!(", {table} AS (")) {
                continue; // a CTE, not a table
            }
            // Multi-row statements bind the tenant in every row of the CTE `v`.
            let rows_bind_tenant = sql.starts_with("WITH v (") && {
                let cols = sql.split_once(')').map_or("", |(c, _)| c);
                cols.contains(" tenant_id,") || cols.contains("(tenant_id,")
            };
            let scoped = match &alias {
                Some(a) => {
                    sql.contains(&format!("{a}.tenant_id = ?1"))
                        || (rows_bind_tenant
                            && sql.contains(&format!("{a}.tenant_id = v.tenant_id")))
                }
                None if sql.starts_with("INSERT") => inserts_tenant(sql),
                None => {
                    sql.contains("tenant_id = ?1")
                        || (rows_bind_tenant
                            && sql.contains(&format!("+{table}.tenant_id = v.tenant_id")))
                }
            };
            if !scoped {
                return Some(format!("{table} is not filtered by `tenant_id = ?1`"));
            }
        }
        None
    }

    /// An INSERT puts `?1` in its `tenant_id` column.
    fn inserts_tenant(sql: &str) -> bool {
        let list =
            |s: &str| -> Vec<String> { s.split(',').map(|c| c.trim().to_string()).collect() };
        let Some((cols, rest)) = sql.split_once('(').and_then(|(_, r)| r.split_once(')')) else {
            return false;
        };
        let Some(at) = list(cols).iter().position(|c| c == "tenant_id") else {
            return false;
        };
        let values = match rest.split_once("VALUES (") {
            Some((_, r)) => r.split_once(')').map(|(v, _)| v),
            None => rest
                .split_once("SELECT ")
                .and_then(|(_, r)| r.split_once(" FROM "))
                .map(|(v, _)| v),
        };
        values.is_some_and(|v| list(v).get(at).is_some_and(|x| x == "?1" || x == "?"))
    }

    #[test]
    fn every_statement_is_tenant_scoped() {
        let batches = BATCHES.iter().map(|(n, b)| (*n, b.sql(2)));
        let all = ALL.iter().map(|(n, s)| (*n, s.to_string())).chain(batches);
        let mut checked = 0;
        for (name, sql) in all {
            checked += 1;
            if UNSCOPED.contains(&name) {
                continue;
            }
            if let Some(why) = unscoped(&sql) {
                panic!("{name}: {why}: {sql}");
            }
        }
        assert!(checked > 30);
    }

    #[test]
    fn the_check_catches_a_missing_filter() {
        assert!(unscoped("SELECT a FROM file_current WHERE share_id = ?2").is_some());
        assert!(
            unscoped("SELECT a FROM x AS f JOIN y AS t ON t.k = f.k WHERE f.tenant_id = ?1")
                .is_some()
        );
        assert!(unscoped("INSERT INTO dir (share_id, tenant_id) VALUES (?1, ?2)").is_some());
        assert!(unscoped("INSERT INTO dir (share_id, tenant_id) VALUES (?, 1)").is_some());
        assert!(unscoped("INSERT INTO dir (share_id, tenant_id) VALUES (?2, ?1)").is_none());
        assert!(
            unscoped("SELECT a FROM x AS f JOIN y AS t ON t.tenant_id = ?1 WHERE f.tenant_id = ?1")
                .is_none()
        );
    }

    #[test]
    fn the_check_sees_tables() {
        let t = tables("SELECT a FROM x AS y JOIN z AS w ON w.k = 1 WHERE y.tenant_id = ?1");
        assert_eq!(
            t,
            [
                ("x".to_string(), Some("y".to_string())),
                ("z".to_string(), Some("w".to_string()))
            ]
        );
    }
}
