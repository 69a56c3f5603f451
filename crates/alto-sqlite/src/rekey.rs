//! Re-deriving stored path keys by the share's rule (schema version 5).
//!
//! Keys are [`alto_core::path::share_key`]: on POSIX and LucidLink shares only `/` separates, and
//! every key is Unicode NFC. A database of version 4 or older holds keys of the older rule (every
//! path normalised as a Windows path, no NFC), so a re-ingest of `/x/a\b` or of an NFD name would
//! make a second record beside the old one. SQL cannot compute the new keys, so the migration to
//! version 5 runs [`run`] right after its SQL, in the same transaction (`open::migrate`), while
//! `alto_meta`'s `path_keys` row reads `pending`:
//!
//! 1. the candidates are read in one pass over `file_current` by id, a page at a time: rows whose
//!    path is not ASCII (NFC may change it) and, on POSIX and LucidLink shares, rows whose path has
//!    a `\` or a `//` or ends in `/` (the only ASCII paths whose key the new rule changes); the new
//!    key is computed for each and only the rows whose key changes are kept;
//! 2. per share, a row moves to its new key when no other row holds it: the key, the name and the
//!    directory of its `file_current` row and the key of its tier object (whose version goes up,
//!    as when a feed moves it, and whose target URI keeps ending in the object key of its path
//!    key); snapshot rows (`file`) name the record by id and need nothing;
//! 3. a row whose new key another row of the share holds (a row that stays, or one that moved
//!    there first, in key order) is not merged: it stays at its old key and is listed in
//!    `path_key_collision`. Moves that wait on each other in a cycle are collisions too;
//! 4. `path_keys` then holds the outcome as JSON (`rederived`, `collisions`, `recorded`: rows
//!    newly listed, `at_utc`): the place to look, since opening a store prints nothing.
//!
//! Re-running changes nothing: moved rows have their new key, and a collision already listed is
//! not listed again (tests set `path_keys` back to `pending` to check).

use crate::codec;
use crate::error::{corrupt, db, db_in};
use alto_core::Result;
use alto_core::path::{KeyRule, dir_hash64, object_key, share_key_into, split_dir};
use sqlx::{Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap};

/// The value of `alto_meta`'s `path_keys` row while the step has not run.
const PENDING: &str = "pending";

const MARKER: &str = "SELECT value FROM alto_meta WHERE key = 'path_keys'";

const MARKER_SET: &str = "UPDATE alto_meta SET value = ?1 WHERE key = 'path_keys'";

/// Every share of every tenant: this step is the database's, not one tenant's.
const SHARES: &str = "SELECT tenant_id, share_id, kind, case_sensitive FROM share";

/// Rows whose key the new rule may change, after the id `?1`, at most `?2`, in id order: one
/// pass over the table (`CROSS JOIN` keeps `file_current` the outer loop, walked by rowid).
/// `length` counts characters and the blob's length bytes: they differ exactly for non-ASCII
/// text (or text with a NUL, which only adds a candidate). A key longer than
/// [`MAX_KEY_BYTES`](alto_core::path::MAX_KEY_BYTES) (2,600 bytes; stored before keys were
/// bounded) is a candidate too: its new key is bounded.
const CANDIDATES: &str = "SELECT f.file_current_id, f.tenant_id, f.share_id, f.path_key, \
     f.full_path FROM file_current AS f CROSS JOIN share AS h \
     ON h.tenant_id = f.tenant_id AND h.share_id = f.share_id \
     WHERE f.file_current_id > ?1 \
     AND (length(f.full_path) <> length(CAST(f.full_path AS BLOB)) \
          OR length(CAST(f.path_key AS BLOB)) > 2600 \
          OR (h.kind IN ('posix', 'lucidlink') AND (instr(f.full_path, '\\') > 0 \
              OR instr(f.full_path, '//') > 0 OR substr(f.full_path, -1) = '/'))) \
     ORDER BY f.file_current_id LIMIT ?2";

/// The rows of a share at some keys (`?3`: JSON array of keys).
const HELD: &str = "SELECT f.path_key, f.file_current_id FROM json_each(?3) AS j \
     CROSS JOIN file_current AS f \
     WHERE f.tenant_id = ?1 AND f.share_id = ?2 AND f.path_key = j.value";

/// Directories (`?3`: JSON array of `[dir_path, dir_hash64]`), recorded if new.
const DIR_ENSURE: &str = "INSERT INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
     SELECT ?1, ?2, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') \
     FROM json_each(?3) AS j WHERE true \
     ON CONFLICT (tenant_id, share_id, dir_path) DO NOTHING";

/// The ids of directories (`?3`: JSON array of directory paths).
const DIR_IDS: &str = "SELECT d.dir_path, d.dir_id FROM json_each(?3) AS j \
     CROSS JOIN dir AS d \
     WHERE d.tenant_id = ?1 AND d.share_id = ?2 AND d.dir_path = j.value";

/// Moves (`?3`: JSON array of `[file_current_id, new key, name, dir_id, old object key, new
/// object key]`); `?4`: now.
const FILE_MOVE: &str = "WITH m (id, path_key, name, dir_id) AS (SELECT \
     json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), \
     json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]') FROM json_each(?3) AS j) \
     UPDATE file_current SET path_key = m.path_key, name = m.name, dir_id = m.dir_id, \
     updated_utc = ?4 \
     FROM m WHERE file_current.file_current_id = m.id \
     AND +file_current.tenant_id = ?1 AND +file_current.share_id = ?2";

/// The tier objects of the moved records follow them (the same `?3` as [`FILE_MOVE`]). A target
/// URI is the target joined with the object key of the path key (`alto_core::path::object_key`,
/// which `worker::target_root` strips off again): where NFC changes that key, its end follows.
const OBJECT_MOVE: &str = "WITH m (id, path_key, old_obj, new_obj) AS (SELECT \
     json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), \
     json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]') FROM json_each(?3) AS j) \
     UPDATE tier_object SET path_key = m.path_key, version = version + 1, \
     target_uri = CASE WHEN m.old_obj <> m.new_obj \
         AND length(target_uri) >= length(m.old_obj) \
         AND substr(target_uri, length(target_uri) - length(m.old_obj) + 1) = m.old_obj \
         THEN substr(target_uri, 1, length(target_uri) - length(m.old_obj)) || m.new_obj \
         ELSE target_uri END \
     FROM m WHERE tier_object.file_current_id = m.id \
     AND +tier_object.tenant_id = ?1 AND +tier_object.share_id = ?2";

/// Collisions (`?3`: JSON array of `[file_current_id, old key, full path, new key, other id]`);
/// `?4`: now. One already listed is left as it is.
const COLLISION_INSERT: &str = "INSERT INTO path_key_collision (tenant_id, share_id, \
     file_current_id, old_key, full_path, new_key, other_id, recorded_utc) \
     SELECT ?1, ?2, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), \
     json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'), \
     json_extract(j.value, '$[4]'), ?4 FROM json_each(?3) AS j WHERE true \
     ON CONFLICT (tenant_id, share_id, old_key, new_key) DO NOTHING";

/// Candidate rows read per statement.
const PAGE: i64 = 10_000;

/// Rows per write statement.
const BATCH: usize = 1_000;

/// What the step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Report {
    /// Records moved to their new key.
    pub rederived: u64,
    /// Records left at their old key because another record holds the new one.
    pub collisions: u64,
    /// Collisions newly listed in `path_key_collision` (a re-run lists none).
    pub recorded: u64,
}

/// Whether the step is still to run (`alto_meta`'s `path_keys` row reads `pending`).
pub(crate) async fn pending(conn: &mut SqliteConnection) -> Result<bool> {
    let v: Option<String> = sqlx::query_scalar(MARKER)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(v.as_deref() == Some(PENDING))
}

/// Re-derive every share's keys and record the outcome in `alto_meta` (see the module docs).
/// Runs inside the caller's write transaction.
pub(crate) async fn run(conn: &mut SqliteConnection, now: i64) -> Result<Report> {
    let mut rules: HashMap<(i64, i64), KeyRule> = HashMap::new();
    for r in sqlx::query(SHARES)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
    {
        let kind: String = r.try_get(2).map_err(db)?;
        let case_sensitive: bool = r.try_get(3).map_err(db)?;
        rules.insert(
            (r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?),
            KeyRule::new(codec::share_kind(&kind)?, case_sensitive),
        );
    }
    let mut moves: BTreeMap<(i64, i64), Vec<Move>> = BTreeMap::new();
    let mut after = 0i64;
    let mut key = String::new();
    loop {
        let rows = sqlx::query(CANDIDATES)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_in("cannot read the records whose keys may change"))?;
        let n = rows.len();
        for r in rows {
            let id: i64 = r.try_get(0).map_err(db)?;
            let share = (r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?);
            after = id;
            let rule = rules
                .get(&share)
                .ok_or_else(|| corrupt(format!("file record {id} of a missing share")))?;
            let full: String = r.try_get(4).map_err(db)?;
            share_key_into(*rule, &full, &mut key);
            let old: String = r.try_get(3).map_err(db)?;
            if key != old {
                moves.entry(share).or_default().push(Move {
                    id,
                    old,
                    new: key.clone(),
                    full,
                });
            }
        }
        if (n as i64) < PAGE {
            break;
        }
    }
    let mut report = Report::default();
    for ((tenant, share), moves) in moves {
        rekey_share(conn, tenant, share, moves, now, &mut report).await?;
    }
    let outcome = serde_json::json!({
        "rederived": report.rederived,
        "collisions": report.collisions,
        "recorded": report.recorded,
        "at_utc": now,
    });
    sqlx::query(MARKER_SET)
        .bind(outcome.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(report)
}

/// A record whose key changes.
#[derive(Debug)]
struct Move {
    id: i64,
    old: String,
    new: String,
    full: String,
}

async fn rekey_share(
    conn: &mut SqliteConnection,
    tenant: i64,
    share: i64,
    mut moves: Vec<Move>,
    now: i64,
    report: &mut Report,
) -> Result<()> {
    // Key order: which of two records bound for one key gets it does not depend on ids.
    moves.sort_unstable_by(|a, b| a.old.cmp(&b.old));
    let mut held: HashMap<String, i64> = HashMap::new();
    for part in moves.chunks(BATCH) {
        let keys: Vec<&str> = part.iter().map(|m| m.new.as_str()).collect();
        for r in sqlx::query(HELD)
            .bind(tenant)
            .bind(share)
            .bind(json(&keys)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
        {
            held.insert(r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
        }
    }
    let plan = resolve(&moves, &held);

    if !plan.moved.is_empty() {
        let mut dirs: BTreeMap<&str, i64> = plan
            .moved
            .iter()
            .map(|(i, _)| (split_dir(&moves[*i].new).0, 0))
            .collect();
        let paths: Vec<&str> = dirs.keys().copied().collect();
        for part in paths.chunks(BATCH) {
            let rows: Vec<(&str, i64)> = part.iter().map(|d| (*d, dir_hash64(d))).collect();
            sqlx::query(DIR_ENSURE)
                .bind(tenant)
                .bind(share)
                .bind(json(&rows)?)
                .execute(&mut *conn)
                .await
                .map_err(db_in("cannot record a directory"))?;
            for r in sqlx::query(DIR_IDS)
                .bind(tenant)
                .bind(share)
                .bind(json(&part)?)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?
            {
                let path: String = r.try_get(0).map_err(db)?;
                if let Some(slot) = dirs.get_mut(path.as_str()) {
                    *slot = r.try_get(1).map_err(db)?;
                }
            }
        }
        // Wave by wave: a record moves into a key another record left in an earlier wave, so
        // no statement meets a key that is still taken.
        let waves = plan.moved.iter().map(|(_, w)| *w).max().unwrap_or(0);
        for wave in 0..=waves {
            let rows: Vec<(i64, &str, &str, i64, String, String)> = plan
                .moved
                .iter()
                .filter(|(_, w)| *w == wave)
                .map(|(i, _)| {
                    let m = &moves[*i];
                    let (dir, name) = split_dir(&m.new);
                    let (old_obj, new_obj) = object_keys(m);
                    (m.id, m.new.as_str(), name, dirs[dir], old_obj, new_obj)
                })
                .collect();
            for part in rows.chunks(BATCH) {
                let arg = json(&part)?;
                let n = sqlx::query(FILE_MOVE)
                    .bind(tenant)
                    .bind(share)
                    .bind(&arg)
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_in("cannot move a file record to its new key"))?
                    .rows_affected();
                if n != part.len() as u64 {
                    return Err(corrupt(format!(
                        "{n} of {} file records moved to their new keys",
                        part.len()
                    )));
                }
                sqlx::query(OBJECT_MOVE)
                    .bind(tenant)
                    .bind(share)
                    .bind(&arg)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_in("cannot move a tier object to its new key"))?;
            }
        }
        report.rederived += plan.moved.len() as u64;
    }

    let rows: Vec<(i64, &str, &str, &str, i64)> = plan
        .collided
        .iter()
        .map(|(i, other)| {
            let m = &moves[*i];
            (
                m.id,
                m.old.as_str(),
                m.full.as_str(),
                m.new.as_str(),
                *other,
            )
        })
        .collect();
    for part in rows.chunks(BATCH) {
        report.recorded += sqlx::query(COLLISION_INSERT)
            .bind(tenant)
            .bind(share)
            .bind(json(&part)?)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db_in("cannot record a path key collision"))?
            .rows_affected();
    }
    report.collisions += plan.collided.len() as u64;
    Ok(())
}

/// The object keys of a move's old and new key (both empty when either has none: the target
/// URI then stays as it is).
fn object_keys(m: &Move) -> (String, String) {
    match (object_key(&m.old), object_key(&m.new)) {
        (Ok(old), Ok(new)) => (old, new),
        _ => (String::new(), String::new()),
    }
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt(format!("cannot encode a statement's rows: {e}")))
}

/// Who holds a key while the moves are decided.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// A record that stays (this id).
    Stays(i64),
    /// A record still to be decided (this move).
    Pending(usize),
    /// A record that moved here (this move).
    Moved(usize),
}

/// The moves' fates.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Moves carried out, with their wave: a move into a key that another move leaves comes one
    /// wave after it.
    moved: Vec<(usize, u32)>,
    /// Moves not carried out, with the id of the record that holds the new key.
    collided: Vec<(usize, i64)>,
}

/// Decide the moves of one share (`moves` in key order; `held`: the records at their new keys
/// now). A move whose key is free takes it; one whose key a record that stays (or one that moved
/// there first) holds collides and its record stays; one whose key a record still to be decided
/// holds waits for it. Moves left waiting on each other (a cycle) collide.
fn resolve(moves: &[Move], held: &HashMap<String, i64>) -> Plan {
    let mut at: HashMap<&str, Held> = held
        .iter()
        .map(|(k, id)| (k.as_str(), Held::Stays(*id)))
        .collect();
    for (i, m) in moves.iter().enumerate() {
        at.insert(&m.old, Held::Pending(i));
    }
    // The wave of the move that left a key.
    let mut left: HashMap<&str, u32> = HashMap::new();
    let mut plan = Plan::default();
    let mut pending: Vec<usize> = (0..moves.len()).collect();
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        for &i in &pending {
            let m = &moves[i];
            match at.get(m.new.as_str()).copied() {
                None => {
                    let wave = left.get(m.new.as_str()).map_or(0, |w| w + 1);
                    at.remove(m.old.as_str());
                    at.insert(&m.new, Held::Moved(i));
                    left.insert(&m.old, wave);
                    plan.moved.push((i, wave));
                }
                Some(Held::Pending(_)) => waiting.push(i),
                Some(Held::Stays(other)) => {
                    plan.collided.push((i, other));
                    at.insert(&m.old, Held::Stays(m.id));
                }
                Some(Held::Moved(j)) => {
                    plan.collided.push((i, moves[j].id));
                    at.insert(&m.old, Held::Stays(m.id));
                }
            }
        }
        if waiting.len() == pending.len() {
            // Nothing moved this round: every one waits for another.
            for &i in &waiting {
                let other = match at.get(moves[i].new.as_str()) {
                    Some(Held::Pending(j) | Held::Moved(j)) => moves[*j].id,
                    Some(Held::Stays(id)) => *id,
                    None => 0,
                };
                plan.collided.push((i, other));
            }
            break;
        }
        pending = waiting;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(id: i64, old: &str, new: &str) -> Move {
        Move {
            id,
            old: old.into(),
            new: new.into(),
            full: new.into(),
        }
    }

    #[test]
    fn free_keys_are_taken_and_held_ones_collide() {
        let moves = [mv(1, "/a", "/A"), mv(2, "/b", "/B")];
        let held = HashMap::from([("/B".to_owned(), 9)]);
        let p = resolve(&moves, &held);
        assert_eq!(p.moved, [(0, 0)]);
        assert_eq!(p.collided, [(1, 9)]);
    }

    #[test]
    fn a_key_left_by_a_move_is_taken_a_wave_later() {
        // 1 waits for 2 to leave "/b"; 3 waits for 1 to leave "/a".
        let moves = [mv(1, "/a", "/b"), mv(2, "/b", "/c"), mv(3, "/c0", "/a")];
        let held = HashMap::from([("/b".to_owned(), 2), ("/a".to_owned(), 1)]);
        let p = resolve(&moves, &held);
        let mut moved = p.moved.clone();
        moved.sort_unstable();
        assert_eq!(moved, [(0, 1), (1, 0), (2, 2)]);
        assert!(p.collided.is_empty());
    }

    #[test]
    fn two_moves_to_one_key_and_cycles() {
        let moves = [mv(1, "/a", "/k"), mv(2, "/b", "/k")];
        let p = resolve(&moves, &HashMap::new());
        assert_eq!((p.moved, p.collided), (vec![(0, 0)], vec![(1, 1)]));
        let moves = [mv(1, "/a", "/b"), mv(2, "/b", "/a")];
        let held = HashMap::from([("/a".to_owned(), 1), ("/b".to_owned(), 2)]);
        let p = resolve(&moves, &held);
        assert!(p.moved.is_empty());
        assert_eq!(p.collided, [(0, 2), (1, 1)]);
    }
}
