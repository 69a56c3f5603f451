"""Rule sets from files, TOML, JSON and dicts; evaluating and explaining one file; the dry run
of an inventory file without a store."""

from datetime import datetime, timedelta, timezone

import pytest

import alto

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
RULES = """
[[rule]]
name = "cold-video"
priority = 10
extensions = ["mov", "mp4"]
accessed_before = "180d"
target = "file:///t/video/"

[[rule]]
name = "big"
min_size = "1MB"
target = "file:///t/big/"
"""


def test_evaluate_picks_the_first_matching_rule():
    rules = alto.RuleSet.from_toml(RULES)
    assert rules.names == ["cold-video", "big"]
    old = NOW - timedelta(days=400)
    assert rules.evaluate("/v/a.mov", 10, accessed=old, now=NOW) == "cold-video"
    assert rules.evaluate("/v/a.mov", 10, accessed=NOW, now=NOW) is None
    assert rules.evaluate("/v/a.mov", 5_000_000, accessed=NOW, now=NOW) == "big"
    # Without an access time the age conditions use the modification time.
    assert rules.evaluate("/v/a.mov", 10, modified=old, now=NOW) == "cold-video"
    # Any time zone: the same instant.
    tz = timezone(timedelta(hours=-7))
    assert rules.evaluate("/v/a.mov", 10, accessed=old.astimezone(tz), now=NOW.astimezone(tz)) == "cold-video"


def test_explain_says_which_condition_failed():
    rules = alto.RuleSet.from_toml(RULES)
    x = rules.explain("/v/a.txt", 10, accessed=NOW, now=NOW)
    assert x["matched"] is None
    assert [(t["rule"], t["failed"]) for t in x["tried"]] == [
        ("cold-video", "accessed_before"),
        ("big", "min_size"),
    ]
    x = rules.explain("/v/a.txt", 10, accessed=NOW - timedelta(days=400), now=NOW)
    assert x["tried"][0]["failed"] == "extensions"
    assert x["tried"][1]["detail"]
    assert rules.explain("/v/a.txt", 5_000_000, now=NOW)["matched"] == "big"


def test_the_same_rules_from_a_file_json_and_a_dict(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    d = {
        "rule": [
            {"name": "cold-video", "priority": 10, "extensions": ["mov", "mp4"],
             "accessed_before": "180d", "target": "file:///t/video/"},
            {"name": "big", "min_size": "1MB", "target": "file:///t/big/"},
        ]
    }
    import json

    for rules in [alto.RuleSet.from_file(path), alto.RuleSet.from_file(str(path)),
                  alto.RuleSet.from_dict(d), alto.RuleSet.from_json(json.dumps(d))]:
        assert rules.names == ["cold-video", "big"]
        assert rules.evaluate("/a.mp4", 1, accessed=NOW - timedelta(days=200), now=NOW) == "cold-video"
    with pytest.raises(alto.InvalidRuleError, match="absent.toml"):
        alto.RuleSet.from_file(tmp_path / "absent.toml")


def test_plan_inventory_is_the_dry_run_of_a_file(tmp_path):
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "file_path,file_size,last_modified,last_accessed\n"
        "/v/old.mov,1000,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n"
        "/v/new.mov,2000,2025-05-30T00:00:00Z,2025-05-30T00:00:00Z\n"
        "/v/huge.bin,3000000,2025-05-30T00:00:00Z,2025-05-30T00:00:00Z\n"
        "/v/bad.bin,lots,,\n"
    )
    rules = alto.RuleSet.from_toml(RULES)
    plan = alto.plan_inventory(rules, inv, now=NOW)
    assert (plan.files_scanned, plan.rows_rejected, plan.files_matched) == (3, 1, 2)
    assert plan.bytes_matched == 3_001_000
    assert {b["rule"]: b["files"] for b in plan.by_rule} == {"cold-video": 1, "big": 1}
    d = plan.to_dict()
    assert d["files_matched"] == 2 and d["rows_rejected"] == 1
    assert len(plan.jobs) == 2 and plan.committed is None
    # Another `now`, another plan: a year later the new video is cold too.
    later = alto.plan_inventory(rules, str(inv), now=NOW + timedelta(days=365))
    assert later.files_matched == 3
    with pytest.raises(alto.IoError):
        alto.plan_inventory(rules, tmp_path / "absent.csv")
