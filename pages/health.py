"""Health scores: 0-100 per service or device over a window (formula: core.health.rules,
docs/HEALTH.md), worst first, with band colours, a 14-day sparkline per row, and a
drill-down into one service/device: its factor breakdown and the alerts behind the score.

The table is sortable by any column (click the header); its CSV download is exactly the
frame shown (the sparkline as the daily scores joined by spaces).
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import db
from core.clock import SYSTEM_CLOCK
from core.health.detail import alerts_behind
from core.health.rules import parse_window
from core.health.store import daily_scores, health_scores
from dashboard import health_widgets as hw
from dashboard import ui

WINDOWS = {"Last 24 hours": "24h", "Last 7 days": "7d", "Last 30 days": "30d",
           "Last 90 days": "90d"}
GROUPINGS = {"Services": "service", "Devices": "device"}
LINKS = 20


@st.cache_data(ttl=300, show_spinner=False)
def _trends(url: str, by: str, tz: str) -> dict[str, list[float]]:
    """Daily scores for the sparklines (the heavier statement: cached 5 min per URL)."""
    with db.transaction(ui.engine()) as s:
        trends = daily_scores(s, by, hw.TREND_DAYS, tz, SYSTEM_CLOCK.now())
    return {name: [d["score"] for d in days] for name, days in trends.items()}


def scores_table(df: pd.DataFrame, by: str) -> None:
    trend = hw.TREND
    config = {
        "Score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100,
                                                 format="%.1f"),
        trend: st.column_config.LineChartColumn(trend, y_min=0, y_max=100,
                                                help="Score per local day"),
        "Breached %": st.column_config.NumberColumn(format="%.1f %%"),
        "Recurrence %": st.column_config.NumberColumn(format="%.1f %%"),
        "MTTR / target": st.column_config.NumberColumn(format="%.2f×"),
        **{f"− {name}": st.column_config.NumberColumn(format="%.1f", help="Points taken off")
           for name in hw.FACTORS.values()},
    }
    shown = df.style.map(hw.band_css, subset=["Band"]) if len(df) else df
    # A share or ratio with nothing to measure (no alerts in the window, nothing resolved)
    # reads "—", not "None"; the cells stay numbers, so the column still sorts.
    st.dataframe(shown, hide_index=True, width="stretch", key=f"health_table_{by}",
                 column_config=config, placeholder=hw.NO_DATA)
    st.download_button("Download CSV", hw.csv_bytes(df), f"health-{by}.csv", "text/csv",
                       key="health_csv")


def breakdown(row: dict[str, Any]) -> None:
    cols = st.columns(5)
    cols[0].metric("Score", f"{row['score']:.1f}", help=row["band"])
    for col, (key, name) in zip(cols[1:], hw.FACTORS.items()):
        points = round(float(row["penalties"][key] or 0), 1)
        col.metric(name, f"−{points:.1f}" if points else "0", help="Points taken off")
    sev = ", ".join(f"{n} {s}" for s, n in row["open_by_severity"].items() if n) or "none"
    st.dataframe(ui.kv_frame([
        ("Band", row["band"]),
        ("Open alerts now", f"{row['open']} ({sev}); severity weight {row['open_weight']}"),
        ("Alerts in the window", row["alerts"]),
        ("SLA breaches", f"{row['breaches']} ({hw.pct(row['breach_share']) or 0} %)"),
        ("MTTR / target", "n/a (nothing resolved)" if row["mttr_ratio"] is None
         else f"{row['mttr_ratio']:.2f}× over {row['resolved']} resolved"),
        ("Recurrences", f"{row['recurring']} ({hw.pct(row['recurrence_share']) or 0} %)"),
    ]), hide_index=True, width="stretch", key="health_breakdown")


def drill_down(rows: list[dict[str, Any]], by: str, window: str, label: str) -> None:
    names = [r["entity"] for r in rows]
    pick = st.selectbox(f"{label} to inspect", names, key=f"health_pick_{by}")
    row = next((r for r in rows if r["entity"] == pick), None)
    if row is None:
        return
    breakdown(row)
    tz, now = ui.user_tz(), SYSTEM_CLOCK.now()
    with db.transaction(ui.engine()) as s:
        behind = alerts_behind(s, by, row["entity"], parse_window(window), now)
    total = behind[0]["total"] if behind else 0
    st.caption(f"{len(behind)} of {total} alerts behind the score · most severe first")
    cols = st.columns(4)
    for i, r in enumerate(behind[:LINKS]):
        cols[i % 4].page_link(ui.ALERT_PAGE, label=f"#{r['id']} {r['severity']} · {r['why']}",
                              query_params={"id": str(r["id"])})
    df = hw.behind_display(behind, tz)
    st.dataframe(ui.style_severity(df) if len(df) else df, hide_index=True, width="stretch",
                 key="health_behind")
    ui.csv_button(df, "health-alerts-behind.csv", "health_behind_csv")


def render() -> None:
    ui.current_actor()
    ui.compact_layout()
    st.title("Health scores")
    c1, c2 = st.columns([2, 3])
    window_label = c1.selectbox("Window", list(WINDOWS), index=1, key="health_window")
    label = c2.segmented_control("Score", list(GROUPINGS), default="Services",
                                 key="health_by") or "Services"
    by, window = GROUPINGS[label], WINDOWS[window_label]
    now, tz = SYSTEM_CLOCK.now(), ui.user_tz()
    with db.transaction(ui.engine()) as s:
        rows = health_scores(s, by, parse_window(window), now)
    trends = _trends(db.database_url(), by, tz.key)
    st.caption(f"Alerts created in the {window_label.lower()} and alerts open now · "
               "100 − penalties: open alerts ≤ 40, SLA breaches ≤ 25, MTTR vs target ≤ 20, "
               "recurrence ≤ 15 · Excellent ≥ 90, Good ≥ 75, Fair ≥ 60, Poor ≥ 40, "
               "Critical < 40")
    if not rows:
        st.info("No alerts in this window and none open: everything scores 100.")
        return
    single = label[:-1]
    scores_table(hw.scores_display(rows, trends, single), by)
    st.subheader("Drill-down")
    drill_down(rows, by, window, single)


render()
