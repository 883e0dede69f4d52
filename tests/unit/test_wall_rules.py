"""The wall's stale-data decision (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pages.wall import staleness

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_fresh_data_shows_no_banner() -> None:
    assert staleness(NOW - timedelta(seconds=10), NOW, None) is None
    assert staleness(NOW - timedelta(seconds=60), NOW, None) is None


def test_data_older_than_a_minute_is_stale() -> None:
    text = staleness(NOW - timedelta(seconds=61), NOW, None)
    assert text == "DATA IS STALE — last update 11:58:59 (61 s ago)"


def test_read_error_means_unreachable_even_when_recent() -> None:
    text = staleness(NOW - timedelta(seconds=5), NOW, "OperationalError")
    assert text is not None and text.startswith("DATABASE UNREACHABLE")
    assert "11:59:55 (5 s ago)" in text


def test_never_updated() -> None:
    assert staleness(None, NOW, "OperationalError") == \
        "DATABASE UNREACHABLE — no successful update yet"
    assert staleness(None, NOW, None) == "DATA IS STALE — no successful update yet"
