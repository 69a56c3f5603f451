//! Migrations: from an empty database, re-run, run concurrently, and refused when the database is
//! missing the schema or has a newer one.

mod common;

use alto_core::ErrorKind;
use alto_pg::{PgStore, SCHEMA_VERSION};
use sqlx::{Connection, Executor};

/// Every column of every table, to compare the schema before and after a re-run.
async fn catalog(db: &common::TestDb) -> Vec<(String, String, String)> {
    let mut c = db.owner().await;
    let rows = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_empty_and_rerun() {
    let db = common::TestDb::empty("mig").await;
    let e = db.connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("alto migrate"), "{e}");

    alto_pg::migrate(&db.url).await.expect("migrate from empty");
    let first = catalog(&db).await;
    assert!(
        first
            .iter()
            .any(|(t, c, _)| t == "file_current" && c == "path_key")
    );
    alto_pg::migrate(&db.url).await.expect("migrate again");
    assert_eq!(catalog(&db).await, first, "a re-run changes nothing");

    let mut c = db.owner().await;
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(applied, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    let role: (bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'alto_app'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(
        role,
        (false, false, false),
        "alto_app: no superuser, no BYPASSRLS, no login"
    );
    c.close().await.unwrap();

    let store = db.connect().await.expect("connect after migrate");
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(who, "alto_app");
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_take_turns() {
    let db = common::TestDb::empty("migconc").await;
    let (a, b, c) = tokio::join!(
        alto_pg::migrate(&db.url),
        alto_pg::migrate(&db.url),
        alto_pg::migrate(&db.url)
    );
    a.expect("first");
    b.expect("second");
    c.expect("third");
    db.connect().await.expect("connect");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_schema_is_refused() {
    let db = common::TestDb::new("mignewer").await;
    let mut c = db.owner().await;
    c.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)",
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let e = db.connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("newer"), "{e}");
    let e = alto_pg::migrate(&db.url).await.unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_url_is_invalid_input() {
    let e = PgStore::connect("postgres://[nope").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    // A URL naming a database that does not exist: a clear backend error, not a panic.
    let url = common::with_database(&common::admin_url(), "alto_no_such_database");
    let e = PgStore::connect(&url).await.unwrap_err();
    assert!(e.to_string().contains("cannot connect"), "{e}");
}
