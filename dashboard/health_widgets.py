"""Pure helpers of the Health scores page (pages/health.py): the table as shown and as
CSV, the alerts-behind frame, band colours. No widgets, no SQL."""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from core.health.rules import BAND_COLORS
from dashboard.ui import fmt_time

TREND_DAYS = 14
TREND = f"Last {TREND_DAYS} days"
FACTORS = {"open": "Open alerts", "breaches": "SLA breaches", "mttr": "MTTR vs target",
           "recurrence": "Recurrence"}


NO_DATA = "—"  # what a cell with nothing to measure shows (st.dataframe's placeholder)


def pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def scores_display(rows: list[dict[str, Any]], trends: dict[str, list[float]],
                   label: str) -> pd.DataFrame:
    """One row per service/device in the order given (worst first), as the table shows
    it: score, band, the daily scores for the sparkline, the factors and their penalties."""
    return pd.DataFrame({
        label: [r["entity"] for r in rows],
        "Score": [r["score"] for r in rows],
        "Band": [r["band"] for r in rows],
        TREND: [trends.get(r["entity"], []) for r in rows],
        "Open": [r["open"] for r in rows],
        "Alerts": [r["alerts"] for r in rows],
        "Breached %": [pct(r["breach_share"]) for r in rows],
        "MTTR / target": [r["mttr_ratio"] for r in rows],
        "Recurrence %": [pct(r["recurrence_share"]) for r in rows],
        # + 0.0: a penalty computed as -0.0 shows as 0.0, never "−0.0"
        **{f"− {name}": [(r["penalties"][k] or 0) + 0.0 for r in rows]
           for k, name in FACTORS.items()},
    }, columns=[label, "Score", "Band", TREND, "Open", "Alerts", "Breached %",
                "MTTR / target", "Recurrence %", *(f"− {n}" for n in FACTORS.values())])


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table shown, as CSV; the sparkline column as its daily scores joined by spaces."""
    out = df.copy()
    out[TREND] = [" ".join(f"{v:g}" for v in series) for series in df[TREND]]
    return out.to_csv(index=False).encode()


def band_css(value: str) -> str:
    color = BAND_COLORS.get(value)
    return f"background-color: {color}; color: #ffffff" if color else ""


def behind_display(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame({
        "ID": [r["id"] for r in rows], "Severity": [r["severity"] for r in rows],
        "State": [r["state"] for r in rows], "Why": [r["why"] for r in rows],
        "Summary": [r["summary"] for r in rows], "Service": [r["service"] for r in rows],
        "Device": [r["device_id"] for r in rows],
        "Created": [fmt_time(r["created_at"], tz) for r in rows],
    }, columns=["ID", "Severity", "State", "Why", "Summary", "Service", "Device", "Created"])
