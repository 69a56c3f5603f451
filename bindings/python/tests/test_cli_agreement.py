"""The Python dry run and `alto plan --inventory` print the same plan: Plan.to_dict() is the
CLI's JSON, on the repository's example rules and inventory. test.sh builds the `alto` command
and names it in ALTO_CLI."""

import json
import os
import pathlib
import subprocess
from datetime import datetime, timezone

import alto

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"
NOW = "2025-11-01T00:00:00Z"


def test_plan_inventory_is_alto_plan():
    cli = os.environ.get("ALTO_CLI")
    assert cli, "ALTO_CLI is not set: run bindings/python/test.sh, which builds the alto command"
    out = subprocess.run(
        [cli, "plan", "--quiet", "--rules", str(EXAMPLES / "rules.toml"),
         "--inventory", str(EXAMPLES / "inventory.csv"), "--now", NOW, "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    rules = alto.RuleSet.from_file(EXAMPLES / "rules.toml")
    plan = alto.plan_inventory(
        rules, EXAMPLES / "inventory.csv", now=datetime(2025, 11, 1, tzinfo=timezone.utc)
    )
    expected = json.loads(out)
    assert expected["files_matched"] > 0
    assert plan.to_dict() == expected
