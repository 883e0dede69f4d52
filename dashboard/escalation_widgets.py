"""Pure helpers of the Escalation page (pages/escalation.py): the line syntax of the
policy editor, policies / timelines / the delivery log as display frames, the failed-row
style. No widgets and no SQL here, so each piece is unit-testable.

Editor syntax, one tier per line: ``delay_minutes: target, target``, targets typed as
``console``, ``user:olga``, ``email:ops@example.com``, ``sms:+15551234567``, ``slack:noc``
(a named webhook, ALERTDESK_SLACK_WEBHOOK_NOC), ``webhook:crm`` (ALERTDESK_WEBHOOK_URL_CRM)
or ``webhook:https://…``, ``pagerduty:noc`` (ALERTDESK_PAGERDUTY_ROUTING_KEY_NOC).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from core.errors import FieldError
from dashboard.ui import fmt_time

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

FAILED_CSS = "background-color: #ffebee; color: #b71c1c"
TIER_LINE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*:\s*(.*?)\s*$")
TIMELINE_COLUMNS = ["Fired at", "Tier", "Repeat", "Target", "Channel", "Status", "Attempts",
                    "Delivered at", "Last error"]
LOG_COLUMNS = ["Time", "Channel", "Recipient", "Target", "Status", "Receipt", "Attempts",
               "Last error", "Provider id", "Reason", "Alert"]


# --- the editor's line syntax -----------------------------------------------------------

def _url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def parse_target(token: str, where: str) -> dict[str, Any]:
    """``kind:value`` -> a TARGET object (core/escalation/rules.py checks it further)."""
    kind, _, value = token.strip().partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "console" and not value:
        return {"type": "console"}
    if not value:
        raise FieldError(where, f"{token.strip()!r}: write kind:value, e.g. user:olga or slack:noc")
    shapes: dict[str, dict[str, Any]] = {
        "user": {"username": value}, "email": {"to": value}, "sms": {"to": value},
        "slack": {"webhook_url": value} if _url(value) else {"webhook": value},
        "webhook": {"url": value} if _url(value) else {"url_ref": value},
        "pagerduty": {"routing_key_ref": value},
    }
    if kind not in shapes:
        raise FieldError(where, f"unknown target kind {kind!r}; use {', '.join(shapes)} "
                                "or console")
    return {"type": kind, **shapes[kind]}


def parse_tiers(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Tier lines -> (tiers for the core, the line number of each tier)."""
    tiers: list[dict[str, Any]] = []
    lines: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = TIER_LINE.match(line)
        if m is None or not m.group(2):
            raise FieldError(f"tiers line {n}", "write delay_minutes: target, target "
                                                "(e.g. 5: user:olga, slack:noc)")
        targets = [parse_target(t, f"tiers line {n}") for t in m.group(2).split(",") if t.strip()]
        tiers.append({"delay_s": round(float(m.group(1)) * 60), "targets": targets})
        lines.append(n)
    return tiers, lines


def parse_labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, eq, value = line.partition("=")
        if not eq or not key.strip():
            raise FieldError(f"labels line {n}", "write key=value")
        out[key.strip()] = value.strip()
    return out


def explain(err: FieldError, tier_lines: list[int]) -> str:
    """The core's ``tiers[1].targets[0].to: ...`` named by the editor's line too."""
    m = re.match(r"tiers\[(\d+)\]", err.field)
    if m and int(m.group(1)) < len(tier_lines):
        return f"tiers line {tier_lines[int(m.group(1))]} ({err.field}): {err.message}"
    return str(err)


def policy_body(v: Mapping[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The editor's values -> the policy JSON (FieldError names a bad line)."""
    tiers, lines = parse_tiers(v["tiers"])
    every, times = int(v["repeat_every_min"]), int(v["repeat_times"])
    body = {
        "name": v["name"], "description": v["description"], "priority": int(v["priority"]),
        "enabled": bool(v["enabled"]),
        "match": {"severity": list(v["severity"]), "service": v["service"].strip() or None,
                  "labels": parse_labels(v["labels"])},
        "tiers": tiers,
        "repeat": {"every_s": every * 60, "times": times} if times else None,
        "ack_timeout_s": int(v["ack_timeout_min"]) * 60 or None,
        "severity_escalation": v.get("severity_escalation"),
        "renotify_after": v.get("renotify_after"),
        "threshold": ({"alerts": int(v["threshold_alerts"]),
                       "within_s": int(v["threshold_min"]) * 60}
                      if int(v.get("threshold_alerts") or 0) else None),
    }
    return body, lines


def editable(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A stored policy as the body a PUT takes (to toggle ``enabled``)."""
    keys = ("name", "description", "priority", "enabled", "match", "tiers", "repeat",
            "ack_timeout_s", "severity_escalation", "threshold", "renotify_after")
    return {k: policy[k] for k in keys}


def has_sealed(policy: Mapping[str, Any]) -> bool:
    """Secrets given in clear were sealed and come back masked: a PUT would lose them."""
    return any(k.endswith("_sealed") for t in policy["tiers"] for x in t["targets"] for k in x)


# --- policies as text ---------------------------------------------------------------------

def minutes(seconds: int) -> str:
    return f"{seconds / 60:g}"


def target_text(t: Mapping[str, Any]) -> str:
    kind = t.get("type", "?")
    value = (t.get("username") or t.get("to") or t.get("webhook") or t.get("url_ref")
             or t.get("routing_key_ref") or t.get("url") or t.get("webhook_url")
             or t.get("webhook_url_display") or t.get("url_display")
             or ("•••" if any(k.endswith("_sealed") for k in t) else ""))
    if kind == "user":
        return f"user {value}"
    return f"{kind}:{value}" if value else str(kind)


def tiers_text(tiers: list[Mapping[str, Any]]) -> str:
    """``0 min: console, slack:noc · 5 min: user olga``"""
    return " · ".join(f"{minutes(t['delay_s'])} min: "
                      + ", ".join(target_text(x) for x in t["targets"]) for t in tiers)


def tiers_lines(tiers: list[Mapping[str, Any]]) -> str:
    """The editor's form of a policy's tiers (the inverse of :func:`parse_tiers`)."""
    return "\n".join(f"{minutes(t['delay_s'])}: "
                     + ", ".join(target_text(x).replace("user ", "user:", 1)
                                 for x in t["targets"]) for t in tiers)


def match_text(match: Mapping[str, Any]) -> str:
    parts = []
    if match.get("severity"):
        parts.append("severity " + "/".join(match["severity"]))
    if match.get("service"):
        parts.append(f"service={match['service']}")
    parts += [f"{k}={v}" for k, v in (match.get("labels") or {}).items()]
    return ", ".join(parts) or "any alert"


def policies_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    rep = [r["repeat"] for r in rows]
    return pd.DataFrame({
        "ID": [r["id"] for r in rows], "Name": [r["name"] for r in rows],
        "Enabled": [bool(r["enabled"]) for r in rows], "Priority": [r["priority"] for r in rows],
        "Match": [match_text(r["match"]) for r in rows],
        "Tiers": [tiers_text(r["tiers"]) for r in rows],
        "Repeat": [f"every {minutes(p['every_s'])} min × {p['times']}" if p else "no"
                   for p in rep],
        "Ack timeout": [f"{minutes(r['ack_timeout_s'])} min" if r["ack_timeout_s"] else "off"
                        for r in rows],
        "Escalating": [r.get("active_escalations", 0) for r in rows],
        "Description": [r["description"] or "" for r in rows],
    }, columns=["ID", "Name", "Enabled", "Priority", "Match", "Tiers", "Repeat", "Ack timeout",
                "Escalating", "Description"])


# --- the alert's timeline and the delivery log ------------------------------------------

def _notification_row(n: Mapping[str, Any], tz: ZoneInfo, fired: datetime | None, tier: Any,
               repeat: Any) -> dict[str, Any]:
    return {"Fired at": fmt_time(fired or n["created_at"], tz), "Tier": tier, "Repeat": repeat,
            "Target": n["recipient"], "Channel": n["channel"], "Status": n["status"],
            "Attempts": n["attempts"], "Delivered at": fmt_time(n["sent_at"], tz),
            "Last error": n["last_error"] or ""}


def _step_rows(step: Mapping[str, Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    meta = step["metadata"] or {}
    tier, repeat, at = str(meta.get("tier", "")), str(meta.get("repeat", "")), step["at"]
    base = {"Fired at": fmt_time(at, tz), "Tier": tier, "Repeat": repeat, "Channel": "",
            "Attempts": 0, "Delivered at": ""}
    if step["kind"] != "escalation":
        return [{**base, "Tier": "", "Repeat": "", "Target": step["note"] or "",
                 "Status": step["kind"], "Last error": ""}]
    rows = [_notification_row(n, tz, at, tier, repeat) for n in step["notifications"]]
    rows += [{**base, "Target": s.partition(":")[0], "Status": "skipped",
              "Last error": s.partition(":")[2].strip()} for s in meta.get("skipped", [])]
    if not rows:  # held back (flapping), or queued by an earlier run of the same step
        damped = bool(meta.get("damped"))
        rows.append({**base, "Target": ", ".join(meta.get("targets", [])),
                     "Status": "held back" if damped else "queued earlier",
                     "Last error": (step["note"] or "") if damped else ""})
    return rows


def timeline_frame(timeline: Mapping[str, Any], tz: ZoneInfo) -> pd.DataFrame:
    """One row per notification of each fired step (plus skipped targets, severity
    raises, and any outbox row of the alert no step names), oldest first."""
    rows = [r for step in timeline["steps"] for r in _step_rows(step, tz)]
    named = {n["id"] for step in timeline["steps"] for n in step["notifications"]}
    rows += [_notification_row(n, tz, None, "", "") for n in timeline["notifications"]
             if n["id"] not in named]
    return pd.DataFrame(rows, columns=TIMELINE_COLUMNS)


def log_frame(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    """Delivery-log entries as shown (targets masked by the core), newest first."""
    return pd.DataFrame({
        "Time": [fmt_time(r["created_at"], tz) for r in rows],
        "Channel": [r["channel"] for r in rows], "Recipient": [r["recipient"] for r in rows],
        "Target": [target_text(r["target"]) for r in rows],
        "Status": [r["status"] for r in rows], "Receipt": [receipt_text(r) for r in rows],
        "Attempts": [r["attempts"] for r in rows],
        "Last error": [r["last_error"] or "" for r in rows],
        "Provider id": [r["provider_id"] or "" for r in rows],
        "Reason": [r["reason"] or "" for r in rows],
        "Alert": ["" if r["alert_id"] is None else str(r["alert_id"]) for r in rows],
    }, columns=LOG_COLUMNS)


def receipt_text(r: Mapping[str, Any]) -> str:
    """What the provider reported after accepting it (Twilio: SMS delivered, call answered)."""
    receipt = r.get("receipt")
    if not receipt:
        return ""
    return f"{receipt}: {r['receipt_error']}" if r.get("receipt_error") else str(receipt)


def style_failed(df: pd.DataFrame) -> Styler:
    """Failed or undelivered deliveries in red, the whole row."""
    def css(row: pd.Series) -> list[str]:
        bad = row["Status"] == "failed" or str(row.get("Receipt", "")).startswith("undelivered")
        return [FAILED_CSS if bad else ""] * len(row)
    return df.style.apply(css, axis=1)


def test_target(channel: str, value: str) -> dict[str, Any]:
    """The target of a test send from one typed value (console needs none)."""
    value = value.strip()
    if channel in ("email", "sms"):
        return {"to": value}
    if channel == "slack":
        return {"webhook_url": value} if _url(value) else {"webhook": value}
    if channel == "webhook":
        return {"url": value} if _url(value) else {"url_ref": value}
    if channel == "pagerduty":
        return {"routing_key_ref": value}
    return {}
