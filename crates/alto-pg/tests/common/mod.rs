//! Test databases: each test gets a fresh database of its own on the server `DATABASE_URL` names
//! (a superuser or owner URL), migrated as that user; stores connect as the runtime login
//! [`APP_LOGIN`] (an all-tenants service login: LOGIN, member of `alto_app` alone), never as the
//! owner, except where a test says so ([`TestDb::owner_store`]).
//!
//! Without `DATABASE_URL` the tests fail, never skip: `scripts/test.sh` finds a server (or starts
//! a throwaway one) and sets it.

#![allow(dead_code, unreachable_pub)]

use alto_pg::{ConnectOptions, PgStore};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The runtime login the tests' stores connect as: an all-tenants service login (LOGIN, member
/// of `alto_app` alone, no password: the test server trusts local logins). Cluster-wide, so it
/// is created once and never dropped.
pub const APP_LOGIN: &str = "alto_app_login";

/// Create `alto_app` and [`APP_LOGIN`] if missing. `CREATE ROLE` has no `IF NOT EXISTS`, and
/// test binaries run in parallel: a duplicate means another one made it; a concurrent catalog
/// update (XX000, 40001) is tried again.
pub async fn ensure_app_login() {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.load(Ordering::Acquire) {
        return;
    }
    let mut conn = PgConnection::connect(&admin_url())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to DATABASE_URL: {e}"));
    for sql in [
        "DO $$ BEGIN CREATE ROLE alto_app NOLOGIN NOSUPERUSER NOBYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        "DO $$ BEGIN CREATE ROLE alto_app_login LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE alto_app; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    ] {
        let mut attempt = 0;
        loop {
            match conn.execute(sql).await {
                Ok(_) => break,
                Err(sqlx::Error::Database(e))
                    if attempt < 10 && matches!(e.code().as_deref(), Some("XX000" | "40001")) =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => panic!("cannot create the test login {APP_LOGIN}: {e}"),
            }
        }
    }
    let _ = conn.close().await;
    DONE.store(true, Ordering::Release);
}

/// The server's superuser/owner URL from `DATABASE_URL`; panics with what to do when unset.
pub fn admin_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "DATABASE_URL is not set. The PostgreSQL tests need a server: run `scripts/test.sh` \
             (it finds a local server or starts a throwaway cluster), or set DATABASE_URL to a \
             superuser URL such as postgres://postgres@127.0.0.1:5432/postgres"
        ),
    }
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// `url` with its user replaced by `user` (no password: the test server trusts local logins).
pub fn with_user(url: &str, user: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = match rest.find('@') {
        Some(at) if rest.find('/').is_none_or(|slash| at < slash) => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{user}@{host}", &url[..scheme_end])
}

/// A name for a cluster-wide role of this test process (`alto_test_<pid>_<n>_<tag>`): stale
/// ones, left by dead runs, are dropped like stale databases.
pub fn role_name(tag: &str) -> String {
    format!(
        "alto_test_{}_{}_{tag}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of its own for one test.
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// Its URL as the superuser/owner.
    pub url: String,
    admin: String,
}

static N: AtomicU64 = AtomicU64::new(0);

impl TestDb {
    /// Create and migrate a fresh database.
    pub async fn new(tag: &str) -> TestDb {
        let db = Self::empty(tag).await;
        alto_pg::migrate(&db.url).await.expect("migrate");
        ensure_app_login().await;
        db
    }

    /// Create a fresh database without the schema.
    pub async fn empty(tag: &str) -> TestDb {
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to DATABASE_URL: {e}"));
        drop_stale(&mut conn).await;
        let name = format!(
            "alto_test_{}_{}_{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .expect("create test database");
        let _ = conn.close().await;
        TestDb {
            url: with_database(&admin, &name),
            name,
            admin,
        }
    }

    /// Its URL as the runtime login [`APP_LOGIN`].
    pub fn app_url(&self) -> String {
        with_user(&self.url, APP_LOGIN)
    }

    /// A store on it, as the runtime login [`APP_LOGIN`] (its pool runs as `alto_app`).
    pub async fn store(&self) -> PgStore {
        self.connect().await.expect("connect as the runtime login")
    }

    /// [`store`](Self::store), returning the error.
    pub async fn connect(&self) -> alto_core::Result<PgStore> {
        ensure_app_login().await;
        PgStore::connect_with(&self.app_url(), &ConnectOptions::new()).await
    }

    /// A store on it as the superuser/owner, allowed explicitly (with a warning on stderr): for
    /// the tests that need the owner at run time.
    pub async fn owner_store(&self) -> PgStore {
        PgStore::connect_with(&self.url, &ConnectOptions::new().allow_owner_login(true))
            .await
            .expect("connect as the owner (allowed)")
    }

    /// A connection as the superuser/owner (RLS does not bind it).
    pub async fn owner(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("owner connection")
    }

    /// Drop the database.
    pub async fn drop(self) {
        if let Ok(mut conn) = PgConnection::connect(&self.admin).await {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                )))
                .await;
            let _ = conn.close().await;
        }
    }
}

/// Drop test databases (and login roles) left by runs whose process is gone (a failed test does
/// not clean up).
async fn drop_stale(conn: &mut PgConnection) {
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'alto_test_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for role in roles {
        let pid = role.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let dead = pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
        if dead {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP ROLE IF EXISTS \"{role}\""
                )))
                .await;
        }
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'alto_test_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .await;
        }
    }
}
