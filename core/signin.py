"""Sign-in that lasts for the web UI: a signed, expiring credential the browser keeps.

At sign-in the UI gets a cookie value: a JWT (HS256 under the app secret, ``typ`` "ui")
naming the user and a random session id; the ``ui_sessions`` row (only the id's hash) says
whether it still holds. So a reload, a new tab, a deep link, a UI restart and a second UI
replica (same app secret and database) all find the user signed in, and nothing lives in
one server's memory. The session ends
- at logout (``end``), which revokes the row: a copy of the cookie is worthless after it;
- when unused for ``ALERTDESK_UI_IDLE_TIMEOUT_MIN`` minutes (default 480, a shift);
- ``ALERTDESK_UI_SESSION_DAYS`` days after sign-in at the latest (default 7);
- when the user's password changes or the user is disabled (``revoke_user``).
``last_seen_at`` is written at most once a minute per session (every UI rerun resumes).
Times come from the caller's clock; the JWT's own ``exp`` is checked against it too.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.actor import Actor
from core.secret import app_secret
from core.tables import ui_sessions, users

COOKIE = "alertdesk_session"
TOUCH_EVERY = timedelta(minutes=1)


def idle_timeout() -> timedelta:
    return timedelta(minutes=_positive("ALERTDESK_UI_IDLE_TIMEOUT_MIN", 480))


def max_age() -> timedelta:
    return timedelta(days=_positive("ALERTDESK_UI_SESSION_DAYS", 7))


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = default
    return value if value > 0 else default


@dataclass(frozen=True)
class Resumed:
    actor: Actor
    timezone: str
    expires_at: datetime


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(session: Session, username: str, now: datetime, via: str = "password",
          sso_key: str | None = None) -> str:
    """A new session for an authenticated user; returns the cookie value."""
    sid = secrets.token_urlsafe(32)
    expires = now + max_age()
    uid = session.execute(sa.select(users.c.id).where(users.c.username == username)).scalar_one()
    session.execute(ui_sessions.insert().values(
        sid_hash=_hash(sid), user_id=uid, created_at=now, last_seen_at=now, expires_at=expires,
        via=via, sso_key=sso_key))
    claims = {"typ": "ui", "sub": username, "sid": sid, "iat": int(now.timestamp()),
              "exp": int(expires.timestamp())}
    return jwt.encode(claims, app_secret(), algorithm="HS256")


def _sid(token: str, now: datetime) -> str | None:
    """The session id of a cookie signed by us, of the UI kind, not past its exp; else None."""
    try:
        claims = jwt.decode(token, app_secret(), algorithms=["HS256"],
                            options={"verify_exp": False})
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "ui" or not isinstance(claims.get("sid"), str):
        return None
    if int(claims.get("exp") or 0) <= now.timestamp():
        return None
    return str(claims["sid"])


def resume(session: Session, token: str | None, now: datetime) -> Resumed | None:
    """The signed-in user behind a cookie, or None (bad, revoked, idle, expired, or the user
    is disabled). An idle session is revoked on the spot."""
    sid = _sid(token, now) if token else None
    if sid is None:
        return None
    row = session.execute(
        sa.select(ui_sessions.c.id, ui_sessions.c.last_seen_at, ui_sessions.c.expires_at,
                  users.c.username, users.c.role, users.c.timezone, users.c.is_active)
        .join(users, users.c.id == ui_sessions.c.user_id)
        .where(ui_sessions.c.sid_hash == _hash(sid), ui_sessions.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None or not row.is_active or row.expires_at <= now:
        return None
    if now - row.last_seen_at > idle_timeout():
        _revoke(session, ui_sessions.c.id == row.id, now, "idle")
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        session.execute(sa.update(ui_sessions).where(ui_sessions.c.id == row.id)
                        .values(last_seen_at=now))
    return Resumed(Actor(row.username, row.role, "ui"), row.timezone, row.expires_at)


def end(session: Session, token: str | None, now: datetime) -> bool:
    """Logout: revoke the cookie's session. True if one was open."""
    sid = _sid(token, now) if token else None
    return bool(sid) and _revoke(session, ui_sessions.c.sid_hash == _hash(str(sid)), now,
                                 "logout") > 0


def revoke_user(session: Session, username: str, now: datetime, reason: str) -> int:
    """End every open session of a user (password changed, user disabled)."""
    uid = sa.select(users.c.id).where(users.c.username == username).scalar_subquery()
    return _revoke(session, ui_sessions.c.user_id == uid, now, reason)


def _revoke(session: Session, where: sa.ColumnElement[bool], now: datetime, reason: str) -> int:
    result = session.execute(sa.update(ui_sessions).where(where, ui_sessions.c.revoked_at.is_(None))
                             .values(revoked_at=now, revoked_reason=reason))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
