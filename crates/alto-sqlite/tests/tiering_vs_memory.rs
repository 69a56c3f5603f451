//! The job queue and access feeds, differentially: random sequences of operations (plans
//! committed over earlier ones, claims, fenced transitions with stale and current tokens, renewals,
//! finishes that succeed, retry and fail, cancellations, expiring leases, feed batches with
//! accesses, writes, moves onto existing and new paths, deletes, unknown paths under each tenant
//! policy, repeated ids, clock skew and case variants, rehydrations) are applied to the memory
//! store — the reference — and to the SQLite store. Every result (values, counts, warming in
//! order, error kinds) and, after every step, the whole visible state (files, tier objects, jobs
//! and their objects, the unknown-path queue, cursors and the audit trail) must be the same.
//!
//! Ids the stores allocate differently are compared by position: jobs by creation order, tier
//! objects and audit events without their ids, scan ids as "the scan".

use alto_core::feed::lucid::Cursor;
use alto_core::feed::{AccessEvent, FeedAction};
use alto_core::lifecycle::Action;
use alto_core::store::feeds::EventBatch;
use alto_core::store::tiering::{
    ClaimRequest, Fence, JobOutcome, JobQuery, PlanCommit, PlannedFile, PlannedJobSpec,
};
use alto_core::store::{FileQuery, IngestChunk, ScanKind, ScanSpec, ShareSpec, TransitionRequest};
use alto_core::{
    Error, Estimate, FileEntry, Job, MemoryStore, ShareKind, Store, Tenant, TenantSettings,
    TierState, UnknownPathPolicy,
};
use alto_sqlite::SqliteStore;
use std::fmt::Write;

const SEC: i64 = 1_000_000;
/// Far after the wall clock, so that times the stores take from it (ingest) stand out.
const START: i64 = 2_000_000_000 * SEC;
const FILES: u64 = 14;
/// Names beyond `FILES` are unknown to the inventory (until a move or a placeholder).
const NAMES: u64 = 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A feed path (relative to the mount root) of name `i`; `upper` spells it in upper case (the
/// share is case-insensitive, so it is the same key).
fn feed_name(i: u64, upper: bool) -> String {
    let p = format!("/P/d{}/f{i}.mov", i % 3);
    if upper { p.to_uppercase() } else { p }
}

/// The name `i` of a key.
fn name_of(key: &str) -> u64 {
    let (_, f) = key.rsplit_once("/f").unwrap();
    f.strip_suffix(".mov").unwrap().parse().unwrap()
}

fn key(i: u64) -> String {
    format!("/volumes/fs{}", feed_name(i, false).to_lowercase())
}

/// One store under test, with what its ids mean.
struct Side<'a> {
    store: &'a dyn Store,
    tenant: Tenant,
    scan: i64,
    /// Job ids in creation order.
    jobs: Vec<i64>,
    /// The last audit event compared.
    audit_after: Option<alto_core::AuditPosition>,
    /// Event ids in read order: a parent is compared by its index.
    events: Vec<i64>,
}

impl Side<'_> {
    fn job_index(&self, id: i64) -> String {
        match self.jobs.iter().position(|j| *j == id) {
            Some(i) => format!("J{i}"),
            None => format!("unknown job {id}"),
        }
    }

    fn job_id(&self, index: usize) -> i64 {
        self.jobs.get(index).copied().unwrap_or(999_999_999)
    }

    fn job(&self, j: &Job) -> String {
        let mut j = j.clone();
        let idx = self.job_index(j.id);
        j.id = 0;
        // Whether it has its event; the event's place is checked through its children.
        j.event = j.event.map(|_| 0);
        format!("{idx} {j:?}")
    }

    async fn refresh_jobs(&mut self) {
        let q = self.store.tiering();
        self.jobs = q
            .jobs(self.tenant.id, &JobQuery::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|j| j.id)
            .collect();
    }

    /// Everything visible, normalised (of the audit trail, the events since the last call).
    async fn state(&mut self) -> String {
        let (s, t) = (self.store, self.tenant.id);
        let q = s.tiering();
        let f = s.feeds();
        let mut out = String::new();
        let mut query = FileQuery {
            include_missing: true,
            ..Default::default()
        };
        loop {
            let page = s.files(t, &query).await.unwrap();
            for mut r in page.items {
                for scan in [&mut r.first_seen_scan, &mut r.last_seen_scan] {
                    if *scan == self.scan {
                        *scan = -1;
                    }
                }
                // Ingest stamps the wall clock.
                if r.atime_updated.is_some_and(|a| a < START - 1_000 * SEC) {
                    r.atime_updated = Some(-1);
                }
                // The file's state is its tier object's (the memory store keeps a copy in the
                // record, which a move onto a file with an object does not refresh).
                let obj = s.tier_object(t, &r.share, &r.path_key).await.ok();
                r.state = obj.as_ref().map(|o| o.state);
                let obj = obj.map(|mut o| {
                    o.id = 0;
                    o
                });
                writeln!(out, "{r:?}\n  {obj:?}").unwrap();
            }
            match page.next {
                Some(n) => query.after = Some(n),
                None => break,
            }
        }
        let jobs = q.jobs(t, &JobQuery::default()).await.unwrap().items;
        for j in &jobs {
            writeln!(out, "{}", self.job(j)).unwrap();
            for mut o in q.job_objects(t, j.id).await.unwrap() {
                o.id = 0;
                writeln!(out, "  {o:?}").unwrap();
            }
        }
        writeln!(
            out,
            "unknown {:?}",
            f.unknown_events(t, "fs", 0).await.unwrap()
        )
        .unwrap();
        writeln!(
            out,
            "cursors {:?}",
            f.feed_cursors(t, "fs", "lucid").await.unwrap()
        )
        .unwrap();
        loop {
            let page = s.audit(t, self.audit_after, 500).await.unwrap();
            for mut e in page.items {
                self.audit_after = Some(e.position);
                self.events.push(e.id);
                e.parent = e.parent.map(|p| {
                    self.events
                        .iter()
                        .position(|x| *x == p)
                        .unwrap_or(usize::MAX) as i64
                });
                e.id = 0;
                e.position = Default::default();
                if e.kind.starts_with("job.") {
                    e.subject = self.job_index(e.subject.parse().unwrap());
                }
                writeln!(out, "{e:?}").unwrap();
            }
            if page.next.is_none() {
                break;
            }
        }
        out
    }
}

fn err(e: &Error) -> String {
    format!("Err({:?}, retryable {})", e.kind(), e.is_retryable())
}

async fn setup<'a>(store: &'a dyn Store, policy: UnknownPathPolicy) -> Side<'a> {
    let settings = TenantSettings::default().with_unknown_paths(policy);
    let tenant = store.create_tenant("acme", &settings).await.unwrap();
    let mut spec = ShareSpec::new("fs", ShareKind::Lucidlink);
    spec.mount_root = Some("/Volumes/fs".into());
    spec.case_sensitive = Some(false);
    store.ensure_share(tenant.id, &spec).await.unwrap();
    let scan = store
        .begin_scan(tenant.id, &ScanSpec::new("fs", ScanKind::Full))
        .await
        .unwrap();
    let entries = (0..FILES)
        .map(|i| FileEntry {
            path: format!("/Volumes/fs{}", feed_name(i, false)),
            size: 100 + i,
            modified: Some(START - 100 * SEC + i as i64),
            accessed: (i % 4 != 0).then_some(START - 50 * SEC + i as i64 * 1000),
            extension: Some("mov".into()),
            ..Default::default()
        })
        .collect();
    store
        .ingest_chunk(
            tenant.id,
            scan.id,
            &IngestChunk {
                id: "0".into(),
                entries,
            },
        )
        .await
        .unwrap();
    store.finish_scan(tenant.id, scan.id).await.unwrap();
    Side {
        store,
        tenant,
        scan: scan.id,
        jobs: Vec::new(),
        audit_after: None,
        events: Vec::new(),
    }
}

/// A held lease, by job position.
#[derive(Debug, Clone, Copy)]
struct Held {
    job: usize,
    token: i64,
}

/// One step, decided from the reference store's state and applied to both.
#[derive(Debug, Clone)]
enum Op {
    Commit(PlanCommit),
    Claim(ClaimRequest),
    Fenced(Held, TransitionRequest),
    Renew(Held, i64),
    Finish(Held, JobOutcome, i64),
    Cancel(usize, i64),
    Transition(TransitionRequest),
    Apply(EventBatch),
}

async fn run(side: &mut Side<'_>, op: &Op) -> String {
    let (t, q) = (side.tenant.id, side.store.tiering());
    let fence = |s: &Side<'_>, h: &Held| Fence {
        job: s.job_id(h.job),
        token: h.token,
    };
    let out = match op {
        Op::Commit(plan) => match q.commit_plan(t, plan).await {
            Ok(o) => format!("{o:?}"),
            Err(e) => err(&e),
        },
        Op::Claim(req) => match q.claim_job(t, req).await {
            Ok(Some(l)) => format!("lease {} token {}", side.job(&l.job), l.token),
            Ok(None) => "nothing to claim".into(),
            Err(e) => err(&e),
        },
        Op::Fenced(h, req) => match q.transition_fenced(t, fence(side, h), req).await {
            Ok(o) => format!("{:?}", o.map(|o| (o.state, o.version, o.acted_at))),
            Err(e) => err(&e),
        },
        Op::Renew(h, until) => match q.renew_lease(t, fence(side, h), *until).await {
            Ok(()) => "renewed".into(),
            Err(e) => err(&e),
        },
        Op::Finish(h, outcome, now) => match q.finish_job(t, fence(side, h), outcome, *now).await {
            Ok(j) => side.job(&j),
            Err(e) => err(&e),
        },
        Op::Cancel(j, now) => match q.cancel_job(t, side.job_id(*j), *now).await {
            Ok(j) => side.job(&j),
            Err(e) => err(&e),
        },
        Op::Transition(req) => match side.store.transition(t, req).await {
            Ok(o) => format!("{:?}", o.map(|o| (o.state, o.version))),
            Err(e) => err(&e),
        },
        Op::Apply(batch) => match side.store.feeds().apply_events(t, "fs", batch).await {
            Ok(o) => format!("{o:?}"),
            Err(e) => err(&e),
        },
    };
    side.refresh_jobs().await;
    out
}

/// The next step, from the reference store.
async fn next_op(
    rng: &mut Rng,
    m: &Side<'_>,
    now: &mut i64,
    held: &mut Vec<Held>,
    ids: &mut u64,
) -> Op {
    let (s, t) = (m.store, m.tenant.id);
    let q = s.tiering();
    *now += rng.below(3) as i64 * SEC;
    // Path keys known now (moves change them), and the unknown ones.
    let files = s
        .files(
            t,
            &FileQuery {
                include_missing: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let pick_key = |rng: &mut Rng| -> String {
        if files.is_empty() || rng.chance(8) {
            key(rng.below(NAMES))
        } else {
            files[rng.below(files.len() as u64) as usize]
                .path_key
                .clone()
        }
    };
    match rng.below(100) {
        0..=14 => {
            let mut jobs = Vec::new();
            for j in 0..1 + rng.below(3) {
                let files: Vec<PlannedFile> = (0..rng.below(5))
                    .map(|_| {
                        let k = pick_key(rng);
                        PlannedFile {
                            share: "fs".into(),
                            target_uri: format!("file:///t{k}"),
                            path_key: k,
                        }
                    })
                    .collect();
                jobs.push(PlannedJobSpec {
                    rule: format!("r{j}"),
                    target: "file:///t/".into(),
                    priority: rng.below(3) as i64,
                    estimate: Estimate {
                        files: files.len() as u64,
                        bytes: 10 * files.len() as u64,
                        bytes_saved: 5,
                        seconds: 0.25,
                    },
                    files,
                });
            }
            Op::Commit(PlanCommit { at: *now, jobs })
        }
        15..=29 => Op::Claim(ClaimRequest {
            worker: format!("w{}", rng.below(3)),
            lease: (1 + rng.below(4) as i64) * SEC,
            now: *now,
        }),
        30..=49 if !held.is_empty() => {
            // Mostly the newest lease (older ones have often expired).
            let mut h = if rng.chance(85) {
                held[held.len() - 1]
            } else {
                held[rng.below(held.len() as u64) as usize]
            };
            if rng.chance(15) {
                h.token -= 1;
            }
            let objs = q.job_objects(t, m.job_id(h.job)).await.unwrap();
            let (k, expected) = match objs.get(rng.below(objs.len() as u64 + 1) as usize) {
                Some(o) if !rng.chance(10) => (o.path_key.clone(), Some((o.state, o.version))),
                Some(o) => (o.path_key.clone(), Some((o.state, o.version + 1))),
                None => {
                    let k = pick_key(rng);
                    let cur = s.tier_object(t, "fs", &k).await.ok();
                    (k, cur.map(|o| (o.state, o.version)))
                }
            };
            let action = if rng.chance(80) {
                Action::Stub
            } else {
                Action::Withdraw
            };
            Op::Fenced(
                h,
                TransitionRequest {
                    share: "fs".into(),
                    path_key: k,
                    action,
                    expected,
                    stored: None,
                    plan: None,
                    at: *now,
                },
            )
        }
        50..=54 if !held.is_empty() => {
            let h = held[rng.below(held.len() as u64) as usize];
            Op::Renew(h, *now + 2 * SEC)
        }
        55..=66 if !held.is_empty() => {
            let i = rng.below(held.len() as u64) as usize;
            let mut h = held[i];
            if rng.chance(10) {
                h.token += 1;
            } else {
                held.swap_remove(i);
            }
            let outcome = if rng.chance(60) {
                JobOutcome::Done {
                    stubbed: rng.below(4),
                    skipped: rng.below(2),
                    failed: rng.below(2),
                    bytes: rng.below(1000),
                }
            } else {
                JobOutcome::Failed {
                    error: format!("target down {}", rng.below(10)),
                }
            };
            Op::Finish(h, outcome, *now)
        }
        67..=70 => Op::Cancel(rng.below(m.jobs.len() as u64 + 1) as usize, *now),
        71..=76 => {
            // Rehydrate (or delete) a stubbed file, so it may be planned again.
            let mut with_objects = Vec::new();
            for f in &files {
                if s.tier_object(t, "fs", &f.path_key).await.is_ok() {
                    with_objects.push(f.path_key.clone());
                }
            }
            let k = match with_objects.len() as u64 {
                n if n > 0 && rng.chance(85) => with_objects[rng.below(n) as usize].clone(),
                _ => pick_key(rng),
            };
            let cur = s.tier_object(t, "fs", &k).await.ok();
            let action = match (cur.as_ref().map(|o| o.state), rng.chance(70)) {
                (Some(TierState::Stubbed), true) => Action::Rehydrate,
                (Some(TierState::Planned), true) => Action::Withdraw,
                _ => Action::Delete,
            };
            Op::Transition(TransitionRequest {
                share: "fs".into(),
                path_key: k,
                action,
                expected: cur.map(|o| (o.state, o.version)),
                stored: None,
                plan: None,
                at: *now,
            })
        }
        77..=79 => {
            *now += 10 * SEC;
            Op::Claim(ClaimRequest {
                worker: "late".into(),
                lease: SEC,
                now: *now,
            })
        }
        _ => {
            const ACTIONS: [FeedAction; 10] = [
                FeedAction::FileRead,
                FeedAction::PreHydrate,
                FeedAction::FileWritten,
                FeedAction::Move,
                FeedAction::Move,
                FeedAction::Move,
                FeedAction::FileDelete,
                FeedAction::DirectoryCreate,
                FeedAction::Pin,
                FeedAction::FileRead,
            ];
            // Names of files with a tier object: accessed more often (warming).
            let mut tiered = Vec::new();
            for f in &files {
                if s.tier_object(t, "fs", &f.path_key).await.is_ok() {
                    tiered.push(name_of(&f.path_key));
                }
            }
            let events = (0..1 + rng.below(8))
                .map(|_| {
                    let action = ACTIONS[rng.below(ACTIONS.len() as u64) as usize];
                    let at = if rng.chance(5) {
                        *now + 8 * 86_400 * SEC
                    } else {
                        *now - (rng.below(20) as i64) * SEC
                    };
                    AccessEvent {
                        // Mostly new ids; some repeat an earlier one.
                        id: if rng.chance(12) {
                            format!("n/s/{}", rng.below(*ids))
                        } else {
                            *ids += 1;
                            format!("n/s/{ids}")
                        },
                        at,
                        action,
                        path: match tiered.len() as u64 {
                            n if n > 0 && rng.chance(40) => {
                                feed_name(tiered[rng.below(n) as usize], rng.chance(15))
                            }
                            _ => feed_name(rng.below(NAMES), rng.chance(15)),
                        },
                        target_path: (action == FeedAction::Move && !rng.chance(10))
                            .then(|| feed_name(rng.below(NAMES), rng.chance(15))),
                        user: rng.chance(50).then(|| "ann".to_owned()),
                    }
                })
                .collect();
            let cursors = (0..rng.below(3))
                .map(|_| {
                    (
                        (format!("n{}", rng.below(2)), format!("s{}", rng.below(2))),
                        Cursor {
                            offset: rng.below(10_000),
                            line: rng.below(100),
                        },
                    )
                })
                .collect();
            Op::Apply(EventBatch {
                parent: None,
                feed: "lucid".into(),
                events,
                cursors,
                now: *now,
            })
        }
    }
}

async fn differential(seed: u64, steps: usize) {
    let policy = [
        UnknownPathPolicy::Queue,
        UnknownPathPolicy::Ignore,
        UnknownPathPolicy::Placeholder,
    ][(seed % 3) as usize];
    let memory = MemoryStore::new();
    let sqlite = SqliteStore::open("sqlite::memory:").await.unwrap();
    let mut m = setup(&memory, policy).await;
    let mut s = setup(&sqlite, policy).await;
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut now = START;
    let mut held = Vec::new();
    let mut ids = 0;
    let mut log = String::new();
    assert_eq!(m.state().await, s.state().await, "seed {seed}: after setup");
    for step in 0..steps {
        let op = next_op(&mut rng, &m, &mut now, &mut held, &mut ids).await;
        let want = run(&mut m, &op).await;
        let got = run(&mut s, &op).await;
        writeln!(log, "{step}: {op:?}\n   -> {want}").unwrap();
        if std::env::var_os("DIFF_STATS").is_some() {
            let name = format!("{op:?}");
            let name = name.split(['(', ' ']).next().unwrap();
            let res: String = want.clone();
            eprintln!("STAT {name} | {res}");
        }
        if let (Op::Claim(_), Some(rest)) = (&op, want.strip_prefix("lease J")) {
            let job: usize = rest.split(' ').next().unwrap().parse().unwrap();
            let token = rest.rsplit(' ').next().unwrap().parse().unwrap();
            held.push(Held { job, token });
        }
        assert_eq!(want, got, "seed {seed} step {step}: results differ\n{log}");
        let (ws, gs) = (m.state().await, s.state().await);
        if ws != gs {
            let diff: Vec<String> = ws
                .lines()
                .zip(gs.lines())
                .filter(|(a, b)| a != b)
                .take(6)
                .map(|(a, b)| format!("memory: {a}\nsqlite: {b}"))
                .collect();
            panic!(
                "seed {seed} step {step}: states differ\n{}\n\nsteps:\n{log}",
                diff.join("\n")
            );
        }
    }
}

#[tokio::test]
async fn queue_and_feeds_agree_with_the_memory_store() {
    for seed in 1..=12 {
        differential(seed, 80).await;
    }
}
