//! No runtime session as the owner (issue 14): `PgStore::connect` refuses a login
//! (`session_user`) that is a superuser, has BYPASSRLS, owns the schema's tables or is a member of
//! a role that is or does one of these, with `PermissionDenied` saying why and what to do; the
//! explicit override (`ConnectOptions::allow_owner_login`, `ALTO_ALLOW_OWNER_LOGIN=1`) lets it
//! run. A runtime login (member of `alto_app` alone) is accepted.

mod common;

use alto_core::types::TenantSettings;
use alto_core::{ErrorKind, Store};
use alto_pg::{ConnectOptions, PgStore};
use sqlx::{Connection, Executor, PgConnection};

async fn refused_then_allowed(url: &str, why: &str) {
    let e = PgStore::connect_with(url, &ConnectOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    let msg = e.to_string();
    assert!(msg.contains(why), "{why:?} not in {msg}");
    assert!(msg.contains("alto login create"), "{msg}");
    assert!(msg.contains("ALTO_ALLOW_OWNER_LOGIN"), "{msg}");

    let store = PgStore::connect_with(url, &ConnectOptions::new().allow_owner_login(true))
        .await
        .unwrap_or_else(|e| panic!("allowed with the override: {e}"));
    // It still works through alto_app.
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(who, "alto_app");
    store.tiering().tenants().await.unwrap();
    store.pool().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_powers_are_refused_unless_allowed() {
    let db = common::TestDb::new("ownerlogin").await;
    let admin = common::admin_url();
    let mut c = PgConnection::connect(&admin).await.unwrap();
    let is_super: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert!(is_super, "DATABASE_URL is expected to name a superuser");

    // The runtime login is accepted, and works.
    let store = db.store().await;
    store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    store.pool().close().await;

    // The superuser that migrated (the tests' owner).
    refused_then_allowed(&db.url, "is a superuser").await;

    // A login that may SET ROLE to a superuser (a NOLOGIN one).
    let su = common::role_name("su");
    let su_member = common::role_name("sumember");
    // A login with BYPASSRLS, otherwise like a runtime login.
    let bypass = common::role_name("bypass");
    // A login that owns one of the schema's tables, and one that is a member of that owner.
    let owner = common::role_name("owner");
    let owner_member = common::role_name("ownermember");
    for sql in [
        format!("CREATE ROLE \"{su}\" NOLOGIN SUPERUSER"),
        format!("CREATE ROLE \"{su_member}\" LOGIN IN ROLE alto_app, \"{su}\""),
        format!("CREATE ROLE \"{bypass}\" LOGIN BYPASSRLS IN ROLE alto_app"),
        format!("CREATE ROLE \"{owner}\" LOGIN IN ROLE alto_app"),
        format!("CREATE ROLE \"{owner_member}\" LOGIN IN ROLE alto_app, \"{owner}\""),
    ] {
        c.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
    }
    let mut o = db.owner().await;
    o.execute(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE file_current OWNER TO \"{owner}\""
    )))
    .await
    .unwrap();
    o.close().await.unwrap();

    refused_then_allowed(&common::with_user(&db.url, &su_member), "is a superuser").await;
    refused_then_allowed(&common::with_user(&db.url, &bypass), "BYPASSRLS").await;
    refused_then_allowed(
        &common::with_user(&db.url, &owner),
        "owns the schema's tables",
    )
    .await;
    refused_then_allowed(
        &common::with_user(&db.url, &owner_member),
        "owns the schema's tables",
    )
    .await;

    // The runtime login is still accepted.
    db.store().await.pool().close().await;

    db.drop().await;
    for role in [su_member, su, bypass, owner_member, owner] {
        let _ = c
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP ROLE IF EXISTS \"{role}\""
            )))
            .await;
    }
    c.close().await.unwrap();
}
