"""Pure grouping rules: the settings, the values an alert groups by, the group key."""
from __future__ import annotations

import pytest

from core.alerts.model import AlertIn
from core.errors import FieldError
from core.grouping.rules import (
    DEFAULT_WAIT_S,
    GroupingConfig,
    group_key,
    group_values,
    keys_for,
    parse_config,
)


def alert(**kw: object) -> AlertIn:
    base: dict[str, object] = {"summary": "disk full", "severity": "high", "service": "db"}
    return AlertIn(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("value, field", [
    ([], "grouping"),
    ({"group_by": []}, "group_by"),
    ({"group_by": ["service", " "]}, "group_by"),
    ({"window_s": 0}, "window_s"),
    ({"window_s": True}, "window_s"),
    ({"window_s": 24 * 3600 + 1}, "window_s"),
    ({"wait_s": [1]}, "wait_s"),
    ({"wait_s": {"critical": -1}}, "wait_s.critical"),
    ({"wait_s": {"critical": 3601}}, "wait_s.critical"),
])
def test_bad_settings_name_the_field(value: object, field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_config(value)
    assert err.value.field == field


def test_settings_keep_defaults_for_waits_not_given() -> None:
    cfg = parse_config({"group_by": [" service "], "window_s": 60, "wait_s": {"low": 5}})
    assert cfg.group_by == ("service",)
    assert cfg.window_s == 60
    assert cfg.wait_for("low") == 5
    assert cfg.wait_for("critical") == DEFAULT_WAIT_S["critical"]


@pytest.mark.parametrize("labels, summary, expected", [
    ({"alertname": "DiskFull"}, "x", "DiskFull"),
    ({"event": "DiskFull"}, "x", "DiskFull"),
    ({}, "disk full on db1", "disk full on db1"),
])
def test_alertname_falls_back_to_event_then_summary(labels: dict[str, str], summary: str,
                                                    expected: str) -> None:
    values = group_values(alert(labels=labels, summary=summary), ("service", "alertname"))
    assert values == {"service": "db", "alertname": expected}


def test_fields_by_name_labels_otherwise_missing_label_is_empty() -> None:
    a = alert(labels={"cluster": "eu1"}, device_id="db1")
    assert group_values(a, ("device_id", "cluster", "rack")) == {
        "device_id": "db1", "cluster": "eu1", "rack": ""}


def test_group_key_ignores_order_and_separates_values() -> None:
    assert group_key({"a": "1", "b": "2"}) == group_key({"b": "2", "a": "1"})
    assert group_key({"a": "1", "b": "2"}) != group_key({"a": "1b=2"})
    assert len(group_key({"a": "1"})) == 32


def test_one_incident_one_key_whatever_the_devices() -> None:
    cfg = GroupingConfig()
    firing = [(alert(device_id=f"db{i}", labels={"alertname": "DiskFull"}), 1) for i in range(3)]
    firing.append((alert(labels={"alertname": "CPUHigh"}), 1))
    keyed = keys_for(firing, cfg)
    assert len(keyed) == 4  # one entry per fingerprint
    keys = [keyed[a.dedup_key()][0] for a, _ in firing]
    assert len(set(keys[:3])) == 1 and keys[3] != keys[0]
