"""Each Rust error kind arrives as its own exception class under alto.AltoError, with Rust's
message, `.kind`, `.retryable`, and the rule and field of a bad rule set."""

from datetime import datetime

import pytest

import alto

KINDS = [
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "InvalidRule",
    "InvalidTransition",
    "InvalidInput",
    "PermissionDenied",
    "Unsupported",
    "Backend",
    "Io",
]


def test_one_class_per_kind_under_one_base():
    for kind in KINDS:
        cls = getattr(alto, f"{kind}Error")
        assert issubclass(cls, alto.AltoError)
        assert cls.kind == kind
        assert cls.__module__ == "alto"
    assert issubclass(alto.AltoError, Exception)
    assert issubclass(alto.IoError, OSError)
    assert not issubclass(alto.NotFoundError, OSError)


def test_not_found_and_already_exists(tmp_path):
    store = alto.connect(f"sqlite://{tmp_path / 'a.db'}")
    with pytest.raises(alto.NotFoundError) as e:
        store.tenant("nobody")
    assert e.value.kind == "NotFound"
    assert "nobody" in str(e.value)
    assert e.value.retryable is False
    store.create_tenant("acme")
    with pytest.raises(alto.AlreadyExistsError):
        store.create_tenant("acme")
    with pytest.raises(alto.NotFoundError, match="share"):
        store.tenant("acme").rehydrate("nope", "/x")


def test_a_bad_rule_names_the_rule_and_the_field():
    with pytest.raises(alto.InvalidRuleError) as e:
        alto.RuleSet.from_toml('[[rule]]\nname = "big"\nmin_size = "10XB"\ntarget = "file:///t/"\n')
    assert (e.value.rule, e.value.field) == ("big", "min_size")
    assert "10XB" in str(e.value)
    with pytest.raises(alto.InvalidRuleError) as e:
        alto.RuleSet.from_dict({"rule": [{"name": "x", "target": "file:///t/", "colour": 1}]})
    assert e.value.field == "colour"
    with pytest.raises(alto.InvalidInputError, match="JSON"):
        alto.RuleSet.from_dict({"rule": [{"name": object()}]})


def test_io_errors_are_os_errors(tmp_path):
    tenant = alto.connect(f"sqlite://{tmp_path / 'a.db'}").create_tenant("acme")
    with pytest.raises(OSError) as e:
        tenant.ingest("media", tmp_path / "absent.csv")
    assert isinstance(e.value, alto.IoError)
    assert "absent.csv" in str(e.value)


def test_bad_arguments_are_invalid_input(tmp_path):
    store = alto.connect(f"sqlite://{tmp_path / 'a.db'}")
    with pytest.raises(alto.InvalidInputError, match="unknown tenant setting"):
        store.create_tenant("acme", keep_histroy=False)
    tenant = store.create_tenant("acme", keep_history=False, planned_retention_days=30)
    with pytest.raises(alto.InvalidInputError, match="tier state"):
        tenant.files(state="FROZEN")
    with pytest.raises(alto.InvalidInputError, match="job state"):
        tenant.jobs(state="sleeping")
    with pytest.raises(alto.InvalidInputError, match="share kind"):
        tenant.create_share("x", kind="fat32")
    rules = alto.RuleSet.from_toml('[[rule]]\nname = "a"\ntarget = "file:///t/"\n')
    with pytest.raises(alto.InvalidInputError, match="timezone-aware"):
        rules.evaluate("/a", 1, now=datetime(2025, 1, 1))
    not_inventory = tmp_path / "x.csv"
    not_inventory.write_text("a,b\n1,2\n")
    with pytest.raises(alto.InvalidInputError, match="not an inventory"):
        tenant.ingest("media", not_inventory)


def test_an_unknown_store_lists_the_schemes():
    with pytest.raises(alto.AltoError) as e:
        alto.connect("mysql://x")
    assert "sqlite" in str(e.value) and "postgres" in str(e.value)


def test_a_rust_cause_is_chained():
    import os
    from urllib.parse import urlsplit

    u = urlsplit(os.environ["DATABASE_URL"])
    with pytest.raises(alto.BackendError) as e:
        alto.connect(f"postgres://alto_nobody:x@{u.hostname}:{u.port or 5432}/postgres")
    assert "alto_nobody" in str(e.value)
    assert isinstance(e.value.__cause__, alto.AltoError)
    assert "alto_nobody" in str(e.value.__cause__)
