"""alto.aio: the same surface as coroutines and async iterators, the same values and errors."""

import asyncio

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
