"""Targets and their secrets: validation, the throttling contact key, and sealing.

The rule: no token is ever stored in clear or logged. A target names its secret, or the
secret is sealed before the row is written:

- by name (preferred): ``{"type": "slack", "webhook": "noc"}`` reads
  ``ALERTDESK_SLACK_WEBHOOK_NOC``; ``{"type": "pagerduty", "routing_key_ref": "noc"}`` reads
  ``ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC``; a webhook's HMAC key ``{"secret": "billing"}``
  reads ``ALERTDESK_WEBHOOK_SECRET_BILLING`` (no name: ``ALERTDESK_WEBHOOK_SECRET`` if set);
  a webhook URL itself may be named too: ``{"url_ref": "crm"}`` → ``ALERTDESK_WEBHOOK_URL_CRM``;
- in clear (the DESIGN shapes ``webhook_url``, ``routing_key``, a webhook ``url``): sealed
  with Fernet (AES-128-CBC + HMAC-SHA256, the ``cryptography`` package) under a key derived
  from the app secret (ALERTDESK_SECRET_KEY, else the data dir's secret_key file, as for
  JWTs). The row keeps ``<field>_sealed`` plus a harmless display form. Rotating the app
  secret makes sealed targets undeliverable (a non-retryable error says so).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from core.errors import FieldError
from core.notify.base import CHANNELS, DeliveryError, NotifyConfig
from core.secret import app_secret

SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("webhook_url",), "webhook": ("url",), "pagerduty": ("routing_key",)}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SLACK_MEMBER_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")   # as core/people/rules.py checks it


def _fernet() -> Any:
    return _fernet_for(app_secret())


@functools.lru_cache(maxsize=4)
def _fernet_for(secret: str) -> Any:
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"alertdesk-notify-seal:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: str) -> str:
    return str(_fernet().encrypt(value.encode()).decode())


def unseal(token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return str(_fernet().decrypt(token.encode()).decode())
    except InvalidToken:
        raise DeliveryError("sealed target cannot be opened: the app secret "
                            "(ALERTDESK_SECRET_KEY) changed since it was stored",
                            retryable=False) from None


def _short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:10]


def _url_display(url: str) -> str:
    """A webhook URL as it may be shown or logged: scheme and host only (many providers put
    their secret in the path), and a short hash that tells two URLs of one host apart (it
    is also the contact key that throttling counts by)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/… #{_short_hash(url)[:6]}"


def _need(target: Mapping[str, Any], name: str, ok: bool, message: str) -> None:
    if not ok:
        raise FieldError(f"target.{name}", message)


def _check_url(target: Mapping[str, Any], name: str) -> None:
    url = target.get(name)
    parts = urlsplit(url) if isinstance(url, str) else None
    _need(target, name, parts is not None and parts.scheme in ("http", "https")
          and bool(parts.hostname), "must be an http(s) URL")


def _check_name(target: Mapping[str, Any], name: str) -> None:
    value = target.get(name)
    _need(target, name, isinstance(value, str) and bool(NAME_RE.match(value)),
          "must be a secret name: letters, digits, '_', '-', '.'")


def validate_target(channel: str, target: Mapping[str, Any]) -> None:
    """Refuse a target its channel cannot use, naming the field (FieldError)."""
    if channel not in CHANNELS:
        raise FieldError("channel", f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    if channel == "email":
        _need(target, "to", bool(EMAIL_RE.match(str(target.get("to", "")))),
              "must be an email address")
    elif channel in ("sms", "voice"):
        _need(target, "to", bool(PHONE_RE.match(str(target.get("to", "")))),
              "must be an E.164 phone number, e.g. +15551234567")
    elif channel == "slack" and "to" in target:
        _need(target, "to", bool(SLACK_MEMBER_RE.match(str(target["to"]))),
              "must be a Slack member id, e.g. U024BE7LH")
    elif channel == "slack":
        _check_url(target, "webhook_url") if "webhook_url" in target else _check_name(target, "webhook")
    elif channel == "webhook":
        _check_url(target, "url") if "url" in target else _check_name(target, "url_ref")
        if "secret" in target:
            _check_name(target, "secret")
    elif channel == "pagerduty" and "routing_key" in target:
        _need(target, "routing_key", isinstance(target["routing_key"], str)
              and bool(target["routing_key"].strip()), "must be a non-empty string")
    elif channel == "pagerduty":
        _check_name(target, "routing_key_ref")


def recipient_for(channel: str, target: Mapping[str, Any]) -> str:
    """The contact key throttling counts by; never a secret (hashes stand in for tokens)."""
    if channel in ("email", "sms", "voice"):
        return str(target.get("to", "")).strip().lower()
    if channel == "slack":
        if "to" in target:   # a person's Slack member id: a direct message
            return f"slack:{target['to']}"
        if "webhook" in target:
            return f"slack:{target['webhook']}"
        return f"slack:{_short_hash(str(target.get('webhook_url', '')))}"
    if channel == "webhook":
        if "url_ref" in target:
            return f"webhook:{target['url_ref']}"
        return _url_display(str(target.get("url", "")))
    if channel == "pagerduty":
        if "routing_key_ref" in target:
            return f"pagerduty:{target['routing_key_ref']}"
        return f"pagerduty:{_short_hash(str(target.get('routing_key', '')))}"
    return channel


def seal_target(channel: str, target: Mapping[str, Any]) -> dict[str, Any]:
    """The target as stored: secret fields replaced by ``<field>_sealed`` (+ display)."""
    stored = {"type": channel, **{k: v for k, v in target.items() if k != "type"}}
    for name in SEALED_FIELDS.get(channel, ()):
        if isinstance(stored.get(name), str):
            clear = stored.pop(name)
            stored[f"{name}_sealed"] = seal(clear)
            if channel == "webhook":  # scheme + host (the path may be a secret)
                stored[f"{name}_display"] = _url_display(clear)
            elif channel == "slack":  # a Slack webhook's path is its token
                stored[f"{name}_display"] = f"{urlsplit(clear).hostname or ''}/…"
    return stored


def target_secret(target: Mapping[str, Any], field: str, config: NotifyConfig,
                  env_prefix: str, ref_field: str) -> str:
    """A secret a sender needs: unsealed from the row, or read from the env by name."""
    sealed = target.get(f"{field}_sealed")
    if isinstance(sealed, str):
        return unseal(sealed)
    clear = target.get(field)
    if isinstance(clear, str) and clear:  # a target built in memory (tests, test sends)
        return clear
    name = target.get(ref_field)
    if not isinstance(name, str) or not name:
        raise DeliveryError(f"target has neither {field} nor {ref_field}", retryable=False)
    value = config.secret(env_prefix, name)
    if value is None:
        env = f"ALERTDESK_{env_prefix}_{name}".upper().replace("-", "_").replace(".", "_")
        raise DeliveryError(f"{env} is not set", retryable=False)
    return value
