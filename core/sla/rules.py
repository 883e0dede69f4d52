"""SLA rules, pure: targets per severity (with per-service overrides) and live status.

TTA is the time to the first human response (acknowledge, investigate or resolve by a
person); TTR is the time to resolution. Both targets are frozen on the alert when it opens,
so editing a policy changes new alerts, never the history already measured.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

AT_RISK_FRACTION = 0.20  # less than 20 % of the target left -> at risk

DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "critical": (5 * 60, 30 * 60),
    "high": (15 * 60, 2 * 3600),
    "medium": (3600, 8 * 3600),
    "low": (4 * 3600, 24 * 3600),
    "info": (24 * 3600, 7 * 24 * 3600),
}


@dataclass(frozen=True)
class Targets:
    tta_s: int
    ttr_s: int


def pick_targets(policies: dict[tuple[str, str | None], Targets], severity: str,
                 service: str | None) -> Targets:
    """Service override first, then the severity default, then the built-in default."""
    found = policies.get((severity, service or None)) if service else None
    found = found or policies.get((severity, None))
    if found is None:
        tta, ttr = DEFAULT_TARGETS[severity]
        found = Targets(tta, ttr)
    return found


@dataclass(frozen=True)
class SlaStatus:
    tta_target_s: int
    ttr_target_s: int
    tta_s: float | None
    ttr_s: float | None
    tta_remaining_s: float | None
    ttr_remaining_s: float | None
    tta_breached: bool
    ttr_breached: bool
    at_risk: bool

    @property
    def label(self) -> str:
        if self.tta_breached or self.ttr_breached:
            return "breached"
        return "at risk" if self.at_risk else "ok"


def status(created_at: datetime, acknowledged_at: datetime | None,
           resolved_at: datetime | None, tta_target_s: int, ttr_target_s: int,
           now: datetime) -> SlaStatus:
    """SLA status of one alert at ``now``.

    The TTA clock stops at the first human response, or at resolution when the source
    resolved the alert before anybody had to respond; the TTR clock stops at resolution.
    A clock still running past its target is breached now, not only after the fact.
    Remaining times are None once a clock has stopped.
    """
    tta_stop = acknowledged_at or resolved_at
    age = (now - created_at).total_seconds()
    tta_left = None if tta_stop is not None else tta_target_s - age
    ttr_left = None if resolved_at is not None else ttr_target_s - age
    tta_breached = _elapsed(created_at, tta_stop, age) > tta_target_s
    ttr_breached = _elapsed(created_at, resolved_at, age) > ttr_target_s
    breached = tta_breached or ttr_breached
    at_risk = not breached and (_risky(tta_left, tta_target_s) or _risky(ttr_left, ttr_target_s))
    tta = None if acknowledged_at is None else (acknowledged_at - created_at).total_seconds()
    ttr = None if resolved_at is None else (resolved_at - created_at).total_seconds()
    return SlaStatus(tta_target_s, ttr_target_s, tta, ttr, tta_left, ttr_left,
                     tta_breached, ttr_breached, at_risk)


def _elapsed(start: datetime, end: datetime | None, age: float) -> float:
    return age if end is None else (end - start).total_seconds()


def _risky(left: float | None, target: int) -> bool:
    return left is not None and 0 <= left < AT_RISK_FRACTION * target


def due_times(created_at: datetime, targets: Targets) -> tuple[datetime, datetime]:
    return (created_at + timedelta(seconds=targets.tta_s),
            created_at + timedelta(seconds=targets.ttr_s))
