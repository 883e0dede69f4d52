"""Contact methods and notification rules, pure (PagerDuty's model, GoAlert's delays).

- A contact method is a way to reach one person: ``sms`` and ``voice`` (an E.164 phone
  number), ``email``, or ``slack`` (a Slack member id such as ``U024BE7LH``: a direct
  message from the Slack app, ALERTDESK_SLACK_BOT_TOKEN; also who the person is in Slack
  for the two-way integration).
- A notification rule says "for <urgency> pages, use <contact method> <delay> minutes after
  the page starts". Urgency follows severity: critical and high are **high** urgency,
  medium, low and info are **low**.
- A person with no rule for the page's urgency is reached as before rules existed: SMS to
  their phone for critical, e-mail otherwise, whichever they have (core/escalation/fire.py).
- Every rule of the urgency makes one notification, due at its delay; an acknowledgement
  cancels those not yet sent (the outbox drops a page nobody needs any more).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import FieldError

TYPES = ("sms", "voice", "email", "slack")
NOTIFY_TYPES = ("sms", "voice", "email", "slack")    # what a rule may use
URGENCIES = ("high", "low")
HIGH_URGENCY = frozenset({"critical", "high"})
MAX_DELAY_S = 24 * 3600
MAX_METHODS, MAX_RULES = 20, 20
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLACK_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class ContactMethod:
    type: str
    address: str
    label: str = ""


@dataclass(frozen=True)
class Rule:
    urgency: str
    contact_method_id: int
    delay_s: int


@dataclass(frozen=True)
class Reachable:
    """One active person as escalation sees them: the profile's e-mail and phone, their
    contact methods (id -> method) and their notification rules."""

    email: str | None = None
    phone: str | None = None
    methods: Mapping[int, ContactMethod] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    def first(self, kind: str) -> str | None:
        """The first contact method of ``kind`` (sms, email), else the profile's own."""
        found = next((m.address for m in self.methods.values() if m.type == kind), None)
        return found or {"email": self.email, "sms": self.phone}.get(kind)


def urgency_of(severity: str) -> str:
    return "high" if severity in HIGH_URGENCY else "low"


def parse_method(body: object) -> ContactMethod:
    """``{"type", "address", "label"?}`` -> ContactMethod, or FieldError naming the field."""
    if not isinstance(body, Mapping):
        raise FieldError("body", "must be an object with type and address")
    for key in body:
        if key not in ("type", "address", "label"):
            raise FieldError(str(key) or '""', "unknown field")   # '""': the empty key
    kind = body.get("type")
    if kind not in TYPES:
        raise FieldError("type", f"must be one of {', '.join(TYPES)}")
    address = body.get("address")
    if not isinstance(address, str) or not address.strip():
        raise FieldError("address", "is required")
    address = address.strip()
    if kind in ("sms", "voice") and not PHONE_RE.match(address):
        raise FieldError("address", "must be an E.164 phone number, e.g. +15551234567")
    if kind == "email" and (not EMAIL_RE.match(address) or len(address) > 254):
        raise FieldError("address", "must be an email address")
    if kind == "slack" and not SLACK_RE.match(address):
        raise FieldError("address", "must be a Slack member id such as U024BE7LH")
    label = body.get("label") or ""
    if not isinstance(label, str) or len(label) > 100:
        raise FieldError("label", "must be text of at most 100 characters")
    return ContactMethod(str(kind), address.lower() if kind == "email" else address, label.strip())


def parse_rules(body: object, methods: Mapping[int, str]) -> list[Rule]:
    """``[{"urgency", "contact_method_id", "delay_s"}, ...]`` -> rules; ``methods`` maps the
    person's contact method ids to their types. FieldError names ``rules[i].<field>``."""
    items = body.get("rules") if isinstance(body, Mapping) else body
    if not isinstance(items, list):
        raise FieldError("rules", "must be a list of rules")
    if len(items) > MAX_RULES:
        raise FieldError("rules", f"at most {MAX_RULES} rules")
    out: list[Rule] = []
    for i, item in enumerate(items):
        where = f"rules[{i}]"
        if not isinstance(item, Mapping):
            raise FieldError(where, "must be an object with urgency, contact_method_id, delay_s")
        urgency = item.get("urgency")
        if urgency not in URGENCIES:
            raise FieldError(f"{where}.urgency", "must be high or low")
        cm = item.get("contact_method_id")
        if isinstance(cm, bool) or not isinstance(cm, int) or cm not in methods:
            raise FieldError(f"{where}.contact_method_id", "must be one of this user's contact "
                                                           "methods")
        if methods[cm] not in NOTIFY_TYPES:
            raise FieldError(f"{where}.contact_method_id",
                             f"a {methods[cm]} contact cannot be notified; use sms, voice or email")
        delay = item.get("delay_s", 0)
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= MAX_DELAY_S:
            raise FieldError(f"{where}.delay_s", f"must be 0 to {MAX_DELAY_S} seconds")
        rule = Rule(str(urgency), cm, delay)
        if rule in out:
            raise FieldError(where, "repeats an earlier rule")
        out.append(rule)
    return sorted(out, key=lambda r: (URGENCIES.index(r.urgency), r.delay_s, r.contact_method_id))


def plan(severity: str, rules: list[Rule], methods: Mapping[int, ContactMethod]
         ) -> list[tuple[int, ContactMethod, int]]:
    """The person's page for ``severity``: (contact method id, method, delay_s) per rule of
    its urgency, in delay order; empty when they have no rule for it."""
    urgency = urgency_of(severity)
    return [(r.contact_method_id, methods[r.contact_method_id], r.delay_s) for r in rules
            if r.urgency == urgency and r.contact_method_id in methods]


def method_json(method_id: int, m: ContactMethod) -> dict[str, Any]:
    return {"id": method_id, "type": m.type, "address": m.address, "label": m.label}
