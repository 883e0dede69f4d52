"""Throttling of failed password sign-ins, per account and per client address, kept in
PostgreSQL (``login_throttle``) so that every API and UI process counts the same failures.

- The first ``free_failures`` failures of an account (``address_free_failures`` of a client
  address) cost nothing; each one after blocks the key for ``backoff_s``, doubling with every
  further failure, at most ``backoff_max_s`` (``core.config.login_limits``, the
  ALERTDESK_LOGIN_* settings).
- A blocked attempt is refused before any password check (no bcrypt work, not counted):
  ``Throttled``, HTTP 429 with Retry-After, or the login form's message.
- Unknown usernames are counted exactly like existing ones: same answer, same message, same
  work, so the throttle says nothing about which accounts exist.
- A successful sign-in clears the account's count, not the address's (one good account
  must not wash an address's failures away).
- A key with no failure for ``forget_min`` minutes counts from zero again; the worker's
  ``forget_login_failures`` deletes such rows.
- Concurrent attempts on one key wait for each other (a transaction advisory lock held
  until the caller commits), so parallel guesses from many processes are all counted.

Keys are SHA-256s of ``account:<username>`` / ``address:<ip>``: a password typed into the
username box is not stored. Time is the caller's ``now``.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.config import LoginLimits, login_limits
from core.tables import login_throttle as lt

LOCK_CLASS = 0x4C47   # "LG": the first key of pg_advisory_xact_lock(int, int)


@dataclass(frozen=True)
class Key:
    kind: str     # "account" or "address"
    digest: str

    @staticmethod
    def of(kind: str, value: str) -> Key:
        return Key(kind, hashlib.sha256(f"{kind}:{value}".encode()).hexdigest())


def keys(username: str, address: str | None) -> list[Key]:
    """The keys one attempt counts against: the account (known or not), and the client
    address when the server knows it."""
    found = [Key.of("account", username)]
    if address:
        found.append(Key.of("address", address))
    return found


def block_for(failures: int, free: int, limits: LoginLimits) -> timedelta | None:
    """How long a key with ``failures`` failures is blocked (None: not at all). Pure."""
    over = failures - free
    if over <= 0:
        return None
    seconds = min(limits.backoff_s * 2.0 ** min(over - 1, 62), limits.backoff_max_s)
    return timedelta(seconds=seconds)


def retry_after(session: Session, found: list[Key], now: datetime) -> int | None:
    """Lock the keys for this transaction, then the seconds until the last of their blocks
    ends (None: not blocked)."""
    for key in sorted(found, key=lambda k: k.digest):   # one order everywhere: no deadlock
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            LOCK_CLASS, sa.func.hashtext(key.digest))))
    until = session.scalar(sa.select(sa.func.max(lt.c.blocked_until)).where(
        lt.c.key.in_([k.digest for k in found]), lt.c.blocked_until > now))
    return None if until is None else max(1, math.ceil((until - now).total_seconds()))


def record_failure(session: Session, found: list[Key], now: datetime,
                   limits: LoginLimits | None = None) -> None:
    """One more failure on each key (from one again when the last is older than
    ``forget_min``), and its block when it is past its free failures."""
    limits = limits or login_limits()
    forget_before = now - timedelta(minutes=limits.forget_min)
    for key in found:
        stmt = insert(lt).values(key=key.digest, kind=key.kind, failures=1, last_failure_at=now)
        failures = session.execute(stmt.on_conflict_do_update(
            index_elements=[lt.c.key],
            set_={"failures": sa.case((lt.c.last_failure_at < forget_before, 1),
                                      else_=lt.c.failures + 1),
                  "last_failure_at": now},
        ).returning(lt.c.failures)).scalar_one()
        free = limits.free_failures if key.kind == "account" else limits.address_free_failures
        block = block_for(failures, free, limits)
        if block is not None:
            session.execute(sa.update(lt).where(lt.c.key == key.digest)
                            .values(blocked_until=now + block))


def clear_account(session: Session, found: list[Key]) -> None:
    """A successful sign-in: the account's count starts again."""
    session.execute(sa.delete(lt).where(lt.c.key.in_(
        [k.digest for k in found if k.kind == "account"])))


def forget_login_failures(session: Session, now: datetime) -> int:
    """Worker job: delete the counts nobody added to for ``forget_min`` and not blocked."""
    quiet = now - timedelta(minutes=login_limits().forget_min)
    result = session.execute(sa.delete(lt).where(
        lt.c.last_failure_at < quiet,
        sa.or_(lt.c.blocked_until.is_(None), lt.c.blocked_until <= now)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
