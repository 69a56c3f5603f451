"""The whole journey through the installed wheel, on SQLite and PostgreSQL: connect, tenant,
share with a root, ingest a real directory's inventory, plan and commit, run the workers,
rehydrate, and page the listings with resumable cursors."""

import os
from datetime import datetime, timezone

import pytest

import alto
from conftest import cold_rules


def test_the_whole_journey(store_url, share_dir):
    share, inventory, tier2, old = share_dir
    original = old.read_bytes()
    store = alto.connect(store_url)
    assert store.backend in ("sqlite", "postgres")

    tenant = store.create_tenant("acme")
    assert tenant.name == "acme"
    assert [t.name for t in store.tenants()] == ["acme"]
    assert store.tenant("acme").id == tenant.id
    assert tenant.created.tzinfo is not None

    s = tenant.create_share("media", root=str(share))
    assert (s.name, s.kind, s.root, s.case_sensitive) == ("media", "posix", str(share), True)
    assert [x.name for x in tenant.shares()] == ["media"]

    r = tenant.ingest("media", inventory, full_scan=True)
    assert (r.accepted, r.rejected, r.new, r.changed, r.missing) == (2, 0, 2, 0, 0)
    assert r.rejections == []

    files = list(tenant.files())
    assert sorted(f.path for f in files) == sorted([str(old), str(share / "projects" / "note.txt")])
    f_old = next(f for f in files if f.path == str(old))
    assert f_old.size == 256 * 1024
    assert f_old.state is None
    assert f_old.modified.tzinfo is not None
    assert abs(f_old.modified.timestamp() - old.stat().st_mtime) < 1e-5

    assert [f.path for f in tenant.files(glob="**/*.mov")] == [str(old)]
    assert [f.path for f in tenant.files(share="media", glob="**/note.*")] == [
        str(share / "projects" / "note.txt")
    ]
    assert list(tenant.files(share="other")) == []

    rules = cold_rules(tier2)
    assert rules.evaluate(str(old), f_old.size, accessed=f_old.accessed) == "cold"

    dry = tenant.plan(rules)
    assert (dry.files_scanned, dry.files_matched, dry.bytes_matched) == (2, 1, 256 * 1024)
    assert dry.committed is None
    assert list(tenant.jobs()) == []  # a dry run commits nothing

    plan = tenant.plan(rules, commit=True)
    assert plan.committed["jobs"] == 1 and plan.committed["planned"] == 1
    assert plan.to_dict()["files_matched"] == 1
    assert [b["rule"] for b in plan.by_rule] == ["cold"]
    jobs = list(tenant.jobs())
    assert [(j.rule, j.state, j.files) for j in jobs] == [("cold", "queued", 1)]
    assert [f.path for f in tenant.files(state="PLANNED")] == [str(old)]

    run = store.run_workers(tenant="acme")
    assert (run.jobs, run.stubbed, run.skipped, run.failed) == (1, 1, 0, 0), run.errors
    assert run.bytes == 256 * 1024
    assert [f.path for f in tenant.files(state="STUBBED")] == [str(old)]
    assert [j.state for j in tenant.jobs()] == ["done"]
    assert list(tenant.jobs(state="queued")) == []
    assert old.read_bytes() != original  # a stub now
    assert any(os.scandir(tier2))

    back = tenant.rehydrate("media", str(old))
    assert (back.rehydrated, back.bytes) == (1, 256 * 1024)
    assert old.read_bytes() == original
    with pytest.raises(alto.InvalidTransitionError, match="not STUBBED"):
        tenant.rehydrate("media", str(old))

    events = list(tenant.audit())
    assert len(events) >= 4
    kinds = [e.kind for e in events]
    assert len(set(kinds)) > 1
    assert all(isinstance(e.detail, dict) for e in events)
    assert all(e.at.tzinfo is not None for e in events)
    now = datetime.now(timezone.utc)
    assert all(abs((now - e.at).total_seconds()) < 600 for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)


def test_listings_resume_after_the_last_item_handed_out(store_url, tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "file_path,file_size,last_modified\n"
        + "".join(f"/m/f{i:02}.mov,{1000 + i},2020-01-01T00:00:00Z\n" for i in range(12))
    )
    tenant = alto.connect(store_url).create_tenant("acme")
    tenant.ingest("media", inv)

    it = tenant.files()
    assert it.cursor is None
    first = [next(it).path for _ in range(5)]
    assert first == [f"/m/f{i:02}.mov" for i in range(5)]
    rest = tenant.files(after=it.cursor)
    assert [f.path for f in rest] == [f"/m/f{i:02}.mov" for i in range(5, 12)]
    # At the end, the cursor resumes to nothing new...
    assert list(tenant.files(after=rest.cursor)) == []

    # The ingest wrote its scan, chunk and finish events; committing a plan writes its job's
    # event and one per file.
    rules = alto.RuleSet.from_toml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n')
    tenant.plan(rules, commit=True)
    audit = tenant.audit()
    seen = [next(audit).id for _ in range(5)]
    cursor = audit.cursor
    later = [e.id for e in tenant.audit(after=cursor)]
    everything = [e.id for e in tenant.audit()]
    assert len(everything) == 3 + 1 + 12
    assert later == everything[5:] and seen == everything[:5]
    end = tenant.audit(after=cursor)
    assert len(list(end)) == 11
    assert list(tenant.audit(after=end.cursor)) == []
    # ...and to what is appended since.
    [job] = tenant.jobs()
    assert tenant.cancel_job(job.id).state == "cancelled"
    appended = list(tenant.audit(after=end.cursor))
    assert appended[-1].kind == "job.cancel" and appended[-1].subject == str(job.id)
    assert min(e.id for e in appended) > max(everything)

    with pytest.raises(alto.InvalidInputError, match="cannot resume"):
        tenant.files(after=cursor)
    with pytest.raises(alto.InvalidInputError, match="not a cursor"):
        tenant.audit(after="nonsense")


def test_rejected_rows_are_reported_with_file_line_and_column(store_url, tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "file_path,file_size\n/m/a.mov,10\n/m/b.mov,lots\n/m/c.mov,30\n"
    )
    tenant = alto.connect(store_url).create_tenant("acme")
    r = tenant.ingest("media", inv)
    assert (r.accepted, r.rejected) == (2, 1)
    [rej] = r.rejections
    assert (rej.line, rej.column) == (3, "file_size")
    assert rej.file.endswith("inv.csv")
    assert rej.reason


def test_a_column_map_names_other_headers(store_url, tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text("FullName,Length\n/m/a.mov,10\n")
    tenant = alto.connect(store_url).create_tenant("acme")
    r = tenant.ingest("media", inv, column_map={"file_path": "FullName", "file_size": "Length"})
    assert r.accepted == 1
    assert [f.size for f in tenant.files()] == [10]
    with pytest.raises(alto.InvalidInputError, match="unknown column"):
        tenant.ingest("media", inv, column_map={"nope": "FullName"})


def test_feeds_move_last_access(store_url, tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text("file_path,file_size,last_accessed\n/m/a.mov,10,2020-01-01T00:00:00Z\n")
    tenant = alto.connect(store_url).create_tenant("acme")
    tenant.ingest("media", inv)
    batch = {
        "update_batch_id": "b-1",
        "updates": [
            {"file_path": "/m/a.mov", "last_accessed": "2025-06-15T00:00:00Z", "access_type": "read"},
            {"last_accessed": "2025-06-15T00:00:00Z"},
        ],
    }
    r = tenant.apply_events("media", batch)
    assert (r.applied, r.malformed) == (1, 1)
    assert r.to_dict()["applied"] == 1
    [f] = tenant.files()
    assert f.accessed == datetime(2025, 6, 15, tzinfo=timezone.utc)
    # The same batch again is recognised.
    again = tenant.apply_events("media", batch)
    assert (again.applied, again.duplicate) == (0, 1)
    path = tmp_path / "batch.json"
    path.write_text('{"update_batch_id": "b-2", "updates": []}')
    assert tenant.apply_events("media", path).applied == 0
    empty = tmp_path / "lucid"
    (empty / ".lucid_audit").mkdir(parents=True)
    assert tenant.follow_lucid("media", empty).read == 0
