//! Tenant isolation enforced by PostgreSQL itself, checked through the application role: with
//! tenant A set, B's rows cannot be read, updated, deleted or inserted by any raw SQL; with no
//! tenant set nothing is visible; a pooled connection carries no tenant into its next use; and the
//! catalog shows forced row-level security on every table with a tenant_id.

mod common;

use alto_core::ErrorKind;
use alto_core::Store;
use alto_core::lifecycle::Action;
use alto_core::store::{IngestChunk, PlanInfo, ScanKind, ScanSpec, ShareSpec, TransitionRequest};
use alto_core::types::{FileEntry, NewAuditEvent, ShareKind, TenantId, TenantSettings};
use alto_pg::{ConnectOptions, PgStore};
use sqlx::{Acquire, PgConnection, Row};

async fn tenant_with_data(store: &PgStore, name: &str) -> TenantId {
    let t = store
        .create_tenant(name, &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(t.id, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let spec = ScanSpec {
        share: "data".into(),
        kind: ScanKind::Full,
        source: Some("inv".into()),
    };
    let scan = store.begin_scan(t.id, &spec).await.unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: vec![FileEntry {
            path: "/secret/plan.txt".into(),
            size: 7,
            ..Default::default()
        }],
    };
    store.ingest_chunk(t.id, scan.id, &chunk).await.unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
    let req = TransitionRequest {
        share: "data".into(),
        path_key: "/secret/plan.txt".into(),
        action: Action::Plan,
        expected: None,
        stored: None,
        plan: Some(PlanInfo {
            rule: "r".into(),
            target_uri: "file:///t/".into(),
        }),
        at: 1_700_000_000_000_000,
    };
    store.transition(t.id, &req).await.unwrap();
    let ev = NewAuditEvent {
        kind: "x".into(),
        subject: "y".into(),
        detail: serde_json::json!({}),
        parent: None,
    };
    store.append_audit(t.id, &ev).await.unwrap();
    t.id
}

/// Tables (and partitions) of the schema with a tenant_id column.
async fn tenant_tables(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT quote_ident(c.relname) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

async fn set_tenant(conn: &mut PgConnection, t: TenantId) {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(conn)
        .await
        .unwrap();
}

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_forces_rls_on_every_tenant_table() {
    let db = common::TestDb::new("rlscat").await;
    let mut c = db.owner().await;
    let tables = tenant_tables(&mut c).await;
    assert!(tables.len() >= 15, "{tables:?}");
    let lacking: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
           AND (NOT c.relrowsecurity OR NOT c.relforcerowsecurity \
                OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(
        lacking.is_empty(),
        "tables without forced RLS and a policy: {lacking:?}"
    );
    // Every primary and unique key leads with tenant_id (the tenant directory's name excepted).
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT con.conname::text FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND con.contype IN ('p', 'u') AND NOT c.relispartition \
           AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid \
                       AND t.attname = 'tenant_id') \
           AND (SELECT attname FROM pg_attribute WHERE attrelid = c.oid \
                AND attnum = con.conkey[1]) <> 'tenant_id' \
           AND con.conname NOT IN ('tenant_name_key', 'tenant_login_pkey')",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(keys.is_empty(), "keys not leading with tenant_id: {keys:?}");
    // Every policy compares with the session's tenant (`alto_session_tenant()`, which a
    // tenant-bound login cannot move), never with the bare setting; the only others are the
    // owner's own (`TO` the owner alone, for the SECURITY DEFINER functions).
    let policies: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, p.polname::text,                 coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' ||                 coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),                 array_to_string(ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END \
                FROM unnest(p.polroles) r), ',')          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1, 2",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let owner: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class \
                                             WHERE oid = 'public.tenant'::regclass",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(policies.len() >= 15, "{policies:?}");
    for (table, name, expr, roles) in &policies {
        assert!(
            !expr.contains("current_setting")
                && !expr.contains("alto_tenant()")
                && !expr.contains("alto_tenant_name()"),
            "{table}.{name} reads the bare setting: {expr}"
        );
        if roles == owner.as_str() {
            assert!(
                expr.split_whitespace().all(|w| w == "true"),
                "{table}.{name} (the owner's): {expr}"
            );
        } else {
            assert_eq!(roles, "public", "{table}.{name} applies to {roles}");
            assert!(
                expr.contains("alto_session_tenant()")
                    || expr.contains("alto_session_tenant_name()"),
                "{table}.{name} does not compare with the session's tenant: {expr}"
            );
        }
    }
    // The owner is not the role the library runs as.
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT pg_get_userbyid(c.relowner)::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(!owners.iter().any(|o| o == "alto_app"), "{owners:?}");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_cannot_cross_tenants() {
    let db = common::TestDb::new("rlsraw").await;
    let store = db.store().await;
    let a = tenant_with_data(&store, "tenant-a").await;
    let b = tenant_with_data(&store, "tenant-b").await;
    let mut pooled = store.pool().acquire().await.unwrap();
    let tables = tenant_tables(&mut pooled).await;
    let who: (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_roles \
         WHERE rolname = current_user",
    )
    .fetch_one(&mut *pooled)
    .await
    .unwrap();
    assert_eq!(who, ("alto_app".into(), false, false));

    // Reads: as A, none of B's rows in any table (partitions are not even readable directly).
    let mut tx = pooled.begin().await.unwrap();
    set_tenant(&mut tx, a).await;
    for t in &tables {
        let q = format!("SELECT count(*) FROM {t} WHERE tenant_id = $1");
        match sqlx::query_scalar::<_, i64>(sql(q))
            .bind(b.0)
            .fetch_one(&mut *tx)
            .await
        {
            Ok(n) => assert_eq!(n, 0, "A sees {n} rows of B in {t}"),
            Err(e) => {
                assert!(e.to_string().contains("permission denied"), "{t}: {e}");
                tx.rollback().await.unwrap();
                tx = pooled.begin().await.unwrap();
                set_tenant(&mut tx, a).await;
            }
        }
    }
    let own: i64 = sqlx::query_scalar("SELECT count(*) FROM file_current")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(own, 1, "A sees its own file");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM tenant")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(names, ["tenant-a"]);
    // Updates and deletes of B's rows touch nothing.
    for stmt in [
        "UPDATE file_current SET size_bytes = 0 WHERE tenant_id = $1",
        "UPDATE tier_object SET state = 'STUBBED' WHERE tenant_id = $1",
        "UPDATE tenant SET name = 'stolen' WHERE tenant_id = $1",
        "UPDATE share SET mount_root = '/x' WHERE tenant_id = $1",
        "DELETE FROM tier_object WHERE tenant_id = $1",
        "DELETE FROM file WHERE tenant_id = $1",
    ] {
        let n = sqlx::query(stmt)
            .bind(b.0)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 0, "{stmt}");
    }
    tx.commit().await.unwrap();

    // Inserting B's rows, or moving A's rows to B, is refused.
    for stmt in [
        "INSERT INTO share (tenant_id, name, kind, case_sensitive) VALUES ($1, 'x', 'posix', true)",
        "INSERT INTO audit_event (tenant_id, event_utc, kind, subject) VALUES ($1, now(), 'k', 's')",
        "UPDATE file_current SET tenant_id = $1",
        "UPDATE share SET tenant_id = $1",
    ] {
        let mut tx = pooled.begin().await.unwrap();
        set_tenant(&mut tx, a).await;
        let e = sqlx::query(stmt)
            .bind(b.0)
            .execute(&mut *tx)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("row-level security"), "{stmt}: {e}");
    }
    // Append-only audit trail, no DDL, no TRUNCATE, no partition access.
    for stmt in [
        "DELETE FROM audit_event",
        "UPDATE audit_event SET kind = 'x'",
        "TRUNCATE file_current",
        "DROP TABLE file_current",
        "SELECT count(*) FROM audit_event_default",
        "ALTER TABLE file_current NO FORCE ROW LEVEL SECURITY",
    ] {
        let mut tx = pooled.begin().await.unwrap();
        set_tenant(&mut tx, a).await;
        let e = sqlx::query(stmt).execute(&mut *tx).await.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("permission denied") || msg.contains("must be owner"),
            "{stmt}: {msg}"
        );
    }

    // No tenant set: nothing is visible, not even through the pooled connection A just used.
    for t in &tables {
        let q = format!("SELECT count(*) FROM {t}");
        if let Ok(n) = sqlx::query_scalar::<_, i64>(sql(q))
            .fetch_one(&mut *pooled)
            .await
        {
            assert_eq!(n, 0, "{t} shows {n} rows with no tenant set");
        }
    }
    let setting: Option<String> =
        sqlx::query_scalar("SELECT current_setting('app.tenant_id', true)")
            .fetch_one(&mut *pooled)
            .await
            .unwrap();
    assert!(
        setting.as_deref().unwrap_or("").is_empty(),
        "the tenant did not die with the transaction: {setting:?}"
    );
    drop(pooled);

    // And B's data is intact.
    let files = store.files(b, &Default::default()).await.unwrap().items;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].entry.size, 7);
    assert!(
        store
            .tier_object(b, "data", "/secret/plan.txt")
            .await
            .is_ok()
    );
    store.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_methods_cannot_cross_tenants() {
    let db = common::TestDb::new("rlsapi").await;
    let store = db.store().await;
    let a = tenant_with_data(&store, "a").await;
    let b = store
        .create_tenant("b", &TenantSettings::default())
        .await
        .unwrap();
    store
        .ensure_share(b.id, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    // A's scan ids mean nothing to B.
    let mut c = db.owner().await;
    let a_scan: i64 = sqlx::query_scalar("SELECT scan_id FROM scan WHERE tenant_id = $1")
        .bind(a.0)
        .fetch_one(&mut c)
        .await
        .unwrap();
    let chunk = IngestChunk {
        id: "evil".into(),
        entries: vec![FileEntry {
            path: "/secret/plan.txt".into(),
            size: 0,
            ..Default::default()
        }],
    };
    let e = store.ingest_chunk(b.id, a_scan, &chunk).await.unwrap_err();
    assert_eq!(e.kind(), alto_core::ErrorKind::NotFound);
    let e = store.finish_scan(b.id, a_scan).await.unwrap_err();
    assert_eq!(e.kind(), alto_core::ErrorKind::NotFound);
    assert!(
        store
            .files(b.id, &Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(store.audit(b.id, None, 10).await.unwrap().items.is_empty());
    // Nothing of A's changed.
    let row = sqlx::query("SELECT size_bytes, full_path FROM file_current WHERE tenant_id = $1")
        .bind(a.0)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>(0), 7);
    store.pool().close().await;
    db.drop().await;
}

/// Workers list every tenant through `alto_tenants()`, also when the schema's owner is an
/// ordinary role (which the forced row-level security binds): the application role itself still
/// sees no tenant row without naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_role_lists_tenants_with_an_ordinary_owner() {
    use alto_core::Store;
    use sqlx::{Connection, Executor};
    let db = common::TestDb::empty("rlsowner").await;
    let mut admin = db.owner().await;
    // Roles are cluster-wide: tolerate a concurrent or earlier creation.
    admin
        .execute(
            "DO $$ BEGIN \
             CREATE ROLE alto_test_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        )
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{}\" OWNER TO alto_test_owner",
            db.name
        )))
        .await
        .unwrap();
    admin
        .execute(
            "GRANT ALL ON SCHEMA public TO alto_test_owner; \
             GRANT alto_app TO alto_test_owner WITH ADMIN OPTION",
        )
        .await
        .unwrap();
    admin.close().await.unwrap();
    let url = db.url.replacen("://postgres@", "://alto_test_owner@", 1);
    assert_ne!(
        url, db.url,
        "DATABASE_URL is expected to name the user postgres"
    );
    alto_pg::migrate(&url)
        .await
        .expect("migrate as an ordinary owner");
    // The ordinary owner is refused at run time as well (it owns the tables), unless allowed.
    let e = PgStore::connect_with(&url, &ConnectOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("owns the schema"), "{e}");
    let store = PgStore::connect_with(&url, &ConnectOptions::new().allow_owner_login(true))
        .await
        .unwrap();
    let a = store
        .create_tenant("owner-a", &TenantSettings::default())
        .await
        .unwrap();
    let b = store
        .create_tenant("owner-b", &TenantSettings::default())
        .await
        .unwrap();
    let names: Vec<String> = store
        .tiering()
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["owner-a", "owner-b"]);
    let mut conn = store.pool().acquire().await.unwrap();
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM tenant")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(visible, 0, "alto_app sees no tenant row without naming one");
    drop(conn);
    // The owner itself reads the directory too (that is what the function relies on).
    let mut owner = PgConnection::connect(&url).await.unwrap();
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM tenant")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(all, 2);
    let _ = owner.close().await;
    assert_ne!(a.id, b.id);
    store.pool().close().await;
    db.drop().await;
}
