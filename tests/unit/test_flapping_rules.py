"""Flapping and damping rules, and heartbeat input checks: pure, no database."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.alerts.flapping import FlappingRule, damped, is_flapping
from core.errors import FieldError
from core.ingest.heartbeats import BeatIn, check_name
from tests.conftest import T0

WINDOW = timedelta(minutes=30)


def changes(*minutes_ago: float) -> list:
    return [T0 - timedelta(minutes=m) for m in minutes_ago]


@pytest.mark.parametrize(("times", "expected"), [
    (changes(), False),
    (changes(1, 2, 3, 4), False),                 # exactly N changes: not flapping
    (changes(1, 2, 3, 4, 5), True),               # N + 1
    (changes(0, 10, 20, 29, 29.9), True),         # a change at now counts
    (changes(1, 2, 3, 4, 30), False),             # exactly one window old: outside
    (changes(1, 2, 3, 4, 45, 60, 90), False),     # older changes never count
    (changes(1, 2, 3, 4) + [T0 + timedelta(minutes=1)], False),  # after now: not yet
])
def test_is_flapping_counts_changes_within_the_window(times: list, expected: bool) -> None:
    assert is_flapping(times, T0, 4, WINDOW) is expected


def test_is_flapping_follows_the_rule_parameters() -> None:
    times = changes(1, 2, 3)
    assert is_flapping(times, T0, 2, WINDOW)
    assert not is_flapping(times, T0, 2, timedelta(minutes=2))  # only 1 min ago is inside


@pytest.mark.parametrize(("flapping", "last", "expected"), [
    (False, None, False),                        # not flapping: never damped
    (False, T0 - timedelta(minutes=1), False),
    (True, None, False),                         # flapping, never notified: send one
    (True, T0 - timedelta(minutes=1), True),     # notified within the window: hold back
    (True, T0 - timedelta(minutes=29, seconds=59), True),
    (True, T0 - WINDOW, False),                  # a full window later: one more
])
def test_damped_sends_at_most_one_notification_per_window(flapping: bool, last, expected: bool
                                                          ) -> None:
    assert damped(flapping, last, T0, WINDOW) is expected


def test_rule_from_setting_and_its_errors() -> None:
    assert FlappingRule.from_setting({"max_changes": 4, "window_s": 1800}) == FlappingRule()
    assert FlappingRule.from_setting({"max_changes": 2}).window == WINDOW
    for value, field in (([], "flapping"), ({"max_changes": 0}, "flapping.max_changes"),
                         ({"window_s": "1800"}, "flapping.window_s"),
                         ({"max_changes": True}, "flapping.max_changes")):
        with pytest.raises(FieldError) as err:
            FlappingRule.from_setting(value)
        assert err.value.field == field


@pytest.mark.parametrize("name", ["nightly-backup", "a", "db_01.cron", "X" * 100])
def test_heartbeat_names_accepted(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "ü", "X" * 101, "a\n"])
def test_heartbeat_names_refused(name: str) -> None:
    with pytest.raises(FieldError) as err:
        check_name(name)
    assert err.value.field == "name"


@pytest.mark.parametrize(("body", "field"), [
    (BeatIn(timeout_s=0), "timeout_s"), (BeatIn(timeout_s=-5), "timeout_s"),
    (BeatIn(timeout_s=31 * 86400), "timeout_s"), (BeatIn(timeout_s=True), "timeout_s"),
    (BeatIn(severity="apocalyptic"), "severity"), (BeatIn(service="s" * 201), "service"),
])
def test_beat_input_refused_with_the_field_named(body: BeatIn, field: str) -> None:
    with pytest.raises(FieldError) as err:
        body.normalize()
    assert err.value.field == field


def test_beat_input_normalized() -> None:
    assert BeatIn(60, " etl ", None, "warning").normalize() == BeatIn(60, "etl", None, "medium")
