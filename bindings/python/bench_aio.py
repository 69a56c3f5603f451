"""alto.aio (native: pyo3-async-runtimes on the module's runtime) beside what it was before, the
blocking calls run by asyncio.to_thread, in the same run (a benchmark, not a test):

  1. an ingest of ROWS rows, awaited while a coroutine ticks every millisecond: the ingest's
     time and the event loop's longest gap;
  2. `async for` over the ROWS files (pages of 1000);
  3. 2000 small calls (`tenant.shares()`), 100 in flight at a time.

    python bench_aio.py INVENTORY.csv [ROWS]       (bench.sh runs it on the first 100,000 rows)
"""

import asyncio
import itertools
import os
import sys
import tempfile
import time

import alto
import alto.aio


class ToThreadListing:
    """The listing of alto.aio before: one `next` per item in a worker thread."""

    def __init__(self, it):
        self._it = it

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await asyncio.to_thread(next, self._it, None)
        if item is None:
            raise StopAsyncIteration
        return item


PATHS = {
    "native   ": {
        "ingest": lambda t, share, inv: t.ingest_async(share, inv),
        "files": lambda t: alto.aio.Listing(t.files()),
        "shares": lambda t: t.shares_async(),
    },
    "to_thread": {
        "ingest": lambda t, share, inv: asyncio.to_thread(t.ingest, share, inv),
        "files": lambda t: ToThreadListing(t.files()),
        "shares": lambda t: asyncio.to_thread(t.shares),
    },
}


async def ingest(path, tenant, share, inventory):
    ticks = []

    async def ticker():
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.001)

    clock = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    report = await PATHS[path]["ingest"](tenant, share, inventory)
    took = time.perf_counter() - t0
    clock.cancel()
    gaps = [b - a for a, b in zip(ticks, ticks[1:]) if a >= t0]
    return report.accepted, took, max(gaps)


async def listing(path, tenant):
    t0 = time.perf_counter()
    n = 0
    async for _ in PATHS[path]["files"](tenant):
        n += 1
    return n, time.perf_counter() - t0


async def small_calls(path, tenant, total=2000, width=100):
    t0 = time.perf_counter()
    for _ in range(total // width):
        await asyncio.gather(*(PATHS[path]["shares"](tenant) for _ in range(width)))
    return total / (time.perf_counter() - t0)


async def main(inventory, rows):
    with tempfile.TemporaryDirectory() as d:
        inv = os.path.join(d, "slice.csv")
        with open(inventory) as src, open(inv, "w") as out:
            out.writelines(itertools.islice(src, rows + 1))
        store = alto.connect(f"sqlite://{os.path.join(d, 'alto.db')}")
        tenants = {p: store.create_tenant(f"t{i}") for i, p in enumerate(PATHS)}
        print(f"## alto.aio: native awaitables vs asyncio.to_thread, SQLite, {rows} rows")
        for p, t in tenants.items():
            n, took, gap = await ingest(p, t, "share", inv)
            print(f"{p} ingest          : {took:.2f} s ({n / took:,.0f} rows/s); longest event-loop gap {gap * 1000:.1f} ms")
        for p, t in tenants.items():
            best = min([await listing(p, t) for _ in range(3)], key=lambda x: x[1])
            print(f"{p} async for files : {best[1]:.2f} s for {best[0]} files ({best[0] / best[1]:,.0f} files/s, best of 3)")
        for p, t in tenants.items():
            rate = max([await small_calls(p, t) for _ in range(3)])
            print(f"{p} small calls     : {rate:,.0f} calls/s (tenant.shares(), 100 in flight, best of 3)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000))
