//! Access feeds: `alto_core::store::Feeds` on PostgreSQL.
//!
//! A batch is applied in one transaction, under a per-share advisory lock (batches of one share
//! take turns; a plan commit takes the same locks):
//!
//! 1. The batch is put in time order (time, then event id), as the reference store does.
//! 2. **Duplicates**: repeats within the batch, and ids applied before. Ids are kept per share in
//!    `feed_event_range`, one row per id prefix and batch holding the sorted numbers
//!    (`node/stem/offset` → prefix `node/stem`, number `offset`): the batch reads the rows of its
//!    prefixes whose number range overlaps its own (usually none), checks each id exactly, and
//!    writes one row per prefix. Events more than [`MAX_FUTURE`] ahead of the batch's `now` are
//!    counted as skewed (and recorded as applied ids, as the reference store does).
//! 3. The distinct path keys the remaining events name (sources and move targets, mapped under
//!    the share's mount root and keyed with its case rule) are copied (binary `COPY`) into a
//!    session-private temporary table, each with the latest access and write time of its events.
//! 4. **Files only accessed, by events all newer than what the store has** (no move or delete
//!    names them, every access is after the file's last access and every write after its last
//!    modification — nearly all keys of a feed that keeps up): one `UPDATE … FROM` moves their
//!    times forward, its `WHERE` checking that condition on the row it updates. For those files
//!    the events alone decide every count, so each file is looked up once. Every other key
//!    (moves, deletes, unknown paths, stale events) is read. Keys with tier objects are then
//!    locked (file row, then object) and their objects read.
//! 5. The batch is replayed in memory over just those keys, event by event, with the reference
//!    store's rules (accesses, moves, deletes, unknown paths under the tenant's policy, warming):
//!    this decides every count exactly, whatever the order of moves and accesses.
//! 6. The rest is written set-based: one `UPDATE … FROM` (a copied delta table) for the files
//!    read in step 4 whose times or missing mark moved (forward only, so a concurrent ingest is
//!    never undone); moves and placeholder records in event order by one server-side call
//!    (`alto_feed_ops`); the tier objects' warming, DELETED transitions and, for objects a move
//!    re-keyed, target URIs (decided in the replay: the URI's end, the object key of the old key,
//!    becomes the new key's, as `alto_core::worker::target_root` reads it) in one
//!    `UPDATE … FROM unnest`; the DELETED transitions' audit events; the unknown-path queue; the
//!    applied ids; the cursors.

use crate::PgStore;
use crate::copy::{BinaryCopy, copy_in};
use crate::dirs;
use crate::error::db_err;
use crate::queue::lock_feed;
use crate::time::{PgTime, micros, to_pg};
use alto_core::feed::lucid::{Cursor, Cursors};
use alto_core::feed::{AccessEvent, FeedAction};
use alto_core::path::{KeyRule, extension, join_under, object_key, share_key, split_dir};
use alto_core::store::feeds::{ApplyOutcome, EventBatch, MAX_FUTURE, Warmed};
use alto_core::time::Micros;
use alto_core::types::{TenantId, TenantSettings, UnknownPathPolicy};
use alto_core::{Error, ErrorKind, Result, TierState};
use sqlx::Row;
use sqlx::types::Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The session's private staging tables, created when a pooled connection opens.
pub(crate) const CREATE_STAGING: [&str; 2] = [
    "CREATE TEMP TABLE IF NOT EXISTS alto_feed_key (kid bigint NOT NULL, \
         path_key text COLLATE \"C\" NOT NULL, only_accessed boolean NOT NULL, \
         accessed_min timestamptz, accessed_max timestamptz, written_min timestamptz, \
         written_max timestamptz) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS alto_feed_delta (path_key text COLLATE \"C\" NOT NULL, \
         accessed_utc timestamptz, modified_utc timestamptz, missing_since timestamptz) \
     ON COMMIT DELETE ROWS",
];

const COPY_KEYS: &str = "COPY pg_temp.alto_feed_key (kid, path_key, only_accessed, \
     accessed_min, accessed_max, written_min, written_max) FROM STDIN (FORMAT binary)";

const COPY_DELTA: &str = "COPY pg_temp.alto_feed_delta (path_key, accessed_utc, modified_utc, \
     missing_since) FROM STDIN (FORMAT binary)";

/// The applied-id rows of the batch's prefixes whose numbers overlap the batch's.
const SEEN_IDS: &str = "SELECT r.prefix, r.numbers FROM feed_event_range r \
     JOIN unnest($3::text[], $4::int8[], $5::int8[]) AS b(prefix, lo, hi) \
         ON r.prefix = b.prefix COLLATE \"C\" AND r.lo <= b.hi AND r.hi >= b.lo \
     WHERE r.tenant_id = $1 AND r.share_id = $2";

/// One row per prefix: $3 prefixes, $4 lows, $5 highs, $6 where each one's numbers start in $8
/// (1-based), $7 how many, $8 all numbers.
const RECORD_IDS: &str = "INSERT INTO feed_event_range (tenant_id, share_id, prefix, lo, hi, \
         numbers, processed_utc) \
     SELECT $1, $2, b.prefix, b.lo, b.hi, ($8::int8[])[b.start : b.start + b.n - 1], $9 \
     FROM unnest($3::text[], $4::int8[], $5::int8[], $6::int4[], $7::int4[]) \
         AS b(prefix, lo, hi, start, n)";

/// Files only accessed, by events all newer than what the row has: move their times forward.
/// $1 tenant, $2 share, $3 now. The condition is checked on the row updated (a row another
/// transaction changed meanwhile is checked again as it is now), so a file it leaves out is
/// simply read and replayed like the others.
const UPDATE_ACCESSED: &str = "UPDATE file_current fc SET accessed_utc = k.accessed_max, \
         last_accessed_source = 'lucidlink_audit', atime_updated_utc = $3, \
         modified_utc = coalesce(k.written_max, fc.modified_utc) \
     FROM pg_temp.alto_feed_key k \
     WHERE k.only_accessed AND k.accessed_min IS NOT NULL \
         AND fc.tenant_id = $1 AND fc.share_id = $2 AND fc.path_key = k.path_key \
         AND (fc.accessed_utc IS NULL OR k.accessed_min > fc.accessed_utc) \
         AND (k.written_min IS NULL OR fc.modified_utc IS NULL \
             OR k.written_min > fc.modified_utc) \
     RETURNING k.kid";

/// What the store has for the keys the update above did not cover. $3 keys, $4 their ids.
const STATE: &str = "SELECT k.kid, fc.accessed_utc, fc.modified_utc, fc.missing_since \
     FROM unnest($3::text[], $4::int8[]) AS k(path_key, kid) \
     JOIN file_current fc ON fc.tenant_id = $1 AND fc.share_id = $2 \
         AND fc.path_key = k.path_key COLLATE \"C\"";

/// The staged keys' tier objects: their files are locked first (in key order), then the objects.
const LOCK_FILES: &str = "SELECT 1 FROM file_current fc \
     WHERE fc.tenant_id = $1 AND fc.share_id = $2 AND fc.path_key IN ( \
         SELECT o.path_key FROM tier_object o JOIN pg_temp.alto_feed_key k \
             ON o.tenant_id = $1 AND o.share_id = $2 AND o.path_key = k.path_key) \
     ORDER BY fc.path_key FOR NO KEY UPDATE";

const LOCK_OBJECTS: &str = "SELECT k.kid, o.tier_id, o.state, o.target_uri \
     FROM pg_temp.alto_feed_key k \
     JOIN tier_object o ON o.tenant_id = $1 AND o.share_id = $2 AND o.path_key = k.path_key \
     ORDER BY o.path_key FOR UPDATE OF o";

/// Move access and modification times forward (never back, whatever happened since they were
/// read) and set missing marks (a file marked missing keeps the scan that last saw it, written
/// into it: `files::last_seen!`). $1 tenant, $2 share, $3 now.
const UPDATE_FILES: &str = concat!(
    "UPDATE file_current fc SET \
         accessed_utc = CASE WHEN d.accessed_utc > fc.accessed_utc \
             OR (fc.accessed_utc IS NULL AND d.accessed_utc IS NOT NULL) \
             THEN d.accessed_utc ELSE fc.accessed_utc END, \
         last_accessed_source = CASE WHEN d.accessed_utc > fc.accessed_utc \
             OR (fc.accessed_utc IS NULL AND d.accessed_utc IS NOT NULL) \
             THEN 'lucidlink_audit' ELSE fc.last_accessed_source END, \
         atime_updated_utc = CASE WHEN d.accessed_utc > fc.accessed_utc \
             OR (fc.accessed_utc IS NULL AND d.accessed_utc IS NOT NULL) \
             THEN $3 ELSE fc.atime_updated_utc END, \
         modified_utc = greatest(fc.modified_utc, d.modified_utc), \
         missing_since = coalesce(fc.missing_since, d.missing_since), \
         last_seen_scan_id = CASE WHEN d.missing_since IS NULL THEN fc.last_seen_scan_id ELSE ",
    crate::files::last_seen!(),
    " END \
     FROM pg_temp.alto_feed_delta d, share sh \
     WHERE fc.tenant_id = $1 AND fc.share_id = $2 AND fc.path_key = d.path_key \
       AND sh.tenant_id = $1 AND sh.share_id = $2"
);

const OPS: &str = "SELECT alto_feed_ops($1, $2, $3::text[], $4::text[], $5::text[], $6::int8[], \
     $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], \
     $12::text[])";

/// The objects the replay changed (by tier id): state, transitions, warming, and the target URI
/// of one that moves carried to another key ([`moved_target_uri`]; NULL: it stays). Its stored
/// object (`object_key` …) stays: the object itself does not move.
const UPDATE_OBJECTS: &str = "UPDATE tier_object o SET state = d.state, \
         version = o.version + d.dv, acted_utc = coalesce(d.acted, o.acted_utc), \
         last_accessed_utc = greatest(o.last_accessed_utc, d.last), \
         access_count = o.access_count + d.n, target_uri = coalesce(d.uri, o.target_uri) \
     FROM unnest($2::int8[], $3::text[], $4::int8[], $5::timestamptz[], $6::timestamptz[], \
         $7::int8[], $8::text[]) AS d(tier_id, state, dv, acted, last, n, uri) \
     WHERE o.tenant_id = $1 AND o.tier_id = d.tier_id";

/// The DELETED transitions' events, under the batch's event (`$5`, checked to exist first).
const AUDIT_DELETES: &str = "INSERT INTO audit_event (tenant_id, event_utc, kind, subject, detail, \
         parent_event_id, parent_event_date) \
     SELECT $1, d.at, 'tier.delete', d.key, \
         jsonb_build_object('share', $2::text, 'from', 'STUBBED', 'to', 'DELETED'), \
         p.event_id, p.event_date \
     FROM unnest($3::timestamptz[], $4::text[]) WITH ORDINALITY AS d(at, key, ord) \
     LEFT JOIN audit_event p ON p.tenant_id = $1 AND p.event_id = $5 \
     ORDER BY d.ord";

const QUEUE_UNKNOWN: &str = "INSERT INTO feed_unknown_event (tenant_id, share_id, event_id, \
         event_utc, action, entry_path, target_path, user_name) \
     SELECT $1, $2, u.id, u.at, u.action, u.path, u.target, u.usr \
     FROM unnest($3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[]) \
         WITH ORDINALITY AS u(id, at, action, path, target, usr, ord) \
     ORDER BY u.ord";

const SAVE_CURSORS: &str = "INSERT INTO feed_cursor AS c (tenant_id, share_id, feed, node_id, \
         stem, byte_offset, line, updated_utc) \
     SELECT $1, $2, $3, u.node, u.stem, u.off, u.line, now() \
     FROM unnest($4::text[], $5::text[], $6::int8[], $7::int8[]) AS u(node, stem, off, line) \
     ON CONFLICT (tenant_id, share_id, feed, node_id, stem) DO UPDATE \
         SET byte_offset = excluded.byte_offset, line = excluded.line, \
             updated_utc = excluded.updated_utc";

/// A tier object's target URI after a move from path key `old` to `new` (the memory store's
/// rule): the target root — the URI without the old key's [`object_key`], as
/// `alto_core::worker::target_root` finds it — joined with the new key's. A URI that does not end
/// with the old key's (or a key without one) stays as it is.
fn moved_target_uri(uri: &str, old: &str, new: &str) -> String {
    match (object_key(old), object_key(new)) {
        (Ok(old), Ok(new)) => match uri.strip_suffix(old.as_str()) {
            Some(root) => format!("{root}{new}"),
            None => uri.to_owned(),
        },
        _ => uri.to_owned(),
    }
}

/// The LucidLink spelling of an action (how the unknown-path queue stores it).
fn action_name(a: FeedAction) -> &'static str {
    FeedAction::ALL
        .iter()
        .find(|(x, _)| *x == a)
        .map_or("FileRead", |(_, n)| n)
}

/// An event id as (prefix, number): `<prefix>/<digits>` with the digits in canonical decimal
/// (no leading zero, at most 18 of them), else the whole id and -1. One-to-one, so two ids are
/// equal exactly when their pairs are.
fn split_id(id: &str) -> (&str, i64) {
    if let Some((prefix, digits)) = id.rsplit_once('/') {
        let canonical = !digits.is_empty()
            && digits.len() <= 18
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if canonical {
            if let Ok(n) = digits.parse::<i64>() {
                return (prefix, n);
            }
        }
    }
    (id, -1)
}

fn no_nul(what: &str, ev: &AccessEvent, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(Error::invalid_input(format!(
            "feed event {:?}: its {what} contains a NUL byte, which PostgreSQL text cannot hold",
            ev.id
        )));
    }
    Ok(())
}

fn pg_time(ev: &AccessEvent) -> Result<i64> {
    to_pg(ev.at).ok_or_else(|| {
        Error::invalid_input(format!(
            "feed event {:?}: time {} is outside PostgreSQL's timestamp range",
            ev.id, ev.at
        ))
    })
}

pub(crate) async fn feed_cursors(
    store: &PgStore,
    tenant: TenantId,
    share: &str,
    feed: &str,
) -> Result<Cursors> {
    let mut tx = store.begin(tenant).await?;
    let sid = crate::tenant::share_id(&mut tx, tenant, share).await?;
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT node_id, stem, byte_offset, line FROM feed_cursor \
         WHERE tenant_id = $1 AND share_id = $2 AND feed = $3",
    )
    .bind(tenant.0)
    .bind(sid)
    .bind(feed)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(node, stem, offset, line)| {
            (
                (node, stem),
                Cursor {
                    offset: offset.max(0) as u64,
                    line: line.max(0) as u64,
                },
            )
        })
        .collect())
}

pub(crate) async fn unknown_events(
    store: &PgStore,
    tenant: TenantId,
    share: &str,
    limit: usize,
) -> Result<Vec<AccessEvent>> {
    let limit = if limit == 0 { 1000 } else { limit };
    let mut tx = store.begin(tenant).await?;
    let sid = match crate::tenant::share_id(&mut tx, tenant, share).await {
        Ok(sid) => sid,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let rows = sqlx::query(
        "SELECT event_id, event_utc, action, entry_path, target_path, user_name \
         FROM feed_unknown_event WHERE tenant_id = $1 AND share_id = $2 ORDER BY seq LIMIT $3",
    )
    .bind(tenant.0)
    .bind(sid)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let at: PgTime = r.try_get(1).map_err(db_err)?;
            let action: String = r.try_get(2).map_err(db_err)?;
            Ok(AccessEvent {
                id: r.try_get(0).map_err(db_err)?,
                at: at.0,
                action: FeedAction::parse(&action).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Backend,
                        format!("unknown feed action {action:?} stored"),
                    )
                })?,
                path: r.try_get(3).map_err(db_err)?,
                target_path: r.try_get(4).map_err(db_err)?,
                user: r.try_get(5).map_err(db_err)?,
            })
        })
        .collect()
}

/// A file record during the replay.
struct Rec {
    /// From the store (else a placeholder made by this batch).
    stored: bool,
    /// Its times were already written (the files-only-accessed update).
    written: bool,
    /// Its key at the start (stored records) or where it was made (placeholders).
    kid: usize,
    accessed: Option<Micros>,
    modified: Option<Micros>,
    missing: Option<Micros>,
    /// What this batch changed.
    accessed_moved: bool,
    modified_moved: bool,
    missing_set: bool,
}

impl Rec {
    fn stored(kid: usize, accessed: Option<PgTime>, modified: Option<PgTime>) -> Rec {
        Rec {
            stored: true,
            written: false,
            kid,
            accessed: micros(accessed),
            modified: micros(modified),
            missing: None,
            accessed_moved: false,
            modified_moved: false,
            missing_set: false,
        }
    }
}

/// A tier object during the replay.
struct Obj {
    tier_id: i64,
    /// Its target URI: as stored, then as the batch's moves leave it.
    target_uri: String,
    state: TierState,
    /// Transitions (version bumps other than moves, which the server-side call makes).
    transitions: i64,
    acted: Option<Micros>,
    last: Option<Micros>,
    count: i64,
    touched: bool,
    /// A move changed its target URI.
    target_moved: bool,
}

/// A step carried out on the server in event order.
enum Op {
    Placeholder {
        rec: usize,
        full: String,
        ext: Option<String>,
    },
    Move {
        from: usize,
        to: usize,
        full: String,
    },
}

/// One live event's mapped paths.
struct Mapped {
    kid: usize,
    full: String,
    /// A move's target: its full path and key, or why it cannot be mapped.
    target: Option<std::result::Result<(String, usize), Error>>,
}

/// A staged key: the first and last access and write of its events, and whether only accesses
/// (and events that change nothing) name it.
struct KeyInfo {
    key: String,
    only_accessed: bool,
    accessed: Option<(Micros, Micros)>,
    written: Option<(Micros, Micros)>,
}

pub(crate) async fn apply_events(
    store: &PgStore,
    tenant: TenantId,
    share_name: &str,
    batch: &EventBatch,
) -> Result<ApplyOutcome> {
    let mut tx = store.begin(tenant).await?;
    let row = sqlx::query(
        "SELECT t.settings, s.share_id, s.case_sensitive, s.mount_root, s.kind FROM tenant t \
         LEFT JOIN share s ON s.tenant_id = t.tenant_id AND s.name = $2 \
         WHERE t.tenant_id = $1",
    )
    .bind(tenant.0)
    .bind(share_name)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::not_found(format!("tenant {tenant} does not exist")))?;
    if let Some(p) = batch.parent {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM audit_event WHERE tenant_id = $1 AND event_id = $2")
                .bind(tenant.0)
                .bind(p)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if found.is_none() {
            return Err(Error::not_found(format!(
                "parent audit event {p} does not exist"
            )));
        }
    }
    let Json(settings): Json<TenantSettings> = row.try_get(0).map_err(db_err)?;
    let sid: i64 = row
        .try_get::<Option<i64>, _>(1)
        .map_err(db_err)?
        .ok_or_else(|| Error::not_found(format!("share {share_name:?} does not exist")))?;
    let case_sensitive: bool = row.try_get(2).map_err(db_err)?;
    let mount_root: Option<String> = row.try_get(3).map_err(db_err)?;
    let share_kind: Option<String> = row.try_get(4).map_err(db_err)?;
    let rule = KeyRule::new(
        crate::tenant::share_kind(share_kind.as_deref().unwrap_or("posix"))?,
        case_sensitive,
    );
    lock_feed(&mut tx, tenant, sid).await?;

    let mut events: Vec<&AccessEvent> = batch.events.iter().collect();
    events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut out = ApplyOutcome::default();

    // Duplicates: repeats within the batch, and ids applied before.
    let mut dup = vec![false; events.len()];
    let mut by_prefix: HashMap<&str, Vec<(i64, usize)>> = HashMap::new();
    {
        let mut seen: HashSet<&str> = HashSet::with_capacity(events.len());
        for (i, ev) in events.iter().enumerate() {
            if !seen.insert(ev.id.as_str()) {
                dup[i] = true;
                continue;
            }
            no_nul("id", ev, &ev.id)?;
            let (prefix, n) = split_id(&ev.id);
            by_prefix.entry(prefix).or_default().push((n, i));
        }
    }
    let mut prefixes: Vec<&str> = by_prefix.keys().copied().collect();
    prefixes.sort_unstable();
    let (mut los, mut his) = (Vec::new(), Vec::new());
    for p in &prefixes {
        let nums = by_prefix.get_mut(p).expect("listed");
        nums.sort_unstable();
        los.push(nums.first().map_or(0, |x| x.0));
        his.push(nums.last().map_or(0, |x| x.0));
    }
    if !prefixes.is_empty() {
        let rows: Vec<(String, Vec<i64>)> = sqlx::query_as(SEEN_IDS)
            .bind(tenant.0)
            .bind(sid)
            .bind(&prefixes)
            .bind(&los)
            .bind(&his)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for (prefix, numbers) in rows {
            if let Some(nums) = by_prefix.get(prefix.as_str()) {
                for (n, i) in nums {
                    if numbers.binary_search(n).is_ok() {
                        dup[*i] = true;
                    }
                }
            }
        }
    }

    // Skew, and the paths of what is left.
    let map = |p: &str| -> Result<(String, String)> {
        let full = match &mount_root {
            Some(root) => join_under(root, p).map_err(Error::invalid_input)?,
            None => p.to_owned(),
        };
        let key = share_key(rule, &full);
        Ok((full, key))
    };
    let mut keys: Vec<KeyInfo> = Vec::new();
    let mut kid_of: HashMap<String, usize> = HashMap::new();
    let mut intern = |key: String| -> usize {
        if let Some(&k) = kid_of.get(&key) {
            return k;
        }
        keys.push(KeyInfo {
            key: key.clone(),
            only_accessed: true,
            accessed: None,
            written: None,
        });
        kid_of.insert(key, keys.len() - 1);
        keys.len() - 1
    };
    let mut live: Vec<(&AccessEvent, Mapped)> = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if dup[i] {
            out.duplicate += 1;
            continue;
        }
        if ev.at > batch.now.saturating_add(MAX_FUTURE) {
            out.skewed += 1;
            continue;
        }
        out.newest = Some(out.newest.map_or(ev.at, |n| n.max(ev.at)));
        pg_time(ev)?;
        let (full, key) = map(&ev.path)?;
        no_nul("path", ev, &full)?;
        let target = match (&ev.action, &ev.target_path) {
            (FeedAction::Move, Some(t)) => Some(match map(t) {
                Ok((tfull, tkey)) => {
                    no_nul("target path", ev, &tfull)?;
                    Ok((tfull, intern(tkey)))
                }
                Err(e) => Err(e),
            }),
            _ => None,
        };
        let kid = intern(key);
        live.push((ev, Mapped { kid, full, target }));
    }
    drop(kid_of);
    for (ev, m) in &live {
        match ev.action {
            FeedAction::Move | FeedAction::FileDelete => {
                keys[m.kid].only_accessed = false;
                if let Some(Ok((_, t))) = &m.target {
                    keys[*t].only_accessed = false;
                }
            }
            a if a.is_access() => {
                let span = |s: Option<(Micros, Micros)>| {
                    Some(s.map_or((ev.at, ev.at), |(lo, hi)| (lo.min(ev.at), hi.max(ev.at))))
                };
                let k = &mut keys[m.kid];
                k.accessed = span(k.accessed);
                if a == FeedAction::FileWritten {
                    k.written = span(k.written);
                }
            }
            _ => {}
        }
    }

    // What the store has for those keys.
    let mut recs: Vec<Rec> = Vec::new();
    let mut objs: Vec<Obj> = Vec::new();
    let mut slots: Vec<(Option<usize>, Option<usize>)> = vec![(None, None); keys.len()];
    if !keys.is_empty() {
        let bytes: usize = keys.iter().map(|k| k.key.len() + 80).sum();
        let mut copy = BinaryCopy::with_capacity(bytes);
        for (kid, k) in keys.iter().enumerate() {
            copy.row(7);
            copy.int8(kid as i64);
            copy.text(Some(&k.key));
            copy.boolean(k.only_accessed);
            copy.timestamp(k.accessed.and_then(|a| to_pg(a.0)));
            copy.timestamp(k.accessed.and_then(|a| to_pg(a.1)));
            copy.timestamp(k.written.and_then(|w| to_pg(w.0)));
            copy.timestamp(k.written.and_then(|w| to_pg(w.1)));
        }
        copy_in(&mut tx, COPY_KEYS, copy.finish()).await?;
        // Files only accessed by newer events: written now. Their stored times were older than
        // every event, so the replay needs none of them (it starts them empty: same decisions).
        let updated: Vec<i64> = sqlx::query_scalar(UPDATE_ACCESSED)
            .bind(tenant.0)
            .bind(sid)
            .bind(PgTime(batch.now))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for kid in updated {
            let kid = kid as usize;
            let mut rec = Rec::stored(kid, None, None);
            rec.written = true;
            recs.push(rec);
            slots[kid].0 = Some(recs.len() - 1);
        }
        type Old = (i64, Option<PgTime>, Option<PgTime>, Option<PgTime>);
        // The others: read.
        let (rest_keys, rest_ids): (Vec<&str>, Vec<i64>) = keys
            .iter()
            .enumerate()
            .filter(|(kid, _)| slots[*kid].0.is_none())
            .map(|(kid, k)| (k.key.as_str(), kid as i64))
            .unzip();
        if !rest_keys.is_empty() {
            let rows: Vec<Old> = sqlx::query_as(STATE)
                .bind(tenant.0)
                .bind(sid)
                .bind(&rest_keys)
                .bind(&rest_ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            for (kid, accessed, modified, missing) in rows {
                let kid = kid as usize;
                let mut rec = Rec::stored(kid, accessed, modified);
                rec.missing = micros(missing);
                recs.push(rec);
                slots[kid].0 = Some(recs.len() - 1);
            }
        }
        sqlx::query(LOCK_FILES)
            .bind(tenant.0)
            .bind(sid)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(LOCK_OBJECTS)
            .bind(tenant.0)
            .bind(sid)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for (kid, tier_id, state, target_uri) in rows {
            objs.push(Obj {
                tier_id,
                target_uri,
                state: state.parse()?,
                transitions: 0,
                acted: None,
                last: None,
                count: 0,
                touched: false,
                target_moved: false,
            });
            slots[kid as usize].1 = Some(objs.len() - 1);
        }
    }

    // Replay the batch over them, event by event (the reference store's rules).
    let policy = settings.unknown_paths;
    let mut ops: Vec<Op> = Vec::new();
    let mut unknown: Vec<&AccessEvent> = Vec::new();
    let mut deletes: Vec<(Micros, usize)> = Vec::new();
    for (ev, m) in &live {
        let k = m.kid;
        let Some(r) = slots[k].0 else {
            if matches!(
                ev.action,
                FeedAction::DirectoryCreate | FeedAction::DirectoryDelete
            ) {
                out.other += 1;
                continue;
            }
            out.unknown += 1;
            match policy {
                UnknownPathPolicy::Queue => unknown.push(ev),
                UnknownPathPolicy::Ignore => {}
                UnknownPathPolicy::Placeholder => {
                    recs.push(Rec {
                        stored: false,
                        written: false,
                        kid: k,
                        accessed: ev.action.is_access().then_some(ev.at),
                        modified: None,
                        missing: None,
                        accessed_moved: false,
                        modified_moved: false,
                        missing_set: false,
                    });
                    slots[k].0 = Some(recs.len() - 1);
                    ops.push(Op::Placeholder {
                        rec: recs.len() - 1,
                        full: m.full.clone(),
                        ext: extension(&ev.path).map(str::to_owned),
                    });
                }
                other => {
                    return Err(alto_core::Error::unsupported(
                        &format!("the unknown-path policy {other:?}"),
                        "postgres",
                    ));
                }
            }
            continue;
        };
        match ev.action {
            a if a.is_access() => {
                let rec = &mut recs[r];
                let mut moved = false;
                if rec.accessed.is_none_or(|old| ev.at > old) {
                    rec.accessed = Some(ev.at);
                    rec.accessed_moved = true;
                    moved = true;
                }
                if a == FeedAction::FileWritten && rec.modified.is_none_or(|old| ev.at > old) {
                    rec.modified = Some(ev.at);
                    rec.modified_moved = true;
                    moved = true;
                }
                if moved {
                    out.applied += 1;
                } else {
                    out.stale += 1;
                }
                if let Some(o) = slots[k].1 {
                    let o = &mut objs[o];
                    if matches!(o.state, TierState::Planned | TierState::Stubbed) {
                        o.last = Some(o.last.map_or(ev.at, |l| l.max(ev.at)));
                        // Counters, not state: the version stays.
                        o.count += 1;
                        o.touched = true;
                        out.warmed.push(Warmed {
                            share: share_name.to_owned(),
                            path_key: keys[k].key.clone(),
                            state: o.state,
                            at: ev.at,
                        });
                    }
                }
            }
            FeedAction::Move => {
                let Some(target) = &m.target else {
                    out.other += 1;
                    continue;
                };
                let (tfull, tk) = match target {
                    Ok((f, t)) => (f.clone(), *t),
                    Err(e) => return Err(Error::invalid_input(e.message().to_owned())),
                };
                let rec = slots[k].0.take();
                slots[tk].0 = rec;
                if let Some(o) = slots[k].1.take() {
                    slots[tk].1 = Some(o);
                    // The server-side call re-keys it; its target URI follows here.
                    let obj = &mut objs[o];
                    let uri = moved_target_uri(&obj.target_uri, &keys[k].key, &keys[tk].key);
                    if uri != obj.target_uri {
                        obj.target_uri = uri;
                        obj.target_moved = true;
                        obj.touched = true;
                    }
                }
                ops.push(Op::Move {
                    from: k,
                    to: tk,
                    full: tfull,
                });
                out.moved += 1;
                out.applied += 1;
            }
            FeedAction::FileDelete => {
                let rec = &mut recs[r];
                if rec.missing.is_none() {
                    rec.missing = Some(ev.at);
                    rec.missing_set = true;
                }
                if let Some(o) = slots[k].1 {
                    let o = &mut objs[o];
                    if o.state == TierState::Stubbed {
                        o.state = TierState::Deleted;
                        o.transitions += 1;
                        o.acted = Some(ev.at);
                        o.touched = true;
                        deletes.push((ev.at, k));
                    }
                }
                out.deleted += 1;
                out.applied += 1;
            }
            _ => out.other += 1,
        }
    }

    // Write the rest: stored files' new values first (by their keys before any move), then the
    // moves and placeholders in event order, then the objects, the audit trail, the queue, the
    // applied ids, the cursors.
    let mut delta = BinaryCopy::with_capacity(0);
    for rec in recs.iter().filter(|r| r.stored && !r.written) {
        if !(rec.accessed_moved || rec.modified_moved || rec.missing_set) {
            continue;
        }
        let t = |v: Option<Micros>, on: bool| on.then_some(v).flatten().and_then(to_pg);
        delta.row(4);
        delta.text(Some(&keys[rec.kid].key));
        delta.timestamp(t(rec.accessed, rec.accessed_moved));
        delta.timestamp(t(rec.modified, rec.modified_moved));
        delta.timestamp(t(rec.missing, rec.missing_set));
    }
    if !delta.is_empty() {
        copy_in(&mut tx, COPY_DELTA, delta.finish()).await?;
        sqlx::query(UPDATE_FILES)
            .bind(tenant.0)
            .bind(sid)
            .bind(PgTime(batch.now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }

    let mut new_dirs = Vec::new();
    if !ops.is_empty() {
        new_dirs = apply_ops(store, &mut tx, tenant, sid, &ops, &recs, &keys, batch.now).await?;
    }

    let touched: Vec<&Obj> = objs.iter().filter(|o| o.touched).collect();
    if !touched.is_empty() {
        sqlx::query(UPDATE_OBJECTS)
            .bind(tenant.0)
            .bind(touched.iter().map(|o| o.tier_id).collect::<Vec<_>>())
            .bind(touched.iter().map(|o| o.state.as_str()).collect::<Vec<_>>())
            .bind(touched.iter().map(|o| o.transitions).collect::<Vec<_>>())
            .bind(
                touched
                    .iter()
                    .map(|o| o.acted.map(PgTime))
                    .collect::<Vec<_>>(),
            )
            .bind(
                touched
                    .iter()
                    .map(|o| o.last.map(PgTime))
                    .collect::<Vec<_>>(),
            )
            .bind(touched.iter().map(|o| o.count).collect::<Vec<_>>())
            .bind(
                touched
                    .iter()
                    .map(|o| o.target_moved.then_some(o.target_uri.as_str()))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if !deletes.is_empty() {
        sqlx::query(AUDIT_DELETES)
            .bind(tenant.0)
            .bind(share_name)
            .bind(
                deletes
                    .iter()
                    .map(|(at, _)| PgTime(*at))
                    .collect::<Vec<_>>(),
            )
            .bind(
                deletes
                    .iter()
                    .map(|(_, k)| keys[*k].key.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(batch.parent)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if !unknown.is_empty() {
        for ev in &unknown {
            if let Some(u) = &ev.user {
                no_nul("user", ev, u)?;
            }
        }
        sqlx::query(QUEUE_UNKNOWN)
            .bind(tenant.0)
            .bind(sid)
            .bind(unknown.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
            .bind(unknown.iter().map(|e| PgTime(e.at)).collect::<Vec<_>>())
            .bind(
                unknown
                    .iter()
                    .map(|e| action_name(e.action))
                    .collect::<Vec<_>>(),
            )
            .bind(unknown.iter().map(|e| e.path.as_str()).collect::<Vec<_>>())
            .bind(
                unknown
                    .iter()
                    .map(|e| e.target_path.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(
                unknown
                    .iter()
                    .map(|e| e.user.as_deref())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    // Every id not seen before is recorded (skewed ones too): one row per prefix.
    let (mut r_prefix, mut r_lo, mut r_hi, mut r_start, mut r_n, mut r_nums) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for p in &prefixes {
        let fresh: Vec<i64> = by_prefix[p]
            .iter()
            .filter(|(_, i)| !dup[*i])
            .map(|(n, _)| *n)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        r_prefix.push(*p);
        r_lo.push(fresh[0]);
        r_hi.push(fresh[fresh.len() - 1]);
        r_start.push(i32::try_from(r_nums.len() + 1).unwrap_or(i32::MAX));
        r_n.push(i32::try_from(fresh.len()).unwrap_or(i32::MAX));
        r_nums.extend(fresh);
    }
    if !r_prefix.is_empty() {
        sqlx::query(RECORD_IDS)
            .bind(tenant.0)
            .bind(sid)
            .bind(&r_prefix)
            .bind(&r_lo)
            .bind(&r_hi)
            .bind(&r_start)
            .bind(&r_n)
            .bind(&r_nums)
            // The batch's time, as the other stores keep it: retention counts from it.
            .bind(PgTime(batch.now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    if !batch.cursors.is_empty() {
        // The last position of each (node, stem) wins.
        let cursors: BTreeMap<&(String, String), &Cursor> =
            batch.cursors.iter().map(|(k, c)| (k, c)).collect();
        let big = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(SAVE_CURSORS)
            .bind(tenant.0)
            .bind(sid)
            .bind(&batch.feed)
            .bind(cursors.keys().map(|k| k.0.as_str()).collect::<Vec<_>>())
            .bind(cursors.keys().map(|k| k.1.as_str()).collect::<Vec<_>>())
            .bind(cursors.values().map(|c| big(c.offset)).collect::<Vec<_>>())
            .bind(cursors.values().map(|c| big(c.line)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    if !new_dirs.is_empty() {
        let d: Vec<(&str, i64)> = new_dirs.iter().map(|(d, i)| (d.as_str(), *i)).collect();
        store.dirs.remember(tenant, sid, &d);
    }
    Ok(out)
}

/// Carry out the moves and placeholders in event order (one server-side call). Returns the
/// directories it had to create, for the cache once committed.
#[allow(clippy::too_many_arguments)]
async fn apply_ops(
    store: &PgStore,
    tx: &mut sqlx::PgConnection,
    tenant: TenantId,
    sid: i64,
    ops: &[Op],
    recs: &[Rec],
    keys: &[KeyInfo],
    now: Micros,
) -> Result<Vec<(String, i64)>> {
    // The directories of the keys records land on.
    let landing = |op: &Op| -> usize {
        match op {
            Op::Placeholder { rec, .. } => recs[*rec].kid,
            Op::Move { to, .. } => *to,
        }
    };
    let mut dir_index: HashMap<&str, usize> = HashMap::new();
    let mut dir_list: Vec<(&str, i64)> = Vec::new();
    let mut op_dir = Vec::with_capacity(ops.len());
    for op in ops {
        let d = split_dir(&keys[landing(op)].key).0;
        let i = *dir_index.entry(d).or_insert_with(|| {
            dir_list.push((d, 0));
            dir_list.len() - 1
        });
        op_dir.push(i);
    }
    let fresh = dirs::resolve(store, &mut *tx, tenant, sid, &mut dir_list).await?;
    let n = ops.len();
    let (mut kind, mut key, mut full, mut dir, mut target) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut acc, mut modi, mut miss, mut atime, mut ext) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut moves = false;
    for (op, d) in ops.iter().zip(&op_dir) {
        dir.push(dir_list[*d].1);
        match op {
            Op::Placeholder {
                rec,
                full: f,
                ext: e,
            } => {
                let r = &recs[*rec];
                kind.push("placeholder");
                key.push(keys[r.kid].key.as_str());
                full.push(f.as_str());
                target.push(None);
                acc.push(r.accessed.map(PgTime));
                modi.push(r.modified.map(PgTime));
                miss.push(r.missing.map(PgTime));
                atime.push(r.accessed.map(|_| PgTime(now)));
                ext.push(e.as_deref());
            }
            Op::Move { from, to, full: f } => {
                moves = true;
                kind.push("move");
                key.push(keys[*from].key.as_str());
                full.push(f.as_str());
                target.push(Some(keys[*to].key.as_str()));
                acc.push(None);
                modi.push(None);
                miss.push(None);
                atime.push(None);
                ext.push(None);
            }
        }
    }
    if moves {
        // Objects follow their files within the call; the reference is checked at commit.
        sqlx::query("SET CONSTRAINTS tier_object_tenant_id_share_id_path_key_fkey DEFERRED")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    sqlx::query(OPS)
        .bind(tenant.0)
        .bind(sid)
        .bind(&kind)
        .bind(&key)
        .bind(&full)
        .bind(&dir)
        .bind(&target)
        .bind(&acc)
        .bind(&modi)
        .bind(&miss)
        .bind(&atime)
        .bind(&ext)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(if fresh {
        dir_list
            .iter()
            .map(|(d, id)| ((*d).to_owned(), *id))
            .collect()
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_one_to_one() {
        assert_eq!(
            split_id("100/2026-06-25T20.29.18Z/4096"),
            ("100/2026-06-25T20.29.18Z", 4096)
        );
        assert_eq!(split_id("b/0"), ("b", 0));
        assert_eq!(split_id("b/007"), ("b/007", -1));
        assert_eq!(split_id("b/"), ("b/", -1));
        assert_eq!(split_id("b/12a"), ("b/12a", -1));
        assert_eq!(split_id("12"), ("12", -1));
        assert_eq!(
            split_id("x/1234567890123456789"),
            ("x/1234567890123456789", -1)
        );
        assert_eq!(
            split_id("x/123456789012345678"),
            ("x", 123_456_789_012_345_678)
        );
    }
}
