"""Fixtures of the Python suite: a store per test on SQLite and on PostgreSQL, and a share on
disk with its inventory.

The PostgreSQL store is a database of its own, migrated by the owner (DATABASE_URL, a superuser
as scripts/pg-env.sh gives it) and used through an all-tenants runtime login, as the README's
PostgreSQL quick start does. Without DATABASE_URL those tests fail: they are never skipped.
"""

import csv
import os
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import pytest

import alto


def _with(url: str, user=None, db=None) -> str:
    u = urlsplit(url)
    host = u.hostname + (f":{u.port}" if u.port else "")
    netloc = f"{user or u.username or ''}@{host}" if (user or u.username) else host
    path = f"/{db}" if db else u.path
    return urlunsplit((u.scheme, netloc, path, u.query, ""))


def _psql(admin: str, sql: str) -> None:
    subprocess.run(["psql", admin, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'alto.db'}"
        return
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        pytest.fail("DATABASE_URL is not set: run bindings/python/test.sh (it sources scripts/pg-env.sh)")
    name = f"alto_py_{uuid.uuid4().hex[:12]}"
    _psql(admin, f'CREATE DATABASE "{name}"')
    owner = _with(admin, db=name)
    try:
        alto.migrate(owner)
        alto.create_login(owner, name, None, "py-secret")
        yield _with(owner, user=f"{name}:py-secret")
    finally:
        try:
            alto.drop_login(owner, name)
        finally:
            _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def iso(ns: int) -> str:
    """RFC 3339 of a file time in nanoseconds, truncated to microseconds as the workers read it
    (a float timestamp may round up a microsecond: the file would look changed)."""
    t = datetime.fromtimestamp(ns // 10**9, timezone.utc) + timedelta(microseconds=ns % 10**9 // 1000)
    return t.isoformat()


@pytest.fixture
def share_dir(tmp_path):
    """A share with an old video (400 days untouched) and a fresh note, its CSV inventory, and
    an empty tier-2 directory: (share, inventory, tier2, old file)."""
    share = tmp_path / "share"
    (share / "projects").mkdir(parents=True)
    tier2 = tmp_path / "tier2"
    tier2.mkdir()
    old = share / "projects" / "old.mov"
    old.write_bytes(bytes(range(256)) * 1024)
    year_ago = time.time() - 400 * 86400
    os.utime(old, (year_ago, year_ago))
    (share / "projects" / "note.txt").write_text("fresh")
    inventory = tmp_path / "inventory.csv"
    with open(inventory, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file_path", "file_size", "last_modified", "last_accessed"])
        for p in [old, share / "projects" / "note.txt"]:
            st = p.stat()
            out.writerow([str(p), st.st_size, iso(st.st_mtime_ns), iso(st.st_atime_ns)])
    return share, inventory, tier2, old


def cold_rules(tier2) -> "alto.RuleSet":
    return alto.RuleSet.from_toml(
        f'[[rule]]\nname = "cold"\naccessed_before = "180d"\ntarget = "file://{tier2}/{{tenant}}/"\n'
    )
