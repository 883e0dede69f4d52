"""Label matchers and silences: pure, no database. The same MATCH_CASES run against
PostgreSQL in tests/integration/test_suppression_db.py, holding SQL and Python together."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.errors import FieldError
from core.suppression.silences import (
    ACTIVE,
    EXPIRED,
    PENDING,
    Matcher,
    Silence,
    compile_sql,
    label_set,
    matches,
    parse_matchers,
    parse_silence,
    silence_state,
)
from tests.conftest import T0

LABELS = {"alertname": "DiskFull", "team": "storage", "note": "line1\nline2", "empty": ""}

MATCH_CASES: list[tuple[str, str, str, bool]] = [
    ("alertname", "=", "DiskFull", True),
    ("alertname", "=", "diskfull", False),         # case matters
    ("alertname", "!=", "DiskFull", False),
    ("alertname", "!=", "NodeDown", True),
    ("alertname", "=~", "Disk.*", True),
    ("alertname", "=~", "Disk", False),            # anchored: no partial match
    ("alertname", "=~", "isk", False),
    ("alertname", "=~", "NodeDown|DiskFull", True),
    ("alertname", "=~", "x|Disk", False),          # the alternation is anchored as a whole
    ("alertname", "!~", "Disk.*", False),
    ("alertname", "!~", "Node.*", True),
    ("missing", "=", "", True),                    # a missing label reads as ""
    ("missing", "!=", "", False),
    ("missing", "=~", ".*", True),
    ("missing", "=~", ".+", False),
    ("missing", "!~", ".+", True),
    ("missing", "=", "x", False),
    ("empty", "=", "", True),                      # empty and missing are the same
    ("team", "!=", "", True),
    ("note", "=~", "line1.line2", True),           # . matches a newline (as in PostgreSQL)
    ("note", "=~", "line1", False),
    ("alertname", "=~", "(?:Disk)Full", True),
    ("alertname", "=~", "[A-Z][a-z]+Full", True),
    ("alertname", "=~", "\\w+", True),
]


@pytest.mark.parametrize(("name", "op", "value", "expected"), MATCH_CASES)
def test_matcher(name: str, op: str, value: str, expected: bool) -> None:
    assert Matcher(name, op, value).test(LABELS) is expected


def test_matches_needs_every_matcher_and_an_empty_list_matches_all() -> None:
    ms = parse_matchers([{"name": "alertname", "value": "DiskFull"},
                         {"name": "team", "op": "=~", "value": "stor.*"}])
    assert matches(LABELS, ms)
    assert not matches({**LABELS, "team": "network"}, ms)
    assert matches(LABELS, [])


def test_fields_override_labels_of_the_same_name() -> None:
    seen = label_set({"severity": "warning", "service": "x", "rack": "r1"}, "billing", "db-01",
                     "medium", "alertmanager")
    assert seen == {"severity": "medium", "service": "billing", "device_id": "db-01",
                    "source": "alertmanager", "rack": "r1"}


def test_parse_defaults_op_to_equal_and_accepts_the_mapping_shorthand() -> None:
    assert parse_matchers([{"name": " service ", "value": "billing"}]) == (
        Matcher("service", "=", "billing"),)
    assert parse_matchers({"severity": "critical"}, "source_match") == (
        Matcher("severity", "=", "critical"),)


def test_alertmanager_matchers_read_as_the_same_ops() -> None:
    """Alertmanager's JSON form (its API, ``amtool silence query -o json``) pastes in."""
    got = parse_matchers([{"name": "service", "value": "billing", "isRegex": False},
                          {"name": "env", "value": "dev", "isRegex": False, "isEqual": False},
                          {"name": "instance", "value": "web-.*", "isRegex": True},
                          {"name": "alertname", "value": "Watchdog|Info.*", "isRegex": True,
                           "isEqual": False}])
    assert [m.as_json() for m in got] == [
        {"name": "service", "op": "=", "value": "billing"},
        {"name": "env", "op": "!=", "value": "dev"},
        {"name": "instance", "op": "=~", "value": "web-.*"},
        {"name": "alertname", "op": "!~", "value": "Watchdog|Info.*"}]


@pytest.mark.parametrize(("value", "field"), [
    (None, "matchers"),
    ([], "matchers"),
    ("service=billing", "matchers"),
    ([{"name": "a", "value": "b"}] * 51, "matchers"),
    (["service"], "matchers[0]"),
    ([{"name": "a", "value": "b"}, {"value": "b"}], "matchers[1].name"),
    ([{"name": "  ", "value": "b"}], "matchers[0].name"),
    ([{"name": "x" * 101, "value": "b"}], "matchers[0].name"),
    ([{"name": "a", "op": "~", "value": "b"}], "matchers[0].op"),
    ([{"name": "a", "op": "==", "value": "b"}], "matchers[0].op"),
    ([{"name": "a", "op": "="}], "matchers[0].value"),
    ([{"name": "a", "value": 5}], "matchers[0].value"),
    ([{"name": "a", "value": "x" * 1001}], "matchers[0].value"),
    ([{"name": "a", "op": "=~", "value": "("}], "matchers[0].value"),
    ([{"name": "a", "op": "!~", "value": "[a-"}], "matchers[0].value"),
    ([{"name": "a", "op": "=~", "value": "*x"}], "matchers[0].value"),
    ([{"name": "a", "op": "=~", "value": "\\bword\\b"}], "matchers[0].value"),  # PG: backspace
    ([{"name": "a", "op": "=~", "value": "[[:alpha:]]"}], "matchers[0].value"),  # Python: not a class
    ([{"name": "a", "op": "=~", "value": "a{,3}"}], "matchers[0].value"),  # PG: literal text
    ([{"name": "a", "value": "b", "isRegex": "no"}], "matchers[0].isRegex"),
    ([{"name": "a", "value": "b", "isEqual": 0}], "matchers[0].isEqual"),
    ([{"name": "a", "op": "=", "value": "b", "isRegex": False}], "matchers[0].op"),
    ([{"name": "a", "value": "(", "isRegex": True}], "matchers[0].value"),
    ([{"name": "a", "value": "b", "regex": True}], "matchers[0].regex"),
])
def test_bad_matchers_name_the_field(value: Any, field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_matchers(value)
    assert err.value.field == field


def test_an_escaped_backslash_before_b_and_an_escaped_brace_are_fine() -> None:
    assert parse_matchers([{"name": "path", "op": "=~", "value": "C:\\\\bin"}])[0].test(
        {"path": "C:\\bin"})
    assert parse_matchers([{"name": "x", "op": "=~", "value": "a\\{,3}"}])[0].test({"x": "a{,3}"})


def body(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"matchers": [{"name": "service", "value": "billing"}],
                            "ends_at": T0 + timedelta(hours=2), "comment": "CHG-1 db upgrade"}
    return {**base, **kw}


def test_silence_starts_now_by_default_and_never_in_the_past() -> None:
    assert parse_silence(body(), T0).starts_at == T0
    assert parse_silence(body(starts_at=T0 - timedelta(days=1)), T0).starts_at == T0
    later = T0 + timedelta(hours=1)
    assert parse_silence(body(starts_at=later), T0).starts_at == later  # a future window


@pytest.mark.parametrize(("changes", "field"), [
    ({"ends_at": None}, "ends_at"),
    ({"ends_at": T0}, "ends_at"),                                  # must be after starts_at
    ({"ends_at": T0 - timedelta(minutes=1)}, "ends_at"),
    ({"starts_at": T0 + timedelta(hours=3)}, "ends_at"),           # ends before it starts
    ({"ends_at": (T0 + timedelta(hours=1)).replace(tzinfo=None)}, "ends_at"),
    ({"starts_at": (T0 + timedelta(hours=1)).replace(tzinfo=None)}, "starts_at"),
    ({"ends_at": "tomorrow"}, "ends_at"),
    ({"comment": ""}, "comment"),
    ({"comment": "   "}, "comment"),
    ({"comment": None}, "comment"),
    ({"comment": "x" * 2001}, "comment"),
    ({"matchers": [{"name": "service", "op": "=~", "value": ".*"}]}, "matchers"),  # mutes all
    ({"matchers": [{"name": "team", "value": ""}]}, "matchers"),
    ({"matchers": [{"name": "service", "op": "=~", "value": "(x"}]}, "matchers[0].value"),
])
def test_bad_silences_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_silence(body(**changes), T0)
    assert err.value.field == field


def test_a_silence_needs_one_matcher_that_requires_a_value() -> None:
    ok = parse_silence(body(matchers=[{"name": "team", "value": ""},
                                      {"name": "service", "op": "=~", "value": "bill.+"}]), T0)
    assert len(ok.matchers) == 2


H = timedelta(hours=1)


@pytest.mark.parametrize(("now", "expired_at", "state"), [
    (T0 - timedelta(seconds=1), None, PENDING),
    (T0, None, ACTIVE),                       # starts_at is inclusive
    (T0 + H, None, ACTIVE),
    (T0 + 2 * H - timedelta(seconds=1), None, ACTIVE),
    (T0 + 2 * H, None, EXPIRED),              # ends_at is exclusive
    (T0 + H, T0 + timedelta(minutes=30), EXPIRED),   # expired by hand
    (T0 - H, T0 - 2 * H, EXPIRED),            # a pending window expired by hand
])
def test_silence_state(now: Any, expired_at: Any, state: str) -> None:
    assert silence_state(T0, T0 + 2 * H, expired_at, now) == state
    silence = Silence(1, (Matcher("service", "=", "billing"),), T0, T0 + 2 * H, expired_at)
    assert silence.is_active(now) is (state == ACTIVE)
    assert silence.mutes({"service": "billing"}, now) is (state == ACTIVE)
    assert not silence.mutes({"service": "web"}, now)


def test_matchers_compile_to_sql_with_bound_names_and_anchored_patterns() -> None:
    sql, params = compile_sql([Matcher("alertname", "=~", "Disk.*"), Matcher("service", "!=", "x"),
                               Matcher("team'--", "!~", "a|b")], "s7")
    assert sql == ("(coalesce(a.labels ->> :s7_0n, '') ~ :s7_0v) and (a.service <> :s7_1v) "
                   "and (coalesce(a.labels ->> :s7_2n, '') !~ :s7_2v)")
    assert params == {"s7_0n": "alertname", "s7_0v": "^(?:Disk.*)$", "s7_1v": "x",
                      "s7_2n": "team'--", "s7_2v": "^(?:a|b)$"}
    assert compile_sql([], "s1") == ("true", {})
    assert compile_sql([Matcher("rack", "=", "r1")], "s", "x", {"rack": "l0"}) == (
        "(x.l0 = :s_0v)", {"s_0v": "r1"})
