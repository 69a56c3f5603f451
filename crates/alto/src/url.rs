//! Store URLs, in one place: parsing, the list of schemes, and opening.

use alto_core::{Error, ErrorKind, MemoryStore, Result, Store};
use std::sync::Arc;

/// The store used when none is given: an SQLite file in the current directory.
pub const DEFAULT_STORE: &str = "sqlite://alto.db";

/// Every scheme Alto knows, whether or not this build includes its backend.
pub const SCHEMES: [&str; 3] = ["sqlite://", "postgres://", "memory://"];

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory://`.
    Memory,
    /// `sqlite://PATH` (also `sqlite:PATH`, `sqlite::memory:`); holds the URL as given.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`; holds the URL as given.
    Postgres(String),
}

impl StoreUrl {
    /// Parse `url`. An unknown scheme is `InvalidInput` listing the schemes that exist.
    pub fn parse(url: &str) -> Result<StoreUrl> {
        let u = url.trim();
        if u == "memory://" || u == "memory:" {
            Ok(StoreUrl::Memory)
        } else if u.starts_with("sqlite:") {
            Ok(StoreUrl::Sqlite(u.to_owned()))
        } else if u.starts_with("postgres://") || u.starts_with("postgresql://") {
            Ok(StoreUrl::Postgres(u.to_owned()))
        } else {
            let scheme = u.split_once(':').map_or(u, |(s, _)| s);
            Err(Error::invalid_input(format!(
                "unknown store URL {u:?}: scheme {scheme:?} is not one of {}",
                SCHEMES.join(", ")
            )))
        }
    }
}

#[cfg_attr(all(feature = "sqlite", feature = "postgres"), allow(dead_code))]
fn compiled_out(scheme: &str, feature: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{scheme} stores are not in this build: enable the `{feature}` feature of the `alto` crate"
        ),
    )
}

/// Connect to the store at `url` with this host's defaults (tier targets `file://`, `s3://`,
/// `az://`; the POSIX stub driver; shares at their recorded roots): the handle every user of
/// the library starts from. [`Alto::builder`](crate::Alto::builder) sets those.
///
/// | URL | store |
/// |---|---|
/// | `sqlite://alto.db` | embedded SQLite file, created and migrated on first use |
/// | `postgres://user@host/db` | PostgreSQL (run [`migrate`] once, as the owner) |
/// | `memory://` | in-process, nothing persists |
///
/// # Errors
/// `InvalidInput` for an unknown scheme, `Unsupported` for a store not in this build, and
/// whatever opening the store says.
pub async fn connect(url: &str) -> Result<crate::Alto> {
    crate::Alto::builder(url).connect().await
}

/// Open the store at `url`. SQLite files are created and migrated on first use; a PostgreSQL
/// database must have been migrated with [`migrate`], and `url`'s user must be a runtime login
/// ([`login::create`]): a superuser, a BYPASSRLS login or the schema's owner is refused with
/// `PermissionDenied` (`ALTO_ALLOW_OWNER_LOGIN=1` allows it for development, with a warning).
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    match StoreUrl::parse(url)? {
        StoreUrl::Memory => Ok(Arc::new(MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        StoreUrl::Sqlite(u) => Ok(Arc::new(alto_sqlite::SqliteStore::open(&u).await?)),
        #[cfg(not(feature = "sqlite"))]
        StoreUrl::Sqlite(_) => Err(compiled_out("sqlite://", "sqlite")),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => Ok(Arc::new(alto_pg::PgStore::connect(&u).await?)),
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => Err(compiled_out("postgres://", "postgres")),
    }
}

/// Create or upgrade the schema at `url` (PostgreSQL: run as the owner; SQLite: the same as
/// opening; memory: nothing to do).
pub async fn migrate(url: &str) -> Result<()> {
    match StoreUrl::parse(url)? {
        StoreUrl::Memory => Ok(()),
        #[cfg(feature = "sqlite")]
        StoreUrl::Sqlite(u) => alto_sqlite::SqliteStore::open(&u).await.map(|_| ()),
        #[cfg(not(feature = "sqlite"))]
        StoreUrl::Sqlite(_) => Err(compiled_out("sqlite://", "sqlite")),
        #[cfg(feature = "postgres")]
        StoreUrl::Postgres(u) => alto_pg::migrate(&u).await,
        #[cfg(not(feature = "postgres"))]
        StoreUrl::Postgres(_) => Err(compiled_out("postgres://", "postgres")),
    }
}

/// Runtime logins of a PostgreSQL store (`alto login`): see `alto_pg::login`.
#[cfg(feature = "postgres")]
pub mod login {
    use super::StoreUrl;
    use alto_core::{Error, ErrorKind, Result};
    pub use alto_pg::login::{Login, check_role_name};

    fn postgres(url: &str) -> Result<String> {
        match StoreUrl::parse(url)? {
            StoreUrl::Postgres(u) => Ok(u),
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                "logins belong to PostgreSQL stores: give the owner's postgres:// URL",
            )),
        }
    }

    /// Create a login as the owner: bound to the tenant named `tenant`, or (`None`) one that
    /// acts for every tenant.
    pub async fn create(
        owner_url: &str,
        role: &str,
        tenant: Option<&str>,
        password: Option<&str>,
    ) -> Result<Login> {
        alto_pg::login::create_login(&postgres(owner_url)?, role, tenant, password).await
    }

    /// The runtime logins, by name.
    pub async fn list(owner_url: &str) -> Result<Vec<Login>> {
        alto_pg::login::list_logins(&postgres(owner_url)?).await
    }

    /// Drop a runtime login.
    pub async fn drop(owner_url: &str, role: &str) -> Result<()> {
        alto_pg::login::drop_login(&postgres(owner_url)?, role).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_schemes() {
        assert_eq!(StoreUrl::parse("memory://").unwrap(), StoreUrl::Memory);
        assert_eq!(
            StoreUrl::parse("sqlite://alto.db").unwrap(),
            StoreUrl::Sqlite("sqlite://alto.db".into())
        );
        assert!(matches!(
            StoreUrl::parse("postgresql://u@h/db").unwrap(),
            StoreUrl::Postgres(_)
        ));
    }

    #[test]
    fn unknown_scheme_lists_the_known_ones() {
        let e = StoreUrl::parse("mysql://x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let m = e.to_string();
        assert!(m.contains("\"mysql\""), "{m}");
        for s in SCHEMES {
            assert!(m.contains(s), "{m} should list {s}");
        }
        assert!(StoreUrl::parse("alto.db").is_err());
    }

    #[test]
    fn compiled_out_names_the_feature() {
        let e = compiled_out("postgres://", "postgres");
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("`postgres` feature"));
    }
}
