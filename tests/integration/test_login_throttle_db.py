"""Throttled password sign-ins (core/login_throttle.py via auth.attempt) on a real
PostgreSQL with a frozen clock: free failures, doubling blocks that end when the clock says
so, unknown users treated the same, a success clearing the account, the address counted
across accounts, quiet counts forgotten, and parallel guesses all counted."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.auth import Attempt, attempt
from core.clock import FrozenClock
from core.errors import AuthError, Throttled
from core.login_throttle import forget_login_failures
from tests.conftest import T0
from tests.factories import make_users

RIGHT = "secret-pass-1"


def sign_in(engine: sa.Engine, clock: FrozenClock, username: str, password: str,
            address: str | None = "198.51.100.7") -> Attempt:
    with core_db.transaction(engine) as s:
        return attempt(s, username, password, clock.now(), address)


def outcome(result: Attempt) -> str:
    try:
        return result.result().name
    except Throttled as err:
        return f"429 {err.retry_after}"
    except AuthError:
        return "401"


def rows(engine: sa.Engine) -> list[tuple[str, int]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(
            "select kind, failures from login_throttle order by kind, failures"))]


@pytest.mark.parametrize("username", ["olga", "nobody"])
def test_blocks_double_after_five_failures_and_end_with_the_clock(engine: sa.Engine,
                                                                  username: str) -> None:
    make_users(engine)
    clock = FrozenClock(T0)
    assert [outcome(sign_in(engine, clock, username, "wrong-guess")) for _ in range(6)] == \
        ["401"] * 6                                 # the sixth failure starts a 30 s block
    assert outcome(sign_in(engine, clock, username, RIGHT)) == "429 30"  # unchecked, uncounted
    clock.advance(seconds=29)
    assert outcome(sign_in(engine, clock, username, "wrong-guess")) == "429 1"
    clock.advance(seconds=1)
    assert outcome(sign_in(engine, clock, username, "wrong-guess")) == "401"
    assert outcome(sign_in(engine, clock, username, "wrong-guess")) == "429 60"   # doubled
    assert rows(engine) == [("account", 7), ("address", 7)]
    for _ in range(10):                              # keep failing as soon as allowed
        clock.advance(seconds=900)
        sign_in(engine, clock, username, "wrong-guess")
    assert outcome(sign_in(engine, clock, username, "wrong-guess")) == "429 900"  # the cap


def test_success_clears_the_account_but_not_the_address(engine: sa.Engine) -> None:
    make_users(engine)
    clock = FrozenClock(T0)
    for _ in range(5):
        sign_in(engine, clock, "olga", "wrong-guess")
    assert outcome(sign_in(engine, clock, "olga", RIGHT)) == "olga"
    assert rows(engine) == [("address", 5)]
    assert outcome(sign_in(engine, clock, "olga", "wrong-guess")) == "401"   # counts from 1
    assert rows(engine) == [("account", 1), ("address", 6)]


def test_an_address_is_blocked_across_accounts(engine: sa.Engine,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_LOGIN_ADDRESS_FREE_FAILURES", "3")
    make_users(engine)
    clock = FrozenClock(T0)
    for name in ("olga", "victor", "maria", "ada"):   # one guess each: password spraying
        assert outcome(sign_in(engine, clock, name, "Winter2026!")) == "401"
    assert outcome(sign_in(engine, clock, "olga", RIGHT)) == "429 30"
    assert outcome(sign_in(engine, clock, "olga", RIGHT, address="203.0.113.9")) == "olga"


def test_quiet_counts_are_forgotten_and_deleted_by_the_worker(engine: sa.Engine) -> None:
    make_users(engine)
    clock = FrozenClock(T0)
    for _ in range(6):
        sign_in(engine, clock, "olga", "wrong-guess", address=None)
    clock.advance(minutes=59)
    with core_db.transaction(engine) as s:
        assert forget_login_failures(s, clock.now()) == 0
    clock.advance(minutes=2)
    assert outcome(sign_in(engine, clock, "olga", "wrong-guess", address=None)) == "401"
    assert rows(engine) == [("account", 1)]           # counted from zero again
    clock.advance(minutes=61)
    with core_db.transaction(engine) as s:
        assert forget_login_failures(s, clock.now()) == 1
    assert rows(engine) == []


def test_parallel_guesses_from_many_connections_are_all_counted(engine: sa.Engine) -> None:
    make_users(engine)
    clock = FrozenClock(T0)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(
        outcome(sign_in(engine, clock, "olga", "wrong-guess")))) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("401") == 6 and results.count("429 30") == 6
    assert rows(engine) == [("account", 6), ("address", 6)]
