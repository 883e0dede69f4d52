"""Escalation policies and tier math, pure: no database, no clock (``now`` is a parameter).

A policy matches alerts (severity, service, labels) and lists tiers: tier ``i`` falls due at
``started_at + tiers[i].delay_s``; then the last tier repeats every ``repeat.every_s`` up to
``repeat.times`` times, then the escalation is done. A human response (ack) before a step's
time means it never falls due. The policy is frozen onto the alert when its escalation
starts (``Policy.to_json`` is the snapshot): edits reach only escalations started later.
Optional: ``threshold`` (page an incident only once N of its alerts arrived within M
seconds, :func:`threshold_met`), ``ack_timeout_s`` (forgotten acks, :func:`ack_expired`)
and ``severity_escalation`` ``{"after_s", "steps"}`` (:func:`severity_after`). Steps:
``tier`` 1-based, ``repeat`` 0 for the tier's first firing, 1..times for the repeats of
the last tier.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core import severity as sev
from core.errors import FieldError
from core.notify.vault import validate_target
from core.oncall.parse import schedule_target

# Channels go as given; a user target resolves to email/phone, a schedule to who is on call.
CHANNELS = ("email", "slack", "webhook", "sms", "voice", "pagerduty", "console")
TARGET_TYPES = ("user", "schedule", *CHANNELS)
# Fields a target may carry. Secrets go by name (``webhook``, ``routing_key_ref``,
# ``url_ref``: read from the environment) or in clear, then sealed before storing
# (``<field>_sealed``, core/notify/vault.py); the channel rules are the outbox's own.
FIELDS = {"user": ("username",), "email": ("to",), "sms": ("to",), "voice": ("to",),
          "console": (),
          "slack": ("webhook_url", "webhook", "channel"), "webhook": ("url", "url_ref", "secret"),
          "pagerduty": ("routing_key", "routing_key_ref")}
SEALED = ("webhook_url_sealed", "webhook_url_display", "url_sealed", "url_display",
          "routing_key_sealed")
KEYS = {"name", "match", "tiers", "repeat", "ack_timeout_s", "severity_escalation", "threshold",
        "renotify_after",
        "priority", "enabled", "description"}
MAX_TIERS, MAX_TARGETS, MAX_REPEATS, MAX_DELAY_S = 10, 20, 100, 7 * 24 * 3600


@dataclass(frozen=True)
class Match:
    severity: tuple[str, ...] = ()   # empty: any severity
    service: str | None = None       # None: any service
    labels: Mapping[str, str] = field(default_factory=dict)  # all must be equal


@dataclass(frozen=True)
class Tier:
    delay_s: int
    targets: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Repeat:
    every_s: int
    times: int


@dataclass(frozen=True)
class SeverityRule:
    after_s: int
    steps: int = 1  # levels raised


@dataclass(frozen=True)
class Threshold:
    """Page an incident only once ``alerts`` of its alerts arrived within ``within_s``."""

    alerts: int
    within_s: int


@dataclass(frozen=True)
class Policy:
    name: str
    tiers: tuple[Tier, ...]
    match: Match = Match()
    repeat: Repeat | None = None
    ack_timeout_s: int | None = None
    severity_escalation: SeverityRule | None = None
    threshold: Threshold | None = None
    renotify_after: int | None = None   # force a page again after N more signals, unacked
    priority: int = 100
    enabled: bool = True
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        """The stored form (and the frozen snapshot): what :func:`parse_policy` reads back."""
        return dict(json.loads(json.dumps(asdict(self))))


@dataclass(frozen=True)
class Step:
    """One firing: ``tier`` (1-based) to its targets, ``repeat`` 0 or the repeat number."""

    tier: int
    repeat: int
    due_at: datetime
    targets: tuple[Mapping[str, Any], ...]


def parse_policy(body: object) -> Policy:
    """A checked Policy from JSON, or FieldError naming the first bad field
    (``tiers[1].delay_s``, ``tiers[0].targets[2].to``, ``repeat.every_s`` ...)."""
    if not isinstance(body, Mapping):
        raise FieldError("body", "must be an object")
    for key in body:
        if key not in KEYS:
            raise FieldError(str(key) or '""', "unknown field")   # '""': the empty key
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise FieldError("name", "is required (1-100 characters)")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise FieldError("description", "must be a string")
    if not isinstance(body.get("enabled", True), bool):
        raise FieldError("enabled", "must be true or false")
    return Policy(
        name=name.strip(), description=description, match=_match(body.get("match")),
        tiers=_tiers(body.get("tiers")), repeat=_repeat(body.get("repeat")),
        ack_timeout_s=_opt_seconds(body.get("ack_timeout_s"), "ack_timeout_s"),
        severity_escalation=_severity_rule(body.get("severity_escalation")),
        threshold=_threshold(body.get("threshold")),
        renotify_after=(None if body.get("renotify_after") is None else
                        _int(body.get("renotify_after"), "renotify_after", 2, 1_000_000)),
        priority=_int(body.get("priority", 100), "priority", 0, 1_000_000),
        enabled=bool(body.get("enabled", True)))


def _int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(name, "must be a whole number")
    if not low <= value <= high:
        raise FieldError(name, f"must be between {low} and {high}")
    return value


def _opt_seconds(value: object, name: str) -> int | None:
    return None if value is None else _int(value, name, 1, MAX_DELAY_S)


def _match(value: object) -> Match:
    if value is None:
        return Match()
    if not isinstance(value, Mapping):
        raise FieldError("match", "must be an object with severity, service, labels")
    sevs = value.get("severity") or []
    if isinstance(sevs, str):
        sevs = [sevs]
    if not isinstance(sevs, list):
        raise FieldError("match.severity", "must be a list of severities")
    severities = tuple(sev.normalize(s, f"match.severity[{i}]") for i, s in enumerate(sevs))
    service = value.get("service")
    if service is not None and not isinstance(service, str):
        raise FieldError("match.service", "must be a string or null")
    labels = value.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise FieldError("match.labels", "must be an object of string values")
    for key, item in labels.items():
        if not isinstance(item, str):
            raise FieldError(f"match.labels.{key}", "must be a string")
    return Match(tuple(dict.fromkeys(severities)), service or None, dict(labels))


def _tiers(value: object) -> tuple[Tier, ...]:
    if not isinstance(value, list) or not value:
        raise FieldError("tiers", "must be a list of at least one tier")
    if len(value) > MAX_TIERS:
        raise FieldError("tiers", f"at most {MAX_TIERS} tiers")
    tiers: list[Tier] = []
    for i, raw in enumerate(value):
        if not isinstance(raw, Mapping):
            raise FieldError(f"tiers[{i}]", "must be an object with delay_s and targets")
        delay = _int(raw.get("delay_s"), f"tiers[{i}].delay_s", 0, MAX_DELAY_S)
        if tiers and delay <= tiers[-1].delay_s:
            raise FieldError(f"tiers[{i}].delay_s", f"must be greater than tiers[{i - 1}].delay_s")
        targets = raw.get("targets")
        if not isinstance(targets, list) or not targets:
            raise FieldError(f"tiers[{i}].targets", "must list at least one target")
        if len(targets) > MAX_TARGETS:
            raise FieldError(f"tiers[{i}].targets", f"at most {MAX_TARGETS} targets")
        tiers.append(Tier(delay, tuple(_target(t, f"tiers[{i}].targets[{j}]")
                                       for j, t in enumerate(targets))))
    return tuple(tiers)


def _target(value: object, where: str) -> dict[str, Any]:
    """One TARGET (a schedule resolves to whoever is on call when its tier fires)."""
    if not isinstance(value, Mapping):
        raise FieldError(where, "must be an object with a type")
    kind = value.get("type")
    if kind not in TARGET_TYPES:
        raise FieldError(f"{where}.type", f"must be one of {', '.join(TARGET_TYPES)}")
    if kind == "schedule":  # the person on call when the tier fires (core/oncall/rules.py)
        return schedule_target(value, where)
    out: dict[str, Any] = {"type": kind}
    for key, item in value.items():
        if key == "type":
            continue
        if key not in FIELDS[kind] and key not in SEALED:
            raise FieldError(f"{where}.{key}", f"unknown field for a {kind} target")
        if not isinstance(item, str) or not item.strip():
            raise FieldError(f"{where}.{key}", "must be a non-empty string")
        out[key] = item.strip().lower() if key == "username" else item.strip()
    if kind == "user" and "username" not in out:
        raise FieldError(f"{where}.username", "is required")
    if kind != "user" and not any(k in out for k in SEALED):  # sealed: checked when stored
        try:
            validate_target(kind, out)
        except FieldError as err:
            raise FieldError(f"{where}.{err.field.removeprefix('target.')}", err.message) from None
    return out


def _repeat(value: object) -> Repeat | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FieldError("repeat", "must be an object with every_s and times, or null")
    every = _int(value.get("every_s"), "repeat.every_s", 60, MAX_DELAY_S)
    times = _int(value.get("times"), "repeat.times", 0, MAX_REPEATS)
    return Repeat(every, times) if times else None


def _severity_rule(value: object) -> SeverityRule | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FieldError("severity_escalation", "must be an object with after_s and steps, or null")
    return SeverityRule(_int(value.get("after_s"), "severity_escalation.after_s", 1, MAX_DELAY_S),
                        _int(value.get("steps", 1), "severity_escalation.steps", 1,
                             len(sev.SEVERITIES) - 1))


def _threshold(value: object) -> Threshold | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise FieldError("threshold", "must be an object with alerts and within_s, or null")
    return Threshold(_int(value.get("alerts"), "threshold.alerts", 2, 10_000),
                     _int(value.get("within_s"), "threshold.within_s", 60, 24 * 3600))


def threshold_met(threshold: Threshold | None, arrivals: list[datetime], now: datetime) -> bool:
    """Grafana OnCall's "notify if at least N alerts in M minutes": ``arrivals`` are the
    incident's alerts' creation times; no threshold is always met.
    core.escalation.incident.start_sql counts the same in SQL."""
    if threshold is None:
        return True
    since = now - timedelta(seconds=threshold.within_s)
    return sum(1 for t in arrivals if since < t <= now) >= threshold.alerts


def matches(policy: Policy, alert: Mapping[str, Any]) -> bool:
    """Does ``alert`` (severity, service, labels) fall under ``policy``? Enabled policies
    only; each given criterion must hold (empty severity list / null service: any).
    core.escalation.jobs.MATCH_SQL is the same predicate in SQL."""
    m = policy.match
    if not policy.enabled or (m.severity and alert.get("severity") not in m.severity):
        return False
    if m.service is not None and alert.get("service") != m.service:
        return False
    labels = alert.get("labels") or {}
    return all(labels.get(k) == v for k, v in m.labels.items())


def specificity(policy: Policy) -> int:
    """How narrow a policy's match is: 1 for a service, 1 per label. Among policies of
    equal priority the most specific wins, so a policy for one service beats the default
    for its severity without anyone having to think about priorities.
    core.escalation.jobs.SPECIFICITY is the same sum in SQL."""
    return (1 if policy.match.service is not None else 0) + len(policy.match.labels)


def order_key(policy: Policy, position: int) -> tuple[int, int, int]:
    """Evaluation order: priority (low first), then specificity (high first), then id
    (``position`` in a list ordered by id)."""
    return (policy.priority, -specificity(policy), position)


def first_match(policies: list[Policy], alert: Mapping[str, Any]) -> Policy | None:
    """The matching policy first in :func:`order_key` order (``policies`` listed by id)."""
    ranked = sorted(((order_key(p, i), p) for i, p in enumerate(policies) if matches(p, alert)),
                    key=lambda kv: kv[0])
    return ranked[0][1] if ranked else None


def due_at(policy: Policy, started_at: datetime, tiers_done: int,
           repeats_done: int) -> datetime | None:
    """When the next step falls due by the schedule; None once everything is spent."""
    if tiers_done < len(policy.tiers):
        return started_at + timedelta(seconds=policy.tiers[tiers_done].delay_s)
    rep = policy.repeat
    if rep is None or repeats_done >= rep.times:
        return None
    last = policy.tiers[-1].delay_s
    return started_at + timedelta(seconds=last + (repeats_done + 1) * rep.every_s)


def plan(policy: Policy, started_at: datetime, tiers_done: int, repeats_done: int,
         now: datetime, *, acked_at: datetime | None = None, force: bool = False) -> list[Step]:
    """The steps due at ``now``, in order. Nothing once acknowledged (``acked_at <= now``).
    Tiers that fell due while no worker ran all fire (each reaches other people); missed
    repeats collapse into the latest one. ``force`` (SLA breach, ML flag): the next step
    is due now even if its time has not come."""
    if acked_at is not None and acked_at <= now:
        return []
    steps: list[Step] = []
    tiers, reps = tiers_done, repeats_done
    while (at := due_at(policy, started_at, tiers, reps)) is not None:
        if at > now and not (force and not steps):
            break
        if tiers < len(policy.tiers):
            tiers += 1
            steps.append(Step(tiers, 0, at, policy.tiers[tiers - 1].targets))
            continue
        reps += 1
        while (more := due_at(policy, started_at, tiers, reps)) is not None and more <= now:
            reps, at = reps + 1, more
        steps.append(Step(tiers, reps, at, policy.tiers[-1].targets))
    return steps


def next_due(policy: Policy, started_at: datetime, tiers_done: int, repeats_done: int,
             now: datetime, *, force: bool = False) -> tuple[int, int, datetime | None]:
    """Progress after firing ``plan(...)``: (tiers_done, repeats_done, next due time or
    None when all tiers and repeats are spent)."""
    for step in plan(policy, started_at, tiers_done, repeats_done, now, force=force):
        tiers_done, repeats_done = step.tier, step.repeat
    return tiers_done, repeats_done, due_at(policy, started_at, tiers_done, repeats_done)


def severity_after(severity: str, rule: SeverityRule | None, unacked_for: timedelta) -> str:
    """The severity an alert unacknowledged for ``unacked_for`` should have: raised
    ``rule.steps`` levels each time another ``rule.after_s`` has passed (capped at critical)."""
    if rule is None:
        return severity
    raises = int(unacked_for.total_seconds() // rule.after_s)
    rank = sev.RANK[severity] - rule.steps * raises
    return sev.SEVERITIES[max(rank, 1) - 1]


def ack_expired(ack_at: datetime | None, timeout_s: int | None, now: datetime) -> bool:
    """A forgotten ack: acknowledged at ``ack_at`` and ``timeout_s`` passed (exactly at
    the limit counts); never when the policy has no timeout."""
    if ack_at is None or timeout_s is None:
        return False
    return ack_at + timedelta(seconds=timeout_s) <= now
