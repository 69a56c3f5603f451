//! `TenantHandle::reconcile` through the SDK, on `memory://` and SQLite: files tiered by the
//! workers to a `file://` target, one object lost, one left behind by a re-tiered file; the
//! report, the flags and the deletion.

use alto::reconcile::OrphanAction;
use alto::store::ShareSpec;
use alto::{
    IngestRequest, LostReason, PlanRequest, ReconcileRequest, RuleSet, RunOptions, ShareKind,
    TenantSettings,
};
use std::path::Path;
use std::time::{Duration, SystemTime};

const DAY: i64 = 86_400_000_000;

async fn story(url: &str, dir: &Path) {
    let share = dir.join("share");
    let tier2 = dir.join("tier2");
    std::fs::create_dir_all(&share).unwrap();
    let year_ago = SystemTime::now() - Duration::from_secs(400 * 86_400);
    let mut csv = String::from("file_path,file_size,last_modified,last_accessed\n");
    for name in ["a.mov", "b.mov"] {
        let p = share.join(name);
        std::fs::write(&p, vec![1u8; 4096]).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_times(
                std::fs::FileTimes::new()
                    .set_modified(year_ago)
                    .set_accessed(year_ago),
            )
            .unwrap();
        let t = alto::time::format_rfc3339(
            year_ago
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_micros() as i64,
        );
        csv.push_str(&format!("{},4096,{t},{t}\n", p.display()));
    }
    let inventory = dir.join("inventory.csv");
    std::fs::write(&inventory, csv).unwrap();
    let alto = alto::connect(url).await.unwrap();
    let tenant = alto
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap();
    tenant
        .create_share(&ShareSpec::new("media", ShareKind::Posix).with_root(share.to_str().unwrap()))
        .await
        .unwrap();
    tenant
        .ingest("media", &inventory, &IngestRequest::default().full_scan())
        .await
        .unwrap();
    let rules = RuleSet::from_toml(&format!(
        "[[rule]]\nname = \"cold\"\naccessed_before = \"180d\"\ntarget = \"file://{}/\"\n",
        tier2.display()
    ))
    .unwrap();
    let tier = async || {
        tenant
            .plan(&rules, &PlanRequest::default().commit(true))
            .await
            .unwrap();
        alto.run_workers(&RunOptions::default().tenant("acme"))
            .await
            .unwrap()
    };
    assert_eq!(tier().await.stubbed, 2);
    // b brought back and tiered again: its first object stays behind. a's object is lost.
    tenant
        .rehydrate("media", share.join("b.mov").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(tier().await.stubbed, 1);
    let objects: Vec<_> = walk(&tier2);
    assert_eq!(objects.len(), 3, "{objects:?}");
    let a_obj = objects
        .iter()
        .find(|p| p.to_string_lossy().contains("a.mov"))
        .unwrap();
    std::fs::remove_file(a_obj).unwrap();

    let later = alto::time::now_micros() + 8 * DAY;
    let report = tenant
        .reconcile(&ReconcileRequest::default().at(later))
        .await
        .unwrap();
    assert_eq!(report.stubs_checked, 2);
    assert_eq!(report.lost.len(), 1);
    assert_eq!(report.lost[0].reason, LostReason::Missing);
    assert!(report.lost[0].path.ends_with("a.mov"));
    assert_eq!(report.orphans.len(), 1, "{:#?}", report.orphans);
    assert_eq!(report.orphans[0].action, OrphanAction::WouldDelete);
    assert!(
        report.orphans[0].key.ends_with(".1"),
        "{:?}",
        report.orphans[0]
    );
    let json = serde_json::to_value(&report).unwrap();
    for field in [
        "tenant",
        "event",
        "targets",
        "shares",
        "lost",
        "orphans",
        "unknown_stubs",
        "deleted",
    ] {
        assert!(json.get(field).is_some(), "{field}: {json}");
    }
    assert_eq!(json["lost"][0]["reason"], "missing");
    assert_eq!(json["orphans"][0]["action"], "would_delete");
    // The flag, through the catalogue.
    let files = tenant
        .files(Default::default())
        .next_page()
        .await
        .unwrap()
        .unwrap();
    let a = files
        .iter()
        .find(|f| f.entry.path.ends_with("a.mov"))
        .unwrap();
    let obj = alto
        .store()
        .tier_object(tenant.record().id, "media", &a.path_key)
        .await
        .unwrap();
    assert_eq!(obj.lost.map(|l| l.reason), Some(LostReason::Missing));

    let report = tenant
        .reconcile(&ReconcileRequest::default().at(later).apply(true))
        .await
        .unwrap();
    assert_eq!(report.deleted, 1);
    assert_eq!(walk(&tier2).len(), 1, "b's current object only");
    // A grace period under an hour is refused.
    let e = tenant
        .reconcile(&ReconcileRequest::default().grace(Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), alto::ErrorKind::InvalidInput);
}

/// Every regular file beneath `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_on_memory() {
    let dir = tempfile::tempdir().unwrap();
    story("memory://", dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("alto.db").display());
    story(&url, dir.path()).await;
}
