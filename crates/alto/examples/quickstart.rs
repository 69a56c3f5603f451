//! Alto's quick start: the whole journey on the embedded store with a `file://` target.
//! Run it with `cargo run -p alto --example quickstart`.

use alto::store::ShareSpec;
use alto::{IngestRequest, PlanRequest, RuleSet, RunOptions, ShareKind, TenantSettings};
use std::error::Error;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The whole journey: a share on disk, its inventory, rules, a committed plan, a worker run, a
/// rehydration and the audit trail.
pub(crate) async fn journey(store_url: &str, dir: &Path) -> Result<(), Box<dyn Error>> {
    // A share with an old video and a fresh note, and a directory for tier 2.
    let share = dir.join("share");
    let tier2 = dir.join("tier2");
    std::fs::create_dir_all(share.join("projects"))?;
    std::fs::create_dir_all(&tier2)?;
    let old = share.join("projects/old.mov");
    std::fs::write(&old, vec![7u8; 256 * 1024])?;
    let year_ago = SystemTime::now() - Duration::from_secs(400 * 86_400);
    std::fs::File::options().write(true).open(&old)?.set_times(
        std::fs::FileTimes::new()
            .set_modified(year_ago)
            .set_accessed(year_ago),
    )?;
    std::fs::write(share.join("projects/note.txt"), b"fresh")?;

    // Its inventory, as an agent or `find` would write it.
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    for name in ["projects/old.mov", "projects/note.txt"] {
        let path = share.join(name);
        let meta = std::fs::metadata(&path)?;
        let micros = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_micros() as i64
        };
        csv.push_str(&format!(
            "{},{},{},{}\n",
            path.display(),
            meta.len(),
            alto::time::format_rfc3339(micros(meta.modified()?)),
            alto::time::format_rfc3339(micros(meta.accessed()?)),
        ));
    }
    let inventory = dir.join("inventory.csv");
    std::fs::write(&inventory, csv)?;

    // Connect, make a tenant and a share with its root on this host, ingest.
    let alto = alto::connect(store_url).await?;
    let tenant = alto
        .create_tenant("acme", &TenantSettings::default())
        .await?;
    let root = share.to_str().ok_or("a non-UTF-8 directory")?;
    tenant
        .create_share(&ShareSpec::new("media", ShareKind::Posix).with_root(root))
        .await?;
    let ingested = tenant
        .ingest("media", &inventory, &IngestRequest::default().full_scan())
        .await?;
    println!("ingested {} files", ingested.accepted);

    // Plan with a rule, and commit the plan as jobs.
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"180d\"\ntarget = \"file://{}/{{tenant}}/\"\n",
        tier2.display()
    ))?;
    let plan = tenant
        .plan(&rules, &PlanRequest::default().commit(true))
        .await?;
    println!("planned {} files", plan.report.files_matched);

    // Run the workers until the queue is empty: the old video becomes a stub.
    let run = alto
        .run_workers(&RunOptions::default().tenant("acme"))
        .await?;
    println!("stubbed {} files, {} bytes moved", run.stubbed, run.bytes);
    assert_eq!((run.stubbed, run.failed), (1, 0), "{:?}", run.errors);

    // Bring it back.
    let back = tenant.rehydrate("media", old.to_str().unwrap()).await?;
    assert_eq!(std::fs::read(&old)?.len(), 256 * 1024);
    println!("rehydrated {} bytes", back.bytes);

    // Every step is in the audit trail, page by page.
    let mut audit = tenant.audit();
    while let Some(page) = audit.next_page().await? {
        for e in page {
            println!("{} {} {}", e.id, e.kind, e.subject);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("alto-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = format!("sqlite://{}", dir.join("alto.db").display());
    let result = journey(&store, &dir).await;
    std::fs::remove_dir_all(&dir)?;
    result
}
