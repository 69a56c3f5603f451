//! Re-deriving stored path keys by the share's rule (schema version 8).
//!
//! Keys are [`alto_core::path::share_key`]: on POSIX and LucidLink shares only `/` separates, and
//! every key is Unicode NFC. A database of version 7 or older holds keys of the older rule (every
//! path normalised as a Windows path, no NFC), so a re-ingest of `/x/a\b` or of an NFD name would
//! make a second record beside the old one. SQL cannot compute the new keys, so
//! [`migrate`](crate::migrate) runs [`run`] right after the migrations, as the owner, while
//! `alto_meta`'s `path_keys` row reads `pending` (migration 0008 sets it; [`PgStore::connect`]
//! refuses the database until then). All of it is one transaction, which takes `file_current`'s
//! `SHARE ROW EXCLUSIVE` lock (readers go on, writers wait):
//!
//! 1. per tenant (row-level security binds the owner too: the transaction names each tenant in
//!    turn), a cursor reads the candidates: rows whose path is not ASCII (NFC may change it) and,
//!    on POSIX and LucidLink shares, rows whose path has a `\` or a `//` or ends in `/` (the only
//!    ASCII paths whose key the new rule changes); the new key is computed for each and only the
//!    rows whose key changes are kept;
//! 2. per share, a row moves to its new key when no other row holds it: its `file_current` key
//!    and directory, its tier object (whose version goes up, as when a feed moves it, and whose
//!    target URI keeps ending in the object key of its path key, as `worker::target_root`
//!    expects) and its snapshot rows (`file`), in batched statements from a temporary table;
//! 3. a row whose new key another row of the share holds (a row that stays, or one that moved
//!    there first, in key order) is not merged: it stays at its old key and is listed in
//!    `path_key_collision`. Moves that wait on each other in a cycle are collisions too;
//! 4. `path_keys` then holds the outcome as JSON (`rederived`, `collisions`, `recorded`: rows
//!    newly listed, `at_utc`), and [`migrate`](crate::migrate) says it on stderr.
//!
//! Re-running changes nothing: moved rows have their new key, and a collision already listed is
//! not listed again (tests set `path_keys` back to `pending` to check).
//!
//! [`PgStore::connect`]: crate::PgStore::connect

use crate::error::db_err;
use crate::tenant::share_kind;
use alto_core::Result;
use alto_core::path::{KeyRule, dir_hash64, object_key, share_key_into, split_dir};
use sqlx::{Connection, PgConnection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The value of `alto_meta`'s `path_keys` row while the step has not run.
const PENDING: &str = "pending";

/// Candidates fetched per round trip.
const PAGE: usize = 10_000;

/// Rows per array parameter.
const BATCH: usize = 10_000;

/// What the re-derivation of path keys did (schema version 8; see [`migrate_report`]).
///
/// [`migrate_report`]: crate::migrate_report
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathKeyReport {
    /// Shares examined (every share of every tenant).
    pub shares: u64,
    /// File records moved to their key by the share's rule (with their tier objects and
    /// snapshot rows).
    pub rederived: u64,
    /// File records left at their old key because another record of the share holds the new one
    /// (listed in `path_key_collision`; nothing merged).
    pub collisions: u64,
    /// Collisions newly listed in `path_key_collision` (a re-run lists none).
    pub recorded: u64,
}

/// Whether the step is still to run.
pub(crate) async fn pending(conn: &mut PgConnection) -> Result<bool> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM alto_meta WHERE key = 'path_keys'")
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
    Ok(v.as_deref() == Some(PENDING))
}

/// Run the step if it is pending (see the module docs); `None` when there was nothing to do.
pub(crate) async fn run(conn: &mut PgConnection) -> Result<Option<PathKeyReport>> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    let marker: Option<String> =
        sqlx::query_scalar("SELECT value FROM alto_meta WHERE key = 'path_keys' FOR UPDATE")
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    if marker.as_deref() != Some(PENDING) {
        tx.commit().await.map_err(db_err)?;
        return Ok(None);
    }
    for sql in [
        // Ingests and feeds wait (they would race the moves); readers go on.
        "LOCK TABLE file_current IN SHARE ROW EXCLUSIVE MODE",
        // A tier object's reference to its file is checked at commit: both move.
        "SET CONSTRAINTS ALL DEFERRED",
        "CREATE TEMPORARY TABLE alto_rekey (share_id bigint NOT NULL, \
         old_key text COLLATE \"C\" NOT NULL, new_key text COLLATE \"C\" NOT NULL, \
         dir_path text COLLATE \"C\" NOT NULL, dir_hash64 bigint NOT NULL, \
         wave integer NOT NULL, old_obj text NOT NULL, new_obj text NOT NULL) ON COMMIT DROP",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.map_err(db_err)?;
    }
    // The tenant directory, through the function workers use (the owner's own policy on
    // `tenant` names the role that ran migration 0004, which need not be this one).
    let tenants: Vec<i64> =
        sqlx::query_scalar("SELECT tenant_id FROM alto_tenants() ORDER BY tenant_id")
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
    let mut report = PathKeyReport::default();
    for tenant in tenants {
        rekey_tenant(&mut tx, tenant, &mut report).await?;
    }
    let outcome = serde_json::json!({
        "rederived": report.rederived,
        "collisions": report.collisions,
        "recorded": report.recorded,
        "at_utc": alto_core::time::now_micros(),
    });
    sqlx::query("UPDATE alto_meta SET value = $1 WHERE key = 'path_keys'")
        .bind(outcome.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(Some(report))
}

/// A record whose key changes.
#[derive(Debug)]
struct Move {
    old: String,
    new: String,
    full: String,
}

async fn rekey_tenant(
    conn: &mut PgConnection,
    tenant: i64,
    report: &mut PathKeyReport,
) -> Result<()> {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut rules: HashMap<i64, KeyRule> = HashMap::new();
    for r in sqlx::query("SELECT share_id, kind, case_sensitive FROM share WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?
    {
        let kind: String = r.try_get(1).map_err(db_err)?;
        rules.insert(
            r.try_get(0).map_err(db_err)?,
            KeyRule::new(share_kind(&kind)?, r.try_get(2).map_err(db_err)?),
        );
    }
    report.shares += rules.len() as u64;
    if rules.is_empty() {
        return Ok(());
    }

    // One pass over the tenant's records; only those whose key changes are kept.
    sqlx::query(
        "DECLARE alto_rekey_scan NO SCROLL CURSOR FOR \
         SELECT f.share_id, f.path_key, f.full_path FROM file_current f \
         JOIN share s ON s.tenant_id = f.tenant_id AND s.share_id = f.share_id \
         WHERE f.tenant_id = $1 \
         AND (octet_length(f.full_path) <> char_length(f.full_path) \
              OR octet_length(f.path_key) > 2600 \
              OR (s.kind IN ('posix', 'lucidlink') AND (strpos(f.full_path, '\\') > 0 \
                  OR strpos(f.full_path, '//') > 0 OR right(f.full_path, 1) = '/')))",
    )
    .bind(tenant)
    .persistent(false)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut moves: BTreeMap<i64, Vec<Move>> = BTreeMap::new();
    let mut key = String::new();
    loop {
        let rows = sqlx::query("FETCH 10000 FROM alto_rekey_scan")
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        let n = rows.len();
        for r in rows {
            let share: i64 = r.try_get(0).map_err(db_err)?;
            let full: String = r.try_get(2).map_err(db_err)?;
            share_key_into(rules[&share], &full, &mut key);
            let old: String = r.try_get(1).map_err(db_err)?;
            if key != old {
                moves.entry(share).or_default().push(Move {
                    old,
                    new: key.clone(),
                    full,
                });
            }
        }
        if n < PAGE {
            break;
        }
    }
    sqlx::query("CLOSE alto_rekey_scan")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if moves.is_empty() {
        return Ok(());
    }

    let mut waves: Vec<u64> = Vec::new();
    for (share, mut moves) in moves {
        moves.sort_unstable_by(|a, b| a.old.cmp(&b.old));
        let mut held: HashSet<String> = HashSet::new();
        for part in moves.chunks(BATCH) {
            let keys: Vec<&str> = part.iter().map(|m| m.new.as_str()).collect();
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT path_key FROM file_current \
                 WHERE tenant_id = $1 AND share_id = $2 AND path_key = ANY($3::text[])",
            )
            .bind(tenant)
            .bind(share)
            .bind(&keys)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
            held.extend(found);
        }
        let plan = resolve(&moves, &held);
        for part in plan.moved.chunks(BATCH) {
            let (mut old, mut new, mut dir, mut hash, mut wave) =
                (vec![], vec![], vec![], vec![], vec![]);
            let (mut old_obj, mut new_obj) = (vec![], vec![]);
            for (i, w) in part {
                let m = &moves[*i];
                let d = split_dir(&m.new).0;
                old.push(m.old.as_str());
                new.push(m.new.as_str());
                dir.push(d);
                hash.push(dir_hash64(d));
                wave.push(*w as i32);
                // The target URI ends in the object key of the path key; both empty (no change)
                // when either key has none.
                let (o, n) = match (object_key(&m.old), object_key(&m.new)) {
                    (Ok(o), Ok(n)) => (o, n),
                    _ => (String::new(), String::new()),
                };
                old_obj.push(o);
                new_obj.push(n);
                if waves.len() <= *w as usize {
                    waves.resize(*w as usize + 1, 0);
                }
                waves[*w as usize] += 1;
            }
            sqlx::query(
                "INSERT INTO pg_temp.alto_rekey \
                 SELECT $1, m.o, m.n, m.d, m.h, m.w, m.oo, m.no FROM unnest($2::text[], \
                 $3::text[], $4::text[], $5::bigint[], $6::integer[], $7::text[], $8::text[]) \
                 AS m(o, n, d, h, w, oo, no)",
            )
            .bind(share)
            .bind(&old)
            .bind(&new)
            .bind(&dir)
            .bind(&hash)
            .bind(&wave)
            .bind(&old_obj)
            .bind(&new_obj)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        }
        report.rederived += plan.moved.len() as u64;
        for part in plan.collided.chunks(BATCH) {
            let (mut old, mut full, mut new) = (vec![], vec![], vec![]);
            for i in part {
                let m = &moves[*i];
                old.push(m.old.as_str());
                full.push(m.full.as_str());
                new.push(m.new.as_str());
            }
            report.recorded += sqlx::query(
                "INSERT INTO path_key_collision (tenant_id, share_id, old_key, full_path, \
                 new_key) SELECT $1, $2, c.o, c.f, c.n \
                 FROM unnest($3::text[], $4::text[], $5::text[]) AS c(o, f, n) \
                 ON CONFLICT (tenant_id, share_id, old_key, new_key) DO NOTHING",
            )
            .bind(tenant)
            .bind(share)
            .bind(&old)
            .bind(&full)
            .bind(&new)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        report.collisions += plan.collided.len() as u64;
    }
    if waves.is_empty() {
        return Ok(());
    }

    sqlx::query("ANALYZE pg_temp.alto_rekey")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO dir (tenant_id, share_id, dir_path, dir_hash64) \
         SELECT DISTINCT $1::bigint, share_id, dir_path, dir_hash64 FROM pg_temp.alto_rekey \
         ORDER BY 2, 3 ON CONFLICT (tenant_id, share_id, dir_path) DO NOTHING",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    // Wave by wave: a record moves into a key another record left in an earlier wave, so no
    // statement meets a key that is still taken.
    for (wave, want) in waves.iter().enumerate() {
        let n = sqlx::query(
            "UPDATE file_current f SET path_key = r.new_key, dir_id = d.dir_id \
             FROM pg_temp.alto_rekey r \
             JOIN dir d ON d.tenant_id = $1 AND d.share_id = r.share_id \
                 AND d.dir_path = r.dir_path \
             WHERE r.wave = $2 AND f.tenant_id = $1 AND f.share_id = r.share_id \
             AND f.path_key = r.old_key",
        )
        .bind(tenant)
        .bind(wave as i32)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n != *want {
            return Err(alto_core::Error::new(
                alto_core::ErrorKind::Backend,
                format!("{n} of {want} file records moved to their new keys"),
            ));
        }
        sqlx::query(
            "UPDATE tier_object t SET path_key = r.new_key, version = t.version + 1, \
                 target_uri = CASE WHEN r.old_obj <> r.new_obj \
                     AND right(t.target_uri, char_length(r.old_obj)) = r.old_obj \
                     THEN left(t.target_uri, char_length(t.target_uri) - char_length(r.old_obj)) \
                         || r.new_obj \
                     ELSE t.target_uri END \
             FROM pg_temp.alto_rekey r \
             WHERE r.wave = $2 AND t.tenant_id = $1 AND t.share_id = r.share_id \
             AND t.path_key = r.old_key",
        )
        .bind(tenant)
        .bind(wave as i32)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    // Snapshot rows name the file by key too. No uniqueness to keep: one statement, one pass.
    sqlx::query(
        "UPDATE file f SET path_key = r.new_key FROM pg_temp.alto_rekey r \
         WHERE f.tenant_id = $1 AND f.share_id = r.share_id AND f.path_key = r.old_key",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    sqlx::query("TRUNCATE pg_temp.alto_rekey")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Who holds a key while the moves are decided.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// A record that stays.
    Stays,
    /// A record still to be decided.
    Pending,
    /// A record that moved here.
    Moved,
}

/// The moves' fates.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Moves carried out, with their wave: a move into a key that another move leaves comes one
    /// wave after it.
    moved: Vec<(usize, u32)>,
    /// Moves not carried out: another record holds the new key.
    collided: Vec<usize>,
}

/// Decide the moves of one share (`moves` in key order; `held`: those of their new keys that
/// records hold now). A move whose key is free takes it; one whose key a record that stays (or
/// one that moved there first) holds collides and its record stays; one whose key a record still
/// to be decided holds waits for it. Moves left waiting on each other (a cycle) collide.
fn resolve(moves: &[Move], held: &HashSet<String>) -> Plan {
    let mut at: HashMap<&str, Held> = held.iter().map(|k| (k.as_str(), Held::Stays)).collect();
    for m in moves {
        at.insert(m.old.as_str(), Held::Pending);
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
                    at.insert(m.new.as_str(), Held::Moved);
                    left.insert(m.old.as_str(), wave);
                    plan.moved.push((i, wave));
                }
                Some(Held::Pending) => waiting.push(i),
                Some(Held::Stays | Held::Moved) => {
                    plan.collided.push(i);
                    at.insert(m.old.as_str(), Held::Stays);
                }
            }
        }
        if waiting.len() == pending.len() {
            // Nothing moved this round: every one waits for another.
            plan.collided.extend(waiting);
            break;
        }
        pending = waiting;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mv(old: &str, new: &str) -> Move {
        Move {
            old: old.into(),
            new: new.into(),
            full: new.into(),
        }
    }

    #[test]
    fn waves_collisions_and_cycles() {
        let held = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        let p = resolve(&[mv("/a", "/A"), mv("/b", "/B")], &held(&["/B"]));
        assert_eq!((p.moved, p.collided), (vec![(0, 0)], vec![1]));
        // 0 waits for 1 to leave "/b"; 2 waits for 0 to leave "/a".
        let moves = [mv("/a", "/b"), mv("/b", "/c"), mv("/c0", "/a")];
        let mut p = resolve(&moves, &held(&["/a", "/b"]));
        p.moved.sort_unstable();
        assert_eq!(p.moved, [(0, 1), (1, 0), (2, 2)]);
        assert!(p.collided.is_empty());
        let p = resolve(&[mv("/a", "/k"), mv("/b", "/k")], &held(&[]));
        assert_eq!((p.moved, p.collided), (vec![(0, 0)], vec![1]));
        let p = resolve(&[mv("/a", "/b"), mv("/b", "/a")], &held(&["/a", "/b"]));
        assert_eq!((p.moved, p.collided), (vec![], vec![0, 1]));
    }
}
