"""The asyncio face of ``alto``: the same calls as coroutines, the listings as async iterators.

Each call runs the synchronous one in a worker thread (``asyncio.to_thread``). The native calls
release the GIL while they work, so the event loop keeps running and calls made concurrently
overlap. Values, exceptions and cursors are the synchronous API's.

    store = await alto.aio.connect("sqlite://alto.db")
    tenant = await store.tenant("acme")
    async for event in tenant.audit():
        print(event.kind)
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Generic, Iterator, List, Mapping, Optional, TypeVar, Union

from . import _alto

T = TypeVar("T")
_Path = Union[str, "os.PathLike[str]"]  # noqa: F821

__all__ = ["Alto", "Tenant", "Listing", "connect", "plan_inventory"]


async def connect(
    url: str,
    share_roots: Optional[Mapping[str, _Path]] = None,
    allow_targets: Optional[List[str]] = None,
) -> "Alto":
    """:func:`alto.connect`, awaited."""
    return Alto(await asyncio.to_thread(_alto.connect, url, share_roots, allow_targets))


async def plan_inventory(
    rules: _alto.RuleSet,
    path: _Path,
    now: Optional[datetime] = None,
    column_map: Optional[Mapping[str, str]] = None,
) -> _alto.Plan:
    """:func:`alto.plan_inventory`, awaited."""
    return await asyncio.to_thread(_alto.plan_inventory, rules, path, now, column_map)


class Listing(Generic[T]):
    """A listing as an async iterator; ``cursor`` as in the synchronous iterators."""

    def __init__(self, it: Iterator[T]) -> None:
        self._it = it

    @property
    def cursor(self) -> Optional[str]:
        return self._it.cursor  # type: ignore[attr-defined]

    def __aiter__(self) -> "Listing[T]":
        return self

    async def __anext__(self) -> T:
        item = await asyncio.to_thread(next, self._it, _END)
        if item is _END:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


_END: Any = object()


class Alto:
    """:class:`alto.Alto` with coroutines."""

    def __init__(self, sync: _alto.Alto) -> None:
        self.sync = sync

    @property
    def backend(self) -> str:
        return self.sync.backend

    async def create_tenant(self, name: str, **settings: Any) -> "Tenant":
        return Tenant(await asyncio.to_thread(self.sync.create_tenant, name, **settings))

    async def tenant(self, name: str) -> "Tenant":
        return Tenant(await asyncio.to_thread(self.sync.tenant, name))

    async def tenants(self) -> List["Tenant"]:
        return [Tenant(t) for t in await asyncio.to_thread(self.sync.tenants)]

    async def run_workers(
        self, tenant: Optional[str] = None, once: bool = True, workers: int = 1
    ) -> _alto.RunReport:
        return await asyncio.to_thread(self.sync.run_workers, tenant, once, workers)


class Tenant:
    """:class:`alto.Tenant` with coroutines and async iterators."""

    def __init__(self, sync: _alto.Tenant) -> None:
        self.sync = sync

    @property
    def name(self) -> str:
        return self.sync.name

    async def create_share(
        self,
        name: str,
        root: Optional[str] = None,
        kind: str = "posix",
        case_sensitive: Optional[bool] = None,
    ) -> _alto.Share:
        return await asyncio.to_thread(self.sync.create_share, name, root, kind, case_sensitive)

    async def shares(self) -> List[_alto.Share]:
        return await asyncio.to_thread(self.sync.shares)

    async def ingest(
        self,
        share: str,
        path: _Path,
        full_scan: bool = False,
        column_map: Optional[Mapping[str, str]] = None,
    ) -> _alto.IngestReport:
        return await asyncio.to_thread(self.sync.ingest, share, path, full_scan, column_map)

    async def plan(
        self, rules: _alto.RuleSet, now: Optional[datetime] = None, commit: bool = False
    ) -> _alto.Plan:
        return await asyncio.to_thread(self.sync.plan, rules, now, commit)

    def files(
        self,
        glob: Optional[str] = None,
        state: Optional[str] = None,
        share: Optional[str] = None,
        after: Optional[str] = None,
        include_missing: bool = False,
    ) -> Listing[_alto.File]:
        return Listing(self.sync.files(glob, state, share, after, include_missing))

    def jobs(self, state: Optional[str] = None, after: Optional[str] = None) -> Listing[_alto.Job]:
        return Listing(self.sync.jobs(state, after))

    def audit(self, after: Optional[str] = None) -> Listing[_alto.AuditEvent]:
        return Listing(self.sync.audit(after))

    async def cancel_job(self, job: int) -> _alto.Job:
        return await asyncio.to_thread(self.sync.cancel_job, job)

    async def rehydrate(self, share: str, path: str) -> _alto.RehydrateReport:
        return await asyncio.to_thread(self.sync.rehydrate, share, path)

    async def apply_events(self, share: str, batch: Any) -> _alto.FeedReport:
        return await asyncio.to_thread(self.sync.apply_events, share, batch)

    async def follow_lucid(self, share: str, root: _Path) -> _alto.FeedReport:
        return await asyncio.to_thread(self.sync.follow_lucid, share, root)
