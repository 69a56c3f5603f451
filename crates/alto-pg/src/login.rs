//! Runtime logins: the roles services log in as, created and dropped by the schema's owner.
//!
//! Two kinds, neither with the owner's powers (no superuser, no BYPASSRLS, owns nothing):
//!
//! - a **tenant-bound login** ([`create_login`] with a tenant): a LOGIN role, member of
//!   `alto_app` (its grants) and of `alto_bound` (the mark of a bound login), whose tenant is
//!   recorded in the owner's table `tenant_login`. Every row-level security policy compares with
//!   `alto_session_tenant()`, which for such a `session_user` returns its tenant whatever
//!   `app.tenant_id` says (a setting naming another tenant raises), so no SQL it can run — `SET`,
//!   `set_config`, `RESET ROLE` included — reaches another tenant's rows, and `alto_tenants()`
//!   lists its own tenant alone. [`PgStore`](crate::PgStore) connected as one refuses other
//!   tenants with `PermissionDenied`.
//! - an **all-tenants service login** ([`create_login`] without a tenant): a LOGIN role that is a
//!   member of `alto_app` alone. It acts for every tenant (workers, operators): it names the
//!   tenant of each transaction in `app.tenant_id`, which it may set to any tenant.
//!
//! Roles are cluster-wide; bindings belong to one database. A bound login that connects to
//! another database of the cluster, where it has no binding, is refused there (it is a member of
//! `alto_bound`).
//!
//! These calls take the owner's URL (the user that ran [`migrate`](crate::migrate)), who needs
//! CREATEROLE. A password, when given, is sent in the `CREATE ROLE` statement (quoted by the
//! server's `format('%L')`): the server's statement log, if it logs DDL, shows it.

use crate::error::db_err;
use crate::schema;
use alto_core::types::TenantId;
use alto_core::{Error, ErrorKind, Result};
use sqlx::{Connection, Executor, PgConnection, Row};

/// A runtime login of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// The role's name (the user of its URL).
    pub role: String,
    /// The tenant it is bound to (`None`: an all-tenants service login).
    pub tenant: Option<TenantId>,
    /// That tenant's name.
    pub tenant_name: Option<String>,
}

/// The longest role name PostgreSQL keeps (NAMEDATALEN - 1).
pub const MAX_ROLE_NAME: usize = 63;

/// Whether `role` may be the name of a new login: a tenant name's rule (one safe segment of
/// letters, digits, `.`, `_`, `-`), at most 63 bytes, not one of PostgreSQL's (`pg_…`) nor
/// Alto's own roles.
///
/// # Errors
/// `InvalidInput` saying which rule it breaks.
pub fn check_role_name(role: &str) -> Result<()> {
    alto_core::names::check_name("login", role)?;
    if role.len() > MAX_ROLE_NAME {
        return Err(Error::invalid_input(format!(
            "login name {role:?} is longer than {MAX_ROLE_NAME} bytes"
        )));
    }
    if role.starts_with("pg_")
        || [schema::APP_ROLE, schema::BOUND_ROLE, "postgres", "public"].contains(&role)
    {
        return Err(Error::invalid_input(format!(
            "login name {role:?} is reserved"
        )));
    }
    Ok(())
}

async fn owner_connection(owner_url: &str) -> Result<PgConnection> {
    let options = schema::options(owner_url)?;
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| db_err(e).prefixed("cannot connect to PostgreSQL"))?;
    // The caller must be the schema's owner (or a superuser): it alone reads `tenant_login`.
    let owner: Option<bool> = sqlx::query_scalar(
        "SELECT r.rolsuper OR pg_has_role(current_user, c.relowner, 'USAGE') \
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.rolname = current_user \
         WHERE c.oid = to_regclass('public.tenant_login')",
    )
    .fetch_optional(&mut conn)
    .await
    .map_err(db_err)?;
    match owner {
        Some(true) => Ok(conn),
        Some(false) => Err(Error::new(
            ErrorKind::PermissionDenied,
            "logins are managed by the schema's owner: use the URL that ran `alto migrate`",
        )),
        None => Err(Error::new(
            ErrorKind::Unsupported,
            "the database has no tenant_login table (schema version 9): run `alto migrate \
             --store URL` first",
        )),
    }
}

/// Create the login `role`, bound to the tenant named `tenant`, or (`None`) an all-tenants
/// service login; with `password` (else it can log in only where the server trusts it, or once
/// an administrator sets one). One transaction: the role, its memberships and its binding.
///
/// # Errors
/// `InvalidInput` for a bad role name, `NotFound` for an unknown tenant, `AlreadyExists` when the
/// role exists (in any database of the cluster), `PermissionDenied` when `owner_url` is not the
/// owner's.
pub async fn create_login(
    owner_url: &str,
    role: &str,
    tenant: Option<&str>,
    password: Option<&str>,
) -> Result<Login> {
    check_role_name(role)?;
    let mut conn = owner_connection(owner_url).await?;
    let result = create_on(&mut conn, role, tenant, password).await;
    let _ = conn.close().await;
    result
}

async fn create_on(
    conn: &mut PgConnection,
    role: &str,
    tenant: Option<&str>,
    password: Option<&str>,
) -> Result<Login> {
    let mut tx = conn.begin().await.map_err(db_err)?;
    let tenant_id = match tenant {
        None => None,
        Some(name) => {
            let id: Option<i64> =
                sqlx::query_scalar("SELECT tenant_id FROM public.tenant WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            Some(id.ok_or_else(|| Error::not_found(format!("tenant {name:?} does not exist")))?)
        }
    };
    // Identifiers and the password quoted by the server (CREATE ROLE takes no parameters).
    let sql = if tenant_id.is_some() {
        "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE \
         NOREPLICATION INHERIT IN ROLE alto_app, alto_bound PASSWORD %L', $1::text, $2::text)"
    } else {
        "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE \
         NOREPLICATION INHERIT IN ROLE alto_app PASSWORD %L', $1::text, $2::text)"
    };
    let create: String = sqlx::query_scalar(sql)
        .bind(role)
        .bind(password)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.execute(sqlx::AssertSqlSafe(create)).await.map_err(|e| {
        let e = db_err(e);
        if matches!(e.kind(), ErrorKind::AlreadyExists) || e.to_string().contains("already exists")
        {
            Error::new(
                ErrorKind::AlreadyExists,
                format!("the role {role:?} already exists"),
            )
        } else {
            e.prefixed(&format!("cannot create the login {role:?}"))
        }
    })?;
    if let Some(id) = tenant_id {
        sqlx::query("INSERT INTO public.tenant_login (role, tenant_id) VALUES ($1, $2)")
            .bind(role)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(Login {
        role: role.to_owned(),
        tenant: tenant_id.map(TenantId),
        tenant_name: tenant.map(str::to_owned),
    })
}

/// The database's runtime logins, by name: the tenant-bound ones, and the all-tenants service
/// logins (LOGIN roles that are members of `alto_app` and of no `alto_bound`, neither superusers
/// nor BYPASSRLS, nor the owner).
///
/// # Errors
/// `PermissionDenied` when `owner_url` is not the owner's.
pub async fn list_logins(owner_url: &str) -> Result<Vec<Login>> {
    let mut conn = owner_connection(owner_url).await?;
    let rows = sqlx::query(
        "SELECT r.rolname::text, l.tenant_id, t.name \
         FROM pg_catalog.pg_roles r \
         LEFT JOIN public.tenant_login l ON l.role = r.rolname \
         LEFT JOIN public.tenant t ON t.tenant_id = l.tenant_id \
         WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolbypassrls \
           AND pg_has_role(r.oid, 'alto_app', 'MEMBER') \
           AND (l.role IS NOT NULL OR NOT pg_has_role(r.oid, 'alto_bound', 'MEMBER')) \
           AND NOT pg_has_role(r.oid, (SELECT c.relowner FROM pg_catalog.pg_class c \
                                       WHERE c.oid = 'public.tenant_login'::regclass), 'MEMBER') \
         ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(db_err);
    let _ = conn.close().await;
    rows?
        .iter()
        .map(|r| {
            Ok(Login {
                role: r.try_get(0).map_err(db_err)?,
                tenant: r
                    .try_get::<Option<i64>, _>(1)
                    .map_err(db_err)?
                    .map(TenantId),
                tenant_name: r.try_get(2).map_err(db_err)?,
            })
        })
        .collect()
}

/// Drop the login `role` (one [`list_logins`] lists) and its binding.
///
/// # Errors
/// `NotFound` when no such login is listed; `Backend` when PostgreSQL refuses (the role still
/// owns objects or holds grants elsewhere: see `DROP OWNED`).
pub async fn drop_login(owner_url: &str, role: &str) -> Result<()> {
    if list_logins(owner_url).await?.iter().all(|l| l.role != role) {
        return Err(Error::not_found(format!(
            "{role:?} is not a runtime login of this database"
        )));
    }
    let mut conn = owner_connection(owner_url).await?;
    let result = async {
        let mut tx = conn.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM public.tenant_login WHERE role = $1")
            .bind(role)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let drop: String = sqlx::query_scalar("SELECT format('DROP ROLE %I', $1::text)")
            .bind(role)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.execute(sqlx::AssertSqlSafe(drop))
            .await
            .map_err(|e| db_err(e).prefixed(&format!("cannot drop the login {role:?}")))?;
        tx.commit().await.map_err(db_err)
    }
    .await;
    let _ = conn.close().await;
    result
}
