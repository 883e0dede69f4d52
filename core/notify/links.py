"""Signed one-click action links: ``<ALERTDESK_PUBLIC_URL or the API>/a/<token>``, where
the token is ``<notification id><a|r|e>.<12 characters of HMAC-SHA256>`` under the app
secret — bound to one outbox row (so to one alert or incident and one person) and one
action. Nothing secret is stored: the token is recomputed when the page is rendered for
sending and checked by recomputing it (core/respond/links.py spends it: once, before it
expires). Short enough for an SMS."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import Any

from core import config
from core.secret import app_secret

CODES = {"acknowledge": "a", "resolve": "r", "escalate": "e"}
ACTIONS = {code: action for action, code in CODES.items()}
MAC_CHARS = 12   # 72 bits; a link is also single-use and expires
TOKEN = re.compile(r"^(\d{1,18})([are])\.([A-Za-z0-9_-]{%d})$" % MAC_CHARS)


def _mac(notification_id: int, code: str) -> str:
    digest = hmac.new(app_secret().encode(), f"alertdesk-action-link:{notification_id}:{code}"
                      .encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def token(notification_id: int, action: str) -> str:
    code = CODES[action]
    return f"{notification_id}{code}.{_mac(notification_id, code)}"


def parse(value: str) -> tuple[int, str] | None:
    """(notification id, action) of a genuine token; None for anything else."""
    found = TOKEN.match(value or "")
    if not found:
        return None
    nid, code, mac = int(found.group(1)), found.group(2), found.group(3)
    if not hmac.compare_digest(mac, _mac(nid, code)):
        return None
    return nid, ACTIONS[code]


def base_url(public_url: str | None = None) -> str:
    """Where the links point: ALERTDESK_PUBLIC_URL (the API behind it), else the local API."""
    return (public_url or os.environ.get("ALERTDESK_PUBLIC_URL")
            or f"http://127.0.0.1:{config.api_port()}").rstrip("/")


def url(notification_id: int, action: str, public_url: str | None = None) -> str:
    return f"{base_url(public_url)}/a/{token(notification_id, action)}"


def for_page(notification_id: int, target: Mapping[str, Any], payload: Mapping[str, Any],
             public_url: str | None = None) -> dict[str, str]:
    """action -> link for a page to one person (an alert's or an incident's); none for
    anything else (channel messages, tests, reports)."""
    if not target.get("user") or payload.get("kind") not in ("page", "incident"):
        return {}
    return {action: url(notification_id, action, public_url) for action in CODES}
