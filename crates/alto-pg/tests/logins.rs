//! Tenant-bound logins (issue 14): the database fixes such a login's tenant. Through the store it
//! works for its tenant and is refused others with `PermissionDenied`; through raw SQL —
//! `set_config('app.tenant_id', B)`, `app.tenant_name`, `SET ROLE`/`RESET ROLE`, temporary tables
//! named like Alto's — nothing of another tenant is visible or writable, and the tenant directory
//! lists its own tenant alone. A login bound in one database is refused in another.

mod common;

use alto_core::feed::{AccessEvent, FeedAction};
use alto_core::store::feeds::EventBatch;
use alto_core::store::tiering::{PlanCommit, PlannedFile, PlannedJobSpec};
use alto_core::store::{IngestChunk, ScanKind, ScanSpec, ShareSpec};
use alto_core::types::{FileEntry, NewAuditEvent, ShareKind, TenantId, TenantSettings};
use alto_core::{ErrorKind, Store};
use alto_pg::PgStore;
use alto_pg::login::{self, Login};
use sqlx::{Connection, Executor, PgConnection};

const T0: i64 = 1_700_000_000_000_000;

/// A share `data` with `/secret/plan.txt` (planned) and an audit event, written through `store`.
async fn fill(store: &PgStore, t: TenantId) {
    store
        .ensure_share(t, &ShareSpec::new("data", ShareKind::Posix))
        .await
        .unwrap();
    let spec = ScanSpec {
        share: "data".into(),
        kind: ScanKind::Full,
        source: Some("inv".into()),
    };
    let scan = store.begin_scan(t, &spec).await.unwrap();
    let chunk = IngestChunk {
        id: "0".into(),
        entries: vec![FileEntry {
            path: "/secret/plan.txt".into(),
            size: 7,
            accessed: Some(T0),
            modified: Some(T0),
            ..Default::default()
        }],
    };
    store.ingest_chunk(t, scan.id, &chunk).await.unwrap();
    store.finish_scan(t, scan.id).await.unwrap();
    let plan = PlanCommit {
        at: T0,
        jobs: vec![PlannedJobSpec {
            rule: "cold".into(),
            target: "file:///t/".into(),
            priority: 1,
            estimate: Default::default(),
            files: vec![PlannedFile {
                share: "data".into(),
                path_key: "/secret/plan.txt".into(),
                target_uri: "file:///t/secret/plan.txt".into(),
            }],
        }],
    };
    let out = store.tiering().commit_plan(t, &plan).await.unwrap();
    assert_eq!(out.planned, 1);
    let batch = EventBatch {
        parent: None,
        feed: "batch".into(),
        events: vec![AccessEvent {
            id: "b1/0".into(),
            at: T0 + 1_000_000,
            action: FeedAction::FileRead,
            path: "/secret/plan.txt".into(),
            target_path: None,
            user: None,
        }],
        cursors: vec![],
        now: T0 + 2_000_000,
    };
    store.feeds().apply_events(t, "data", &batch).await.unwrap();
    let ev = NewAuditEvent {
        kind: "x".into(),
        subject: "y".into(),
        detail: serde_json::json!({}),
        parent: None,
    };
    store.append_audit(t, &ev).await.unwrap();
}

/// Tables (and partitions) of the schema with a tenant_id column.
async fn tenant_tables(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'public.' || quote_ident(c.relname) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

/// `Ok(rows)` or the refusal's message (permission denied / row-level security / the bound
/// login's own error).
async fn run(conn: &mut PgConnection, stmt: &str, b: TenantId) -> Result<u64, String> {
    let mut tx = conn.begin().await.unwrap();
    let r = sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned()))
        .bind(b.0)
        .execute(&mut *tx)
        .await;
    let _ = tx.rollback().await;
    r.map(|r| r.rows_affected()).map_err(|e| e.to_string())
}

async fn count(conn: &mut PgConnection, stmt: &str, b: TenantId) -> Result<i64, String> {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(stmt.to_owned()))
        .bind(b.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| e.to_string())
}

fn refused(msg: &str) -> bool {
    msg.contains("permission denied")
        || msg.contains("row-level security")
        || msg.contains("is bound to tenant")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_login_works_for_its_tenant_alone() {
    let db = common::TestDb::new("login_store").await;
    let service = db.store().await;
    let a = service
        .create_tenant("tenant-a", &TenantSettings::default())
        .await
        .unwrap();
    let b = service
        .create_tenant("tenant-b", &TenantSettings::default())
        .await
        .unwrap();
    fill(&service, b.id).await;

    let role = common::role_name("a");
    let created = login::create_login(&db.url, &role, Some("tenant-a"), None)
        .await
        .unwrap();
    assert_eq!(created.tenant, Some(a.id));
    let e = login::create_login(&db.url, &role, Some("tenant-a"), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
    let e = login::create_login(&db.url, "alto_app", Some("tenant-a"), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let e = login::create_login(&db.url, &common::role_name("x"), Some("nope"), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let listed = login::list_logins(&db.url).await.unwrap();
    assert!(
        listed.iter().any(|l: &Login| l.role == role
            && l.tenant == Some(a.id)
            && l.tenant_name.as_deref() == Some("tenant-a")),
        "{listed:?}"
    );

    let store = PgStore::connect(&common::with_user(&db.url, &role))
        .await
        .unwrap();
    assert_eq!(store.bound_tenant(), Some(a.id));
    // Its own tenant: ingest, files, plan, feeds, audit.
    fill(&store, a.id).await;
    let files = store.files(a.id, &Default::default()).await.unwrap().items;
    assert_eq!(files.len(), 1);
    assert!(store.audit(a.id, None, 10).await.unwrap().items.len() >= 2);
    // A time window (which makes the trail's zones through an owner function) as well.
    let window = alto_core::types::AuditQuery {
        since: Some(0),
        ..Default::default()
    };
    assert!(store.audit_query(a.id, &window).await.unwrap().items.len() >= 2);
    // A report (two connections sharing one exported snapshot) sees its own tenant's file.
    let q = alto_core::report::ReportQuery::at(0);
    let report = store.report_aggregates(a.id, &q).await.unwrap();
    assert_eq!(report.totals.files, 1);
    assert_eq!(report.largest.len(), 1);
    assert_eq!(store.tenant("tenant-a").await.unwrap().id, a.id);
    let listed: Vec<String> = store
        .tiering()
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        listed,
        ["tenant-a"],
        "a bound login lists its own tenant alone"
    );

    // Any other tenant: PermissionDenied, whatever the call.
    let denied = |e: alto_core::Error| {
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(e.to_string().contains(&role), "{e}");
    };
    denied(store.files(b.id, &Default::default()).await.unwrap_err());
    denied(store.audit(b.id, None, 10).await.unwrap_err());
    denied(store.audit_query(b.id, &window).await.unwrap_err());
    denied(store.report_aggregates(b.id, &q).await.unwrap_err());
    denied(store.shares(b.id).await.unwrap_err());
    denied(
        store
            .ensure_share(b.id, &ShareSpec::new("evil", ShareKind::Posix))
            .await
            .unwrap_err(),
    );
    denied(
        store
            .tier_object(b.id, "data", "/secret/plan.txt")
            .await
            .unwrap_err(),
    );
    denied(store.tenant("tenant-b").await.unwrap_err());
    denied(store.tenant("no-such-tenant").await.unwrap_err());
    denied(
        store
            .create_tenant("tenant-c", &TenantSettings::default())
            .await
            .unwrap_err(),
    );
    // B is intact.
    let files = service
        .files(b.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].entry.size, 7);

    store.pool().close().await;
    login::drop_login(&db.url, &role).await.unwrap();
    assert!(
        login::list_logins(&db.url)
            .await
            .unwrap()
            .iter()
            .all(|l| l.role != role)
    );
    let e = login::drop_login(&db.url, &role).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // Only runtime logins are dropped.
    let e = login::drop_login(&db.url, "alto_app").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    service.pool().close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_login_raw_sql_cannot_reach_another_tenant() {
    let db = common::TestDb::new("login_raw").await;
    let service = db.store().await;
    let a = service
        .create_tenant("tenant-a", &TenantSettings::default())
        .await
        .unwrap();
    let b = service
        .create_tenant("tenant-b", &TenantSettings::default())
        .await
        .unwrap();
    fill(&service, a.id).await;
    fill(&service, b.id).await;
    let b = b.id;
    assert_eq!(a.name, "tenant-a");
    let role = common::role_name("raw");
    login::create_login(&db.url, &role, Some("tenant-a"), None)
        .await
        .unwrap();
    let mut owner = db.owner().await;
    let tables = tenant_tables(&mut owner).await;
    assert!(tables.len() >= 15, "{tables:?}");

    let mut c = PgConnection::connect(&common::with_user(&db.url, &role))
        .await
        .unwrap();
    // Shadowing attempts: temporary tables named like Alto's.
    for ddl in [
        "CREATE TEMP TABLE tenant_login (role name, tenant_id bigint, created_utc timestamptz)",
        "CREATE TEMP TABLE pg_roles (rolname name, oid oid)",
        "CREATE TEMP TABLE pg_auth_members (member oid, roleid oid)",
    ] {
        c.execute(ddl).await.unwrap();
    }
    sqlx::query("INSERT INTO tenant_login VALUES (session_user, $1, now())")
        .bind(b.0)
        .execute(&mut c)
        .await
        .unwrap();

    let reads = |t: &str| format!("SELECT count(*) FROM {t} WHERE tenant_id = $1");
    // Three ways in: the tenant setting naming B, then also as alto_app (SET ROLE), then back
    // to the login itself (RESET ROLE).
    for prelude in [
        "SELECT set_config('app.tenant_id', '0', false)",
        "SET ROLE alto_app",
        "RESET ROLE",
    ] {
        c.execute(prelude).await.unwrap();
        sqlx::query("SELECT set_config('app.tenant_id', $1, false)")
            .bind(b.0.to_string())
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("SELECT set_config('app.tenant_name', 'tenant-b', false)")
            .execute(&mut c)
            .await
            .unwrap();
        for t in &tables {
            match count(&mut c, &reads(t), b).await {
                Ok(n) => assert_eq!(n, 0, "{prelude}: the bound login sees {n} rows of B in {t}"),
                Err(e) => assert!(refused(&e), "{prelude}: {t}: {e}"),
            }
            for stmt in [
                if t == "public.tenant" {
                    format!("UPDATE {t} SET name = name WHERE tenant_id = $1")
                } else {
                    format!("UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = $1")
                },
                format!("DELETE FROM {t} WHERE tenant_id = $1"),
            ] {
                match run(&mut c, &stmt, b).await {
                    Ok(n) => assert_eq!(n, 0, "{prelude}: {stmt} touched {n} rows of B"),
                    Err(e) => assert!(refused(&e), "{prelude}: {stmt}: {e}"),
                }
            }
        }
        for stmt in [
            "INSERT INTO share (tenant_id, name, kind, case_sensitive) \
             VALUES ($1, 'x', 'posix', true)",
            "INSERT INTO audit_event (tenant_id, event_utc, kind, subject) \
             VALUES ($1, now(), 'k', 's')",
            "UPDATE tier_object SET target_uri = 's3://evil/' WHERE tenant_id = $1",
            "UPDATE file_current SET tenant_id = $1",
            "INSERT INTO tenant (name) SELECT 'evil' WHERE $1 > 0",
            "UPDATE tenant SET name = 'stolen' WHERE tenant_id = $1",
            "DELETE FROM public.tenant_login WHERE tenant_id <> $1",
            "INSERT INTO public.tenant_login VALUES (session_user, $1)",
        ] {
            match run(&mut c, stmt, b).await {
                Ok(n) => assert_eq!(n, 0, "{prelude}: {stmt} touched {n} rows"),
                Err(e) => assert!(refused(&e), "{prelude}: {stmt}: {e}"),
            }
        }
        // The directory: its own tenant at most (none while the setting names B).
        for q in [
            "SELECT count(*) FROM alto_tenants() WHERE tenant_id = $1",
            "SELECT count(*) FROM tenant WHERE tenant_id = $1 OR name = 'tenant-b' OR $1 < 0",
        ] {
            match count(&mut c, q, b).await {
                Ok(n) => assert_eq!(n, 0, "{prelude}: {q}"),
                Err(e) => assert!(refused(&e), "{prelude}: {q}: {e}"),
            }
        }
        match count(
            &mut c,
            "SELECT count(*) FROM public.tenant_login WHERE $1 > 0",
            b,
        )
        .await
        {
            Ok(n) => panic!("{prelude}: the bound login reads tenant_login ({n} rows)"),
            Err(e) => assert!(e.contains("permission denied"), "{e}"),
        }
    }

    // With the setting cleared (or naming A), the login sees its own tenant, and only it.
    c.execute("RESET app.tenant_id").await.unwrap();
    let own = count(&mut c, "SELECT count(*) FROM file_current WHERE $1 > 0", b)
        .await
        .unwrap();
    assert_eq!(own, 1, "its own file");
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM alto_tenants()")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(names, ["tenant-a"]);
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM tenant")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert_eq!(names, ["tenant-a"], "app.tenant_name does not open B's row");
    let _ = c.close().await;

    // B is intact.
    let files = service.files(b, &Default::default()).await.unwrap().items;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].entry.size, 7);
    let obj = service
        .tier_object(b, "data", "/secret/plan.txt")
        .await
        .unwrap();
    assert_eq!(obj.target_uri, "file:///t/secret/plan.txt");
    assert_eq!(service.tenant("tenant-b").await.unwrap().id, b);

    // Bound in this database, the login is refused in another one of the cluster.
    let other = common::TestDb::new("login_other").await;
    let e = PgStore::connect(&common::with_user(&other.url, &role))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("another database"), "{e}");
    other.drop().await;

    login::drop_login(&db.url, &role).await.unwrap();
    service.pool().close().await;
    db.drop().await;
}
