"""Escalation tier math and policy validation: pure, fixed instants, no database."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.errors import FieldError
from core.escalation.rules import (
    Match,
    Policy,
    SeverityRule,
    Threshold,
    Tier,
    ack_expired,
    due_at,
    first_match,
    matches,
    next_due,
    parse_policy,
    plan,
    severity_after,
    threshold_met,
)
from tests.conftest import T0

CONSOLE = {"type": "console"}
CRITICAL = parse_policy({
    "name": "critical", "match": {"severity": ["critical"]},
    "tiers": [{"delay_s": 0, "targets": [CONSOLE]},
              {"delay_s": 300, "targets": [{"type": "email", "to": "noc@example.com"}]},
              {"delay_s": 900, "targets": [{"type": "user", "username": "olga"}]}],
    "repeat": {"every_s": 900, "times": 3}})


def m(minutes: float) -> Any:
    return T0 + timedelta(minutes=minutes)


def fired(steps: list) -> list[tuple[int, int]]:
    return [(s.tier, s.repeat) for s in steps]


@pytest.mark.parametrize(("tiers_done", "repeats_done", "now", "expected"), [
    (0, 0, m(0), [(1, 0)]),                    # tier 1 at 0 min
    (1, 0, m(4.99), []),                       # tier 2 not before 5 min
    (1, 0, m(5), [(2, 0)]),                    # exactly at its time
    (2, 0, m(14), []),
    (2, 0, m(15), [(3, 0)]),
    (3, 0, m(29), []),
    (3, 0, m(30), [(3, 1)]),                   # repeat 1 of the last tier at 15 + 15
    (3, 1, m(45), [(3, 2)]),
    (3, 2, m(60), [(3, 3)]),
    (3, 3, m(600), []),                        # three repeats, then done
    (0, 0, m(16), [(1, 0), (2, 0), (3, 0)]),   # a late worker fires every missed tier
    (3, 0, m(61), [(3, 3)]),                   # ... but missed repeats collapse into one
    (3, 0, m(50), [(3, 2)]),
])
def test_plan_lists_the_steps_due(tiers_done: int, repeats_done: int, now: Any,
                                  expected: list) -> None:
    assert fired(plan(CRITICAL, T0, tiers_done, repeats_done, now)) == expected


def test_steps_carry_their_due_time_and_targets() -> None:
    [one, two] = plan(CRITICAL, T0, 0, 0, m(5))
    assert (one.due_at, two.due_at) == (m(0), m(5))
    assert two.targets == ({"type": "email", "to": "noc@example.com"},)


@pytest.mark.parametrize(("tiers_done", "repeats_done", "now", "expected"), [
    (0, 0, m(0), (1, 0, m(5))),
    (1, 0, m(1), (1, 0, m(5))),      # nothing due: unchanged
    (2, 0, m(15), (3, 0, m(30))),
    (3, 0, m(30), (3, 1, m(45))),
    (3, 2, m(60), (3, 3, None)),     # the last repeat: done
    (3, 0, m(61), (3, 3, None)),
])
def test_next_due_advances_progress(tiers_done: int, repeats_done: int, now: Any,
                                    expected: tuple) -> None:
    assert next_due(CRITICAL, T0, tiers_done, repeats_done, now) == expected


def test_ack_between_tier_1_and_tier_2_means_tier_2_is_never_due() -> None:
    assert fired(plan(CRITICAL, T0, 0, 0, m(0))) == [(1, 0)]
    for minute in (5, 6, 15, 60, 600):
        assert plan(CRITICAL, T0, 1, 0, m(minute), acked_at=m(3)) == []
    # an ack that happens later than the evaluated instant does not hold anything back
    assert fired(plan(CRITICAL, T0, 1, 0, m(5), acked_at=m(7))) == [(2, 0)]


def test_force_makes_the_next_step_due_now_and_keeps_the_rest_on_schedule() -> None:
    assert fired(plan(CRITICAL, T0, 1, 0, m(2), force=True)) == [(2, 0)]
    assert next_due(CRITICAL, T0, 1, 0, m(2), force=True) == (2, 0, m(15))
    assert fired(plan(CRITICAL, T0, 3, 0, m(20), force=True)) == [(3, 1)]
    assert plan(CRITICAL, T0, 3, 3, m(20), force=True) == []


def test_without_repeat_the_escalation_is_done_after_the_last_tier() -> None:
    single = Policy("medium", (Tier(0, (CONSOLE,)),))
    assert due_at(single, T0, 0, 0) == T0
    assert next_due(single, T0, 0, 0, T0) == (1, 0, None)


def test_a_restart_counts_from_its_own_start() -> None:
    restart = m(60)
    assert fired(plan(CRITICAL, restart, 0, 0, m(60))) == [(1, 0)]
    assert plan(CRITICAL, restart, 1, 0, m(64)) == []
    assert fired(plan(CRITICAL, restart, 1, 0, m(65))) == [(2, 0)]


@pytest.mark.parametrize(("ack_at", "timeout", "now", "expected"), [
    (m(0), 3600, m(59), False),
    (m(0), 3600, m(60), True),     # exactly at the limit
    (m(0), 3600, m(61), True),
    (m(0), None, m(600), False),   # default off
    (None, 3600, m(600), False),   # never acknowledged
])
def test_ack_expired(ack_at: Any, timeout: int | None, now: Any, expected: bool) -> None:
    assert ack_expired(ack_at, timeout, now) is expected


@pytest.mark.parametrize(("severity", "rule", "unacked_min", "expected"), [
    ("medium", SeverityRule(1800, 1), 29, "medium"),
    ("medium", SeverityRule(1800, 1), 30, "high"),
    ("medium", SeverityRule(1800, 1), 59, "high"),
    ("low", SeverityRule(1800, 1), 30, "medium"),     # one step per 30 min, repeated
    ("low", SeverityRule(1800, 1), 60, "high"),
    ("low", SeverityRule(1800, 1), 600, "critical"),
    ("info", SeverityRule(1800, 2), 30, "medium"),     # info -> medium style
    ("medium", SeverityRule(1800, 2), 31, "critical"),
    ("high", SeverityRule(60, 3), 5, "critical"),      # capped at critical
    ("critical", SeverityRule(60, 1), 5, "critical"),
    ("low", None, 600, "low"),                         # no rule
])
def test_severity_after(severity: str, rule: SeverityRule | None, unacked_min: int,
                        expected: str) -> None:
    assert severity_after(severity, rule, timedelta(minutes=unacked_min)) == expected


@pytest.mark.parametrize(("match", "alert", "expected"), [
    (Match(), {"severity": "info", "service": "x", "labels": {}}, True),
    (Match(("critical", "high")), {"severity": "high"}, True),
    (Match(("critical",)), {"severity": "high"}, False),
    (Match(service="billing"), {"severity": "high", "service": "billing"}, True),
    (Match(service="billing"), {"severity": "high", "service": "web"}, False),
    (Match(labels={"team": "db"}), {"severity": "low", "labels": {"team": "db", "x": "1"}}, True),
    (Match(labels={"team": "db"}), {"severity": "low", "labels": {"team": "web"}}, False),
    (Match(labels={"team": "db"}), {"severity": "low", "labels": {}}, False),
])
def test_matches(match: Match, alert: dict, expected: bool) -> None:
    policy = Policy("p", (Tier(0, (CONSOLE,)),), match)
    assert matches(policy, alert) is expected


def test_first_match_by_priority_and_disabled_policies_never_match() -> None:
    tiers = (Tier(0, (CONSOLE,)),)
    broad = Policy("broad", tiers, priority=500)
    narrow = Policy("narrow", tiers, Match(service="billing"), priority=10)
    off = Policy("off", tiers, priority=1, enabled=False)
    assert first_match([broad, narrow, off], {"severity": "low", "service": "billing"}) is narrow
    assert first_match([broad, narrow, off], {"severity": "low", "service": "web"}) is broad
    assert first_match([off], {"severity": "low"}) is None


def test_at_equal_priority_the_most_specific_policy_wins_then_the_oldest() -> None:
    tiers = (Tier(0, (CONSOLE,)),)
    default = Policy("critical default", tiers, Match(severity=("critical",)))
    service = Policy("billing", tiers, Match(service="billing"))
    labelled = Policy("billing db", tiers, Match(service="billing", labels={"role": "db"}))
    twin = Policy("billing too", tiers, Match(service="billing"))
    crit = {"severity": "critical", "service": "billing", "labels": {"role": "db"}}
    assert first_match([default, service], crit) is service          # newer but narrower
    assert first_match([default, service, labelled], crit) is labelled
    assert first_match([default, service, twin], crit) is service   # a tie: the older one
    assert first_match([default, service], {**crit, "service": "web"}) is default
    first = Policy("urgent", tiers, Match(severity=("critical",)), priority=50)
    assert first_match([default, labelled, first], crit) is first   # priority comes first


def test_parse_policy_round_trips_through_its_json() -> None:
    assert parse_policy(CRITICAL.to_json()) == CRITICAL
    assert CRITICAL.tiers[2].targets == ({"type": "user", "username": "olga"},)


def body(**changes: Any) -> dict:
    base: dict[str, Any] = {"name": "p", "tiers": [{"delay_s": 0, "targets": [CONSOLE]},
                                                   {"delay_s": 300, "targets": [CONSOLE]}]}
    base.update(changes)
    return base


def tier(delay: Any, *targets: Any) -> dict:
    return {"delay_s": delay, "targets": list(targets) or [CONSOLE]}


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"name": " "}, "name", "required"),
    ({"tiers": []}, "tiers", "at least one tier"),
    ({"tiers": [tier(-1)]}, "tiers[0].delay_s", "between 0"),
    ({"tiers": [tier("5")]}, "tiers[0].delay_s", "whole number"),
    ({"tiers": [tier(0), tier(0)]}, "tiers[1].delay_s", "must be greater than tiers[0].delay_s"),
    ({"tiers": [tier(0), tier(600), tier(300)]}, "tiers[2].delay_s", "greater than tiers[1]"),
    ({"tiers": [{"delay_s": 0, "targets": []}]}, "tiers[0].targets", "at least one target"),
    ({"tiers": [tier(0, CONSOLE, {"type": "fax"})]}, "tiers[0].targets[1].type", "one of"),
    ({"tiers": [tier(0, {"type": "email"})]}, "tiers[0].targets[0].to", "email address"),
    ({"tiers": [tier(0, {"type": "sms", "to": "555"})]}, "tiers[0].targets[0].to", "E.164"),
    ({"tiers": [tier(0, {"type": "slack", "webhook_url": "ftp://x"})]},
     "tiers[0].targets[0].webhook_url", "http(s) URL"),
    ({"tiers": [tier(0, {"type": "pagerduty"})]}, "tiers[0].targets[0].routing_key_ref",
     "secret name"),
    ({"tiers": [tier(0, {"type": "user", "username": ""})]}, "tiers[0].targets[0].username",
     "non-empty"),
    ({"tiers": [tier(0, {"type": "sms", "to": "+1", "cc": "x"})]}, "tiers[0].targets[0].cc",
     "unknown field"),
    ({"tiers": [tier(0, {"type": "schedule"})]}, "tiers[0].targets[0].schedule_id",
     "on-call schedule id"),
    ({"tiers": [tier(0, {"type": "schedule", "schedule_id": "1"})]},
     "tiers[0].targets[0].schedule_id", "on-call schedule id"),
    ({"tiers": [tier(0, {"type": "schedule", "schedule_id": 1, "to": "x"})]},
     "tiers[0].targets[0].to", "unknown field"),
    ({"match": {"severity": ["urgent"]}}, "match.severity[0]", "unknown severity"),
    ({"match": {"labels": {"team": 1}}}, "match.labels.team", "string"),
    ({"repeat": {"every_s": 0, "times": 3}}, "repeat.every_s", "between 60"),
    ({"repeat": {"every_s": 900, "times": -1}}, "repeat.times", "between 0"),
    ({"ack_timeout_s": 0}, "ack_timeout_s", "between 1"),
    ({"severity_escalation": {"after_s": 1800, "steps": 9}}, "severity_escalation.steps", "between"),
    ({"priority": True}, "priority", "whole number"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_parse_policy_names_the_bad_field(changes: dict, field: str, text: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_policy(body(**changes))
    assert err.value.field == field
    assert text in str(err.value)
    assert str(err.value).startswith(field + ": ")


def test_parse_policy_normalises() -> None:
    p = parse_policy(body(match={"severity": ["Page", "critical"], "service": ""},
                          repeat={"every_s": 900, "times": 0},
                          tiers=[tier(0, {"type": "user", "username": " Olga "},
                                      {"type": "slack", "webhook": "noc"})]))
    assert p.match.severity == ("critical",) and p.match.service is None
    assert p.repeat is None  # zero repeats: none
    assert p.tiers[0].targets == ({"type": "user", "username": "olga"},
                                  {"type": "slack", "webhook": "noc"})
    sched = parse_policy(body(tiers=[tier(0, {"type": "schedule", "schedule_id": 3})]))
    assert sched.tiers[0].targets == ({"type": "schedule", "schedule_id": 3},)


def test_threshold_counts_arrivals_within_the_window() -> None:
    th = Threshold(alerts=3, within_s=300)
    now = T0 + timedelta(minutes=10)
    close = [now - timedelta(minutes=m) for m in (0, 2, 4)]
    assert threshold_met(th, close, now)
    assert not threshold_met(th, close[:2], now)
    assert not threshold_met(th, [now - timedelta(minutes=m) for m in (0, 2, 5)], now)
    assert threshold_met(None, [], now)


@pytest.mark.parametrize("value, field", [
    ({"alerts": 1, "within_s": 300}, "threshold.alerts"),
    ({"alerts": 3, "within_s": 30}, "threshold.within_s"),
    ({"alerts": "3", "within_s": 300}, "threshold.alerts"),
    ([3, 300], "threshold"),
])
def test_bad_thresholds_name_the_field(value: object, field: str) -> None:
    body = {"name": "t", "tiers": [{"delay_s": 0, "targets": [CONSOLE]}], "threshold": value}
    with pytest.raises(FieldError) as err:
        parse_policy(body)
    assert err.value.field == field


@pytest.mark.parametrize("value", [1, 0, "5", True])
def test_renotify_after_needs_two_or_more(value: object) -> None:
    body = {"name": "t", "tiers": [{"delay_s": 0, "targets": [CONSOLE]}], "renotify_after": value}
    with pytest.raises(FieldError) as err:
        parse_policy(body)
    assert err.value.field == "renotify_after"
