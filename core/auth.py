"""Users (bcrypt passwords), JWTs for people, hashed API keys for machines, roles.

API keys are 256-bit random tokens, so a SHA-256 of the key is enough to store and lets the
lookup be one indexed equality; passwords are low-entropy, so they get bcrypt. The JWT
signing secret comes from ALERTDESK_SECRET_KEY, else a 0600 file in the data dir (share
that file, or set the variable, when API replicas run on several machines).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt
import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from core import audit, login_throttle, signin
from core.actor import ROLES, Actor
from core.errors import AlertdeskError, AuthError, Conflict, FieldError, Forbidden, NotFound, Throttled
from core.prepared import Prepared
from core.secret import app_secret
from core.tables import api_keys, users

TOKEN_TTL = timedelta(hours=12)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,62}$")
MIN_PASSWORD = 12
MIN_STRENGTH = 3   # zxcvbn's 0-4 score: 3 is "safely unguessable" (~10^8 guesses and up)

MAX_PASSWORD_BYTES = 72   # bcrypt reads no further; a longer one is refused, not cut


def _rounds() -> int:
    # ALERTDESK_BCRYPT_ROUNDS lowers the cost for test suites only; production keeps 12.
    return int(os.environ.get("ALERTDESK_BCRYPT_ROUNDS", "12"))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(_rounds())).decode()


@functools.lru_cache(maxsize=4)
def _decoy(rounds: int) -> bytes:
    """A hash to check against when there is none (unknown user, SSO-only user, a password
    too long): the same bcrypt work, so the answer's time says nothing about the account."""
    return bcrypt.hashpw(b"alertdesk-decoy", bcrypt.gensalt(rounds))


def check_password(password: str, hashed: str | None) -> bool:
    raw = password.encode()
    if not hashed or len(raw) > MAX_PASSWORD_BYTES:
        bcrypt.checkpw(raw[:MAX_PASSWORD_BYTES], _decoy(_rounds()))
        return False
    return bcrypt.checkpw(raw, hashed.encode())


def check_new_password(password: str, username: str = "") -> None:
    """A password being set (never one being tried): 12+ characters, at most bcrypt's 72
    bytes, and not guessable by zxcvbn (common passwords, words, keyboard walks, dates,
    repeats, the username); FieldError("password") says why."""
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise FieldError("password", f"must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8)")
    verdict = zxcvbn(password, user_inputs=[username, "alertdesk"] if username else ["alertdesk"])
    if verdict["score"] < MIN_STRENGTH:
        feedback = verdict["feedback"]
        why = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise FieldError("password", "is too easy to guess: "
                         + (why or "add another word or two; uncommon words are better"))


def create_user(session: Session, username: str, password: str | None, role: str,
                actor: Actor | None = None, display_name: str = "", email: str | None = None,
                timezone: str = "UTC", now: datetime | None = None) -> dict[str, Any]:
    """Create a user; ``actor`` None means bootstrap (no role check)."""
    if actor is not None and not actor.can("admin"):
        raise Forbidden("creating users needs the admin role")
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise FieldError("username", "use 1-63 lowercase letters, digits, '.', '_', '@' or '-'")
    if role not in ROLES:
        raise FieldError("role", f"must be one of {', '.join(ROLES)}")
    if password is not None:
        check_new_password(password, name)
    if session.scalar(sa.select(users.c.id).where(users.c.username == name)):
        raise Conflict(f"user {name!r} already exists")
    row = session.execute(users.insert().values(
        username=name, display_name=display_name or name, email=email, timezone=timezone,
        role=role, password_hash=hash_password(password) if password else None, is_active=True,
    ).returning(users.c.id, users.c.username, users.c.display_name, users.c.email,
                users.c.role, users.c.is_active, users.c.created_at)).mappings().one()
    audit.record(session, actor, "user", name, "create", None, dict(row), now)
    return dict(row)


def update_user(session: Session, username: str, actor: Actor, now: datetime,
                role: str | None = None, is_active: bool | None = None,
                password: str | None = None) -> dict[str, Any]:
    """Change a user's role, active flag or password (admin). The audit row says
    "password changed", never the hash."""
    if not actor.can("admin"):
        raise Forbidden("changing users needs the admin role")
    if role is not None and role not in ROLES:
        raise FieldError("role", f"must be one of {', '.join(ROLES)}")
    if password is not None:
        check_new_password(password, username)
    cols = (users.c.username, users.c.role, users.c.is_active)
    before = session.execute(sa.select(*cols).where(users.c.username == username)
                             .with_for_update()).mappings().one_or_none()
    if before is None:
        raise NotFound(f"user {username!r} does not exist")
    values: dict[str, Any] = {k: v for k, v in (("role", role), ("is_active", is_active))
                              if v is not None}
    if password is not None:
        values["password_hash"] = hash_password(password)
    if password is not None or is_active is False or (role is not None and role != before["role"]):
        values["tokens_valid_after"] = now   # tokens issued before stop working
    if not values:
        raise FieldError("body", "nothing to change: give role, is_active or password")
    after = session.execute(sa.update(users).where(users.c.username == username)
                            .values(**values).returning(*cols)).mappings().one()
    if password is not None or is_active is False:   # the UI's lasting sign-ins end too
        signin.revoke_user(session, username, now,
                           "password changed" if password is not None else "user disabled")
    audit.record(session, actor, "user", username, "update", dict(before), dict(after), now,
                 "password changed" if password is not None else None)
    return dict(after)


def list_users(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(users.c.id, users.c.username, users.c.display_name,
                                     users.c.email, users.c.role, users.c.is_active,
                                     users.c.created_at).order_by(users.c.username))
    return [dict(r) for r in rows.mappings()]


def authenticate(session: Session, username: str, password: str) -> Actor:
    """The user for a username and password; AuthError otherwise, after the same bcrypt
    work whether the user exists or not."""
    row = session.execute(sa.select(users).where(
        users.c.username == (username or "").strip().lower())).one_or_none()
    ok = check_password(password or "", row.password_hash if row is not None else None)
    if row is None or not row.is_active or not ok:
        raise AuthError("wrong username or password")
    return Actor(row.username, row.role, "api")


@dataclass(frozen=True)
class Attempt:
    """One password sign-in: the actor, or the error to raise once the caller has committed
    (a failure is counted by the same transaction, so raising inside it would undo that)."""

    actor: Actor | None
    error: AlertdeskError | None = None

    def result(self) -> Actor:
        if self.actor is None:
            raise self.error or AuthError("wrong username or password")
        return self.actor


def attempt(session: Session, username: str, password: str, now: datetime,
            address: str | None = None) -> Attempt:
    """A throttled sign-in (core/login_throttle.py): refused unchecked while the account or
    the client address is blocked; a failure is counted, a success clears the account."""
    name = (username or "").strip().lower()
    found = login_throttle.keys(name, address)
    wait = login_throttle.retry_after(session, found, now)
    if wait is not None:
        return Attempt(None, Throttled(wait))
    try:
        actor = authenticate(session, name, password)
    except AuthError as err:
        login_throttle.record_failure(session, found, now)
        return Attempt(None, err)
    login_throttle.clear_account(session, found)
    return Attempt(actor)


def issue_token(actor: Actor, now: datetime) -> str:
    claims = {"sub": actor.name, "role": actor.role, "iat": now.timestamp(),
              "exp": int((now + TOKEN_TTL).timestamp())}
    return jwt.encode(claims, app_secret(), algorithm="HS256")


def actor_from_token(session: Session, token: str, source: str = "api") -> Actor:
    """Decode a JWT (``exp`` and ``iat`` required) and re-read the user, so a disabled user
    or a role change takes effect, and a token issued before the password last changed
    (or the user was disabled) is refused."""
    try:
        claims = jwt.decode(token, app_secret(), algorithms=["HS256"],
                            options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError:
        raise AuthError("invalid or expired token: sign in again") from None
    except jwt.PyJWTError:  # never PyJWT's own text ("Invalid crypto padding", ...)
        raise AuthError("invalid or expired token") from None
    row = session.execute(sa.select(users.c.username, users.c.role, users.c.is_active,
                                    users.c.tokens_valid_after)
                          .where(users.c.username == claims.get("sub"))).one_or_none()
    if row is None or not row.is_active:
        raise AuthError("invalid token: user unknown or disabled")
    if row.tokens_valid_after is not None and \
            float(claims["iat"]) < row.tokens_valid_after.timestamp():
        raise AuthError("invalid token: issued before the password changed; sign in again")
    return Actor(row.username, row.role, source)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# URL tokens: a scoped key opens its one read-only view and nothing else, and those URLs
# take no other key (an admin's key must never end up in a TV's or calendar's URL).
SCOPES = {"wall": "the NOC wall (/?wall=<key>)",
          "calendar": "the on-call calendar feeds (.ics?token=<key>)"}


def create_api_key(session: Session, name: str, role: str | None, actor: Actor | None,
                   key: str | None = None, now: datetime | None = None,
                   scope: str | None = None) -> tuple[str, dict[str, Any]]:
    """Create a key and return (plaintext, row). The plaintext is shown once, never stored.
    ``scope`` "wall" or "calendar" makes a URL token for that view (role viewer); None, a
    normal key (role default operator)."""
    if actor is not None and not actor.can("admin"):
        raise Forbidden("creating API keys needs the admin role")
    if not (name or "").strip():
        raise FieldError("name", "is required")
    if scope is not None:
        if scope not in SCOPES:
            raise FieldError("scope", "must be wall, calendar or null (a normal API key)")
        if role not in (None, "viewer"):
            raise FieldError("role", f"a {scope} key only reads {SCOPES[scope]}: leave the "
                                     "role out (it is viewer)")
    role = role or ("viewer" if scope else "operator")
    if role not in ROLES:
        raise FieldError("role", f"must be one of {', '.join(ROLES)}")
    key = key or "ad_" + secrets.token_urlsafe(32)
    row = session.execute(api_keys.insert().values(
        name=name.strip(), key_prefix=key[:7], key_hash=_key_hash(key), role=role, scope=scope,
        created_by=actor.name if actor else "system",
    ).returning(api_keys.c.id, api_keys.c.name, api_keys.c.key_prefix, api_keys.c.role,
                api_keys.c.scope, api_keys.c.created_at)).mappings().one()
    audit.record(session, actor, "api_key", row["id"], "create", None, dict(row), now)
    return key, dict(row)


def revoke_api_key(session: Session, key_id: int, actor: Actor, now: datetime) -> dict[str, Any]:
    """Revoke a key (admin): it stops working at once; the row stays for the record."""
    if not actor.can("admin"):
        raise Forbidden("revoking API keys needs the admin role")
    cols = (api_keys.c.id, api_keys.c.name, api_keys.c.key_prefix, api_keys.c.role,
            api_keys.c.scope, api_keys.c.revoked_at)
    before = session.execute(sa.select(*cols).where(api_keys.c.id == key_id)
                             .with_for_update()).mappings().one_or_none()
    if before is None:
        raise NotFound(f"API key {key_id} does not exist")
    if before["revoked_at"] is not None:
        raise Conflict(f"API key {key_id} is already revoked")
    after = session.execute(sa.update(api_keys).where(api_keys.c.id == key_id)
                            .values(revoked_at=now).returning(*cols)).mappings().one()
    audit.record(session, actor, "api_key", key_id, "revoke", dict(before), dict(after), now)
    return dict(after)


def list_api_keys(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every key, newest first: name, prefix, role, scope, who made it, last use,
    revocation (admin). Never the key or its hash."""
    if not actor.can("admin"):
        raise Forbidden("listing API keys needs the admin role")
    rows = session.execute(sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.key_prefix,
                                     api_keys.c.role, api_keys.c.scope, api_keys.c.created_by,
                                     api_keys.c.created_at, api_keys.c.last_used_at,
                                     api_keys.c.revoked_at).order_by(api_keys.c.id.desc()))
    return [dict(r) for r in rows.mappings()]


# One round trip per request: find the key and record its use at most once a minute (so
# ingest does not write a row per request).
KEY_SQL = """
with k as (
    select id, name, role, scope, last_used_at from api_keys
    where key_hash = :hash and revoked_at is null
), used as (
    update api_keys a set last_used_at = :now from k
    where a.id = k.id and (k.last_used_at is null or k.last_used_at < :stale)
)
select name, role, scope from k
"""

KEY = Prepared("alertdesk_api_key_scoped", KEY_SQL, {
    "hash": "text", "now": "timestamptz", "stale": "timestamptz"})


def actor_from_api_key(session: Session, key: str, now: datetime, source: str = "api",
                       scope: str | None = None) -> Actor:
    """The key's actor where a key of ``scope`` is wanted (None: the API, which takes only
    normal keys). AuthError for an unknown or revoked key, Forbidden for the wrong kind."""
    rows = KEY.rows(session, {"hash": _key_hash(key), "now": now,
                              "stale": now - timedelta(minutes=1)})
    if not rows:
        raise AuthError("invalid API key")
    name, role, key_scope = rows[0]
    if key_scope != scope:
        raise Forbidden(_wrong_kind(f"key:{name}", key_scope, scope))
    return Actor(f"key:{name}", role, source, is_human=False)


def _wrong_kind(who: str, has: str | None, wanted: str | None) -> str:
    if wanted is None:
        return f"{who} is a {has} key: it opens only {SCOPES[str(has)]}, not the API"
    create = (f"create a {wanted} key (python -m dashboard create-api-key NAME --scope "
              f"{wanted}, or on the Users & API keys page)")
    if has is None:
        return (f"{who} is a normal API key, which must not go in a URL: {create}; it "
                f"opens only {SCOPES[wanted]}")
    return f"{who} is a {has} key; only a {wanted} key opens {SCOPES[wanted]}: {create}"


def bootstrap(session: Session, admin_user: str | None, admin_password: str | None,
              api_key: str | None) -> str | None:
    """First start: an admin when there are no users, the ingest key when given.
    Returns a generated admin password (to print once), or None."""
    generated = None
    # "No admin yet" rather than "no users": demo users seeded first must not block it.
    if not session.scalar(sa.select(sa.func.count()).select_from(users)
                          .where(users.c.role == "admin")):
        password = admin_password or secrets.token_urlsafe(12)
        generated = None if admin_password else password
        try:
            create_user(session, admin_user or "admin", password, "admin",
                        display_name="Administrator")
        except FieldError as err:   # name the setting the operator has to change
            raise FieldError("ALERTDESK_ADMIN_USER" if err.field == "username"
                             else "ALERTDESK_ADMIN_PASSWORD", err.message) from None
    if api_key and not session.scalar(sa.select(api_keys.c.id)
                                      .where(api_keys.c.key_hash == _key_hash(api_key))):
        create_api_key(session, "bootstrap ingest key", "operator", None, key=api_key)
    return generated
