# Type stubs of the native module `alto._alto` (Rust, PyO3). tests/test_stubs.py checks them
# against the built module: a name, parameter or attribute here that the module lacks, or the
# other way round, fails the suite. The `TypedDict`s (`_`-named) only type the dicts some
# attributes hold; the module has no such names.

import os
from datetime import datetime, timedelta
from typing import (
    Any,
    Awaitable,
    Dict,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    TypedDict,
    Union,
)

import pyarrow  # an optional dependency (`alto[arrow]`): only RuleSet.evaluate_arrow needs it
from typing_extensions import Unpack

_Path = Union[str, "os.PathLike[str]"]

_UnknownPaths = Literal["queue", "ignore", "placeholder"]
_StubAccess = Literal["alert", "rehydrate", "ignore"]

class _TenantSettingsArgs(TypedDict, total=False):
    """The keywords of `Alto.create_tenant` and `Tenant.set_settings` (and `TenantSettings.to_dict()`)."""

    keep_history: bool
    history_scans: Optional[int]
    planned_retention_days: int
    rehydrated_retention_days: Optional[int]
    deleted_retention_days: Optional[int]
    job_retention_days: Optional[int]
    feed_staging_hours: int
    unknown_paths: _UnknownPaths
    stub_access: _StubAccess

class _PruneCounts(TypedDict):
    rehydrated: int
    deleted: int
    jobs: int
    feed_events: int
    snapshot_rows: int

class _TargetScan(TypedDict):
    root: str
    prefix: str
    objects: int
    bytes: int
    complete: bool
    note: Optional[str]

class _ShareScan(TypedDict):
    share: str
    root: Optional[str]
    complete: bool
    directories: int
    files: int
    stubs: int
    note: Optional[str]

class _LostObject(TypedDict):
    share: str
    path: str
    path_key: str
    object: str
    reason: Literal["missing", "size", "etag", "digest"]
    recorded_size: Optional[int]
    found_size: Optional[int]
    flagged: bool

class _RecoveredObject(TypedDict):
    share: str
    path: str
    object: str

class _Orphan(TypedDict):
    object: str
    root: str
    key: str
    share: Optional[str]
    size: int
    modified: Optional[datetime]
    action: Literal["kept", "would_delete", "deleted", "failed"]
    reason: str

class _UnknownStub(TypedDict):
    share: str
    path: str
    state: Optional[str]
    target_uri: Optional[str]
    tenant: Optional[str]
    size: int
    uid: int
    note: Optional[str]

class _Amount(TypedDict):
    files: int
    bytes: int

class _ReportTotals(TypedDict):
    files: int
    bytes: int
    saved: _Amount
    planned: _Amount
    missing: _Amount

class _ReportEntry(TypedDict):
    key: Optional[str]
    label: str
    files: int
    bytes: int
    stubbed_files: int
    stubbed_bytes: int
    planned_files: int
    planned_bytes: int

class _ReportFile(TypedDict):
    share: str
    path: str
    size: int
    accessed: Optional[datetime]
    modified: Optional[datetime]
    owner: Optional[str]
    state: Optional[str]

class _RuleTally(TypedDict):
    rule: str
    files: int
    bytes: int
    bytes_saved: int

class _WhatIf(TypedDict):
    rules: Optional[str]
    files_scanned: int
    files_skipped: int
    files_matched: int
    bytes_matched: int
    bytes_saved: int
    jobs: int
    estimated_seconds: float
    by_rule: List[_RuleTally]
    unmatched_rules: List[str]
    disabled_rules: List[str]

__version__: str

def connect(
    url: str,
    share_roots: Optional[Mapping[str, _Path]] = None,
    allow_targets: Optional[List[str]] = None,
    source: str = "python",
) -> Alto:
    """Connect to the store at `url` (`sqlite://FILE`, `postgres://...`, `memory://`). The audit
    events the connection writes name `source` as their actor's source (`Actor.source`)."""

def connect_async(
    url: str,
    share_roots: Optional[Mapping[str, _Path]] = None,
    allow_targets: Optional[List[str]] = None,
    source: str = "python",
) -> Awaitable[Alto]:
    """`connect` as an awaitable of the running event loop (`alto.aio.connect` awaits it).

    Every `*_async` function and method runs its call on the module's Tokio runtime, without
    the GIL, and returns an asyncio future that the runtime settles: the same value, or the same
    exception, as the blocking call. It needs a running event loop (`RuntimeError` otherwise).
    Cancelling the future drops the call's work in flight."""

def migrate(url: str) -> None:
    """Create or upgrade the store's schema (PostgreSQL: as the database's owner)."""

def create_login(
    owner_url: str, role: str, tenant: Optional[str] = None, password: Optional[str] = None
) -> None:
    """PostgreSQL: create a runtime login, bound to one tenant or acting for all."""

def drop_login(owner_url: str, role: str) -> None:
    """PostgreSQL: drop a runtime login."""

def plan_inventory(
    rules: RuleSet,
    path: _Path,
    now: Optional[datetime] = None,
    column_map: Optional[Mapping[str, str]] = None,
) -> Plan:
    """The dry run of `rules` over an inventory file (CSV or Parquet), without a store."""

def plan_inventory_async(
    rules: RuleSet,
    path: _Path,
    now: Optional[datetime] = None,
    column_map: Optional[Mapping[str, str]] = None,
) -> Awaitable[Plan]:
    """`plan_inventory` as an awaitable: planned on a blocking thread of the runtime."""

class Alto:
    """A connected store."""

    @property
    def backend(self) -> str: ...
    def create_tenant(self, name: str, **settings: Unpack[_TenantSettingsArgs]) -> Tenant: ...
    def tenant(self, name: str) -> Tenant: ...
    def tenants(self) -> List[Tenant]: ...
    def run_workers(
        self, tenant: Optional[str] = None, once: bool = True, workers: int = 1
    ) -> RunReport: ...
    def create_tenant_async(
        self, name: str, **settings: Unpack[_TenantSettingsArgs]
    ) -> Awaitable[Tenant]: ...
    def tenant_async(self, name: str) -> Awaitable[Tenant]: ...
    def tenants_async(self) -> Awaitable[List[Tenant]]: ...
    def run_workers_async(
        self, tenant: Optional[str] = None, once: bool = True, workers: int = 1
    ) -> Awaitable[RunReport]:
        """`run_workers` as an awaitable; cancelling it cancels the workers (each finishes the
        file it is on, in the background)."""

class Tenant:
    """One tenant: shares, files, plans, jobs, feeds, the audit trail and its upkeep."""

    @property
    def name(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def created(self) -> datetime: ...
    @property
    def settings(self) -> TenantSettings:
        """The settings as this object last read or set them (`Alto.tenant(name)` reads them
        afresh)."""
    def set_settings(self, **settings: Unpack[_TenantSettingsArgs]) -> TenantSettings:
        """Change the settings named (`None` for a retention: keep forever); the others keep
        their stored values. Returns the settings now in force (`settings` from then on)."""
    def maintain(self, dry_run: bool = False) -> MaintainReport:
        """The retention sweep of `alto maintain`; `dry_run` counts only."""
    def reconcile(
        self,
        share: Optional[str] = None,
        apply: bool = False,
        grace: Union[timedelta, float, None] = None,
        verify_content: bool = False,
        targets: Optional[List[str]] = None,
        now: Optional[datetime] = None,
    ) -> ReconcileReport:
        """The catalogue against the tier targets and the shares' roots (`alto reconcile`).
        Orphans are deleted only with `apply`; `grace` (default 7 days, at least an hour)
        keeps those younger, counted back from `now`."""
    def report(
        self,
        share: Optional[str] = None,
        now: Optional[datetime] = None,
        top: int = 20,
        rules: Optional[RuleSet] = None,
        rules_source: Optional[str] = None,
    ) -> Report:
        """A report on the tenant's files (`alto report`), with the what-if of `rules`."""
    def create_share(
        self,
        name: str,
        root: Optional[str] = None,
        kind: str = "posix",
        case_sensitive: Optional[bool] = None,
    ) -> Share: ...
    def shares(self) -> List[Share]: ...
    def set_share_root(self, share: str, root: Optional[str]) -> Share: ...
    def ingest(
        self,
        share: str,
        path: _Path,
        full_scan: bool = False,
        column_map: Optional[Mapping[str, str]] = None,
    ) -> IngestReport: ...
    def plan(
        self, rules: RuleSet, now: Optional[datetime] = None, commit: bool = False
    ) -> Plan: ...
    def files(
        self,
        glob: Optional[str] = None,
        state: Optional[str] = None,
        share: Optional[str] = None,
        after: Optional[str] = None,
        include_missing: bool = False,
    ) -> FileIterator: ...
    def jobs(self, state: Optional[str] = None, after: Optional[str] = None) -> JobIterator: ...
    def audit(
        self,
        after: Optional[str] = None,
        kind: Union[str, Sequence[str], None] = None,
        subject: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        children: Optional[int] = None,
    ) -> AuditIterator:
        """The audit trail in read order, filtered: `kind` a kind (`"tier.stub"`) or family
        (`"tier.*"`), or a list or tuple of them (any may match; `TypeError` for another type);
        `subject` exactly; `since` <= `at` < `until` (timezone-aware); `children` of that event
        id. Every filter given narrows. `after` resumes from a cursor (of any audit listing)."""
    def cancel_job(self, job: int) -> Job: ...
    def rehydrate(self, share: str, path: str) -> RehydrateReport: ...
    def apply_events(self, share: str, batch: Union[Dict[str, Any], _Path]) -> FeedReport: ...
    def follow_lucid(self, share: str, root: _Path) -> FeedReport: ...
    def create_share_async(
        self,
        name: str,
        root: Optional[str] = None,
        kind: str = "posix",
        case_sensitive: Optional[bool] = None,
    ) -> Awaitable[Share]: ...
    def shares_async(self) -> Awaitable[List[Share]]: ...
    def set_share_root_async(self, share: str, root: Optional[str]) -> Awaitable[Share]: ...
    def ingest_async(
        self,
        share: str,
        path: _Path,
        full_scan: bool = False,
        column_map: Optional[Mapping[str, str]] = None,
    ) -> Awaitable[IngestReport]: ...
    def plan_async(
        self, rules: RuleSet, now: Optional[datetime] = None, commit: bool = False
    ) -> Awaitable[Plan]: ...
    def cancel_job_async(self, job: int) -> Awaitable[Job]: ...
    def rehydrate_async(self, share: str, path: str) -> Awaitable[RehydrateReport]: ...
    def apply_events_async(
        self, share: str, batch: Union[Dict[str, Any], _Path]
    ) -> Awaitable[FeedReport]: ...
    def follow_lucid_async(self, share: str, root: _Path) -> Awaitable[FeedReport]: ...
    def set_settings_async(
        self, **settings: Unpack[_TenantSettingsArgs]
    ) -> Awaitable[TenantSettings]: ...
    def maintain_async(self, dry_run: bool = False) -> Awaitable[MaintainReport]: ...
    def reconcile_async(
        self,
        share: Optional[str] = None,
        apply: bool = False,
        grace: Union[timedelta, float, None] = None,
        verify_content: bool = False,
        targets: Optional[List[str]] = None,
        now: Optional[datetime] = None,
    ) -> Awaitable[ReconcileReport]: ...
    def report_async(
        self,
        share: Optional[str] = None,
        now: Optional[datetime] = None,
        top: int = 20,
        rules: Optional[RuleSet] = None,
        rules_source: Optional[str] = None,
    ) -> Awaitable[Report]: ...

class RuleSet:
    """A parsed, validated and compiled rule set."""

    @staticmethod
    def from_file(path: _Path) -> RuleSet: ...
    @staticmethod
    def from_toml(text: str) -> RuleSet: ...
    @staticmethod
    def from_json(text: str) -> RuleSet: ...
    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> RuleSet: ...
    @property
    def names(self) -> List[str]: ...
    def evaluate(
        self,
        path: str,
        size: int,
        modified: Optional[datetime] = None,
        accessed: Optional[datetime] = None,
        now: Optional[datetime] = None,
    ) -> Optional[str]: ...
    def evaluate_arrow(
        self, data: Any, now: Optional[datetime] = None, threads: Optional[int] = None
    ) -> pyarrow.DictionaryArray:
        """The first matching rule's name for every row of `data` (null where none), as one
        `dictionary<int32, utf8>` array, even for many batches. `data`: a `pyarrow.Table`, a
        `RecordBatchReader` or anything with `__arrow_c_stream__` (pandas, polars, DuckDB), with
        the columns `file_path`, `file_size` and optionally `last_modified`, `last_accessed`.
        Runs on `threads` threads (default: one per core) with the GIL released. Needs pyarrow
        (`pip install 'alto[arrow]'`)."""
    def explain(
        self,
        path: str,
        size: int,
        modified: Optional[datetime] = None,
        accessed: Optional[datetime] = None,
        now: Optional[datetime] = None,
    ) -> Dict[str, Any]: ...

class Plan:
    """What a plan would do (or did, when committed)."""

    @property
    def files_scanned(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...
    @property
    def files_matched(self) -> int: ...
    @property
    def bytes_matched(self) -> int: ...
    @property
    def bytes_saved(self) -> int: ...
    @property
    def estimated_seconds(self) -> float: ...
    @property
    def by_rule(self) -> List[Dict[str, Any]]: ...
    @property
    def jobs(self) -> List[Dict[str, Any]]: ...
    @property
    def committed(self) -> Optional[Dict[str, int]]: ...
    def to_dict(self) -> Dict[str, Any]: ...

class File:
    @property
    def share(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def path_key(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def modified(self) -> Optional[datetime]: ...
    @property
    def accessed(self) -> Optional[datetime]: ...
    @property
    def extension(self) -> Optional[str]: ...
    @property
    def owner(self) -> Optional[str]: ...
    @property
    def permissions(self) -> Optional[str]: ...
    @property
    def hash(self) -> Optional[str]: ...
    @property
    def accessed_source(self) -> str: ...
    @property
    def missing_since(self) -> Optional[datetime]: ...
    @property
    def state(self) -> Optional[str]: ...
    @property
    def lost(self) -> Optional[str]: ...
    @property
    def lost_at(self) -> Optional[datetime]: ...

class Job:
    @property
    def id(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def files(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def bytes_saved(self) -> int: ...
    @property
    def estimated_seconds(self) -> float: ...
    @property
    def attempts(self) -> int: ...
    @property
    def last_error(self) -> Optional[str]: ...
    @property
    def not_before(self) -> Optional[datetime]: ...
    @property
    def worker(self) -> Optional[str]: ...
    @property
    def lease_expires(self) -> Optional[datetime]: ...
    @property
    def files_stubbed(self) -> int: ...
    @property
    def files_skipped(self) -> int: ...
    @property
    def files_failed(self) -> int: ...
    @property
    def bytes_moved(self) -> int: ...
    @property
    def event(self) -> Optional[int]:
        """The id of its `job.create` audit event: `Tenant.audit(children=job.event)` lists its
        files' events and its outcome."""

class AuditEvent:
    @property
    def id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def detail(self) -> Dict[str, Any]: ...
    @property
    def parent(self) -> Optional[int]: ...
    @property
    def actor(self) -> Actor: ...

class Actor:
    """Who wrote an audit event: what the writing process said of itself (its OS user and uid,
    host, program and pid: a claim, `""` or `None` when unknown), the interface it wrote through
    (`source`), and on PostgreSQL the database login (`db_user`, set by the database)."""

    @property
    def user(self) -> str: ...
    @property
    def uid(self) -> Optional[int]: ...
    @property
    def host(self) -> str: ...
    @property
    def process(self) -> str: ...
    @property
    def pid(self) -> Optional[int]: ...
    @property
    def source(self) -> str:
        """`"python"` (or what `connect(source=...)` named), `"node"`, `"sdk"`, `"cli:<command>"`."""
    @property
    def db_user(self) -> Optional[str]: ...
    def to_dict(self) -> Dict[str, Any]:
        """The known fields, as `alto audit --format json` prints the actor."""

class Share:
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def case_sensitive(self) -> bool: ...
    @property
    def root(self) -> Optional[str]: ...
    @property
    def mount_root(self) -> Optional[str]: ...

class Rejection:
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> Optional[str]: ...
    @property
    def reason(self) -> str: ...

class IngestReport:
    @property
    def scan(self) -> int: ...
    @property
    def resumed(self) -> bool: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def new(self) -> int: ...
    @property
    def changed(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def missing(self) -> int: ...
    @property
    def rejections(self) -> List[Rejection]: ...

class RunReport:
    @property
    def jobs(self) -> int: ...
    @property
    def stubbed(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def errors(self) -> List[str]: ...

class RehydrateReport:
    @property
    def rehydrated(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def errors(self) -> List[str]: ...

class FeedReport:
    @property
    def read(self) -> int: ...
    @property
    def applied(self) -> int: ...
    @property
    def duplicate(self) -> int: ...
    @property
    def unknown(self) -> int: ...
    @property
    def malformed(self) -> int: ...
    @property
    def rehydrated(self) -> int: ...
    def to_dict(self) -> Dict[str, Any]: ...

class TenantSettings:
    """A tenant's settings; the names are `create_tenant`'s and `set_settings`'s keywords."""

    @property
    def keep_history(self) -> bool: ...
    @property
    def history_scans(self) -> Optional[int]: ...
    @property
    def planned_retention_days(self) -> int: ...
    @property
    def rehydrated_retention_days(self) -> Optional[int]: ...
    @property
    def deleted_retention_days(self) -> Optional[int]: ...
    @property
    def job_retention_days(self) -> Optional[int]: ...
    @property
    def feed_staging_hours(self) -> int: ...
    @property
    def unknown_paths(self) -> _UnknownPaths: ...
    @property
    def stub_access(self) -> _StubAccess: ...
    def to_dict(self) -> _TenantSettingsArgs: ...

class MaintainReport:
    """What a retention sweep did (or, dry, would do)."""

    @property
    def tenant(self) -> str: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def planned_expired(self) -> int: ...
    @property
    def planned_skipped(self) -> int: ...
    @property
    def pruned(self) -> _PruneCounts: ...
    @property
    def event(self) -> Optional[int]: ...
    def to_dict(self) -> Dict[str, Any]:
        """As `alto maintain --json` prints it."""

class ReconcileReport:
    """What a reconciliation found and did."""

    @property
    def tenant(self) -> str: ...
    @property
    def share(self) -> Optional[str]: ...
    @property
    def apply(self) -> bool: ...
    @property
    def grace_seconds(self) -> int: ...
    @property
    def verify_content(self) -> bool: ...
    @property
    def event(self) -> Optional[int]: ...
    @property
    def tier_objects(self) -> int: ...
    @property
    def stubs_checked(self) -> int: ...
    @property
    def stubs_unchecked(self) -> int: ...
    @property
    def targets(self) -> List[_TargetScan]: ...
    @property
    def shares(self) -> List[_ShareScan]: ...
    @property
    def lost(self) -> List[_LostObject]: ...
    @property
    def recovered(self) -> List[_RecoveredObject]: ...
    @property
    def orphans(self) -> List[_Orphan]: ...
    @property
    def unknown_stubs(self) -> List[_UnknownStub]: ...
    @property
    def deleted(self) -> int: ...
    @property
    def deleted_bytes(self) -> int: ...
    @property
    def errors(self) -> List[str]: ...
    def to_dict(self) -> Dict[str, Any]:
        """As `alto reconcile --format json` prints it (an orphan's `modified` in microseconds)."""

class Report:
    """A report on a tenant's files: totals, breakdowns, the largest and oldest files, the
    what-if of a rule set."""

    @property
    def tenant(self) -> str: ...
    @property
    def share(self) -> Optional[str]: ...
    @property
    def now(self) -> datetime: ...
    @property
    def totals(self) -> _ReportTotals: ...
    @property
    def owners_recorded(self) -> bool: ...
    @property
    def by_state(self) -> List[_ReportEntry]: ...
    @property
    def by_rule(self) -> List[_ReportEntry]: ...
    @property
    def by_extension(self) -> List[_ReportEntry]: ...
    @property
    def by_owner(self) -> List[_ReportEntry]: ...
    @property
    def by_share(self) -> List[_ReportEntry]: ...
    @property
    def by_age(self) -> List[_ReportEntry]: ...
    @property
    def by_size(self) -> List[_ReportEntry]: ...
    @property
    def largest(self) -> List[_ReportFile]: ...
    @property
    def oldest(self) -> List[_ReportFile]: ...
    @property
    def what_if(self) -> Optional[_WhatIf]: ...
    def to_dict(self) -> Dict[str, Any]:
        """As `alto report --format json` prints it (`now` as RFC 3339 text, file times in
        microseconds since the epoch)."""
    def to_html(self) -> str:
        """One self-contained HTML page, as `alto report --format html` writes it."""
    def to_csv(self) -> str:
        """As `alto report --format csv` writes it."""

class FileIterator(Iterator[File]):
    @property
    def cursor(self) -> Optional[str]: ...
    def __next__(self) -> File: ...
    def next_async(self) -> Awaitable[Optional[File]]:
        """The next item as an awaitable, `None` at the end (`alto.aio`'s listings)."""

class JobIterator(Iterator[Job]):
    @property
    def cursor(self) -> Optional[str]: ...
    def __next__(self) -> Job: ...
    def next_async(self) -> Awaitable[Optional[Job]]:
        """The next item as an awaitable, `None` at the end (`alto.aio`'s listings)."""

class AuditIterator(Iterator[AuditEvent]):
    @property
    def cursor(self) -> Optional[str]: ...
    def __next__(self) -> AuditEvent: ...
    def next_async(self) -> Awaitable[Optional[AuditEvent]]:
        """The next item as an awaitable, `None` at the end (`alto.aio`'s listings)."""

class AltoError(Exception):
    kind: Optional[str]
    retryable: bool

class NotFoundError(AltoError): ...
class AlreadyExistsError(AltoError): ...
class ConflictError(AltoError): ...

class InvalidRuleError(AltoError):
    rule: Optional[str]
    field: Optional[str]

class InvalidTransitionError(AltoError): ...
class InvalidInputError(AltoError): ...
class PermissionDeniedError(AltoError): ...
class UnsupportedError(AltoError): ...
class BackendError(AltoError): ...
class IoError(AltoError, OSError): ...
