//! Administration of a PostgreSQL store, as `alto admin` and `alto login` do it: `migrate` with
//! the schema owner's URL, then runtime logins for services (the owner itself is refused by
//! `connect`). SQLite and memory stores need none of this (`migrate` is a no-op for them).

use crate::error::{on_own_thread, promise};
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Create or upgrade the store's schema at `url` (for PostgreSQL, the schema owner's URL).
#[napi]
pub fn migrate<'env>(env: &'env Env, url: String) -> Result<PromiseRaw<'env, ()>> {
    promise(
        env,
        on_own_thread(move || async move { alto::migrate(&url).await }),
        Ok,
    )
}

/// A runtime login for `createLogin()`.
#[napi(object)]
pub struct LoginOptions {
    /// Bind the login to this tenant (row-level security): it sees and acts for no other.
    pub tenant: Option<String>,
    /// The login's password.
    pub password: Option<String>,
}

/// Create a PostgreSQL runtime login `role` (with the owner's URL); `connect` with it.
#[napi]
pub fn create_login<'env>(
    env: &'env Env,
    owner_url: String,
    role: String,
    options: Option<LoginOptions>,
) -> Result<PromiseRaw<'env, ()>> {
    let (tenant, password) = options.map_or((None, None), |o| (o.tenant, o.password));
    promise(
        env,
        on_own_thread(move || async move {
            alto::login::create(&owner_url, &role, tenant.as_deref(), password.as_deref())
                .await
                .map(|_| ())
        }),
        Ok,
    )
}

/// Drop the PostgreSQL runtime login `role` (with the owner's URL).
#[napi]
pub fn drop_login<'env>(
    env: &'env Env,
    owner_url: String,
    role: String,
) -> Result<PromiseRaw<'env, ()>> {
    promise(
        env,
        on_own_thread(move || async move { alto::login::drop(&owner_url, &role).await }),
        Ok,
    )
}
