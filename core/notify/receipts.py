"""Delivery receipts from Twilio: after accepting an SMS or a call, Twilio calls the
``StatusCallback`` URL the send gave it (``ALERTDESK_PUBLIC_URL`` +
``/api/v1/integrations/twilio/status``) as the message or call moves on. The final word
becomes the outbox row's ``receipt``: an SMS delivered or not (with the carrier's error
code), a call answered or not (busy, no answer, failed).

Rules:
- only final statuses count (queued/sending/sent/ringing... change nothing);
- the first final word wins (Twilio may send callbacks out of order; a later one is noted
  as not applied);
- the row and the rows bundled into it share the provider id, so they get the receipt
  together;
- a receipt for an SID we do not know changes nothing (answered 200 all the same: Twilio
  needs no retry and an unknown caller learns nothing).
The signature check (X-Twilio-Signature, Twilio's own validator) is core/notify/twilio.py's.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import FieldError

log = logging.getLogger("alertdesk.notify")

STATUS_PATH = "/api/v1/integrations/twilio/status"

# Twilio's MessageStatus / CallStatus values that end the story, and what they mean here.
SMS_FINAL = {"delivered": "delivered", "read": "delivered",
             "undelivered": "undelivered", "failed": "undelivered"}
CALL_FINAL = {"completed": "delivered", "busy": "undelivered", "no-answer": "undelivered",
              "failed": "undelivered", "canceled": "undelivered"}
# The carrier errors an on-call admin meets most (Twilio's error dictionary, 30xxx).
SMS_ERRORS = {"30003": "unreachable handset (off or out of coverage)",
              "30004": "message blocked by the recipient or carrier",
              "30005": "unknown number or inactive line",
              "30006": "landline or unreachable carrier",
              "30007": "filtered by the carrier as spam",
              "30008": "unknown error at the carrier",
              "21610": "the recipient replied STOP (unsubscribed)"}


@dataclass(frozen=True)
class Receipt:
    channel: str           # sms | voice
    sid: str               # MessageSid / CallSid: the provider id stored at send
    status: str            # Twilio's word
    receipt: str | None    # delivered | undelivered | None (not final yet)
    error: str | None


def parse(params: Mapping[str, str]) -> Receipt:
    """Read a status callback's form fields (pure)."""
    if params.get("MessageSid"):
        status = str(params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        if not status:
            raise FieldError("MessageStatus", "is required with MessageSid")
        code = str(params.get("ErrorCode") or "")
        error = f"Twilio {code}: {SMS_ERRORS.get(code, 'see the Twilio error dictionary')}" \
            if code else (None if SMS_FINAL.get(status) != "undelivered" else f"SMS {status}")
        return Receipt("sms", str(params["MessageSid"]), status, SMS_FINAL.get(status), error)
    if params.get("CallSid"):
        status = str(params.get("CallStatus") or "").lower()
        if not status:
            raise FieldError("CallStatus", "is required with CallSid")
        final = CALL_FINAL.get(status)
        return Receipt("voice", str(params["CallSid"]), status, final,
                       f"call {status}" if final == "undelivered" else None)
    raise FieldError("MessageSid", "a status callback names MessageSid or CallSid")


APPLY = sa.text("""
update notifications set receipt = :receipt, receipt_at = :now, receipt_error = :error
where provider_id = :sid and channel = :channel and status in ('sent', 'bundled')
  and receipt is null
""")


def apply(session: Session, r: Receipt, now: datetime) -> int:
    """Record a final status on the rows sent under ``r.sid``; returns rows changed."""
    if r.receipt is None:
        return 0
    result = session.execute(APPLY, {"receipt": r.receipt, "now": now, "error": r.error,
                                     "sid": r.sid, "channel": r.channel})
    changed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    level = logging.WARNING if r.receipt == "undelivered" else logging.INFO
    log.log(level, "%s %s: %s (%s)%s", r.channel, r.sid, r.receipt, r.status,
            f" - {r.error}" if r.error else "")
    return changed


def callback_url(public_url: str | None) -> str | None:
    """Where Twilio should report, or None without a public URL (it could not reach us)."""
    return f"{public_url.rstrip('/')}{STATUS_PATH}" if public_url else None
