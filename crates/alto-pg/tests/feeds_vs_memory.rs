//! Access feeds, differentially: random batches (accesses, writes, moves and chains of moves onto
//! existing and new paths, deletes, unknown paths under each tenant policy, repeated ids, clock
//! skew, equal timestamps) applied to the memory store and to PostgreSQL must give the same
//! outcomes (every count, warming in order) and leave the same files, tier objects, unknown-path
//! queue and audit trail. Plans withdrawn by a second commit are compared the same way.

mod common;

use alto_core::feed::lucid::Cursor;
use alto_core::feed::{AccessEvent, FeedAction};
use alto_core::lifecycle::Action;
use alto_core::store::feeds::EventBatch;
use alto_core::store::tiering::{ClaimRequest, Fence, PlanCommit, PlannedFile, PlannedJobSpec};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec, TransitionRequest};
use alto_core::types::{Estimate, FileEntry, ShareKind, Tenant, TenantSettings, UnknownPathPolicy};
use alto_core::{MemoryStore, Store};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const FILES: usize = 24;
const NOW: i64 = 1_800_000_000_000_000;

fn name(i: u64) -> String {
    format!("/P/d{}/f{i}.mov", i % 3)
}

async fn setup(store: &dyn Store, tenant: &str, policy: UnknownPathPolicy) -> Tenant {
    let settings = TenantSettings::default().with_unknown_paths(policy);
    let t = store.create_tenant(tenant, &settings).await.unwrap();
    let mut spec = ShareSpec::new("fs", ShareKind::Lucidlink);
    spec.mount_root = Some("/Volumes/fs".into());
    store.ensure_share(t.id, &spec).await.unwrap();
    let scan = store
        .begin_scan(t.id, &ScanSpec::new("fs", ScanKind::Full))
        .await
        .unwrap();
    let entries = (0..FILES as u64)
        .map(|i| FileEntry {
            path: format!("/Volumes/fs{}", name(i)),
            size: 100 + i,
            modified: Some(NOW - 1_000_000_000 + i as i64),
            accessed: (i % 4 != 0).then_some(NOW - 500_000_000 + (i as i64) * 1000),
            ..Default::default()
        })
        .collect();
    store
        .ingest_chunk(
            t.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await
        .unwrap();
    store.finish_scan(t.id, scan.id).await.unwrap();
    // Tier objects: f0..f11 planned in one job; f0..f5 stubbed, f6..f7 stubbed then rehydrated.
    let q = store.tiering();
    let files = |r: std::ops::Range<u64>| -> Vec<PlannedFile> {
        r.map(|i| PlannedFile {
            share: "fs".into(),
            path_key: format!("/Volumes/fs{}", name(i)),
            // The rendered target joined with the object key, as the planner writes it, so feed
            // moves rewrite its end in both stores.
            target_uri: format!(
                "file:///t/{}",
                alto_core::path::object_key(&format!("/Volumes/fs{}", name(i))).unwrap()
            ),
        })
        .collect()
    };
    let plan = PlanCommit {
        at: NOW - 1000,
        jobs: vec![PlannedJobSpec {
            rule: "r".into(),
            target: "file:///t/".into(),
            priority: 1,
            estimate: Estimate::default(),
            files: files(0..12),
        }],
    };
    q.commit_plan(t.id, &plan).await.unwrap();
    let lease = q
        .claim_job(
            t.id,
            &ClaimRequest {
                worker: "w".into(),
                lease: 1_000_000_000,
                now: NOW - 900,
            },
        )
        .await
        .unwrap()
        .unwrap();
    let fence = Fence {
        job: lease.job.id,
        token: lease.token,
    };
    for i in 0..8 {
        let key = format!("/Volumes/fs{}", name(i));
        let o = store.tier_object(t.id, "fs", &key).await.unwrap();
        let req = TransitionRequest {
            share: "fs".into(),
            path_key: key.clone(),
            action: Action::Stub,
            expected: Some((o.state, o.version)),
            stored: None,
            plan: None,
            at: NOW - 800,
        };
        let o = q
            .transition_fenced(t.id, fence, &req)
            .await
            .unwrap()
            .unwrap();
        if i >= 6 {
            let req = TransitionRequest {
                action: Action::Rehydrate,
                expected: Some((o.state, o.version)),
                at: NOW - 700,
                ..req
            };
            store.transition(t.id, &req).await.unwrap();
        }
    }
    t
}

fn random_batches(seed: u64) -> Vec<EventBatch> {
    let mut rng = Rng(seed | 1);
    let mut id = 0u64;
    let mut batches = Vec::new();
    let mut sent: Vec<AccessEvent> = Vec::new();
    for b in 0..4 {
        let n = 30 + rng.below(60);
        let mut events = Vec::new();
        for _ in 0..n {
            let path = match rng.below(10) {
                0 => format!("/P/new{}.mov", rng.below(5)),
                1 => format!("/Q/x{}.mov", rng.below(4)),
                _ => name(rng.below(FILES as u64 + 4)),
            };
            // Few distinct times, so that ties happen.
            let at = NOW - 400_000_000 + (rng.below(40) as i64) * 10_000_000;
            let (action, target) = match rng.below(20) {
                0..=7 => (FeedAction::FileRead, None),
                8..=9 => (FeedAction::FileWritten, None),
                10 => (FeedAction::PreHydrate, None),
                11..=12 => {
                    let t = match rng.below(3) {
                        0 => name(rng.below(FILES as u64)),
                        1 => format!("/Q/x{}.mov", rng.below(4)),
                        _ => path.clone(),
                    };
                    (FeedAction::Move, Some(t))
                }
                13..=14 => (FeedAction::FileDelete, None),
                15 => (FeedAction::DirectoryCreate, None),
                16 => (FeedAction::Pin, None),
                17 => (FeedAction::FileCreate, None),
                18 => (FeedAction::Move, None),
                _ => (FeedAction::FileRead, None),
            };
            id += 1;
            let ev = AccessEvent {
                id: format!("n{}/s/{}", id % 3, id),
                at: if rng.below(30) == 0 {
                    NOW + 9 * 86_400_000_000
                } else {
                    at
                },
                action,
                path,
                target_path: target,
                user: (rng.below(2) == 0).then(|| format!("user{}", rng.below(3))),
            };
            events.push(ev);
        }
        // Repeats: within the batch and from earlier ones.
        for _ in 0..rng.below(4) {
            let e = events[rng.below(events.len() as u64) as usize].clone();
            events.push(e);
        }
        if !sent.is_empty() {
            for _ in 0..rng.below(4) {
                events.push(sent[rng.below(sent.len() as u64) as usize].clone());
            }
        }
        sent.extend(events.iter().cloned());
        batches.push(EventBatch {
            parent: None,
            feed: "lucid".into(),
            events,
            cursors: vec![(
                (format!("n{}", b % 2), "s".into()),
                Cursor {
                    offset: 100 * b,
                    line: b,
                },
            )],
            now: NOW + b as i64,
        });
    }
    batches
}

fn same(mem: &[String], pg: &[String], what: &str) {
    if mem != pg {
        let only_m: Vec<_> = mem.iter().filter(|l| !pg.contains(l)).collect();
        let only_p: Vec<_> = pg.iter().filter(|l| !mem.contains(l)).collect();
        panic!("{what}: memory only {only_m:#?}\npostgres only {only_p:#?}");
    }
}

/// Everything a tenant's feed can change, comparable across stores.
async fn state(store: &dyn Store, t: &Tenant) -> Vec<String> {
    let mut out = Vec::new();
    let mut q = FileQuery {
        include_missing: true,
        ..Default::default()
    };
    loop {
        let page = store.files(t.id, &q).await.unwrap();
        for f in &page.items {
            // Not `f.state`: the memory store caches it in the record, and a move of a file
            // without an object onto a path with one leaves that cache stale (the object is
            // there: `tier_object` finds it). Objects are compared by looking them up.
            out.push(format!(
                "file {} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?}",
                f.path_key,
                f.entry.path,
                f.entry.accessed,
                f.entry.modified,
                f.accessed_source,
                // Ingest stamps the wall clock; feeds stamp the batch's `now` (>= NOW).
                f.atime_updated.map(|t| if t >= NOW {
                    t.to_string()
                } else {
                    "scan".into()
                }),
                f.missing_since,
                f.entry.size,
                f.entry.extension,
            ));
            if let Ok(o) = store.tier_object(t.id, "fs", &f.path_key).await {
                out.push(format!(
                    "object {} {:?} {} v{} i{} {:?} {:?} {} {}",
                    o.path_key,
                    o.path,
                    o.state,
                    o.version,
                    o.incarnation,
                    o.acted_at,
                    o.last_accessed,
                    o.access_count,
                    o.target_uri
                ));
            }
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    let f = store.feeds();
    for e in f.unknown_events(t.id, "fs", 100_000).await.unwrap() {
        out.push(format!("unknown {e:?}"));
    }
    let cursors = f.feed_cursors(t.id, "fs", "lucid").await.unwrap();
    out.push(format!("cursors {cursors:?}"));
    let mut after = None;
    loop {
        let page = store.audit(t.id, after, 1000).await.unwrap();
        for e in &page.items {
            // Job ids are each store's own.
            let subject = if e.kind.starts_with("job.") {
                "(job)"
            } else {
                e.subject.as_str()
            };
            out.push(format!(
                "audit {} {} {} {} under {}",
                e.kind,
                subject,
                e.at,
                e.detail,
                e.parent.is_some()
            ));
        }
        match page.next {
            Some(n) => after = Some(n.parse().unwrap()),
            None => break,
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_batches_match_the_memory_store() {
    let db = common::TestDb::new("feeddiff").await;
    let pg = db.store().await;
    let seeds: u64 = std::env::var("ALTO_FEED_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    for seed in 1..=seeds {
        for policy in [
            UnknownPathPolicy::Queue,
            UnknownPathPolicy::Ignore,
            UnknownPathPolicy::Placeholder,
        ] {
            let mem = MemoryStore::new();
            let tname = format!("t{seed}-{policy:?}");
            let tm = setup(&mem, &tname, policy).await;
            let tp = setup(&pg, &tname, policy).await;
            same(&state(&mem, &tm).await, &state(&pg, &tp).await, "setup");
            for (b, batch) in random_batches(seed * 7919).iter().enumerate() {
                let om = mem.feeds().apply_events(tm.id, "fs", batch).await.unwrap();
                let op = pg.feeds().apply_events(tp.id, "fs", batch).await.unwrap();
                assert_eq!(om, op, "seed {seed} {policy:?} batch {b}: outcome");
                same(
                    &state(&mem, &tm).await,
                    &state(&pg, &tp).await,
                    &format!("seed {seed} {policy:?} batch {b}"),
                );
            }
            // A second plan that lists only some of the first's files withdraws the others
            // (those still PLANNED in a queued job: none here, the job is running) and plans
            // rehydrated and deleted files again.
            let keys: Vec<String> = (0..FILES as u64)
                .step_by(2)
                .map(|i| format!("/Volumes/fs{}", name(i)))
                .collect();
            for (store, t) in [(&mem as &dyn Store, &tm), (&pg as &dyn Store, &tp)] {
                let existing: Vec<PlannedFile> = {
                    let mut v = Vec::new();
                    for k in &keys {
                        if store.tiering().file(t.id, "fs", k).await.is_ok() {
                            v.push(PlannedFile {
                                share: "fs".into(),
                                path_key: k.clone(),
                                target_uri: format!("file:///u{k}"),
                            });
                        }
                    }
                    v
                };
                let mut twice = existing.clone();
                twice.extend(existing.iter().take(2).cloned());
                let plan = PlanCommit {
                    at: NOW + 100,
                    jobs: vec![
                        PlannedJobSpec {
                            rule: "again".into(),
                            target: "file:///u/".into(),
                            priority: 5,
                            estimate: Estimate::default(),
                            files: twice,
                        },
                        PlannedJobSpec {
                            rule: "empty".into(),
                            target: "file:///u/".into(),
                            priority: 6,
                            estimate: Estimate::default(),
                            files: existing.iter().take(3).cloned().collect(),
                        },
                    ],
                };
                let out = store.tiering().commit_plan(t.id, &plan).await.unwrap();
                eprintln!("{} {policy:?} seed {seed}: {out:?}", store.backend());
            }
            same(
                &state(&mem, &tm).await,
                &state(&pg, &tp).await,
                &format!("seed {seed} {policy:?}: after re-planning"),
            );
            // And with the first plan's job cancelled, a third plan withdraws what is queued.
            for (store, t) in [(&mem as &dyn Store, &tm), (&pg as &dyn Store, &tp)] {
                let q = store.tiering();
                let plan = PlanCommit {
                    at: NOW + 200,
                    jobs: vec![],
                };
                let out = q.commit_plan(t.id, &plan).await.unwrap();
                let jobs = q.jobs(t.id, &Default::default()).await.unwrap().items;
                eprintln!(
                    "{} {policy:?} seed {seed}: {out:?} {:?}",
                    store.backend(),
                    jobs.iter().map(|j| j.state).collect::<Vec<_>>()
                );
            }
            same(
                &state(&mem, &tm).await,
                &state(&pg, &tp).await,
                &format!("seed {seed} {policy:?}: after withdrawing"),
            );
            let jm: Vec<_> = mem
                .tiering()
                .jobs(tm.id, &Default::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|j| (j.rule, j.state, j.attempts, j.finished))
                .collect();
            let jp: Vec<_> = pg
                .tiering()
                .jobs(tp.id, &Default::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|j| (j.rule, j.state, j.attempts, j.finished))
                .collect();
            assert_eq!(jm, jp, "seed {seed} {policy:?}: jobs");
        }
    }
    pg.pool().close().await;
    db.drop().await;
}
