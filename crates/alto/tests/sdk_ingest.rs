//! The handle's ingest with what a client prints: rejected rows as they come, progress, the
//! reader's notes; and an inventory opened (and a bad one refused) before any store is touched.

use alto::{ErrorKind, IngestRequest, InventoryFile, ShareKind};
use std::sync::{Arc, Mutex};

const CSV: &str = "Inventory export\nmade by hand\n\nfile_path,file_size,last_modified\n\
                   C:\\d\\a.txt,10,2024-01-01 10:00:00\nC:\\d\\b.txt,x,2024-01-01 10:00:00\n\
                   C:\\d\\c.txt,30,2024-01-02 10:00:00\n";

#[tokio::test]
async fn ingest_reports_rejects_progress_and_notes_through_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, CSV).unwrap();
    let alto = alto::connect("memory://").await.unwrap();
    let t = alto
        .create_tenant("acme", &Default::default())
        .await
        .unwrap();

    // Opened before any store work: its notes so far and its size are there to report.
    let mut file = InventoryFile::open(&inv, &Default::default()).unwrap();
    assert_eq!(file.path(), inv.as_path());
    assert_eq!(file.guess_kind().unwrap(), ShareKind::Ntfs);
    assert_eq!(file.progress().total, Some(CSV.len() as u64));
    let early = file.take_notes();
    assert!(
        early.iter().any(|n| n.contains("preamble")),
        "notes at open: {early:?}"
    );

    let rejects = Arc::new(Mutex::new(Vec::new()));
    let progress = Arc::new(Mutex::new(Vec::new()));
    let notes = Arc::new(Mutex::new(Vec::new()));
    let (r, p, n) = (rejects.clone(), progress.clone(), notes.clone());
    let req = IngestRequest::default()
        .chunk_rows(1)
        .on_reject(move |x| r.lock().unwrap().push(x.to_string()))
        .on_progress(move |x| p.lock().unwrap().push(x.done))
        .on_note(move |x| n.lock().unwrap().push(x.to_owned()));
    let report = t.ingest_file("fs", file, &req).await.unwrap();
    assert_eq!((report.accepted, report.rejected, report.new), (2, 1, 2));

    let rejects = std::mem::take(&mut *rejects.lock().unwrap());
    assert_eq!(rejects.len(), 1);
    assert!(rejects[0].contains("inv.csv:6"), "{rejects:?}");
    let progress = std::mem::take(&mut *progress.lock().unwrap());
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    // The notes taken at open are not repeated; the ones gathered while reading follow.
    let notes = std::mem::take(&mut *notes.lock().unwrap());
    assert!(!notes.iter().any(|n| n.contains("preamble")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("UTC")), "{notes:?}");
    // The share was created with the kind guessed from the first path.
    let shares = t.shares().await.unwrap();
    assert_eq!(shares[0].kind, ShareKind::Ntfs);

    // Through `ingest` the notes at open go to the callback too.
    let notes = Arc::new(Mutex::new(Vec::new()));
    let n = notes.clone();
    let req = IngestRequest::default().on_note(move |x| n.lock().unwrap().push(x.to_owned()));
    let again = t.ingest("fs", &inv, &req).await.unwrap();
    assert_eq!(again.unchanged, 2);
    assert!(
        notes.lock().unwrap().iter().any(|n| n.contains("preamble")),
        "{notes:?}"
    );
}

#[test]
fn a_file_that_is_not_there_is_refused_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let e = InventoryFile::open(dir.path().join("none.csv"), &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
}
