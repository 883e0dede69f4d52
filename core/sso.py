"""OpenID Connect single sign-on for the web UI: who the provider says you are, and the role
your groups give you here.

Settings (all from the environment; SSO is on when the first three are set):
- ``ALERTDESK_OIDC_METADATA_URL`` the provider's ``/.well-known/openid-configuration``;
- ``ALERTDESK_OIDC_CLIENT_ID`` / ``ALERTDESK_OIDC_CLIENT_SECRET``;
- ``ALERTDESK_OIDC_ROLES`` claim values to roles, first match wins, e.g.
  ``noc-admins=admin,noc-managers=manager,noc-operators=operator,*=viewer`` (``*``: anyone
  the provider signs in); no match: refused, nothing written;
- ``ALERTDESK_OIDC_ROLE_CLAIM`` (default ``groups``), ``ALERTDESK_OIDC_USERNAME_CLAIM``
  (default ``email``; the username is that claim, lower-cased), ``ALERTDESK_OIDC_NAME``
  (the button says "Sign in with <name>", default "SSO").
A first sign-in creates the user (no password: SSO only); every sign-in sets the role from
the claims (audited when it changes); a disabled user stays out. Each provider sign-in (its
issuer, subject and ID token issue time) opens one Alertdesk session (core/signin.py), which
then lasts, times out and is logged out like any other.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import audit, signin
from core.actor import ROLES, Actor
from core.auth import USERNAME_RE, create_user
from core.errors import AuthError, FieldError
from core.tables import ui_sessions, users


@dataclass(frozen=True)
class SsoConfig:
    metadata_url: str
    client_id: str
    client_secret: str
    roles: tuple[tuple[str, str], ...]
    role_claim: str = "groups"
    username_claim: str = "email"
    name: str = "SSO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SsoConfig | None:
        e = os.environ if env is None else env
        url, cid, secret = (e.get(f"ALERTDESK_OIDC_{k}") for k in
                            ("METADATA_URL", "CLIENT_ID", "CLIENT_SECRET"))
        if not (url and cid and secret):
            return None
        return cls(url, cid, secret, parse_roles(e.get("ALERTDESK_OIDC_ROLES") or ""),
                   e.get("ALERTDESK_OIDC_ROLE_CLAIM") or "groups",
                   e.get("ALERTDESK_OIDC_USERNAME_CLAIM") or "email",
                   e.get("ALERTDESK_OIDC_NAME") or "SSO")


def parse_roles(text: str) -> tuple[tuple[str, str], ...]:
    """``value=role,...`` in order (pure); a bad entry names ALERTDESK_OIDC_ROLES."""
    out = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        value, _, role = item.partition("=")
        if not value.strip() or role.strip() not in ROLES:
            raise FieldError("ALERTDESK_OIDC_ROLES", f"{item!r}: write claim-value=role, the "
                             f"role one of {', '.join(ROLES)}")
        out.append((value.strip(), role.strip()))
    return tuple(out)


def role_for(claims: Mapping[str, Any], cfg: SsoConfig) -> str | None:
    """The first mapping whose value the role claim holds (``*`` matches anyone) (pure)."""
    raw = claims.get(cfg.role_claim)
    held = {str(v) for v in raw} if isinstance(raw, (list, tuple)) else \
        ({str(raw)} if raw is not None else set())
    return next((role for value, role in cfg.roles if value == "*" or value in held), None)


def username_for(claims: Mapping[str, Any], cfg: SsoConfig) -> str:
    name = str(claims.get(cfg.username_claim) or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AuthError(f"the provider's {cfg.username_claim!r} claim is not a usable username")
    return name


def identity_key(claims: Mapping[str, Any]) -> str:
    """One provider sign-in: issuer, subject and the ID token's issue time."""
    raw = f"{claims.get('iss')}|{claims.get('sub')}|{claims.get('iat')}"
    return hashlib.sha256(raw.encode()).hexdigest()


def sign_in(session: Session, claims: Mapping[str, Any], cfg: SsoConfig, now: datetime) -> str:
    """Open the Alertdesk session for a provider sign-in; returns the cookie value. AuthError
    (with a message for the person) when refused."""
    key = identity_key(claims)
    if session.scalar(sa.select(ui_sessions.c.id).where(ui_sessions.c.sso_key == key)):
        raise AuthError("that sign-in has ended (logged out or timed out): sign in again")
    role = role_for(claims, cfg)
    if role is None:
        raise AuthError(f"your {cfg.name} account has no Alertdesk role (ask an admin to map "
                        f"one of your {cfg.role_claim} in ALERTDESK_OIDC_ROLES)")
    username = username_for(claims, cfg)
    row = session.execute(sa.select(users.c.role, users.c.is_active)
                          .where(users.c.username == username).with_for_update()).one_or_none()
    if row is None:
        create_user(session, username, None, role, None, display_name=str(claims.get("name") or ""),
                    email=str(claims.get("email") or "") or None, now=now)
    elif not row.is_active:
        raise AuthError(f"user {username!r} is disabled")
    elif row.role != role:
        session.execute(sa.update(users).where(users.c.username == username).values(role=role))
        audit.record(session, Actor(f"sso:{cfg.name}", "admin", "system", is_human=False), "user",
                     username, "update", {"role": row.role}, {"role": role}, now,
                     "role from the identity provider's claims")
    return signin.start(session, username, now, via="oidc", sso_key=key)

