//! The README's Rust quick start (`examples/quickstart.rs`, shown verbatim in the README) run
//! as a test on every store: `memory://`, SQLite and PostgreSQL (a database of its own, migrated
//! by the owner, used through an all-tenants runtime login, as the README's PostgreSQL quick
//! start does it).

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[test]
fn the_readme_shows_the_quick_start_verbatim() {
    let readme = include_str!("../../../README.md");
    let example = include_str!("../examples/quickstart.rs");
    let first_rust = readme
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a ```rust block in the README");
    assert_eq!(
        first_rust.trim(),
        example.trim(),
        "the README's first Rust block must be crates/alto/examples/quickstart.rs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_memory() {
    let dir = tempfile::tempdir().unwrap();
    quickstart::journey("memory://", dir.path()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    quickstart::journey(&url, dir.path()).await.unwrap();
}

/// `url` with another user (`user[:password]`) or database.
fn with(url: &str, user: Option<&str>, db: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (auth_host, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    let path = tail.split('?').next().unwrap_or("");
    let (auth, host) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, auth_host),
    };
    let auth = match user.or(auth) {
        Some(u) => format!("{u}@"),
        None => String::new(),
    };
    let path = db.map_or_else(|| path.to_owned(), |d| format!("/{d}"));
    format!("{scheme}://{auth}{host}{path}{query}")
}

/// One statement as the server's owner, with PostgreSQL's client (`psql`).
fn run_sql(admin: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .expect("psql (PostgreSQL's client) on PATH");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_postgres() {
    let admin = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL is not set: run scripts/test.sh, which finds or starts a PostgreSQL server",
    );
    let db = format!("alto_journey_{}", std::process::id());
    let role = format!("alto_journey_{}", std::process::id());
    let owner = with(&admin, None, Some(&db));
    run_sql(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
    run_sql(&admin, &format!("CREATE DATABASE \"{db}\""));
    alto::migrate(&owner).await.unwrap();
    let _ = alto::login::drop(&owner, &role).await;
    alto::login::create(&owner, &role, None, Some("journey-secret"))
        .await
        .unwrap();
    let login = with(&owner, Some(&format!("{role}:journey-secret")), None);
    let dir = tempfile::tempdir().unwrap();
    let result = quickstart::journey(&login, dir.path()).await;
    let _ = alto::login::drop(&owner, &role).await;
    run_sql(
        &admin,
        &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
    );
    result.unwrap();
}

/// A service spawns what it calls: the handle's futures are `Send`.
#[test]
fn the_handles_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let connect = alto::connect("memory://");
    send(&connect);
    let builder = alto::Alto::builder("memory://").connect();
    send(&builder);
    let migrate = alto::migrate("memory://");
    send(&migrate);
}
