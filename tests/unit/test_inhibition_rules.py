"""Inhibition rules: pure, no database. ``resolve`` is the reference the set-based SQL in
core.suppression.inhibition_store mirrors (tests/integration/test_suppression_db.py compares them)."""
from __future__ import annotations

from typing import Any

import pytest

from core.errors import FieldError
from core.suppression.inhibition import InhibitRule, compile_rule, inhibits, label_names, parse_rule, resolve

# The seeded defaults (migration 0004), as a manager would post them.
CRITICAL_WARNING = parse_rule({
    "name": "critical-suppresses-warning",
    "source_match": [{"name": "severity", "value": "critical"},
                     {"name": "alertname", "op": "!=", "value": ""}],
    "target_match": [{"name": "severity", "op": "=~", "value": "medium|low|info"}],
    "equal": ["alertname", "service"]})
POOL = parse_rule({
    "name": "db-pool", "source_match": {"alertname": "DatabaseConnectionPoolExhausted"},
    "target_match": {"alertname": "SlowDatabaseQueries"}, "equal": ["database"]})
NODE_DOWN = parse_rule({
    "name": "node-down",
    "source_match": [{"name": "alertname", "op": "=~", "value": "NodeDown|HostDown"},
                     {"name": "device_id", "op": "!=", "value": ""}],
    "target_match": [{"name": "alertname", "op": "!~", "value": "NodeDown|HostDown"}],
    "equal": ["device_id"]})


def rule_with_id(rule: InhibitRule, rule_id: int) -> InhibitRule:
    return InhibitRule(rule.name, rule.source_match, rule.target_match, rule.equal, rule.enabled,
                       rule_id)


def alert(alertname: str | None, severity: str, service: str = "billing",
          device_id: str = "db-01", **labels: str) -> dict[str, str]:
    out = {"severity": severity, "service": service, "device_id": device_id, "source": "t",
           **labels}
    if alertname is not None:
        out["alertname"] = alertname
    return out


@pytest.mark.parametrize(("source", "target", "expected"), [
    (alert("DiskFull", "critical"), alert("DiskFull", "medium"), True),
    (alert("DiskFull", "critical"), alert("DiskFull", "low"), True),
    (alert("DiskFull", "critical"), alert("DiskFull", "info"), True),
    (alert("DiskFull", "critical"), alert("DiskFull", "high"), False),      # not warning-level
    (alert("DiskFull", "critical"), alert("DiskFull", "critical"), False),
    (alert("DiskFull", "high"), alert("DiskFull", "medium"), False),         # source not critical
    (alert("DiskFull", "critical"), alert("DiskFull", "medium", "web"), False),  # other service
    (alert("DiskFull", "critical"), alert("NodeDown", "medium"), False),     # other alertname
    (alert("DiskFull", "critical", device_id="a"), alert("DiskFull", "medium", device_id="b"),
     True),                                                                  # device not in equal
    (alert(None, "critical"), alert(None, "medium"), False),  # guard: alertname must be set
])
def test_critical_suppresses_warning_level_alerts_of_the_same_alertname_and_service(
        source: dict[str, str], target: dict[str, str], expected: bool) -> None:
    assert inhibits(source, target, CRITICAL_WARNING) is expected


@pytest.mark.parametrize(("source_labels", "target_labels", "expected"), [
    ({"database": "orders"}, {"database": "orders"}, True),
    ({"database": "orders"}, {"database": "users"}, False),
    ({"database": "orders"}, {}, False),
    ({}, {}, True),            # Alertmanager: missing on both sides counts as equal
    ({"database": ""}, {}, True),
])
def test_equal_labels(source_labels: dict[str, str], target_labels: dict[str, str],
                      expected: bool) -> None:
    source = alert("DatabaseConnectionPoolExhausted", "high", **source_labels)
    target = alert("SlowDatabaseQueries", "medium", service="orders-api", **target_labels)
    assert inhibits(source, target, POOL) is expected


def test_a_disabled_rule_inhibits_nothing() -> None:
    off = parse_rule({"enabled": False}, CRITICAL_WARNING)
    assert not inhibits(alert("DiskFull", "critical"), alert("DiskFull", "medium"), off)


def test_resolve_picks_the_oldest_source_and_never_the_alert_itself() -> None:
    rules = [rule_with_id(CRITICAL_WARNING, 1)]
    alerts = [(10, alert("DiskFull", "critical")), (11, alert("DiskFull", "critical")),
              (12, alert("DiskFull", "medium")), (13, alert("DiskFull", "medium", "web"))]
    assert resolve(alerts, rules) == {12: (10, 1)}
    assert resolve(alerts[1:], rules) == {12: (11, 1)}   # the oldest one resolved: next one


def test_an_alert_that_is_a_target_itself_suppresses_nothing() -> None:
    rules = [rule_with_id(CRITICAL_WARNING, 1), rule_with_id(NODE_DOWN, 3)]
    alerts = [(1, alert("NodeDown", "critical", "hosts", "db-01")),
              (2, alert("DiskFull", "critical", "billing", "db-01")),   # suppressed by 1
              (3, alert("DiskFull", "medium", "billing", "db-02"))]     # only 2 would suppress it
    assert resolve(alerts, rules) == {2: (1, 3)}
    assert resolve(alerts[1:], rules) == {3: (2, 1)}   # node back: the disk alert suppresses


def test_two_alerts_that_would_suppress_each_other_both_stay_loud() -> None:
    mutual = parse_rule({"name": "m", "source_match": {"team": "db"},
                         "target_match": {"team": "db"}, "equal": ["service"]})
    alerts = [(1, alert("A", "high", team="db")), (2, alert("B", "high", team="db"))]
    assert inhibits(alerts[0][1], alerts[1][1], mutual) and inhibits(alerts[1][1], alerts[0][1], mutual)
    assert resolve(alerts, [mutual]) == {}


def test_resolve_takes_the_lowest_rule_id_for_the_same_source_and_skips_disabled_rules() -> None:
    a = rule_with_id(parse_rule({"name": "a", "source_match": {"alertname": "X"},
                                 "target_match": {"alertname": "Y"}}), 5)
    b = rule_with_id(parse_rule({"name": "b", "source_match": {"alertname": "X"},
                                 "target_match": {"severity": "medium"}}), 2)
    alerts = [(1, alert("X", "high")), (2, alert("Y", "medium"))]
    assert resolve(alerts, [a, b]) == {2: (1, 2)}
    assert resolve(alerts, [a, parse_rule({"enabled": False}, b)]) == {2: (1, 5)}


@pytest.mark.parametrize(("body", "field"), [
    ({"source_match": {"a": "b"}, "target_match": {"a": "c"}}, "name"),
    ({"name": " ", "source_match": {"a": "b"}, "target_match": {"a": "c"}}, "name"),
    ({"name": "x" * 101, "source_match": {"a": "b"}, "target_match": {"a": "c"}}, "name"),
    ({"name": "r", "target_match": {"a": "c"}}, "source_match"),
    ({"name": "r", "source_match": [], "target_match": {"a": "c"}}, "source_match"),
    ({"name": "r", "source_match": {"a": "b"}}, "target_match"),
    ({"name": "r", "source_match": [{"name": "a", "op": "=>", "value": "b"}],
      "target_match": {"a": "c"}}, "source_match[0].op"),
    ({"name": "r", "source_match": {"a": "b"},
      "target_match": [{"name": "a", "value": "c"}, {"name": "b", "op": "=~", "value": "(("}]},
     "target_match[1].value"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": 3}}, "target_match[0].value"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": "c"}, "equal": "service"},
     "equal"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": "c"}, "equal": ["a", ""]},
     "equal[1]"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": "c"}, "equal": ["a", "a"]},
     "equal[1]"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": "c"}, "enabled": "no"},
     "enabled"),
    ({"name": "r", "source_match": {"a": "b"}, "target_match": {"a": "c"}, "sourceMatch": {}},
     "sourceMatch"),
])
def test_bad_rules_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_rule(body)
    assert err.value.field == field


def test_an_edit_keeps_what_it_does_not_send_and_ignores_read_only_fields() -> None:
    current = rule_with_id(CRITICAL_WARNING, 7)
    edited = parse_rule({"equal": ["alertname"], "id": 99, "created_by": "x"}, current)
    assert (edited.id, edited.name, edited.equal) == (7, current.name, ("alertname",))
    assert edited.source_match == current.source_match and edited.enabled


def test_a_rule_compiles_to_two_predicates_and_a_join_on_its_equal_labels() -> None:
    c = compile_rule(rule_with_id(CRITICAL_WARNING, 1), "r1", {"alertname": "l0"})
    assert c.source_sql == "(s.severity = :r1s_0v) and (s.l0 <> :r1s_1v)"
    assert c.target_sql == "(t.severity ~ :r1t_0v)"
    assert c.equal_sql == "s.l0 = t.l0 and s.service = t.service"
    assert c.params == {"r1s_0v": "critical", "r1s_1v": "", "r1t_0v": "^(?:medium|low|info)$"}
    pool = compile_rule(rule_with_id(POOL, 2), "r2")
    assert pool.equal_sql == ("coalesce(s.labels ->> :r2e0, '') = coalesce(t.labels ->> :r2e0, '')")
    assert pool.params["r2e0"] == "database"
    no_equal = parse_rule({"name": "x", "source_match": {"a": "b"}, "target_match": {"a": "c"}})
    assert compile_rule(no_equal, "r3").equal_sql == "true"
    assert label_names([CRITICAL_WARNING, POOL, NODE_DOWN]) == ["alertname", "database"]
