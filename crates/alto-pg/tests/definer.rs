//! Functions that run as the schema's owner (SECURITY DEFINER) cannot be redirected by the
//! caller's session: their search_path is pinned with the temporary schema last, and their
//! lookups name the schema (issue 14, deliverable 5).

mod common;

use sqlx::{Executor, Row};

/// The name of the audit partition `months` months from now (UTC).
const PARTITION: &str = "SELECT format('audit_event_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM')) \
     FROM (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') \
                   + make_interval(months => $1))::date AS m) s";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_security_definer_function_pins_its_search_path() {
    let db = common::TestDb::new("definer_cat").await;
    let mut c = db.owner().await;
    let rows = sqlx::query(
        "SELECT p.proname::text, coalesce(array_to_string(p.proconfig, ';'), '') \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        names.iter().any(|n| n == "alto_audit_partitions"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "alto_tenants"), "{names:?}");
    for r in &rows {
        let (name, config): (String, String) = (r.get(0), r.get(1));
        assert_eq!(
            config, "search_path=pg_catalog, public, pg_temp",
            "{name} runs as the owner without the pinned search_path"
        );
    }
    db.drop().await;
}

/// A temporary table named like a month's missing partition does not make
/// `alto_audit_partitions()` skip that month; temporary tables named like the catalog or the
/// tenant directory, or a temporary type `text`, change nothing it or `alto_tenants()` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_tables_do_not_redirect_definer_functions() {
    let db = common::TestDb::new("definer_temp").await;
    let store = db.store().await;
    use alto_core::Store;
    store
        .create_tenant("acme", &alto_core::types::TenantSettings::default())
        .await
        .unwrap();
    let mut owner = db.owner().await;
    let part: String = sqlx::query_scalar(PARTITION)
        .bind(4_i32)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    // Migrations and `connect` keep three months ahead: the fourth does not exist yet.
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('public.' || $1) IS NOT NULL")
        .bind(&part)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert!(!exists, "{part}");

    let mut app = store.pool().acquire().await.unwrap();
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *app)
        .await
        .unwrap();
    assert_eq!(who, "alto_app");
    for ddl in [
        format!("CREATE TEMP TABLE {part} (x int)"),
        "CREATE TEMP TABLE tenant (tenant_id bigint, name text, settings jsonb, \
         created_utc timestamptz)"
            .to_owned(),
        "CREATE TEMP TABLE pg_class (x int)".to_owned(),
        "CREATE TEMP TABLE text (x int)".to_owned(),
    ] {
        app.execute(sqlx::AssertSqlSafe(ddl)).await.unwrap();
    }
    let created: i32 = sqlx::query_scalar("SELECT alto_audit_partitions(4)")
        .fetch_one(&mut *app)
        .await
        .unwrap();
    assert_eq!(
        created, 1,
        "the month shadowed by a temporary table was skipped"
    );
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM alto_tenants()")
        .fetch_all(&mut *app)
        .await
        .unwrap();
    assert_eq!(names, ["acme"]);
    drop(app);

    // The partition is the real one, under the parent, with its forced policy.
    let row = sqlx::query(
        "SELECT c.relispartition, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname = $1",
    )
    .bind(&part)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(
        (
            row.get::<bool, _>(0),
            row.get::<bool, _>(1),
            row.get::<bool, _>(2),
            row.get::<i64, _>(3)
        ),
        (true, true, true, 1),
        "{part}"
    );
    store.pool().close().await;
    db.drop().await;
}
