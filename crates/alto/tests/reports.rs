//! Reports through the SDK: the memory store, SQLite and PostgreSQL give the same numbers on the
//! same random data (the core's cross-store conformance check), and `TenantHandle::report` adds
//! the planner's what-if, scoped like the report.

use alto::{PlanRequest, ReportRequest};
use alto_core::time::parse_timestamp;

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

fn psql(url: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .expect("psql (PostgreSQL's client) on PATH");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A database of its own on the server `DATABASE_URL` names, migrated, used through an
/// all-tenants runtime login; dropped with the login by the guard.
struct PgDb {
    admin: String,
    name: String,
    url: String,
}

impl PgDb {
    async fn new(tag: &str) -> PgDb {
        let admin = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL is not set: run scripts/test.sh, which finds or starts a PostgreSQL server",
        );
        let name = format!("alto_reports_{tag}_{}", std::process::id());
        psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        );
        psql(&admin, &format!("CREATE DATABASE \"{name}\""));
        let owner = with(&admin, None, Some(&name));
        alto::migrate(&owner).await.unwrap();
        let _ = alto::login::drop(&owner, &name).await;
        alto::login::create(&owner, &name, None, Some("reports-secret"))
            .await
            .unwrap();
        let url = with(&owner, Some(&format!("{name}:reports-secret")), None);
        PgDb { admin, name, url }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
        psql(
            &self.admin,
            &format!("DROP ROLE IF EXISTS \"{}\"", self.name),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_sqlite_and_postgres_agree() {
    let dir = tempfile::tempdir().unwrap();
    let pg = PgDb::new("agree").await;
    let memory = alto::open_store("memory://").await.unwrap();
    let sqlite = alto::open_store(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let postgres = alto::open_store(&pg.url).await.unwrap();
    for seed in [3, 11, 2024] {
        alto_core::testkit::reports_agree(&[&*memory, &*sqlite, &*postgres], seed).await;
    }
}

/// The example inventory in two shares, reported on at a fixed time.
async fn journey(url: &str) {
    let now = parse_timestamp("2025-11-01T00:00:00Z").unwrap();
    let inv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/inventory.csv");
    let rules_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rules.toml");
    let rules = alto::RuleSet::from_path(&rules_path).unwrap();
    let alto = alto::connect(url).await.unwrap();
    let t = alto
        .create_tenant("acme", &alto::TenantSettings::default())
        .await
        .unwrap();
    for share in ["data", "more"] {
        t.ingest(share, &inv, &alto::IngestRequest::default().full_scan())
            .await
            .unwrap();
    }
    // Commit a plan: some files become PLANNED.
    let committed = t
        .plan(&rules, &PlanRequest::at(now).commit(true))
        .await
        .unwrap();
    let planned = committed.report.files_matched;
    assert!(planned > 0);

    let r = t
        .report(&ReportRequest::default().at(now).top(5))
        .await
        .unwrap();
    assert_eq!(r.tenant, "acme");
    assert_eq!(r.now, "2025-11-01T00:00:00Z");
    assert_eq!(r.totals.files, 2 * 19);
    assert_eq!(r.totals.planned.files, planned);
    assert_eq!(r.totals.saved.files, 0);
    assert!(r.owners_recorded, "the example inventory has owners");
    for (name, _, entries) in r.sections() {
        let files: u64 = entries.iter().map(|e| e.tally.files).sum();
        assert_eq!(files, r.totals.files, "{name} sums to the totals");
    }
    assert_eq!(r.by_share.len(), 2);
    assert_eq!(r.largest.len(), 5);
    assert!(r.largest.windows(2).all(|w| w[0].size >= w[1].size));
    assert!(r.what_if.is_none());

    // The what-if is the dry run of the same rules over the same files.
    let dry = t.plan(&rules, &PlanRequest::at(now)).await.unwrap().report;
    let r = t
        .report(
            &ReportRequest::default()
                .at(now)
                .what_if(rules.clone(), Some("rules.toml".into())),
        )
        .await
        .unwrap();
    let w = r.what_if.as_ref().expect("what-if");
    assert_eq!(w.rules.as_deref(), Some("rules.toml"));
    assert_eq!(
        (
            w.files_scanned,
            w.files_matched,
            w.bytes_matched,
            w.bytes_saved
        ),
        (
            dry.files_scanned,
            dry.files_matched,
            dry.bytes_matched,
            dry.bytes_saved
        )
    );
    assert_eq!(w.jobs, dry.jobs.len() as u64);

    // One share: the report and its what-if cover that share alone.
    let one = t
        .report(
            &ReportRequest::default()
                .at(now)
                .share("more")
                .what_if(rules.clone(), None),
        )
        .await
        .unwrap();
    assert_eq!(one.share.as_deref(), Some("more"));
    assert_eq!(one.totals.files, 19);
    assert_eq!(one.what_if.as_ref().unwrap().files_scanned, 19);
    assert_eq!(
        one.what_if.as_ref().unwrap().files_matched * 2,
        w.files_matched
    );
    let e = t
        .report(&ReportRequest::default().share("nope"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), alto::ErrorKind::NotFound, "{e}");

    // The JSON form.
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "totals",
        "by_state",
        "by_rule",
        "by_extension",
        "by_owner",
        "by_share",
        "by_age",
        "by_size",
        "largest",
        "oldest",
        "what_if",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["totals"]["planned"]["files"], planned);
    assert_eq!(json["by_age"].as_array().unwrap().len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_on_memory() {
    journey("memory://").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    journey(&format!("sqlite://{}", dir.path().join("r.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_on_postgres() {
    let pg = PgDb::new("journey").await;
    journey(&pg.url).await;
}
