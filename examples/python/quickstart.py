"""Alto's Python quick start: the whole journey on the embedded store with a file:// target.

    python examples/python/quickstart.py [STORE_URL]

A share on disk with an old video and a fresh note, its inventory, a rule, a committed plan, a
worker run that stubs the video, a rehydration and the audit trail. The test suite
(bindings/python/tests/test_examples.py) runs it on SQLite and PostgreSQL.
"""

import csv
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

import alto


def iso(ns: int) -> str:
    """A file time (nanoseconds) in RFC 3339, to the microsecond the workers compare."""
    t = datetime.fromtimestamp(ns // 10**9, timezone.utc)
    return (t + timedelta(microseconds=ns % 10**9 // 1000)).isoformat()


def journey(store_url: str, workdir: str) -> None:
    # A share with an old video and a fresh note, and a directory for tier 2.
    share = os.path.join(workdir, "share")
    tier2 = os.path.join(workdir, "tier2")
    os.makedirs(os.path.join(share, "projects"))
    os.makedirs(tier2)
    old = os.path.join(share, "projects", "old.mov")
    with open(old, "wb") as f:
        f.write(b"\x07" * 256 * 1024)
    year_ago = time.time() - 400 * 86400
    os.utime(old, (year_ago, year_ago))
    with open(os.path.join(share, "projects", "note.txt"), "w") as f:
        f.write("fresh")

    # Its inventory, as an agent or `find` would write it.
    inventory = os.path.join(workdir, "inventory.csv")
    with open(inventory, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["file_path", "file_size", "last_modified", "last_accessed"])
        for name in ["projects/old.mov", "projects/note.txt"]:
            path = os.path.join(share, name)
            st = os.stat(path)
            out.writerow([path, st.st_size, iso(st.st_mtime_ns), iso(st.st_atime_ns)])

    # Connect, make a tenant and a share with its root on this host, ingest.
    store = alto.connect(store_url)
    tenant = store.create_tenant("acme")
    tenant.create_share("media", root=share)
    ingested = tenant.ingest("media", inventory, full_scan=True)
    print(f"ingested {ingested.accepted} files")

    # Plan with a rule, and commit the plan as jobs.
    rules = alto.RuleSet.from_toml(
        f'[[rule]]\nname = "cold"\naccessed_before = "180d"\ntarget = "file://{tier2}/{{tenant}}/"\n'
    )
    plan = tenant.plan(rules, commit=True)
    print(f"planned {plan.files_matched} files")

    # Run the workers until the queue is empty: the old video becomes a stub.
    run = store.run_workers(tenant="acme")
    print(f"stubbed {run.stubbed} files, {run.bytes} bytes moved")
    assert (run.stubbed, run.failed) == (1, 0), run.errors

    # Bring it back.
    back = tenant.rehydrate("media", old)
    assert os.path.getsize(old) == 256 * 1024
    print(f"rehydrated {back.bytes} bytes")

    # Every step is in the audit trail; `cursor` resumes it later, here or elsewhere.
    events = tenant.audit()
    for e in events:
        print(e.id, e.at.isoformat(), e.kind, e.subject)
    print("resume after", events.cursor)


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as d:
        journey(url or f"sqlite://{os.path.join(d, 'alto.db')}", d)
