"""alto.aio: the same surface as coroutines and async iterators, the same values and errors;
calls overlap on the module's runtime, the event loop keeps running, cancelling is safe."""

import asyncio
import gc
import os
import time
from urllib.parse import urlsplit

import pytest

import alto
import alto.aio
from conftest import cold_rules


def test_the_journey_with_asyncio(store_url, share_dir):
    share, inventory, tier2, old = share_dir

    async def main():
        store = await alto.aio.connect(store_url)
        tenant = await store.create_tenant("acme")
        await tenant.create_share("media", root=str(share))
        r = await tenant.ingest("media", inventory, full_scan=True)
        assert r.accepted == 2
        # Listings and other calls overlap on the event loop.
        shares, files = await asyncio.gather(
            tenant.shares(), _collect(tenant.files())
        )
        assert [s.name for s in shares] == ["media"]
        assert len(files) == 2
        plan = await tenant.plan(cold_rules(tier2), commit=True)
        assert plan.files_matched == 1
        run = await store.run_workers(tenant="acme")
        assert run.stubbed == 1, run.errors
        back = await tenant.rehydrate("media", str(old))
        assert back.bytes == 256 * 1024
        audit = tenant.audit()
        first = await audit.__anext__()
        rest = [e.id async for e in tenant.audit(after=audit.cursor)]
        assert rest and min(rest) > first.id
        with pytest.raises(alto.NotFoundError):
            await store.tenant("nobody")

    asyncio.run(main())


async def _collect(listing):
    return [x async for x in listing]


def _big_inventory(path, rows):
    """An inventory of `rows` files under /data (a share without a root takes them)."""
    with open(path, "w") as f:
        f.write("file_path,file_size,last_modified,last_accessed\n")
        for i in range(rows):
            f.write(f"/data/d{i % 97}/f{i}.bin,{i * 7 + 1},2020-01-01T00:00:00Z,2020-02-01T00:00:00Z\n")
    return path


BIG = 60_000  # rows: an ingest that takes a good fraction of a second, even in a release build


def test_awaited_calls_overlap_and_the_loop_keeps_ticking(store_url, tmp_path):
    """A long ingest runs on the runtime while the event loop ticks and other calls complete."""
    inventory = _big_inventory(tmp_path / "big.csv", BIG)

    async def main():
        store = await alto.aio.connect(store_url)
        tenant = await store.create_tenant("acme")
        await tenant.create_share("media")
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.002)

        clock = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        ingest = asyncio.create_task(tenant.ingest("big", inventory))
        await asyncio.sleep(0.01)
        # Calls made while the ingest is in flight complete before it does.
        shares, tenants, listed = await asyncio.gather(
            tenant.shares(), store.tenants(), _collect(tenant.files(share="media"))
        )
        assert {s.name for s in shares} >= {"media"}
        assert [t.name for t in tenants] == ["acme"]
        assert listed == []
        assert not ingest.done(), "the short calls should have finished first"
        report = await ingest
        took = time.perf_counter() - t0
        clock.cancel()
        assert report.accepted == BIG
        # The event loop ran all along: ticks throughout, no gap near the ingest's length.
        during = [t for t in ticks if t0 <= t <= t0 + took]
        gaps = [b - a for a, b in zip(during, during[1:])]
        assert len(during) >= 10, (len(during), took)
        assert max(gaps) < max(0.25, took / 3), (max(gaps), took)

    asyncio.run(main())


def test_listings_hand_out_pages_and_resume(store_url, tmp_path):
    async def main():
        store = await alto.aio.connect(store_url)
        tenant = await store.create_tenant("acme")
        await tenant.ingest("big", _big_inventory(tmp_path / "b.csv", 2500))
        listing = tenant.files()
        head = [await listing.__anext__() for _ in range(1001)]  # past the first page
        rest = [f.path async for f in tenant.files(after=listing.cursor)]
        assert len(rest) == 1499
        sync = [f.path for f in tenant.sync.files()]
        assert [f.path for f in head] + rest == sync
        # Several awaits of one listing at once hand out each item once (in no set order).
        again = tenant.files()
        items = await asyncio.gather(*(again.__anext__() for _ in range(2500)))
        assert sorted(f.path for f in items) == sorted(sync)
        with pytest.raises(StopAsyncIteration):
            await again.__anext__()

    asyncio.run(main())


def test_cancelling_an_await_leaves_everything_usable(store_url, tmp_path, capfd):
    inventory = _big_inventory(tmp_path / "big.csv", BIG)

    async def main():
        store = await alto.aio.connect(store_url)
        tenant = await store.create_tenant("acme")
        # An ingest cancelled in flight: CancelledError at once; the next one completes it.
        task = asyncio.create_task(tenant.ingest("big", inventory))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        again = await tenant.ingest("big", inventory)
        assert again.accepted == BIG
        # A page fetch cancelled in flight leaves its listing where it was.
        listing = tenant.files()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(listing.__anext__(), timeout=0)
        assert listing.cursor is None
        first = await listing.__anext__()
        assert first.path == next(tenant.sync.files()).path
        # Many calls cancelled before they settle: no thread or error left behind.
        threads = len(os.listdir("/proc/self/task"))
        for _ in range(200):
            pending = [asyncio.ensure_future(tenant.shares()) for _ in range(5)]
            await asyncio.sleep(0)
            for p in pending:
                p.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        assert len(await tenant.shares()) == 1
        # Each settled or cancelled call takes the GIL on a blocking thread of the runtime; on a
        # loaded machine many wait for it at once, and Tokio keeps an idle blocking thread for
        # 10 s before it ends. A thread left behind never ends: wait out the keep-alive.
        deadline = time.monotonic() + 15
        while len(os.listdir("/proc/self/task")) > threads + 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert len(os.listdir("/proc/self/task")) <= threads + 4

    asyncio.run(main())
    gc.collect()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "never retrieved" not in err, err


def test_cancelling_run_workers_stops_the_workers(tmp_path, share_dir):
    """A following run, cancelled, stops: a job queued afterwards stays queued past a poll."""
    share, inventory, tier2, old = share_dir

    async def main():
        store = await alto.aio.connect(f"sqlite://{tmp_path / 'alto.db'}")
        tenant = await store.create_tenant("acme")
        await tenant.create_share("media", root=str(share))
        await tenant.ingest("media", inventory)
        follower = asyncio.create_task(store.run_workers(once=False))
        await asyncio.sleep(0.3)
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower
        plan = await tenant.plan(cold_rules(tier2), commit=True)
        assert plan.files_matched == 1
        await asyncio.sleep(5.5)  # more than the workers' 5 s poll
        assert [j.state async for j in tenant.jobs()] == ["queued"]
        run = await store.run_workers()
        assert run.stubbed == 1, run.errors

    asyncio.run(main())


def test_errors_are_the_same_classes_with_their_cause(store_url, tmp_path):
    async def main():
        store = await alto.aio.connect(store_url)
        with pytest.raises(alto.NotFoundError) as e:
            await store.tenant("nobody")
        assert (e.value.kind, e.value.retryable) == ("NotFound", False)
        tenant = await store.create_tenant("acme")
        with pytest.raises(alto.AlreadyExistsError):
            await store.create_tenant("acme")
        with pytest.raises(alto.IoError) as e:
            await tenant.ingest("media", tmp_path / "absent.csv")
        assert isinstance(e.value, OSError) and "absent.csv" in str(e.value)
        with pytest.raises(alto.InvalidInputError, match="tier state"):
            tenant.files(state="FROZEN")
        with pytest.raises(alto.InvalidInputError, match="unknown tenant setting"):
            await store.create_tenant("x", keep_histroy=False)
        u = urlsplit(os.environ["DATABASE_URL"])
        with pytest.raises(alto.BackendError) as e:
            await alto.aio.connect(f"postgres://alto_nobody:x@{u.hostname}:{u.port or 5432}/postgres")
        assert isinstance(e.value.__cause__, alto.AltoError)
        assert "alto_nobody" in str(e.value.__cause__)

    asyncio.run(main())


def test_async_calls_need_a_running_loop():
    with pytest.raises(RuntimeError):
        alto.connect_async("memory://")
