//! The audit trail read in commit order (issue 19): an event whose transaction commits after a
//! later-numbered one is never skipped by a reader that has passed the later one, and a reader
//! tailing the trail while many writers append sees every event exactly once. Events carry the
//! actor, with the database login filled in by the database, whatever a statement claims.

mod common;

use alto_core::types::{Actor, AuditPosition, AuditQuery, NewAuditEvent, TenantId};
use alto_core::{Store, TenantSettings};
use common::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use std::collections::BTreeMap;
use std::sync::Arc;

fn event(kind: &str, subject: String) -> NewAuditEvent {
    NewAuditEvent {
        kind: kind.into(),
        subject,
        detail: serde_json::json!({}),
        parent: None,
    }
}

/// An owner connection with the tenant set, in a transaction that has appended one event.
async fn held_insert(db: &TestDb, t: TenantId, subject: &str) -> PgConnection {
    let mut conn = db.owner().await;
    conn.execute("BEGIN").await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(t.0.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_event (tenant_id, event_utc, kind, subject, writer_xid) \
         VALUES ($1, now(), 'test.held', $2, 0)",
    )
    .bind(t.0)
    .bind(subject)
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

/// Read until `n` events came (other transactions on the server, such as the other tests'
/// migrations, hold the horizon back a while).
async fn read_n(
    store: &dyn Store,
    t: TenantId,
    after: &mut Option<AuditPosition>,
    n: usize,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut out = Vec::new();
    while out.len() < n {
        assert!(std::time::Instant::now() < deadline, "only {out:?}");
        out.extend(read_from(store, t, after, 10).await);
    }
    out
}

/// Every event of the tenant after `after`, through pages of `page`.
async fn read_from(
    store: &dyn Store,
    t: TenantId,
    after: &mut Option<AuditPosition>,
    page: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let p = store.audit(t, *after, page).await.unwrap();
        for e in &p.items {
            assert!(after.is_none_or(|a| e.position > a), "read order");
            *after = Some(e.position);
            out.push(e.subject.clone());
        }
        if p.next.is_none() {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_commits_late_is_not_skipped() {
    let db = TestDb::new("audit_late").await;
    let store = db.store().await;
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    store
        .append_audit(t, &event("test.a", "first".into()))
        .await
        .unwrap();
    let mut after = None;
    assert_eq!(read_n(&store, t, &mut after, 1).await, ["first"]);

    // A transaction takes an event id, then waits; a later one commits a higher id.
    let mut held = held_insert(&db, t, "late").await;
    let later = store
        .append_audit(t, &event("test.a", "later".into()))
        .await
        .unwrap();
    assert!(later.position.commit > 0, "a writer transaction id");
    // Reading by id would hand out "later" now and pass "late" for good. The reader waits a
    // little for the running transaction, then returns nothing rather than jump ahead.
    assert!(read_from(&store, t, &mut after, 10).await.is_empty());
    sqlx::query("COMMIT").execute(&mut held).await.unwrap();
    // The held transaction's id is below the later one's: it comes first, then the later.
    assert_eq!(read_n(&store, t, &mut after, 2).await, ["late", "later"]);
    assert!(read_from(&store, t, &mut after, 10).await.is_empty());
    held.close().await.unwrap();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_transaction_in_another_database_does_not_hold_the_trail_back() {
    let db = TestDb::new("audit_elsewhere").await;
    let other = TestDb::empty("audit_other").await;
    let store = db.store().await;
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    // Another database's transaction holds a transaction id for the whole test.
    let mut elsewhere = other.owner().await;
    elsewhere.execute("BEGIN").await.unwrap();
    elsewhere
        .execute("CREATE TABLE busy (n int); INSERT INTO busy VALUES (1)")
        .await
        .unwrap();
    store
        .append_audit(t, &event("test.a", "now".into()))
        .await
        .unwrap();
    // Readable while the other database's transaction is still open (it stays open to the end,
    // so it cannot be what lets the event through; this database's own work may delay it a
    // moment on a loaded machine).
    let mut after = None;
    assert_eq!(read_n(&store, t, &mut after, 1).await, ["now"]);
    elsewhere.execute("ROLLBACK").await.unwrap();
    elsewhere.close().await.unwrap();
    other.drop().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_reader_sees_every_event_once_under_concurrent_writers() {
    const WRITERS: usize = 8;
    const EVENTS: usize = 60;
    let db = Arc::new(TestDb::new("audit_tail").await);
    let store = Arc::new(db.store().await);
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let db = db.clone();
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            // Half the writers hold their transaction open a while after inserting (as a plan
            // commit or a feed batch does), so ids commit out of order; the rest go through the
            // store.
            let mut conn = db.owner().await;
            for i in 0..EVENTS {
                let subject = format!("w{w}/{i:03}");
                if w % 2 == 0 {
                    conn.execute("BEGIN").await.unwrap();
                    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                        .bind(t.0.to_string())
                        .execute(&mut conn)
                        .await
                        .unwrap();
                    sqlx::query(
                        "INSERT INTO audit_event (tenant_id, event_utc, kind, subject) \
                         VALUES ($1, now(), 'test.w', $2)",
                    )
                    .bind(t.0)
                    .bind(&subject)
                    .execute(&mut conn)
                    .await
                    .unwrap();
                    let ms = (i * 7 + w * 3) % 13;
                    tokio::time::sleep(std::time::Duration::from_millis(ms as u64)).await;
                    conn.execute("COMMIT").await.unwrap();
                } else {
                    store
                        .append_audit(t, &event("test.w", subject))
                        .await
                        .unwrap();
                }
            }
        }));
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut after = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while seen.len() < WRITERS * EVENTS {
        // Each read is a new listing resumed from the position, as a restarted reader would.
        for s in read_from(store.as_ref(), t, &mut after, 7).await {
            *seen.entry(s).or_default() += 1;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reader stopped at {} of {} events",
            seen.len(),
            WRITERS * EVENTS
        );
    }
    for w in writers {
        w.await.unwrap();
    }
    // Nothing after the last: and every event exactly once.
    assert!(read_from(store.as_ref(), t, &mut after, 7).await.is_empty());
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "read more than once: {twice:?}");
    assert_eq!(seen.len(), WRITERS * EVENTS);
    drop(store);
    if let Ok(db) = Arc::try_unwrap(db) {
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_actor_and_position_are_the_databases_to_set() {
    let db = TestDb::new("audit_actor").await;
    let store = db.store().await;
    let t = store
        .create_tenant("acme", &TenantSettings::default())
        .await
        .unwrap()
        .id;
    store.set_actor(Actor::current("test-suite"));
    let e = store
        .append_audit(t, &event("test.a", "x".into()))
        .await
        .unwrap();
    assert_eq!(e.actor.source, "test-suite");
    assert_eq!(e.actor.db_user.as_deref(), Some(common::APP_LOGIN));
    assert_eq!(e.actor.pid, Some(std::process::id()));
    assert!(!e.actor.host.is_empty());
    // A raw insert that claims a position below every reader's and another login's name gets
    // its transaction's position and the login it used.
    let mut held = held_insert(&db, t, "forged").await;
    held.execute("COMMIT").await.unwrap();
    read_n(&store, t, &mut None, 2).await;
    let all = store.audit(t, None, 10).await.unwrap().items;
    let forged = all.iter().find(|e| e.subject == "forged").unwrap();
    assert!(forged.position.commit > e.position.commit, "{forged:?}");
    assert_ne!(forged.actor.db_user.as_deref(), Some(common::APP_LOGIN));
    assert!(forged.actor.db_user.is_some());
    // Filters: kind (exact and family), subject, children.
    let child = store
        .append_audit(
            t,
            &NewAuditEvent {
                parent: Some(e.id),
                ..event("test.child", "y".into())
            },
        )
        .await
        .unwrap();
    // Everything written so far is readable before the filters are tried.
    let mut after = None;
    read_n(&store, t, &mut after, 3).await;
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    let subjects = |q: AuditQuery| {
        let store = &store;
        async move {
            store
                .audit_query(t, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|e| e.subject)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        subjects(q(|q| q.kinds = vec!["test.child".into()])).await,
        ["y"]
    );
    assert_eq!(
        subjects(q(|q| q.kinds = vec!["test.*".into()])).await,
        ["x", "forged", "y"]
    );
    assert!(
        subjects(q(|q| q.kinds = vec!["test".into()]))
            .await
            .is_empty()
    );
    assert_eq!(
        subjects(q(|q| q.subject = Some("forged".into()))).await,
        ["forged"]
    );
    let children = AuditQuery {
        parent: Some(e.id),
        ..Default::default()
    };
    assert_eq!(subjects(children).await, ["y"]);
    let later = AuditQuery {
        since: Some(child.at),
        ..Default::default()
    };
    assert!(subjects(later).await.contains(&"y".to_string()));
    held.close().await.unwrap();
    db.drop().await;
}
