//! Reads of the audit trail filtered by time (issue 19) start at the first zone of 8,192 ids
//! whose times meet the window (migration 0009) and still return exactly what a plain scan in
//! id order returns, whatever order the events' times come in.

use alto_core::types::{AuditPosition, AuditQuery, TenantId};
use alto_core::{Store, TenantSettings};
use alto_sqlite::SqliteStore;
use sqlx::{ConnectOptions, SqliteConnection};

/// 2026-01-01T00:00:00Z in seconds.
const BASE_SECONDS: i64 = 1_767_225_600;

fn at(seconds: i64) -> i64 {
    (BASE_SECONDS + seconds) * 1_000_000
}

/// 40,000 events of `t` written as the store would, times mostly rising with the id, the second
/// quarter's scrambled over the whole range, and every 997th claiming a time far ahead.
async fn write(conn: &mut SqliteConnection, t: TenantId) {
    sqlx::query(
        "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < 39999) \
         INSERT INTO audit_event (tenant_id, at_utc, kind, subject, detail, actor) \
         SELECT ?1, (?2 + CASE WHEN n % 997 = 0 THEN 50000 + n % 13 \
                               WHEN n / 10000 = 1 THEN (n * 7919) % 40000 \
                               ELSE n END) * 1000000, \
             CASE WHEN n % 3 = 0 THEN 'test.a' ELSE 'test.b' END, 'e' || n, '{}', '{}' \
         FROM g ORDER BY n",
    )
    .bind(t.0)
    .bind(BASE_SECONDS)
    .execute(&mut *conn)
    .await
    .unwrap();
}

async fn expected(conn: &mut SqliteConnection, t: TenantId, q: &AuditQuery) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT subject FROM audit_event WHERE tenant_id = ?1 \
           AND (?2 IS NULL OR at_utc >= ?2) AND (?3 IS NULL OR at_utc < ?3) \
           AND (?4 IS NULL OR kind = ?4) AND (?5 IS NULL OR event_id > ?5) \
         ORDER BY event_id",
    )
    .bind(t.0)
    .bind(q.since)
    .bind(q.until)
    .bind(q.kinds.first().map(String::as_str))
    .bind(q.after.map(|a| a.id))
    .fetch_all(&mut *conn)
    .await
    .unwrap()
}

async fn read(store: &dyn Store, t: TenantId, q: &AuditQuery) -> Vec<String> {
    let mut q = q.clone();
    q.limit = 700;
    let mut out = Vec::new();
    loop {
        let page = store.audit_query(t, &q).await.unwrap();
        let mut last: Option<AuditPosition> = None;
        for e in page.items {
            last = Some(e.position);
            out.push(e.subject);
        }
        if page.next.is_none() {
            return out;
        }
        q.after = last;
    }
}

#[tokio::test]
async fn time_windows_skip_zones_and_miss_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alto.db");
    let store = SqliteStore::open(&db.display().to_string()).await.unwrap();
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    let other = store
        .create_tenant("other", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    write(&mut conn, t).await;
    write(&mut conn, other).await;
    write(&mut conn, t).await;

    let window = |since: Option<i64>, until: Option<i64>| AuditQuery {
        since: since.map(at),
        until: until.map(at),
        ..Default::default()
    };
    let mut cases = vec![
        window(Some(35_000), None),
        window(Some(39_990), None),
        window(Some(50_000), None),
        window(Some(60_000), None),
        window(None, Some(100)),
        window(Some(20_000), Some(20_050)),
        window(Some(12_000), Some(12_500)),
    ];
    let mut with_kind = window(Some(30_000), None);
    with_kind.kinds = vec!["test.a".into()];
    cases.push(with_kind);
    let middle: i64 = sqlx::query_scalar(
        "SELECT event_id FROM audit_event WHERE tenant_id = ?1 AND subject = 'e25000' \
         ORDER BY event_id LIMIT 1",
    )
    .bind(t.0)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    for since in [0, 26_000, 45_000] {
        let mut q = window(Some(since), None);
        q.after = Some(AuditPosition {
            commit: 0,
            id: middle,
        });
        cases.push(q);
    }
    for q in &cases {
        let want = expected(&mut conn, t, q).await;
        assert_eq!(read(&store, t, q).await, want, "{q:?}");
    }
    assert!(
        read(&store, t, &window(Some(60_000), None))
            .await
            .is_empty()
    );
    // Every event is in its tenant's zone, and the zones' bounds are the events' own.
    let wrong: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT tenant_id, event_id / 8192 AS b, min(at_utc) AS lo, \
             max(at_utc) AS hi FROM audit_event GROUP BY 1, 2) AS e \
         LEFT JOIN audit_zone z ON z.tenant_id = e.tenant_id AND z.bucket = e.b \
         WHERE z.min_at IS NOT e.lo OR z.max_at IS NOT e.hi",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(wrong, 0);
}
