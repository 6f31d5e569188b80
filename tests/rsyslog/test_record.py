"""LogRecord: a frozen dataclass whose hand-written constructor matches its fields; syslog names."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from stackwatch.rsyslog.record import (FACILITY_NAMES, LEVEL_SEVERITY, SEVERITY_NAMES, LogRecord, facility_name,
                                       severity_name)

FIELDS = dataclasses.fields(LogRecord)


def test_constructor_signature_is_the_field_list():
    params = list(inspect.signature(LogRecord.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in FIELDS]
    for p, f in zip(params, FIELDS):
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == expected, f.name


def test_each_argument_lands_in_its_own_field():
    values = {f.name: f"value-{i}" for i, f in enumerate(FIELDS)}
    record = LogRecord(**values)
    assert {f.name: getattr(record, f.name) for f in FIELDS} == values
    positional = LogRecord(*values.values())
    assert positional == record


def test_record_is_frozen_hashable_and_replaceable():
    r = LogRecord(1.0, "h", "nova", "nova-api", 1, "INFO", "nova.api", None, None, None, None, None, "m", None, "raw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.message = "other"  # type: ignore[misc]
    assert r.parsed is True and r.truncated is False and r.facility is None and r.source == ""
    assert dataclasses.replace(r, host="h2").host == "h2"
    assert hash(r) == hash(dataclasses.replace(r))
    assert dataclasses.asdict(r)["raw"] == "raw"


def test_facility_and_severity_names():
    assert len(FACILITY_NAMES) == 24 and len(SEVERITY_NAMES) == 8
    assert facility_name(1) == "user" and facility_name(16) == "local0" and facility_name(23) == "local7"
    assert severity_name(3) == "err" and severity_name(7) == "debug"
    assert facility_name(None) is None and facility_name(24) is None and severity_name(8) is None
    r = LogRecord(None, "", "", "", None, None, None, None, None, None, None, None, "", None, "", 4, 2)
    assert (r.facility_name, r.severity_name) == ("auth", "crit")
    assert LEVEL_SEVERITY["ERROR"] == 3 and LEVEL_SEVERITY["WARNING"] == 4 and LEVEL_SEVERITY["DEBUG"] == 7
