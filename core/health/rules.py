"""Health score, pure: 0-100 per service or device from the facts of a window.

``score = 100 - (open + breaches + mttr + recurrence)``, each penalty capped, clamped to
0-100 and rounded to one decimal; the band is read from the rounded score (docs/HEALTH.md
explains every weight and works an example):

- **open pressure** (cap 40): the alerts open at the end of the window, weighted by
  severity (critical 25, high 10, medium 4, low 1, info 0) into ``W``, with diminishing
  returns ``40 * W / (W + 50)``: two open criticals cost half the cap, twenty cost 36.
- **SLA breaches** (cap 25): the share of the window's alerts whose TTA or TTR clock ran
  past its target, ``25 * min(1, 2 * share)``: full at half of them breached.
- **MTTR against target** (cap 20): the mean over the window's resolved alerts of
  ``ttr / ttr_target``; only the part above 1 costs, ``20 * min(1, ratio - 1)``: full at
  twice the target on average.
- **recurrence** (cap 15): the share of the window's alerts that came back - reopened,
  flapping, or a repeat of a fingerprint already raised in the window -
  ``15 * min(1, 2 * share)``.

A quiet service (no open alerts, no alerts in the window) scores 100. The caps add up to
100, so a service on fire on every count scores 0, and open pressure alone cannot sink a
service below 60 (Fair): it takes trouble on two fronts to land in Critical.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from core.errors import FieldError
from core.severity import SEVERITIES

SEVERITY_WEIGHTS: dict[str, int] = {"critical": 25, "high": 10, "medium": 4, "low": 1, "info": 0}
OPEN_CAP, OPEN_HALF = 40.0, 50.0
BREACH_CAP, BREACH_FULL_SHARE = 25.0, 0.5
MTTR_CAP, MTTR_FULL_EXCESS = 20.0, 1.0
RECURRENCE_CAP, RECURRENCE_FULL_SHARE = 15.0, 0.5
BANDS: tuple[tuple[float, str], ...] = (
    (90.0, "Excellent"), (75.0, "Good"), (60.0, "Fair"), (40.0, "Poor"), (0.0, "Critical"))
MAX_WINDOW = timedelta(days=90)
_WINDOW = re.compile(r"^\s*(\d{1,4})\s*([hd])\s*$")
BAND_COLORS = {"Excellent": "#1b5e20", "Good": "#558b2f", "Fair": "#f9a825",
               "Poor": "#c43e00", "Critical": "#b71c1c"}


@dataclass(frozen=True)
class HealthInputs:
    """What the score is computed from (``core.health.store`` gathers it in SQL)."""

    open_by_severity: dict[str, int] = field(default_factory=dict)
    alerts: int = 0            # alerts created in the window
    breaches: int = 0          # ... whose TTA or TTR clock ran past its target
    resolved: int = 0          # ... resolved (the MTTR ratio is their mean)
    mttr_ratio: float | None = None  # mean of ttr / ttr_target over the resolved ones
    recurring: int = 0         # ... reopened, flapping, or repeating a fingerprint


@dataclass(frozen=True)
class Health:
    score: float
    band: str
    penalties: dict[str, float]  # open, breaches, mttr, recurrence (rounded to 0.01)
    open_weight: int
    breach_share: float | None
    recurrence_share: float | None
    mttr_ratio: float | None


def open_weight(open_by_severity: dict[str, int]) -> int:
    return sum(SEVERITY_WEIGHTS[s] * int(open_by_severity.get(s, 0)) for s in SEVERITIES)


def open_penalty(weight: float) -> float:
    return OPEN_CAP * weight / (weight + OPEN_HALF) if weight > 0 else 0.0


def share_penalty(part: int, whole: int, cap: float, full_share: float) -> float:
    if whole <= 0 or part <= 0:
        return 0.0
    return cap * min(1.0, (part / whole) / full_share)


def mttr_penalty(ratio: float | None) -> float:
    if ratio is None or ratio <= 1.0:
        return 0.0
    return MTTR_CAP * min(1.0, (ratio - 1.0) / MTTR_FULL_EXCESS)


def band(score: float) -> str:
    for floor, name in BANDS:
        if score >= floor:
            return name
    return BANDS[-1][1]


def clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def health(inputs: HealthInputs) -> Health:
    """The score, its band and the penalty of each factor."""
    weight = open_weight(inputs.open_by_severity)
    penalties = {
        "open": open_penalty(weight),
        "breaches": share_penalty(inputs.breaches, inputs.alerts, BREACH_CAP, BREACH_FULL_SHARE),
        "mttr": mttr_penalty(inputs.mttr_ratio if inputs.resolved else None),
        "recurrence": share_penalty(inputs.recurring, inputs.alerts, RECURRENCE_CAP,
                                    RECURRENCE_FULL_SHARE),
    }
    score = round(clamp(100.0 - sum(penalties.values())), 1)
    return Health(
        score=score, band=band(score),
        penalties={k: round(v, 2) for k, v in penalties.items()},
        open_weight=weight,
        breach_share=_share(inputs.breaches, inputs.alerts),
        recurrence_share=_share(inputs.recurring, inputs.alerts),
        mttr_ratio=None if inputs.mttr_ratio is None or not inputs.resolved
        else round(inputs.mttr_ratio, 3))


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def parse_window(value: str | None, field_name: str = "window") -> timedelta:
    """``"7d"``, ``"24h"``: 1 hour to 90 days, or FieldError naming the field."""
    match = _WINDOW.match(value or "")
    if not match:
        raise FieldError(field_name, f"{value!r} is not a window such as 24h, 7d or 30d")
    amount, unit = int(match.group(1)), match.group(2)
    window = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
    if not timedelta(hours=1) <= window <= MAX_WINDOW:
        raise FieldError(field_name, "must be between 1h and 90d")
    return window
