"""Retention rules without a database: the age syntax and which candidates may go."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import FieldError
from core.retention.cleanup import deletable, format_age, parse_age, ranges


@pytest.mark.parametrize(("text", "age"), [
    ("90d", timedelta(days=90)),
    ("2w", timedelta(weeks=2)),
    ("36h", timedelta(hours=36)),
    ("24h", timedelta(days=1)),        # the minimum itself is allowed
    ("1d", timedelta(days=1)),
    (" 30D ", timedelta(days=30)),     # spaces around and upper-case units are fine
    ("365d", timedelta(days=365)),
])
def test_ages_that_parse(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize(("text", "why"), [
    ("12h", "minimum of 1d"),          # half a day: refused, would wipe yesterday
    ("23h", "minimum of 1d"),
    ("0d", "minimum of 1d"),
    ("90", "not an age"),              # a unit is required
    ("90m", "not an age"),             # minutes (or months?) are ambiguous: refused
    ("-5d", "not an age"),
    ("1.5d", "not an age"),
    ("d", "not an age"),
    ("", "not an age"),
    ("9 0d", "not an age"),
    ("99999w", "maximum"),
])
def test_bad_ages_name_the_field(text: str, why: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_age(text)
    assert err.value.field == "older_than"
    assert why in str(err.value) and str(err.value).startswith("older_than: ")


@pytest.mark.parametrize(("age", "text"), [
    (timedelta(days=90), "90d"), (timedelta(weeks=2), "2w"), (timedelta(hours=36), "36h"),
    (timedelta(days=7), "1w"), (timedelta(days=1), "1d"),
])
def test_format_age_round_trips(age: timedelta, text: str) -> None:
    assert format_age(age) == text and parse_age(text) == age


def test_ranges_cover_the_span_in_inclusive_steps() -> None:
    assert list(ranges((3, 12), 4)) == [(3, 6), (7, 10), (11, 12)]
    assert list(ranges((5, 5), 100)) == [(5, 5)]
    assert list(ranges(None, 100)) == []


def test_unreferenced_candidates_all_go() -> None:
    assert deletable([1, 2, 3], [], []) == {1, 2, 3}


def test_pinned_candidates_stay() -> None:
    assert deletable([1, 2, 3], [2, 99], []) == {1, 3}


def test_a_candidate_needed_by_an_alert_outside_the_batch_stays() -> None:
    # 1 inhibits open alert 50 (not a candidate); 2 is needed by a notification with no alert
    assert deletable([1, 2, 3], [], [(1, 50), (2, None)]) == {3}


def test_a_candidate_needed_only_by_candidates_goes_with_them() -> None:
    assert deletable([1, 2, 3], [], [(1, 2), (2, 3)]) == {1, 2, 3}


def test_chains_are_followed_from_what_stays() -> None:
    # 4 stays (needed by 60 outside); 3 is needed by 4, 2 by 3, 1 by 2: all stay; 5 goes
    assert deletable([1, 2, 3, 4, 5], [], [(4, 60), (3, 4), (2, 3), (1, 2)]) == {5}
    # the same chain when the head is pinned instead
    assert deletable([1, 2, 3], [3], [(2, 3), (1, 2)]) == set()


def test_pairs_about_alerts_outside_the_batch_are_ignored() -> None:
    assert deletable([1, 2], [], [(70, 1), (71, None)]) == {1, 2}
