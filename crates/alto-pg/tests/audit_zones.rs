//! Reads of the audit trail filtered by time (issue 19) start at the first zone of the trail
//! that may hold a match (migration 0013) and still return exactly what a plain scan in read
//! order returns, whatever order the events' times come in.

mod common;

use alto_core::types::{AuditPosition, AuditQuery, TenantId};
use alto_core::{Store, TenantSettings};
use common::TestDb;
use sqlx::{Connection, Executor, PgConnection};

/// 2026-01-01T00:00:00Z.
const BASE: &str = "2026-01-01T00:00:00Z";
const BASE_SECONDS: i64 = 1_767_225_600;

/// Seconds after BASE, in microseconds since the epoch.
fn at(seconds: i64) -> i64 {
    (BASE_SECONDS + seconds) * 1_000_000
}

async fn as_tenant(conn: &mut PgConnection, t: TenantId) {
    conn.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// Four writer transactions of 10,000 events each. Times mostly rise with the position, but the
/// second transaction's are scrambled over the whole range and every 997th event anywhere
/// claims a time far ahead: skipping by time alone would lose them.
async fn write(conn: &mut PgConnection, t: TenantId) {
    for part in 0..4i64 {
        as_tenant(conn, t).await;
        sqlx::query(
            "INSERT INTO audit_event (tenant_id, event_utc, kind, subject) \
             SELECT $1, $2::timestamptz + make_interval(secs => CASE \
                     WHEN g % 997 = 0 THEN 50000 + g % 13 \
                     WHEN $3 = 1 THEN (g * 7919) % 40000 \
                     ELSE g END), \
                 CASE WHEN g % 3 = 0 THEN 'test.a' ELSE 'test.b' END, 'e' || g \
             FROM generate_series($3 * 10000, $3 * 10000 + 9999) AS g ORDER BY g",
        )
        .bind(t.0)
        .bind(BASE)
        .bind(part)
        .execute(&mut *conn)
        .await
        .unwrap();
        conn.execute("COMMIT").await.unwrap();
    }
}

/// What a plain scan in read order finds.
async fn expected(conn: &mut PgConnection, t: TenantId, q: &AuditQuery) -> Vec<String> {
    as_tenant(conn, t).await;
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT subject FROM audit_event WHERE tenant_id = $1 \
           AND ($2::bigint IS NULL OR event_utc >= timestamptz 'epoch' + $2 * interval '1 microsecond') \
           AND ($3::bigint IS NULL OR event_utc < timestamptz 'epoch' + $3 * interval '1 microsecond') \
           AND ($4::text IS NULL OR kind = $4) \
           AND ($5::bigint IS NULL OR (writer_xid, event_id) > ($5, $6)) \
         ORDER BY writer_xid, event_id",
    )
    .bind(t.0)
    .bind(q.since)
    .bind(q.until)
    .bind(q.kinds.first().map(String::as_str))
    .bind(q.after.map(|a| a.commit))
    .bind(q.after.map(|a| a.id))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    conn.execute("COMMIT").await.unwrap();
    rows
}

/// Every page the store gives for `q`.
async fn read(store: &dyn Store, t: TenantId, q: &AuditQuery) -> Vec<String> {
    let mut q = q.clone();
    q.limit = 700;
    let mut out = Vec::new();
    loop {
        let page = store.audit_query(t, &q).await.unwrap();
        let mut last: Option<AuditPosition> = None;
        for e in page.items {
            assert!(q.after.is_none_or(|a| e.position > a), "read order");
            last = Some(e.position);
            out.push(e.subject);
        }
        if page.next.is_none() {
            return out;
        }
        q.after = last;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_windows_skip_zones_and_miss_nothing() {
    let db = TestDb::new("audit_zones").await;
    let store = db.store().await;
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
    let mut owner = db.owner().await;
    write(&mut owner, t).await;
    write(&mut owner, other).await;

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
    for q in &cases {
        let want = expected(&mut owner, t, q).await;
        assert_eq!(read(&store, t, q).await, want, "{q:?}");
    }
    // From a position in the middle of the trail.
    as_tenant(&mut owner, t).await;
    let (commit, id): (i64, i64) = sqlx::query_as(
        "SELECT writer_xid, event_id FROM audit_event WHERE tenant_id = $1 AND subject = 'e25000'",
    )
    .bind(t.0)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    owner.execute("COMMIT").await.unwrap();
    for since in [0, 26_000, 45_000] {
        let mut q = window(Some(since), None);
        q.after = Some(AuditPosition { commit, id });
        let want = expected(&mut owner, t, &q).await;
        assert!(!want.is_empty());
        assert_eq!(read(&store, t, &q).await, want, "{q:?}");
    }

    // The zones were made, for each tenant on its own, and a late window skips the first ones.
    as_tenant(&mut owner, t).await;
    let zones: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_zone WHERE tenant_id = $1")
        .bind(t.0)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(zones, 40_000 / 8192, "whole zones of the tenant's trail");
    let (skip, _): (i64, i64) = sqlx::query_as(
        "SELECT skip_xid, skip_id FROM alto_audit_skip( \
             timestamptz 'epoch' + $1::bigint * interval '1 microsecond', NULL, \
             -9223372036854775808, -9223372036854775808)",
    )
    .bind(at(39_000))
    .fetch_one(&mut owner)
    .await
    .unwrap();
    owner.execute("COMMIT").await.unwrap();
    assert!(skip > 0, "a late window skips the zones before it");

    // The application role reads zones but cannot write one (which could hide events).
    let mut app = PgConnection::connect(&db.app_url()).await.unwrap();
    as_tenant(&mut app, t).await;
    let forged = sqlx::query(
        "INSERT INTO audit_zone VALUES ($1, 9223372036854775807, 1, 0, 0, now(), now())",
    )
    .bind(t.0)
    .execute(&mut app)
    .await;
    assert!(forged.is_err(), "the application role cannot write zones");
    app.close().await.unwrap();
    owner.close().await.unwrap();
    db.drop().await;
}
