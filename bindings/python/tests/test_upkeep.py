"""A tenant's upkeep through the installed wheel, on SQLite with a file:// tier: settings read
back, the retention sweep (dry, then real), reconciliation of a lost object and of orphans, and
reports (totals, by-state, the what-if, HTML and CSV) — the same numbers the store holds."""

import asyncio
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

import alto
import alto.aio
from conftest import cold_rules, iso

KB = 1024


@pytest.fixture
def shelf(tmp_path):
    """Two old videos (a and b, 400 days untouched) and a fresh note beneath a share root, their
    inventory and an empty tier-2 directory."""
    share = tmp_path / "share"
    share.mkdir()
    tier2 = tmp_path / "tier2"
    tier2.mkdir()
    year_ago = time.time() - 400 * 86400
    files = {}
    for name, size in [("a.mov", 40 * KB), ("b.mov", 24 * KB), ("note.txt", 5)]:
        p = share / name
        p.write_bytes(os.urandom(size))
        if name.endswith(".mov"):
            os.utime(p, (year_ago, year_ago))
        files[name] = p
    inventory = tmp_path / "inventory.csv"
    lines = ["file_path,file_size,last_modified,last_accessed"]
    for p in files.values():
        st = p.stat()
        lines.append(f"{p},{st.st_size},{iso(st.st_mtime_ns)},{iso(st.st_atime_ns)}")
    inventory.write_text("\n".join(lines) + "\n")
    return share, inventory, tier2, files


def _tenant(tmp_path, shelf, **settings):
    share, inventory, tier2, files = shelf
    store = alto.connect(f"sqlite://{tmp_path / 'alto.db'}")
    tenant = store.create_tenant("acme", **settings)
    tenant.create_share("media", root=str(share))
    r = tenant.ingest("media", inventory, full_scan=True)
    assert r.accepted == 3
    return store, tenant


def _objects(tier2):
    return sorted(p for p in tier2.rglob("*") if p.is_file())


def test_settings_are_set_and_read_back(tmp_path, shelf):
    store, tenant = _tenant(tmp_path, shelf, job_retention_days=30)
    s = tenant.settings
    assert isinstance(s, alto.TenantSettings)
    assert (s.planned_retention_days, s.rehydrated_retention_days, s.job_retention_days) == (365, None, 30)
    assert (s.feed_staging_hours, s.unknown_paths, s.stub_access, s.keep_history) == (24, "queue", "alert", True)

    new = tenant.set_settings(
        planned_retention_days=0,
        rehydrated_retention_days=7,
        deleted_retention_days=14,
        feed_staging_hours=6,
        stub_access="rehydrate",
    )
    assert (new.planned_retention_days, new.rehydrated_retention_days, new.deleted_retention_days) == (0, 7, 14)
    assert (new.feed_staging_hours, new.stub_access) == (6, "rehydrate")
    assert new.job_retention_days == 30, "a setting not named keeps its value"
    assert new.unknown_paths == "queue"
    assert tenant.settings == new
    # Stored: another connection reads them.
    again = alto.connect(f"sqlite://{tmp_path / 'alto.db'}").tenant("acme").settings
    assert again == new
    assert again.to_dict() == {
        "keep_history": True,
        "history_scans": None,
        "planned_retention_days": 0,
        "rehydrated_retention_days": 7,
        "deleted_retention_days": 14,
        "job_retention_days": 30,
        "feed_staging_hours": 6,
        "unknown_paths": "queue",
        "stub_access": "rehydrate",
    }

    # None clears a retention (kept forever); the others stay.
    cleared = tenant.set_settings(rehydrated_retention_days=None)
    assert (cleared.rehydrated_retention_days, cleared.deleted_retention_days) == (None, 14)
    # Over the stored settings, not this object's: another connection's change is kept.
    other = alto.connect(f"sqlite://{tmp_path / 'alto.db'}").tenant("acme")
    other.set_settings(feed_staging_hours=48)
    assert tenant.settings.feed_staging_hours == 6  # as this object last saw them
    assert tenant.set_settings(deleted_retention_days=None).feed_staging_hours == 48
    # A round trip sets them all.
    assert other.set_settings(**tenant.settings.to_dict()) == tenant.settings

    with pytest.raises(alto.InvalidInputError, match="unknown tenant setting"):
        tenant.set_settings(planned_retention=3)
    with pytest.raises(alto.InvalidInputError, match="tenant settings"):
        tenant.set_settings(planned_retention_days=-1)
    with pytest.raises(alto.InvalidInputError):
        tenant.set_settings(stub_access="shout")
    assert tenant.settings.planned_retention_days == 0, "a refused change changes nothing"


def test_maintain_expires_plans_after_a_dry_run(tmp_path, shelf):
    _, _, tier2, files = shelf
    store, tenant = _tenant(tmp_path, shelf)
    plan = tenant.plan(cold_rules(tier2), commit=True)
    assert plan.committed["planned"] == 2
    planned = sorted(f.path for f in tenant.files(state="PLANNED"))
    assert planned == sorted([str(files["a.mov"]), str(files["b.mov"])])

    # A year's retention: nothing expires.
    kept = tenant.maintain()
    assert (kept.planned_expired, kept.planned_skipped) == (0, 0)

    tenant.set_settings(planned_retention_days=0)
    dry = tenant.maintain(dry_run=True)
    assert isinstance(dry, alto.MaintainReport)
    assert (dry.tenant, dry.dry_run, dry.planned_expired, dry.event) == ("acme", True, 2, None)
    assert set(dry.pruned) == {"rehydrated", "deleted", "jobs", "feed_events", "snapshot_rows"}
    assert sorted(f.path for f in tenant.files(state="PLANNED")) == planned, "a dry run changes nothing"

    real = tenant.maintain()
    assert (real.dry_run, real.planned_expired, real.planned_skipped) == (False, 2, 0)
    assert isinstance(real.event, int)
    assert list(tenant.files(state="PLANNED")) == []
    sweeps = list(tenant.audit(kind="maintain.sweep"))
    assert [e.id for e in sweeps] == [kept.event, real.event], "one event per sweep that is not dry"
    assert [e.detail["planned_expired"] for e in sweeps] == [0, 2]
    assert sweeps[1].detail["planned_retention_days"] == 0
    assert real.to_dict()["planned_expired"] == 2
    withdrawn = list(tenant.audit(kind="tier.withdraw"))
    assert len(withdrawn) == 2
    # Nothing left to expire.
    assert tenant.maintain().planned_expired == 0


def test_reconcile_finds_the_lost_object_and_keeps_orphans_without_apply(tmp_path, shelf):
    share, _, tier2, files = shelf
    store, tenant = _tenant(tmp_path, shelf)
    # Objects at {tier2}/acme/media/…: the tenant's prefix is {tier2}/acme/.
    rules = alto.RuleSet.from_toml(
        f'[[rule]]\nname = "cold"\naccessed_before = "180d"\ntarget = "file://{tier2}/"\n'
    )
    tenant.plan(rules, commit=True)
    assert store.run_workers(tenant="acme").stubbed == 2
    # b back and tiered again: its first object stays behind, an orphan Alto may delete.
    tenant.rehydrate("media", str(files["b.mov"]))
    tenant.plan(rules, commit=True)
    assert store.run_workers(tenant="acme").stubbed == 1
    objects = _objects(tier2)
    assert len(objects) == 3, objects
    # a's object goes missing; a stranger's file appears under the tenant's prefix.
    [a_obj] = [p for p in objects if "a.mov" in p.name]
    a_obj.unlink()
    stray = tier2 / "acme" / "stray.bin"
    stray.write_bytes(b"not alto's")
    old = time.time() - 30 * 86400
    os.utime(stray, (old, old))

    later = datetime.now(timezone.utc) + timedelta(days=8)
    r = tenant.reconcile(now=later)
    assert isinstance(r, alto.ReconcileReport)
    assert (r.tenant, r.apply, r.grace_seconds, r.stubs_checked) == ("acme", False, 7 * 86400, 2)
    [lost] = r.lost
    assert (lost["path"], lost["reason"], lost["share"]) == (str(files["a.mov"]), "missing", "media")
    assert lost["found_size"] is None and lost["recorded_size"] == 40 * KB
    assert lost["flagged"] is True
    orphans = {o["key"].rsplit("/", 1)[-1]: o for o in r.orphans}
    assert len(orphans) == 2, r.orphans
    assert orphans["stray.bin"]["action"] == "kept"
    assert "not an object key" in orphans["stray.bin"]["reason"]
    [b_old] = [o for k, o in orphans.items() if k != "stray.bin"]
    assert b_old["action"] == "would_delete" and b_old["share"] == "media"
    assert isinstance(b_old["modified"], datetime) and b_old["modified"].tzinfo is not None
    assert (r.deleted, r.deleted_bytes) == (0, 0)
    assert r.unknown_stubs == [] and r.recovered == []
    assert [s["share"] for s in r.shares] == ["media"] and r.shares[0]["complete"]
    assert len(r.targets) == 1 and r.targets[0]["complete"]
    assert isinstance(r.event, int)
    # Nothing was deleted without apply.
    assert stray.exists() and len(_objects(tier2)) == 3
    assert all(isinstance(o["modified"], int) for o in r.to_dict()["orphans"])  # the JSON's microseconds
    kinds = [e.kind for e in tenant.audit(children=r.event)]
    assert kinds.count("reconcile.lost") == 1 and kinds.count("reconcile.orphan") == 2
    # The flag is on the file record too.
    flagged = {f.path: (f.state, f.lost) for f in tenant.files() if f.lost}
    assert flagged == {str(files["a.mov"]): ("STUBBED", "missing")}
    [a] = [f for f in tenant.files() if f.path == str(files["a.mov"])]
    assert isinstance(a.lost_at, datetime) and a.lost_at.tzinfo is not None

    # Within the grace period (counted back from now), b's old object is kept too.
    recent = tenant.reconcile()
    assert {o["action"] for o in recent.orphans} == {"kept"}
    # With apply, the orphan Alto may delete is deleted; the stranger's file is kept.
    applied = tenant.reconcile(now=later, apply=True, grace=timedelta(days=1))
    assert applied.deleted == 1 and applied.deleted_bytes == 24 * KB
    assert applied.grace_seconds == 86400
    assert stray.exists() and len(_objects(tier2)) == 2
    # The file stays lost, and one share only.
    assert [l["reason"] for l in tenant.reconcile(share="media", grace=3600).lost] == ["missing"]

    with pytest.raises(alto.InvalidInputError):
        tenant.reconcile(grace=timedelta(minutes=5))
    with pytest.raises(alto.InvalidInputError):
        tenant.reconcile(grace=-3)
    with pytest.raises(alto.NotFoundError):
        tenant.reconcile(share="nope")


def test_report_totals_states_and_what_if(tmp_path, shelf):
    share, _, tier2, files = shelf
    store, tenant = _tenant(tmp_path, shelf)
    sizes = {name: p.stat().st_size for name, p in files.items()}
    # Only a is tiered: a rule for a alone.
    only_a = alto.RuleSet.from_toml(
        f'[[rule]]\nname = "a"\ninclude = ["**/a.mov"]\ntarget = "file://{tier2}/"\n'
    )
    tenant.plan(only_a, commit=True)
    assert store.run_workers(tenant="acme").stubbed == 1

    r = tenant.report()
    assert isinstance(r, alto.Report)
    assert (r.tenant, r.share) == ("acme", None)
    assert r.totals["files"] == 3
    assert r.totals["bytes"] == sum(sizes.values())
    assert r.totals["saved"] == {"files": 1, "bytes": sizes["a.mov"]}
    assert r.totals["planned"] == {"files": 0, "bytes": 0}
    by_state = {e["key"]: e for e in r.by_state}
    assert set(by_state) == {None, "STUBBED"}
    stubbed = by_state["STUBBED"]
    assert (stubbed["files"], stubbed["bytes"], stubbed["stubbed_files"]) == (1, sizes["a.mov"], 1)
    assert by_state[None]["files"] == 2 and by_state[None]["label"] == "(no tier object)"
    assert {e["key"]: e["files"] for e in r.by_extension} == {"mov": 2, "txt": 1}
    assert [e["key"] for e in r.by_share] == ["media"]
    assert sum(e["files"] for e in r.by_age) == 3 and sum(e["bytes"] for e in r.by_size) == r.totals["bytes"]
    assert [f["path"] for f in r.largest] == [str(files[n]) for n in ("a.mov", "b.mov", "note.txt")]
    assert r.largest[0]["state"] == "STUBBED" and isinstance(r.largest[0]["accessed"], datetime)
    assert r.oldest[-1]["path"] == str(files["note.txt"])
    assert r.what_if is None
    assert abs((r.now - datetime.now(timezone.utc)).total_seconds()) < 60

    # The dict is the command's JSON; the HTML and CSV renderings carry the same numbers.
    d = r.to_dict()
    assert d["totals"] == r.totals and d["by_state"] == r.by_state
    assert isinstance(d["now"], str) and isinstance(d["largest"][0]["accessed"], int)
    assert set(d) == {
        "tenant", "share", "now", "totals", "owners_recorded", "by_state", "by_rule",
        "by_extension", "by_owner", "by_share", "by_age", "by_size", "largest", "oldest", "what_if",
    }
    html = r.to_html()
    assert html.startswith("<!DOCTYPE html>")
    assert f'data-section="state" data-key="STUBBED" data-label="STUBBED" data-files="1" data-bytes="{sizes["a.mov"]}"' in html
    csv = r.to_csv().splitlines()
    assert csv[0].startswith("section,key,files,bytes")
    assert csv[1] == f"totals,all,3,{sum(sizes.values())},1,{sizes['a.mov']},0,0"
    assert f"state,STUBBED,1,{sizes['a.mov']},1,{sizes['a.mov']},0,0" in csv

    # The what-if of the cold rule: b would be tiered now; a is skipped, already stubbed.
    w = tenant.report(rules=cold_rules(tier2), rules_source="cold.toml", top=1).what_if
    assert (w["files_matched"], w["bytes_matched"], w["files_skipped"]) == (1, sizes["b.mov"], 1)
    assert (w["rules"], w["jobs"], [t["rule"] for t in w["by_rule"]]) == ("cold.toml", 1, ["cold"])
    # Later, the note is old enough too.
    later = datetime.now(timezone.utc) + timedelta(days=365)
    assert tenant.report(rules=cold_rules(tier2), now=later).what_if["files_matched"] == 2
    # Once planned, the report says so.
    tenant.plan(cold_rules(tier2), commit=True)
    again = tenant.report(top=0, share="media")
    assert again.totals["planned"] == {"files": 1, "bytes": sizes["b.mov"]}
    assert {e["key"]: e["files"] for e in again.by_state} == {None: 1, "PLANNED": 1, "STUBBED": 1}
    assert again.largest == [] and again.share == "media"

    with pytest.raises(alto.NotFoundError):
        tenant.report(share="nope")
    with pytest.raises(alto.InvalidInputError):
        tenant.report(now=datetime(2025, 1, 1))


def test_the_upkeep_with_asyncio(tmp_path, shelf):
    _, _, tier2, files = shelf
    _tenant(tmp_path, shelf)

    async def main():
        store = await alto.aio.connect(f"sqlite://{tmp_path / 'alto.db'}")
        tenant = await store.tenant("acme")
        s = await tenant.set_settings(planned_retention_days=0, job_retention_days=None)
        assert (s.planned_retention_days, s.job_retention_days) == (0, None)
        assert tenant.settings == s
        await tenant.plan(cold_rules(tier2), commit=True)
        dry, report = await asyncio.gather(tenant.maintain(dry_run=True), tenant.report())
        assert (dry.dry_run, dry.planned_expired) == (True, 2)
        assert report.totals["planned"]["files"] == 2
        assert (await tenant.maintain()).planned_expired == 2
        r = await tenant.reconcile(share="media")
        assert (r.lost, r.orphans, r.stubs_checked) == ([], [], 0)
        with pytest.raises(alto.NotFoundError):
            await tenant.report(share="nope")

    asyncio.run(main())
