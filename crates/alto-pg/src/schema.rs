//! The schema's life: migrations (run as the owner), the application role, and the checks
//! [`PgStore::connect`](crate::PgStore::connect) makes before it hands out a store.
//!
//! Migrations live in `crates/alto-pg/migrations/` and are embedded with `sqlx::migrate!`: forward
//! only, each applied once and recorded in `_sqlx_migrations`, all under sqlx's advisory lock so
//! that concurrent `migrate` calls take turns. The role `alto_app` is cluster-wide, so creating it
//! tolerates another session creating it at the same moment.

use crate::error::db_err;
use crate::rekey::{self, PathKeyReport};
use alto_core::types::TenantId;
use alto_core::{Error, ErrorKind, Result};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};

/// The role the library runs as: NOLOGIN, NOSUPERUSER, NOBYPASSRLS, owns nothing.
pub const APP_ROLE: &str = "alto_app";

/// The schema version this build expects (the newest embedded migration).
pub const SCHEMA_VERSION: i64 = 13;

pub(crate) const SET_ROLE: &str = "SET ROLE alto_app";

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Create the role if it is missing. `CREATE ROLE` has no `IF NOT EXISTS`, and two sessions (two
/// test binaries, two installers) may race: either error code means someone else made it.
const CREATE_ROLE: &str = "DO $$ BEGIN \
     CREATE ROLE alto_app NOLOGIN NOSUPERUSER NOBYPASSRLS; \
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; \
     END $$";

/// Let the owner act as the role (so one URL serves `migrate` and `connect`), unless it already
/// can (superusers can), and let the role create its private staging tables.
const GRANT_ROLE: &str = "DO $$ BEGIN \
     IF NOT pg_has_role(current_user, 'alto_app', 'MEMBER') THEN \
       EXECUTE format('GRANT alto_app TO %I', current_user); \
     END IF; \
     EXECUTE format('GRANT TEMPORARY, CONNECT ON DATABASE %I TO alto_app', current_database()); \
     END $$";

/// The cluster-wide NOLOGIN role every tenant-bound login is a member of (see
/// [`crate::login`]): a member that has no binding in a database is refused there.
pub const BOUND_ROLE: &str = "alto_bound";

const CREATE_BOUND_ROLE: &str = "DO $$ BEGIN \
     CREATE ROLE alto_bound NOLOGIN NOSUPERUSER NOBYPASSRLS; \
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; \
     END $$";

const GRANT_MIGRATIONS: &str = "GRANT SELECT ON _sqlx_migrations TO alto_app";

pub(crate) fn options(url: &str) -> Result<PgConnectOptions> {
    let options: PgConnectOptions = url.parse().map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("bad PostgreSQL URL {:?}", redact(url)),
        )
        .with_source(e)
    })?;
    Ok(options.application_name("alto"))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &cred[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// What [`migrate_report`] did beyond creating and altering tables.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrateReport {
    /// The re-derivation of path keys by the share's rule (schema version 8), when this run
    /// carried it out (once per database).
    pub path_keys: Option<PathKeyReport>,
}

/// Run the migrations as the URL's user (the owner), creating the `alto_app` role (NOLOGIN,
/// NOSUPERUSER, NOBYPASSRLS) if missing and granting it what it needs. Idempotent.
///
/// The step of schema version 8 that re-derives stored path keys (see [`migrate_report`]) says
/// what it did in one line on stderr when the database has shares.
pub async fn migrate(url: &str) -> Result<()> {
    let report = migrate_report(url).await?;
    if let Some(r) = report.path_keys.filter(|r| r.shares > 0) {
        eprintln!(
            "alto-pg: schema version 8: re-derived {} path keys by their shares' rule; {} \
             records kept their old key because another record holds the new one (listed in \
             path_key_collision, nothing merged)",
            r.rederived, r.collisions
        );
    }
    Ok(())
}

/// [`migrate`], returning what it did instead of printing it.
///
/// Schema version 8 derives path keys by the share's rule (`alto_core::path::share_key`: on
/// POSIX and LucidLink shares only `/` separates; every key is Unicode NFC). SQL cannot derive
/// them, so the first `migrate` that brings a database to version 8 re-derives the stored keys
/// in Rust, in one transaction: a file record whose new key is free moves to it with its tier
/// object and snapshot rows; one whose new key another record of the share holds keeps its old
/// key and is listed in the table `path_key_collision` (nothing is merged). Until it has run,
/// [`PgStore::connect`](crate::PgStore::connect) refuses the database.
pub async fn migrate_report(url: &str) -> Result<MigrateReport> {
    let options = options(url)?;
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| db_err(e).prefixed("cannot connect to PostgreSQL"))?;
    let result = migrate_on(&mut conn).await;
    let _ = conn.close().await;
    result
}

async fn migrate_on(conn: &mut PgConnection) -> Result<MigrateReport> {
    // One migrate per database at a time (grants on the database row race otherwise); the
    // migrator takes its own lock as well.
    conn.execute("SELECT pg_advisory_lock(hashtextextended('alto.migrate', 0))")
        .await
        .map_err(db_err)?;
    let result = migrate_locked(conn).await;
    let _ = conn
        .execute("SELECT pg_advisory_unlock(hashtextextended('alto.migrate', 0))")
        .await;
    result
}

async fn migrate_locked(conn: &mut PgConnection) -> Result<MigrateReport> {
    setup(conn, CREATE_ROLE)
        .await
        .map_err(|e| e.prefixed("cannot create the role alto_app (the owner needs CREATEROLE)"))?;
    setup(conn, CREATE_BOUND_ROLE).await.map_err(|e| {
        e.prefixed("cannot create the role alto_bound (the owner needs CREATEROLE)")
    })?;
    setup(conn, GRANT_ROLE).await.map_err(|e| {
        e.prefixed("cannot grant alto_app to the owner (the owner needs CREATEROLE)")
    })?;
    // `run_direct`, not `run` through `Acquire`, keeps `migrate`'s future provably `Send`
    // (rust-lang/rust#102211).
    MIGRATOR
        .run_direct(None, &mut *conn, false)
        .await
        .map_err(|e| {
            use sqlx::migrate::MigrateError;
            match e {
                MigrateError::VersionMissing(v) => newer_schema(v),
                e => Error::new(ErrorKind::Backend, "migrating the Alto schema failed")
                    .with_source(e),
            }
        })?;
    conn.execute(GRANT_MIGRATIONS).await.map_err(db_err)?;
    // Version 8's step in Rust (pending until it has committed, so an interrupted run resumes).
    let path_keys = rekey::run(conn)
        .await
        .map_err(|e| e.prefixed("re-deriving path keys by the share's rule failed"))?;
    Ok(MigrateReport { path_keys })
}

/// Run a cluster-wide setup statement, again if another database's migrate raced it (roles
/// and their memberships are shared by every database of the cluster).
async fn setup(conn: &mut PgConnection, sql: &'static str) -> Result<()> {
    let mut attempt = 0;
    loop {
        match conn.execute(sql).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e))
                if attempt < 5 && matches!(e.code().as_deref(), Some("XX000" | "40001")) =>
            {
                attempt += 1;
                // Back off on the server: the library names no async runtime.
                let _ = sqlx::query("SELECT pg_sleep($1)")
                    .bind(0.02 * f64::from(attempt))
                    .execute(&mut *conn)
                    .await;
            }
            Err(e) => return Err(db_err(e)),
        }
    }
}

fn newer_schema(version: i64) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "the database's Alto schema (version {version}) is newer than this build of alto-pg \
             (version {SCHEMA_VERSION}): upgrade Alto"
        ),
    )
}

/// What [`check_before_use`] found out about the login.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The pool must `SET ROLE alto_app` (the login user is not that role).
    pub(crate) set_role: bool,
    /// The login (`session_user`).
    pub(crate) login: String,
    /// The tenant the login is bound to (`tenant_login`), if any.
    pub(crate) bound: Option<TenantId>,
}

/// Check the schema and the role on one connection before the pool opens. A login with the
/// owner's powers (see [`owner_powers`]) is refused unless `allow_owner_login`.
pub(crate) async fn check_before_use(
    options: &PgConnectOptions,
    allow_owner_login: bool,
) -> Result<Session> {
    let mut conn = PgConnection::connect_with(options)
        .await
        .map_err(|e| db_err(e).prefixed("cannot connect to PostgreSQL"))?;
    let result = check_on(&mut conn, allow_owner_login).await;
    let _ = conn.close().await;
    result
}

/// The environment variable that lets [`PgStore::connect`](crate::PgStore::connect) run as a
/// login with the owner's powers (development only; a warning goes to stderr).
pub const ALLOW_OWNER_LOGIN_ENV: &str = "ALTO_ALLOW_OWNER_LOGIN";

/// Why row-level security would not bind the login `session_user` (whatever role it later
/// `SET ROLE`s to), or `None` when it would: it is (or may become) a superuser, has (or may
/// become a role with) BYPASSRLS, or owns the schema's tables (or is a member of their owner).
async fn owner_powers(conn: &mut PgConnection) -> Result<Option<&'static str>> {
    // `pg_has_role(x, x, 'MEMBER')` holds, so each test covers the login itself as well as the
    // roles it may `SET ROLE` to; a superuser is a member of every role.
    let row = sqlx::query(
        "SELECT \
           EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolsuper \
                   AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')), \
           EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolbypassrls \
                   AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')), \
           EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
                   WHERE c.oid IN (pg_catalog.to_regclass('public.file_current'), \
                                   pg_catalog.to_regclass('public.tenant_login')) \
                   AND pg_catalog.pg_has_role(session_user, c.relowner, 'MEMBER'))",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let (superuser, bypass, owner): (bool, bool, bool) = (
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
        row.try_get(2).map_err(db_err)?,
    );
    Ok(if superuser {
        Some("is a superuser (or a member of one)")
    } else if bypass {
        Some("has BYPASSRLS (or is a member of a role that has it)")
    } else if owner {
        Some("owns the schema's tables (or is a member of their owner)")
    } else {
        None
    })
}

async fn check_on(conn: &mut PgConnection, allow_owner_login: bool) -> Result<Session> {
    check_version(conn).await?;
    if rekey::pending(conn).await? {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the database's path keys have not been re-derived by their shares' rule yet \
             (schema version 8): run `alto migrate --store URL`",
        ));
    }
    let login: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    // The login itself, before any `SET ROLE`: code on a pooled connection can `RESET ROLE`.
    if let Some(why) = owner_powers(conn).await? {
        if !allow_owner_login {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "refusing to run as the login {login:?}: it {why}, so row-level security \
                     does not bind it. Connect as a runtime login instead: as the owner, run \
                     `alto login create NAME --all-tenants --store OWNER_URL` (acts for every \
                     tenant) or `alto login create NAME --tenant T --store OWNER_URL` (bound to \
                     one tenant), and use postgres://NAME@HOST/DB. For development only, \
                     {ALLOW_OWNER_LOGIN_ENV}=1 allows it"
                ),
            ));
        }
        eprintln!(
            "alto-pg: warning: running as the login {login:?}, which {why}: row-level security \
             does not bind it (allowed by {ALLOW_OWNER_LOGIN_ENV} or allow_owner_login; for \
             development only, connect as a runtime login from `alto login create`)"
        );
    }
    let set_role = login != APP_ROLE;
    if set_role {
        conn.execute(SET_ROLE).await.map_err(|e| {
            db_err(e).prefixed(&format!(
                "{login:?} cannot act as {APP_ROLE} (create runtime logins with `alto login \
                 create`, or GRANT {APP_ROLE} TO {login})"
            ))
        })?;
    }
    let row = sqlx::query(
        "SELECT r.rolsuper, r.rolbypassrls, \
                EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid \
                        AND c.relname = 'file_current') AS owner \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let (superuser, bypass, owner): (bool, bool, bool) = (
        row.try_get(0).map_err(db_err)?,
        row.try_get(1).map_err(db_err)?,
        row.try_get(2).map_err(db_err)?,
    );
    if superuser || bypass || owner {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the role {APP_ROLE} is a superuser, has BYPASSRLS or owns the tables: \
                 row-level security would not bind it; `ALTER ROLE {APP_ROLE} NOSUPERUSER \
                 NOBYPASSRLS` and let another role own the schema"
            ),
        ));
    }
    // Keep the audit trail's monthly partitions ahead of time. Best effort: without them rows
    // land in the default partition, which is correct, only less tidy.
    let _ = conn.execute("SELECT alto_audit_partitions(3)").await;
    let bound: Option<i64> = sqlx::query_scalar("SELECT public.alto_login_tenant()")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| {
            let e = db_err(e);
            Error::new(ErrorKind::PermissionDenied, e.to_string())
        })?;
    Ok(Session {
        set_role,
        login,
        bound: bound.map(TenantId),
    })
}

async fn check_version(conn: &mut PgConnection) -> Result<()> {
    let applied = sqlx::query("SELECT version, checksum FROM _sqlx_migrations WHERE success")
        .fetch_all(&mut *conn)
        .await;
    let applied = match applied {
        Ok(rows) => rows,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
            return Err(missing_schema());
        }
        Err(e) => return Err(db_err(e)),
    };
    if applied.is_empty() {
        return Err(missing_schema());
    }
    let mut newest = 0;
    for row in &applied {
        let version: i64 = row.try_get(0).map_err(db_err)?;
        let checksum: Vec<u8> = row.try_get(1).map_err(db_err)?;
        newest = newest.max(version);
        match MIGRATOR.iter().find(|m| m.version == version) {
            None => return Err(newer_schema(version)),
            Some(m) if *m.checksum != *checksum => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "migration {version} in the database differs from this build's: the \
                         schema was made by another version of Alto"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if newest < SCHEMA_VERSION {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the database's Alto schema (version {newest}) is older than this build \
                 (version {SCHEMA_VERSION}): run `alto migrate --store URL`"
            ),
        ));
    }
    Ok(())
}

fn missing_schema() -> Error {
    Error::new(
        ErrorKind::NotFound,
        "the database has no Alto schema: run `alto migrate --store URL` first",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_migration_is_the_schema_version() {
        assert_eq!(
            MIGRATOR.iter().map(|m| m.version).max(),
            Some(SCHEMA_VERSION)
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact("postgres://alto:secret@db:5432/alto"),
            "postgres://alto:***@db:5432/alto"
        );
        assert_eq!(redact("postgres://db/alto"), "postgres://db/alto");
    }
}
