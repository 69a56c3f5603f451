//! What the benchmarks share: they migrate as the owner (`DATABASE_URL`) and run as a runtime
//! login, as a deployment does (`PgStore::connect` refuses the owner).

#![allow(dead_code, unreachable_pub)]

/// A runtime login made for one run: an all-tenants service login (member of `alto_app` alone)
/// with a random password, named after the process (`alto_bench_<pid>`). Drop it with
/// [`RuntimeLogin::drop`]; a run that fails midway leaves it (`alto login drop` removes it).
pub struct RuntimeLogin {
    /// The role's name.
    pub role: String,
    /// The database URL as that login.
    pub url: String,
}

impl RuntimeLogin {
    /// Create it with the owner's URL of a migrated database.
    pub async fn create(owner_url: &str) -> alto_core::Result<RuntimeLogin> {
        let role = format!("alto_bench_{}", std::process::id());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let password = format!("b{nanos:x}{:x}", std::process::id());
        // Left by an earlier run of the same pid, if any.
        let _ = alto_pg::login::drop_login(owner_url, &role).await;
        alto_pg::login::create_login(owner_url, &role, None, Some(&password)).await?;
        let url = with_user(owner_url, &role, &password);
        Ok(RuntimeLogin { role, url })
    }

    /// Drop the login (the owner's URL of a database where it still exists).
    pub async fn drop(self, owner_url: &str) -> alto_core::Result<()> {
        alto_pg::login::drop_login(owner_url, &self.role).await?;
        Ok(())
    }
}

/// `url` with its user and password replaced.
fn with_user(url: &str, user: &str, password: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host = match rest.find('@') {
        Some(at) if rest.find('/').is_none_or(|slash| at < slash) => &rest[at + 1..],
        _ => rest,
    };
    format!("{}{user}:{password}@{host}", &url[..scheme_end])
}
