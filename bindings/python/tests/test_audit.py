"""The audit trail's filters, actor and job chain through the wheel, on SQLite and PostgreSQL:
kind (exact, family, several), subject, since/until, the children of a job's event, resuming
a filtered listing, the actor each event names (source "python" unless connect says otherwise),
and what the arguments refuse. The same through alto.aio."""

import asyncio
import os
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

import alto
import alto.aio

ALL = alto.RuleSet.from_toml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n')


def _planned(store_url, tmp_path, **connect):
    """A tenant with three files ingested and planned in one job: (store, tenant, job)."""
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "file_path,file_size,last_modified\n"
        + "".join(f"/m/f{i}.mov,{1000 + i},2020-01-01T00:00:00Z\n" for i in range(3))
    )
    store = alto.connect(store_url, **connect)
    tenant = store.create_tenant("acme")
    tenant.ingest("media", inv)
    tenant.plan(ALL, commit=True)
    [job] = tenant.jobs()
    return store, tenant, job


def test_filters_select_what_the_whole_trail_holds(store_url, tmp_path):
    _, tenant, job = _planned(store_url, tmp_path)
    trail = list(tenant.audit())
    kinds = {e.kind for e in trail}
    assert {"ingest.scan", "ingest.chunk", "ingest.finish", "job.create", "tier.plan"} <= kinds

    def ids(events):
        return [e.id for e in events]

    # Kind: exact, a family, several (a list or a tuple), in the trail's order.
    plans = list(tenant.audit(kind="tier.plan"))
    assert len(plans) == 3 and {e.kind for e in plans} == {"tier.plan"}
    assert ids(plans) == ids(e for e in trail if e.kind == "tier.plan")
    assert ids(tenant.audit(kind="ingest.*")) == ids(e for e in trail if e.kind.startswith("ingest."))
    assert ids(tenant.audit(kind=["job.create", "ingest.*"])) == ids(
        e for e in trail if e.kind == "job.create" or e.kind.startswith("ingest.")
    )
    assert ids(tenant.audit(kind=("tier.plan",))) == ids(plans)
    assert list(tenant.audit(kind="tier")) == []  # a kind, not a prefix
    assert ids(tenant.audit(kind=[])) == ids(trail)  # no kind given: every kind

    # Subject, exactly.
    key = plans[1].subject
    assert [(e.kind, e.subject) for e in tenant.audit(subject=key)] == [("tier.plan", key)]
    assert list(tenant.audit(subject=key.upper())) == []

    # Time: since <= at < until, timezone-aware datetimes in any zone.
    mid = trail[len(trail) // 2].at
    assert ids(tenant.audit(since=mid)) == ids(e for e in trail if e.at >= mid)
    assert ids(tenant.audit(until=mid)) == ids(e for e in trail if e.at < mid)
    east = timezone(timedelta(hours=5))
    assert ids(tenant.audit(since=mid.astimezone(east))) == ids(tenant.audit(since=mid))
    assert list(tenant.audit(since=mid, until=mid)) == []
    later = datetime.now(timezone.utc) + timedelta(days=1)
    assert list(tenant.audit(since=later)) == []
    assert ids(tenant.audit(until=later)) == ids(trail)

    # Filters narrow together.
    assert ids(tenant.audit(kind="tier.*", subject=key, until=later)) == [plans[1].id]

    # A job's event and its children: the tier.plan event of each of its files.
    assert job.event is not None
    [create] = [e for e in trail if e.id == job.event]
    assert (create.kind, create.subject, create.parent) == ("job.create", str(job.id), None)
    assert create.detail["files"] == 3
    children = list(tenant.audit(children=job.event))
    assert ids(children) == ids(plans)
    assert all(e.parent == job.event for e in children)
    assert list(tenant.audit(children=job.event, kind="job.*")) == []
    assert list(tenant.audit(children=plans[0].id)) == []

    # A filtered listing resumes from its cursor, after the last event handed out.
    it = tenant.audit(kind="tier.plan")
    assert next(it).id == plans[0].id
    assert ids(tenant.audit(after=it.cursor, kind="tier.plan")) == ids(plans[1:])
    # Its cursor is a position in the whole trail: it resumes an unfiltered listing too.
    assert ids(tenant.audit(after=it.cursor)) == ids(e for e in trail if e.id > plans[0].id)

    # Cancelling it withdraws its files' plans and ends it: their events join its children.
    tenant.cancel_job(job.id)
    [cancelled] = tenant.jobs()
    assert cancelled.event == job.event
    chain = [(e.kind, e.subject) for e in tenant.audit(children=job.event)]
    assert chain == (
        [("tier.plan", e.subject) for e in plans]
        + [("tier.withdraw", e.subject) for e in plans]
        + [("job.cancel", str(job.id))]
    )


def test_every_event_names_its_actor(store_url, tmp_path):
    _, tenant, job = _planned(store_url, tmp_path)
    trail = list(tenant.audit())
    assert trail
    for e in trail:
        a = e.actor
        assert isinstance(a, alto.Actor)
        assert a.source == "python", e
        assert (a.pid, a.uid) == (os.getpid(), os.getuid())
        assert a.host == os.uname().nodename
        assert a.process and a.process.startswith("python")
        d = a.to_dict()
        assert (d["source"], d["pid"]) == ("python", os.getpid())
        if store_url.startswith("postgres"):
            # The database's own account of who wrote it: the login.
            assert a.db_user == urlsplit(store_url).username
            assert d["db_user"] == a.db_user
        else:
            assert a.db_user is None and "db_user" not in d
    assert "source='python'" in repr(trail[0].actor).replace('"', "'")

    # Another connection names another source; the events it writes say so.
    other = alto.connect(store_url, source="nightly-report").tenant("acme")
    other.cancel_job(job.id)
    [cancel] = tenant.audit(kind="job.cancel")
    assert cancel.actor.source == "nightly-report"
    assert {e.actor.source for e in tenant.audit(kind="tier.withdraw")} == {"nightly-report"}
    assert {e.actor.source for e in tenant.audit(kind=["tier.plan", "ingest.*"])} == {"python"}


def test_bad_filters_are_refused(store_url, tmp_path):
    tenant = alto.connect(store_url).create_tenant("acme")
    with pytest.raises(TypeError, match="kind must be a str or a list of str, not int"):
        tenant.audit(kind=5)
    with pytest.raises(TypeError, match="not set"):
        tenant.audit(kind={"tier.plan"})
    with pytest.raises(TypeError, match=r"not int \(item 1\)"):
        tenant.audit(kind=["tier.plan", 5])
    with pytest.raises(alto.InvalidInputError, match="since must be a timezone-aware datetime"):
        tenant.audit(since=datetime(2025, 1, 1))
    with pytest.raises(alto.InvalidInputError, match="until must be a timezone-aware datetime"):
        tenant.audit(until="2025-01-01T00:00:00Z")
    with pytest.raises(TypeError):
        tenant.audit(children="12")
    with pytest.raises(TypeError):
        tenant.audit(subject=7)


def test_filters_and_source_through_asyncio(store_url, tmp_path):
    _, tenant, job = _planned(store_url, tmp_path)

    async def main():
        store = await alto.aio.connect(store_url, source="aio-service")
        t = await store.tenant("acme")
        children = [e async for e in t.audit(children=job.event)]
        assert [e.kind for e in children] == ["tier.plan"] * 3
        listing = t.audit(kind="tier.*")
        first = await listing.__anext__()
        rest = [e.id async for e in t.audit(after=listing.cursor, kind=["tier.*"])]
        assert [first.id, *rest] == [e.id for e in children]
        since = children[0].at
        assert [e.id async for e in t.audit(since=since, kind="tier.plan")] == [e.id for e in children]
        await t.cancel_job(job.id)
        [cancel] = [e async for e in t.audit(kind="job.cancel", subject=str(job.id))]
        assert (cancel.actor.source, cancel.parent) == ("aio-service", job.event)
        with pytest.raises(TypeError):
            t.audit(kind=1)

    asyncio.run(main())
