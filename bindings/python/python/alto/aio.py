"""The asyncio face of ``alto``: the same calls as coroutines, the listings as async iterators.

Each call is a future on the module's Tokio runtime (the native ``*_async`` methods, through
pyo3-async-runtimes): it runs on the runtime's threads without the GIL, and the event loop
keeps running until the runtime settles the awaitable. Calls made concurrently overlap. Values,
exceptions (``alto.*Error``, with their cause) and cursors are the synchronous API's.

Cancelling an awaited call (``task.cancel()``, ``asyncio.wait_for``) raises ``CancelledError``
at once and drops the work in flight: what it had done stays done (an ingest resumes from its
applied chunks; a store transaction in flight is rolled back). Cancelling ``run_workers``
cancels the workers as Ctrl-C does: each finishes the file it is on.

    store = await alto.aio.connect("sqlite://alto.db")
    tenant = await store.tenant("acme")
    async for event in tenant.audit():
        print(event.kind)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Generic, List, Mapping, Optional, Sequence, TypeVar, Union

from . import _alto

T = TypeVar("T")
_Path = Union[str, "os.PathLike[str]"]  # noqa: F821

__all__ = ["Alto", "Tenant", "Listing", "connect", "plan_inventory"]


async def connect(
    url: str,
    share_roots: Optional[Mapping[str, _Path]] = None,
    allow_targets: Optional[List[str]] = None,
    source: str = "python",
) -> "Alto":
    """:func:`alto.connect`, awaited."""
    return Alto(await _alto.connect_async(url, share_roots, allow_targets, source))


async def plan_inventory(
    rules: _alto.RuleSet,
    path: _Path,
    now: Optional[datetime] = None,
    column_map: Optional[Mapping[str, str]] = None,
) -> _alto.Plan:
    """:func:`alto.plan_inventory`, awaited."""
    return await _alto.plan_inventory_async(rules, path, now, column_map)


class Listing(Generic[T]):
    """A listing as an async iterator; ``cursor`` as in the synchronous iterators. The rest of
    a fetched page is handed out at once; the next page is fetched on the runtime. Awaits of
    one listing made at the same time each get a different item, in no set order."""

    def __init__(self, it: Union[_alto.FileIterator, _alto.JobIterator, _alto.AuditIterator]) -> None:
        self._it = it

    @property
    def cursor(self) -> Optional[str]:
        return self._it.cursor

    def __aiter__(self) -> "Listing[T]":
        return self

    async def __anext__(self) -> T:
        item = await self._it.next_async()
        if item is None:
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


class Alto:
    """:class:`alto.Alto` with coroutines."""

    def __init__(self, sync: _alto.Alto) -> None:
        self.sync = sync

    @property
    def backend(self) -> str:
        return self.sync.backend

    async def create_tenant(self, name: str, **settings: Any) -> "Tenant":
        return Tenant(await self.sync.create_tenant_async(name, **settings))

    async def tenant(self, name: str) -> "Tenant":
        return Tenant(await self.sync.tenant_async(name))

    async def tenants(self) -> List["Tenant"]:
        return [Tenant(t) for t in await self.sync.tenants_async()]

    async def run_workers(
        self, tenant: Optional[str] = None, once: bool = True, workers: int = 1
    ) -> _alto.RunReport:
        return await self.sync.run_workers_async(tenant, once, workers)


class Tenant:
    """:class:`alto.Tenant` with coroutines and async iterators."""

    def __init__(self, sync: _alto.Tenant) -> None:
        self.sync = sync

    @property
    def name(self) -> str:
        return self.sync.name

    @property
    def id(self) -> str:
        return self.sync.id

    @property
    def created(self) -> datetime:
        return self.sync.created

    @property
    def settings(self) -> _alto.TenantSettings:
        return self.sync.settings

    async def set_settings(self, **settings: Any) -> _alto.TenantSettings:
        return await self.sync.set_settings_async(**settings)

    async def maintain(self, dry_run: bool = False) -> _alto.MaintainReport:
        return await self.sync.maintain_async(dry_run)

    async def reconcile(
        self,
        share: Optional[str] = None,
        apply: bool = False,
        grace: Union[timedelta, float, None] = None,
        verify_content: bool = False,
        targets: Optional[List[str]] = None,
        now: Optional[datetime] = None,
    ) -> _alto.ReconcileReport:
        return await self.sync.reconcile_async(share, apply, grace, verify_content, targets, now)

    async def report(
        self,
        share: Optional[str] = None,
        now: Optional[datetime] = None,
        top: int = 20,
        rules: Optional[_alto.RuleSet] = None,
        rules_source: Optional[str] = None,
    ) -> _alto.Report:
        return await self.sync.report_async(share, now, top, rules, rules_source)

    async def create_share(
        self,
        name: str,
        root: Optional[str] = None,
        kind: str = "posix",
        case_sensitive: Optional[bool] = None,
    ) -> _alto.Share:
        return await self.sync.create_share_async(name, root, kind, case_sensitive)

    async def shares(self) -> List[_alto.Share]:
        return await self.sync.shares_async()

    async def set_share_root(self, share: str, root: Optional[str]) -> _alto.Share:
        return await self.sync.set_share_root_async(share, root)

    async def ingest(
        self,
        share: str,
        path: _Path,
        full_scan: bool = False,
        column_map: Optional[Mapping[str, str]] = None,
    ) -> _alto.IngestReport:
        return await self.sync.ingest_async(share, path, full_scan, column_map)

    async def plan(
        self, rules: _alto.RuleSet, now: Optional[datetime] = None, commit: bool = False
    ) -> _alto.Plan:
        return await self.sync.plan_async(rules, now, commit)

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

    def audit(
        self,
        after: Optional[str] = None,
        kind: Union[str, Sequence[str], None] = None,
        subject: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        children: Optional[int] = None,
    ) -> Listing[_alto.AuditEvent]:
        return Listing(self.sync.audit(after, kind, subject, since, until, children))

    async def cancel_job(self, job: int) -> _alto.Job:
        return await self.sync.cancel_job_async(job)

    async def rehydrate(self, share: str, path: str) -> _alto.RehydrateReport:
        return await self.sync.rehydrate_async(share, path)

    async def apply_events(self, share: str, batch: Any) -> _alto.FeedReport:
        return await self.sync.apply_events_async(share, batch)

    async def follow_lucid(self, share: str, root: _Path) -> _alto.FeedReport:
        return await self.sync.follow_lucid_async(share, root)
