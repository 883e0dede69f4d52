"""Shared types of the notification channels: the row a sender gets, the error it raises,
the configuration read from the environment, and the one HTTP helper every HTTP channel
uses (timeouts, and which failures are worth a retry).

The rule for retries: connection errors, timeouts, HTTP 429 and 5xx are *retryable*
(the worker tries again with backoff); any other 4xx is not (the request itself is wrong:
retrying would fail the same way)."""
from __future__ import annotations

import functools
import json as jsonlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import urllib3

CHANNELS: tuple[str, ...] = ("email", "slack", "webhook", "sms", "voice", "pagerduty", "console")
STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "rate_limited",
                             "bundled", "cancelled")
USER_AGENT = "Alertdesk/1.0 (+notifications)"


class DeliveryError(Exception):
    """A send failed. ``retryable`` says whether trying again later may succeed. The
    message must never contain a secret (token, webhook URL, password)."""

    def __init__(self, message: str, retryable: bool = True,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s  # the provider's Retry-After, when it sent one


@dataclass(frozen=True)
class Notification:
    """One claimed outbox row as a sender sees it. ``target`` is still sealed (senders
    unseal what they need through core/notify/vault.py); ``bundled`` holds the payloads
    of the notifications folded into this one by per-contact throttling."""

    id: int
    channel: str
    target: Mapping[str, Any]
    recipient: str
    payload: Mapping[str, Any]
    attempts: int = 1
    alert_id: int | None = None
    idempotency_key: str = ""
    bundled: tuple[Mapping[str, Any], ...] = ()
    claimed_until: datetime | None = None  # our claim: outcomes are recorded only under it
    takeover: bool = False  # claimed from a worker whose claim expired (no attempt added)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class NotifyConfig:
    """Channel settings. Secrets come only from the environment and are kept out of repr."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_from: str = "alertdesk@localhost"
    twilio_base_url: str = "https://api.twilio.com"
    twilio_sid: str | None = None
    twilio_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    pagerduty_base_url: str = "https://events.pagerduty.com"
    timeout_s: float = 10.0
    concurrency: int = 16   # sends in flight at once in one delivery pass
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifyConfig:
        """ALERTDESK_SMTP_HOST/PORT/USER/PASSWORD/STARTTLS/FROM, ALERTDESK_TWILIO_BASE_URL/
        ACCOUNT_SID/AUTH_TOKEN/FROM, ALERTDESK_PAGERDUTY_BASE_URL, ALERTDESK_NOTIFY_TIMEOUT_S
        (per send), ALERTDESK_NOTIFY_CONCURRENCY (sends in flight at once, default 16).
        Named secrets (Slack webhooks, webhook HMAC keys, PagerDuty keys) are looked up in
        ``env`` when a message is sent."""
        e = dict(os.environ if env is None else env)
        return cls(
            smtp_host=e.get("ALERTDESK_SMTP_HOST") or "127.0.0.1",
            smtp_port=int(e.get("ALERTDESK_SMTP_PORT") or 25),
            smtp_user=e.get("ALERTDESK_SMTP_USER") or None,
            smtp_password=e.get("ALERTDESK_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(e.get("ALERTDESK_SMTP_STARTTLS"), False),
            smtp_from=e.get("ALERTDESK_SMTP_FROM") or "alertdesk@localhost",
            twilio_base_url=e.get("ALERTDESK_TWILIO_BASE_URL") or "https://api.twilio.com",
            twilio_sid=e.get("ALERTDESK_TWILIO_ACCOUNT_SID") or None,
            twilio_token=e.get("ALERTDESK_TWILIO_AUTH_TOKEN") or None,
            twilio_from=e.get("ALERTDESK_TWILIO_FROM") or None,
            pagerduty_base_url=(e.get("ALERTDESK_PAGERDUTY_BASE_URL")
                                or "https://events.pagerduty.com"),
            timeout_s=float(e.get("ALERTDESK_NOTIFY_TIMEOUT_S") or 10.0),
            concurrency=max(1, int(e.get("ALERTDESK_NOTIFY_CONCURRENCY") or 16)),
            env=e,
        )

    def secret(self, prefix: str, name: str) -> str | None:
        """``ALERTDESK_<PREFIX>_<NAME>`` with the name upper-cased, '-'/'.' as '_'."""
        key = f"ALERTDESK_{prefix}_{name}".upper().replace("-", "_").replace(".", "_")
        return self.env.get(key) or None


@functools.cache
def _pool() -> urllib3.PoolManager:
    """One connection pool for every HTTP channel, kept alive across sends (a new TLS
    context costs more than a send to a nearby receiver). urllib3 rather than httpx here:
    under 16 sending threads httpx's pool lock made it the bottleneck (656 vs 1,121
    requests/s to the same local receiver); no retries or redirects of its own (the
    outbox retries, and a redirect could carry a secret elsewhere)."""
    return urllib3.PoolManager(num_pools=64, maxsize=16, retries=False)


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: Mapping[str, str]   # case-insensitive (urllib3's HTTPHeaderDict)
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def post(url: str, config: NotifyConfig, *, what: str, json: Any = None,
         data: Mapping[str, str] | None = None, content: bytes | None = None,
         headers: Mapping[str, str] | None = None,
         auth: tuple[str, str] | None = None) -> Response:
    """POST a JSON (``json``), form (``data``) or raw (``content``) body with the configured
    timeout; map failures to DeliveryError by the retry rule. ``what`` names the endpoint
    in errors (never the URL: it may carry a token)."""
    head = {"User-Agent": USER_AGENT}
    if json is not None:
        content, head["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
    elif data is not None:
        content = urlencode(data).encode()
        head["Content-Type"] = "application/x-www-form-urlencoded"
    if auth:
        head.update(urllib3.util.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
    head.update(headers or {})
    try:
        r = _pool().request("POST", url, body=content, headers=head, redirect=False,
                            timeout=urllib3.Timeout(total=config.timeout_s))
    except urllib3.exceptions.TimeoutError:
        raise DeliveryError(f"{what}: timed out after {config.timeout_s:g} s") from None
    except urllib3.exceptions.HTTPError as err:
        raise DeliveryError(f"{what}: {type(err).__name__}") from None
    response = Response(r.status, r.headers, r.data)
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"{what}: HTTP {response.status_code}",
                            retry_after_s=retry_after(response.headers.get("retry-after")))
    if response.status_code >= 400:
        raise DeliveryError(f"{what}: HTTP {response.status_code} {response.text[:200]}",
                            retryable=False)
    return response


MAX_RETRY_AFTER_S = 3600.0


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), capped at an
    hour; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        # an HTTP date is relative to the provider's wall clock, read here at the edge
        seconds = (when - datetime.now(timezone.utc)).total_seconds() if when.tzinfo else 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
