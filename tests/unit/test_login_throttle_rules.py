"""How long a key is blocked after its failures: free ones first, then doubling, capped."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.config import LoginLimits, login_limits
from core.login_throttle import block_for

LIMITS = LoginLimits()


@pytest.mark.parametrize(("failures", "seconds"), [
    (0, None), (4, None), (5, None),             # five free failures
    (6, 30), (7, 60), (8, 120), (9, 240), (10, 480),
    (11, 900), (12, 900), (10_000, 900),          # capped at 15 minutes
])
def test_backoff_doubles_after_the_free_failures_up_to_the_cap(failures: int,
                                                               seconds: int | None) -> None:
    expected = None if seconds is None else timedelta(seconds=seconds)
    assert block_for(failures, LIMITS.free_failures, LIMITS) == expected


def test_settings_come_from_the_environment_and_bad_values_keep_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_LOGIN_FREE_FAILURES", "3")
    monkeypatch.setenv("ALERTDESK_LOGIN_BACKOFF_S", "2")
    monkeypatch.setenv("ALERTDESK_LOGIN_BACKOFF_MAX_S", "nan")
    monkeypatch.setenv("ALERTDESK_LOGIN_FORGET_MIN", "-5")
    assert login_limits() == LoginLimits(free_failures=3, backoff_s=2)
