"""Analytics: what the alert stream looked like over a period (core.reports, the same as
``/api/v1/reports/statistics``, ``/trends`` and ``/top-alerts``): the counts and response
times, alerts per local day (per hour for a day or two) by severity, and the alerts that
recur most. Click a bar to list the alerts behind it; every alert links to its page."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import db
from core import severity as sev
from core.alerts import queue
from core.clock import SYSTEM_CLOCK
from core.reports.stats import scope, statistics, trends
from core.reports.top import top_alerts
from dashboard import periods, ui

RANK_BY = {"Occurrences": "occurrences", "Resolution time": "resolution_time",
           "Escalations": "escalations"}
BEHIND = 200   # alerts listed behind a clicked bar


def filters(now: datetime, tz: ZoneInfo, services: list[str]) -> tuple[Any, str]:
    c1, c2, c3, c4 = st.columns([2, 2, 2, 2])
    start, end = periods.picker("an", now, tz, c1, c2)
    service = c3.selectbox("Service", ["(all services)", *services], key="an_service")
    severity = c4.selectbox("Severity", ["(all)", *sev.SEVERITIES], key="an_severity")
    sc = scope(start, end, now, None if service.startswith("(") else service,
               None if severity.startswith("(") else severity)
    return sc, "hour" if sc.end - sc.start <= timedelta(days=2) else "day"


def tiles(stats: dict[str, Any]) -> None:
    cols = st.columns(5)
    cols[0].metric("Alerts", f"{stats['alerts']:,}")
    cols[1].metric("Signals", f"{stats['occurrences']:,}", help="Firing signals, duplicates included")
    cols[2].metric("Still open", f"{stats['open']:,}")
    cols[3].metric("MTTA", ui.duration(stats["mtta_s"]) if stats["mtta_s"] is not None else "—")
    cols[4].metric("MTTR", ui.duration(stats["mttr_s"]) if stats["mttr_s"] is not None else "—")


def trend_chart(rows: list[dict[str, Any]], bucket: str) -> Any:
    """Stacked bars per severity; returns the chart's selection event."""
    fig = go.Figure()
    for name in sev.SEVERITIES:
        fig.add_bar(x=[r["label"] for r in rows], y=[r["by_severity"][name] for r in rows],
                    name=name, marker_color=ui.SEVERITY_COLORS[name][0],
                    customdata=[[r["start"].isoformat(), r["end"].isoformat(), name] for r in rows])
    fig.update_layout(barmode="stack", height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.12}, clickmode="event+select",
                      yaxis_title="alerts", xaxis_title=f"local {bucket}")
    return st.plotly_chart(fig, width="stretch", key="an_trend", on_select="rerun",
                           selection_mode="points")


def picked(event: Any) -> tuple[datetime, datetime, str] | None:
    """The bar clicked: its bucket's [start, end) and severity."""
    try:
        point = event.selection.points[0]
        start, end, severity = point["customdata"]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return datetime.fromisoformat(start), datetime.fromisoformat(end), str(severity)


def alerts_behind(start: datetime, end: datetime, severity: str, service: str | None,
                  tz: ZoneInfo) -> None:
    f = queue.AlertFilter(severity=(severity,), service=service, start_date=start, end_date=end)
    with db.transaction(ui.engine()) as s:
        rows, total = queue.list_alerts(s, f, 1, BEHIND)
    a, b = start.astimezone(tz), end.astimezone(tz)
    span = (f"on {a:%Y-%m-%d}" if end - start >= timedelta(hours=23)
            else f"on {a:%Y-%m-%d} {a:%H:%M}–{b:%H:%M}")
    st.subheader(f"{total:,} {severity} alert{'s' * (total != 1)} {span}")
    st.dataframe(pd.DataFrame({
        "Alert": [f"/alert?id={r.id}" for r in rows], "State": [r.state for r in rows],
        "Summary": [r.summary for r in rows], "Service": [r.service for r in rows],
        "Device": [r.device_id for r in rows],
        "Created": [ui.fmt_time(r.created_at, tz) for r in rows]}),
        hide_index=True, width="stretch", key="an_behind",
        column_config={"Alert": st.column_config.LinkColumn("Alert", display_text=r"id=(\d+)")})
    if total > BEHIND:
        st.caption(f"The newest {BEHIND} of {total:,}; narrow the period for the rest "
                   "(or GET /api/v1/alerts/export.csv with the same filters).")


def top_table(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    st.dataframe(pd.DataFrame({
        "Latest": [f"/alert?id={r['latest_id']}" for r in rows],
        "Severity": [r["severity"] for r in rows], "Summary": [r["summary"] for r in rows],
        "Service": [r["service"] for r in rows], "Device": [r["device_id"] for r in rows],
        "Alerts": [r["alerts"] for r in rows], "Signals": [r["occurrences"] for r in rows],
        "Escalations": [r["escalations"] for r in rows],
        "MTTR": [ui.duration(r["mttr_s"]) if r["mttr_s"] is not None else "" for r in rows],
        "Last": [ui.fmt_time(r["last_at"], tz) for r in rows]}),
        hide_index=True, width="stretch", key="an_top",
        column_config={"Latest": st.column_config.LinkColumn("Latest", display_text=r"id=(\d+)")})


def render() -> None:
    ui.current_actor()
    ui.compact_layout()
    st.title("Analytics")
    now, tz = SYSTEM_CLOCK.now(), ui.user_tz()
    with db.transaction(ui.engine()) as s:
        services = queue.services(s)
    sc, bucket = filters(now, tz, services)
    with db.transaction(ui.engine()) as s:
        stats = statistics(s, sc)
        rows = trends(s, sc, bucket, tz.key)
    tiles(stats)
    st.subheader(f"Alerts per local {bucket}, by severity")
    hit = picked(trend_chart(rows, bucket))
    if hit:   # kept while the page reruns for other reasons (e.g. the ranking below)
        st.session_state["an_pick"] = hit
    pick = st.session_state.get("an_pick")
    if pick and sc.start <= pick[0] < sc.end:
        alerts_behind(*pick, sc.service, tz)
    else:
        st.caption("Click a bar to list the alerts behind it.")
    c_title, c_by = st.columns([3, 1], vertical_alignment="bottom")
    c_title.subheader("Recurring alerts")
    by = c_by.selectbox("Ranked by", list(RANK_BY), key="an_rank")
    with db.transaction(ui.engine()) as s:
        top = top_alerts(s, sc, RANK_BY[by], 20)
    if top:
        top_table(top, tz)
    else:
        st.caption("No alerts in this period.")
    st.caption(f"Times in {tz.key} · the API has the same: /api/v1/reports/statistics, "
               "/trends, /top-alerts")


if __name__ == "__main__":  # run as a page by st.navigation; importable for tests
    render()
