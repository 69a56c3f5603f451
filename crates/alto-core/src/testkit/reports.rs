//! Reports ([`Store::report_aggregates`]): each store against hand-counted numbers and the
//! reference [`Accumulator`], and several stores against each other on the same random data.

use super::{all_files, ingest, unique_name};
use crate::error::ErrorKind;
use crate::lifecycle::{Action, TierState};
use crate::report::*;
use crate::store::*;
use crate::time::Micros;
use crate::types::*;

const NOW: Micros = 1_800_000_000_000_000;

/// The reference aggregates of a tenant's records, as the store lists them.
async fn reference(store: &dyn Store, t: TenantId, query: &ReportQuery) -> ReportAggregates {
    let q = FileQuery {
        share: query.share.clone(),
        include_missing: true,
        ..FileQuery::default()
    };
    let mut acc = Accumulator::new(query);
    for f in all_files(store, t, q).await {
        let rule = match f.state {
            Some(_) => Some(
                store
                    .tier_object(t, &f.share, &f.path_key)
                    .await
                    .expect("tier object of a tiered file")
                    .planned_by,
            ),
            None => None,
        };
        acc.add(&f, rule.as_deref());
    }
    acc.finish()
}

/// Apply `action` to a file's tier object as it is now (planning with `rule`).
async fn act(store: &dyn Store, t: TenantId, share: &str, key: &str, action: Action, rule: &str) {
    let expected = match store.tier_object(t, share, key).await {
        Ok(o) => Some((o.state, o.version)),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("tier object {key:?}: {e}"),
    };
    let req = TransitionRequest {
        share: share.into(),
        path_key: key.into(),
        action,
        expected,
        plan: (action == Action::Plan).then(|| PlanInfo {
            rule: rule.into(),
            target_uri: format!("file:///tier/{rule}/"),
        }),
        stored: None,
        at: NOW - 1,
    };
    store
        .transition(t, &req)
        .await
        .unwrap_or_else(|e| panic!("{action} {key:?}: {e}"));
}

fn file(path: &str, size: u64, accessed: Option<Micros>, modified: Option<Micros>) -> FileEntry {
    FileEntry {
        path: path.into(),
        size,
        modified,
        accessed,
        extension: crate::path::extension(path).map(str::to_owned),
        ..FileEntry::default()
    }
}

fn owned(mut e: FileEntry, owner: &str) -> FileEntry {
    e.owner = Some(owner.into());
    e
}

fn tally(files: u64, bytes: u64) -> Tally {
    Tally {
        files,
        bytes,
        ..Tally::default()
    }
}

fn group(key: Option<&str>, t: Tally) -> Group {
    Group {
        key: key.map(str::to_owned),
        tally: t,
    }
}

/// Reports on a small tenant whose every number is counted by hand: bucket bounds, ASCII
/// folding of extensions, empty owners, missing files, states and rules, ties, one share.
pub async fn reports(store: &dyn Store) {
    const G: u64 = 1 << 32;
    const BIG: u64 = 5_000_000_000;
    let t = store
        .create_tenant(&unique_name("report"), &TenantSettings::default())
        .await
        .expect("create tenant");
    for (name, kind) in [("a", ShareKind::Posix), ("b", ShareKind::Ntfs)] {
        store
            .ensure_share(t.id, &ShareSpec::new(name, kind))
            .await
            .expect("share");
    }
    let a = vec![
        owned(file("/a/x.MOV", 4096, Some(NOW - 30 * DAY), None), "ann"),
        owned(
            file("/a/y.mov", 4095, Some(NOW - 30 * DAY + 1), None),
            "ann",
        ),
        file("/a/z", 0, None, None),
        owned(file("/a/w.pdf", G, None, Some(NOW - 1825 * DAY)), ""),
        owned(file("/a/v.pdf", 65_536, Some(NOW + DAY), None), "bob"),
        owned(file("/a/gone.txt", 7, Some(NOW), None), "ann"),
    ];
    ingest(store, t.id, "a", ScanKind::Full, &[("1", a.clone())]).await;
    // A second full scan without /a/gone.txt marks it missing.
    ingest(store, t.id, "a", ScanKind::Full, &[("1", a[..5].to_vec())]).await;
    let big = owned(
        file(r"C:\B\big.MOV", BIG, Some(NOW - 400 * DAY), None),
        "ann",
    );
    ingest(store, t.id, "b", ScanKind::Full, &[("1", vec![big])]).await;
    let big_key = all_files(
        store,
        t.id,
        FileQuery {
            share: Some("b".into()),
            ..FileQuery::default()
        },
    )
    .await[0]
        .path_key
        .clone();
    for (share, key, actions, rule) in [
        ("a", "/a/x.MOV", &[Action::Plan, Action::Stub][..], "cold"),
        ("a", "/a/w.pdf", &[Action::Plan][..], "old"),
        (
            "b",
            big_key.as_str(),
            &[Action::Plan, Action::Stub, Action::Rehydrate][..],
            "cold",
        ),
    ] {
        for &action in actions {
            act(store, t.id, share, key, action, rule).await;
        }
    }
    let q = ReportQuery {
        top_n: 3,
        ..ReportQuery::at(NOW)
    };
    let got = store
        .report_aggregates(t.id, &q)
        .await
        .expect("report")
        .normalize();
    let stub = |n, b| Tally {
        stubbed_files: n,
        stubbed_bytes: b,
        ..Tally::default()
    };
    let plus = |mut x: Tally, y: Tally| {
        x.merge(&y);
        x
    };
    let planned_w = Tally {
        planned_files: 1,
        planned_bytes: G,
        ..tally(1, G)
    };
    let x = plus(tally(1, 4096), stub(1, 4096));
    let all = 4096 + 4095 + G + 65_536 + BIG;
    assert_eq!(
        got.totals,
        Tally {
            stubbed_files: 1,
            stubbed_bytes: 4096,
            planned_files: 1,
            planned_bytes: G,
            ..tally(6, all)
        },
        "totals"
    );
    assert_eq!(got.missing, tally(1, 7), "missing files are counted apart");
    assert_eq!(
        got.by_state,
        vec![
            group(None, tally(3, 4095 + 65_536)),
            group(Some("PLANNED"), planned_w),
            group(Some("REHYDRATED"), tally(1, BIG)),
            group(Some("STUBBED"), x),
        ],
        "by state"
    );
    assert_eq!(
        got.by_rule,
        vec![
            group(None, tally(3, 4095 + 65_536)),
            group(Some("cold"), plus(tally(1, BIG), x)),
            group(Some("old"), planned_w),
        ],
        "by rule"
    );
    assert_eq!(
        got.by_extension,
        vec![
            group(None, tally(1, 0)),
            group(Some("mov"), plus(tally(2, BIG + 4095), x)),
            group(Some("pdf"), plus(tally(1, 65_536), planned_w)),
        ],
        "by extension, folded in ASCII"
    );
    assert_eq!(
        got.by_owner,
        vec![
            group(None, plus(tally(1, 0), planned_w)),
            group(Some("ann"), plus(tally(2, BIG + 4095), x)),
            group(Some("bob"), tally(1, 65_536)),
        ],
        "by owner, an empty owner as none"
    );
    assert_eq!(
        got.by_share,
        vec![
            group(Some("a"), plus(tally(3, 4095 + 65_536), plus(x, planned_w))),
            group(Some("b"), tally(1, BIG)),
        ],
        "by share"
    );
    let empty = Tally::default();
    assert_eq!(
        got.by_age,
        vec![
            tally(2, 4095 + 65_536),
            x,
            empty,
            empty,
            tally(1, BIG),
            empty,
            planned_w,
            tally(1, 0),
        ],
        "by age: lower bounds included, the future young, modification time when no access, \
         unknown last"
    );
    assert_eq!(
        got.by_size,
        vec![
            tally(2, 4095),
            x,
            tally(1, 65_536),
            empty,
            empty,
            empty,
            plus(tally(1, BIG), planned_w),
        ],
        "by size"
    );
    let paths = |v: &[ReportFile]| v.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
    assert_eq!(
        paths(&got.largest),
        [r"C:\B\big.MOV", "/a/w.pdf", "/a/v.pdf"],
        "largest"
    );
    assert_eq!(
        paths(&got.oldest),
        ["/a/w.pdf", r"C:\B\big.MOV", "/a/x.MOV"],
        "oldest"
    );
    let w = &got.largest[1];
    assert_eq!(
        (w.share.as_str(), w.size, w.state, w.modified, w.accessed),
        (
            "a",
            G,
            Some(TierState::Planned),
            Some(NOW - 1825 * DAY),
            None
        )
    );
    assert_eq!(
        got,
        reference(store, t.id, &q).await,
        "against the reference"
    );

    // One share.
    let qa = ReportQuery {
        share: Some("a".into()),
        ..q.clone()
    };
    let one = store
        .report_aggregates(t.id, &qa)
        .await
        .expect("report of a share")
        .normalize();
    assert_eq!(one.totals.files, 4 + 1, "share a");
    assert_eq!(one.by_share.len(), 1);
    assert_eq!(one, reference(store, t.id, &qa).await, "share a, reference");
    let qb = ReportQuery {
        share: Some("nope".into()),
        ..q.clone()
    };
    let e = store.report_aggregates(t.id, &qb).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // No lists; an empty tenant.
    let q0 = ReportQuery {
        top_n: 0,
        ..q.clone()
    };
    let none = store.report_aggregates(t.id, &q0).await.expect("report");
    assert!(none.largest.is_empty() && none.oldest.is_empty());
    let empty_t = store
        .create_tenant(&unique_name("report-empty"), &TenantSettings::default())
        .await
        .expect("create tenant");
    let e = store
        .report_aggregates(empty_t.id, &q)
        .await
        .expect("empty report")
        .normalize();
    assert_eq!(e, ReportAggregates::default(), "an empty tenant");
}

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

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// A time near an age bound (one microsecond either side, or on it), anywhere, or none.
fn random_time(r: &mut Rng) -> Option<Micros> {
    match r.below(6) {
        0 => None,
        1 => Some(NOW + r.below(100) as i64 * DAY),
        2 => Some(NOW - r.below(4000) as i64 * DAY - r.below(DAY as u64) as i64),
        _ => {
            let days = *r.pick(&AGE_BOUNDS_DAYS);
            Some(NOW - days * DAY + r.below(3) as i64 - 1)
        }
    }
}

fn random_size(r: &mut Rng) -> u64 {
    match r.below(4) {
        0 => r.below(1 << 40),
        1 => r.below(10),
        _ => r.pick(&SIZE_BOUNDS) + r.below(3) - 1,
    }
}

/// Every store of `stores` reports the same numbers on the same random data (seeded by `seed`),
/// for the whole tenant and each share, at two times and three list lengths, and they equal the
/// reference computation over the first store's records.
pub async fn reports_agree(stores: &[&dyn Store], seed: u64) {
    const EXTS: [Option<&str>; 8] = [
        Some("mov"),
        Some("MOV"),
        Some("Mov"),
        Some("pdf"),
        None,
        Some(""),
        Some("é"),
        Some("É"),
    ];
    const OWNERS: [Option<&str>; 6] = [
        Some("ann"),
        Some("ANN"),
        Some("bob"),
        None,
        Some(""),
        Some(r"DOMAIN\user7"),
    ];
    const RULES: [&str; 4] = ["cold", "old", "video", "zz"];
    let shares = [
        ("p", ShareKind::Posix),
        ("w", ShareKind::Ntfs),
        ("l", ShareKind::Lucidlink),
    ];
    let mut r = Rng(seed.max(1));
    let mut files: Vec<(&str, FileEntry)> = Vec::new();
    for i in 0..240u64 {
        let (share, _) = *r.pick(&shares);
        let ext = *r.pick(&EXTS);
        let path = match share {
            "w" => format!(r"C:\W\D{}\F{i}.{}", i % 4, ext.unwrap_or("x")),
            _ => format!("/{share}/d{}/f{i}.{}", i % 4, ext.unwrap_or("x")),
        };
        let e = FileEntry {
            path,
            size: random_size(&mut r),
            accessed: random_time(&mut r),
            modified: random_time(&mut r),
            extension: ext.map(str::to_owned),
            owner: r.pick(&OWNERS).map(str::to_owned),
            ..FileEntry::default()
        };
        files.push((share, e));
    }
    // Dropped from the second full scan of share p: missing.
    let gone: Vec<bool> = files.iter().map(|_| r.below(10) == 0).collect();
    // Each file's lifecycle: a run of actions, planned by a rule (a new plan may name another).
    let mut script: Vec<(usize, Action, &str)> = Vec::new();
    for i in 0..files.len() {
        if r.below(10) < 4 {
            continue;
        }
        let rule = *r.pick(&RULES);
        script.push((i, Action::Plan, rule));
        if r.below(2) == 0 {
            continue;
        }
        script.push((i, Action::Stub, rule));
        match r.below(10) {
            0..3 => {
                script.push((i, Action::Rehydrate, rule));
                if r.below(3) == 0 {
                    script.push((i, Action::Plan, *r.pick(&RULES)));
                }
            }
            3..5 => script.push((i, Action::Delete, rule)),
            _ => {}
        }
    }
    let name = unique_name("report-agree");
    let mut answers: Vec<Vec<ReportAggregates>> = Vec::new();
    for (n, store) in stores.iter().enumerate() {
        let t = store
            .create_tenant(&name, &TenantSettings::default())
            .await
            .expect("create tenant");
        for (s, kind) in shares {
            store
                .ensure_share(t.id, &ShareSpec::new(s, kind))
                .await
                .expect("share");
            let of: Vec<FileEntry> = files
                .iter()
                .filter(|(fs, _)| *fs == s)
                .map(|(_, e)| e.clone())
                .collect();
            ingest(*store, t.id, s, ScanKind::Full, &[("1", of.clone())]).await;
            if s == "p" {
                let kept: Vec<FileEntry> = files
                    .iter()
                    .zip(&gone)
                    .filter(|((fs, _), g)| *fs == s && !**g)
                    .map(|((_, e), _)| e.clone())
                    .collect();
                ingest(*store, t.id, s, ScanKind::Full, &[("1", kept)]).await;
            }
        }
        // Path keys as this store made them (NTFS keys are folded).
        let listed = all_files(
            *store,
            t.id,
            FileQuery {
                include_missing: true,
                ..FileQuery::default()
            },
        )
        .await;
        for &(i, action, rule) in &script {
            let (share, e) = &files[i];
            let key = &listed
                .iter()
                .find(|f| f.share == *share && f.entry.path == e.path)
                .expect("ingested file")
                .path_key;
            act(*store, t.id, share, key, action, rule).await;
        }
        let mut mine = Vec::new();
        let scopes = [None, Some("p"), Some("w"), Some("l")];
        for (k, now) in [NOW, NOW + 17 * DAY + 3].into_iter().enumerate() {
            for (j, share) in scopes.iter().enumerate() {
                let q = ReportQuery {
                    share: share.map(str::to_owned),
                    now,
                    top_n: [20, 5, 0, 250][(j + k) % 4],
                };
                let got = store
                    .report_aggregates(t.id, &q)
                    .await
                    .unwrap_or_else(|e| panic!("{} report: {e}", store.backend()))
                    .normalize();
                if n == 0 {
                    assert_eq!(
                        got,
                        reference(*store, t.id, &q).await,
                        "{} against the reference, {q:?}",
                        store.backend()
                    );
                }
                let sum = |v: &[Tally]| {
                    v.iter().fold(Tally::default(), |mut a, t| {
                        a.merge(t);
                        a
                    })
                };
                for (what, part) in [
                    ("age", sum(&got.by_age)),
                    ("size", sum(&got.by_size)),
                    (
                        "owner",
                        sum(&got.by_owner.iter().map(|g| g.tally).collect::<Vec<_>>()),
                    ),
                ] {
                    assert_eq!(
                        part,
                        got.totals,
                        "{}: by {what} sums to the totals",
                        store.backend()
                    );
                }
                mine.push(got);
            }
        }
        answers.push(mine);
    }
    for (n, other) in answers.iter().enumerate().skip(1) {
        assert_eq!(
            other.len(),
            answers[0].len(),
            "{} and {}",
            stores[0].backend(),
            stores[n].backend()
        );
        for (i, (a, b)) in answers[0].iter().zip(other).enumerate() {
            assert_eq!(
                a,
                b,
                "query {i}: {} and {} disagree",
                stores[0].backend(),
                stores[n].backend()
            );
        }
    }
}
