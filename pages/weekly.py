"""Weekly report: one local week (Monday to Sunday in the viewer's zone) of all alerts, a
service or a team (the ``team`` label): tiles, a chart of alerts per day, the report's
tables and the same report as HTML, Markdown and CSV files to send (core.weekly.report,
core.weekly.render). The week defaults to the last complete one; ``?week=2026-W47``
preselects another.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import db
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError
from core.severity import SEVERITIES
from core.weekly.render import tables, text, to_csv, to_html, to_markdown
from core.weekly.report import last_complete_week, parse_week, week_label, weekly_report
from dashboard import ui

WEEKS_BACK = 52


def week_options(now: datetime, tz: str) -> list[date]:
    """This (unfinished) week first, then the 52 before it, newest first."""
    current = last_complete_week(now, tz) + timedelta(days=7)
    return [current - timedelta(days=7 * i) for i in range(WEEKS_BACK + 1)]


def week_text(monday: date, current: date) -> str:
    sunday = monday + timedelta(days=6)
    note = " (in progress)" if monday == current else ""
    return f"{week_label(monday)} · {monday:%a %d %b} – {sunday:%a %d %b %Y}{note}"


def filters(now: datetime, tz: str) -> tuple[date, str | None, str | None]:
    options = week_options(now, tz)
    asked = st.query_params.get("week")
    try:
        default = options.index(parse_week(asked)) if asked else 1
    except (AlertdeskError, ValueError):
        default = 1
    c1, c2, c3 = st.columns([3, 2, 2])
    week = c1.selectbox("Week", options, index=default, key="weekly_week",
                        format_func=lambda d: week_text(d, options[0]))
    service = c2.text_input("Service", key="weekly_service", placeholder="all services")
    team = c3.text_input("Team", key="weekly_team", placeholder="all teams",
                         help="The services the team owns (SLA page, 'Service owners') "
                              "and alerts labelled team=<name>")
    return week, service.strip() or None, team.strip() or None


def _delta(value: Any, kind: str) -> str | None:
    return None if value is None else text(kind, value)


def tiles(r: dict[str, Any]) -> None:
    a, cur, d = r["alerts"], r["sla"]["current"], r["sla"]["deltas"]
    row1, row2 = st.columns(4), st.columns(4)
    row1[0].metric("Alerts", f"{a['total']:,}", _delta(a["delta"], "delta"),
                   delta_color="inverse", help="Change vs the previous week")
    row1[1].metric("TTA met", text("pct", cur["tta_compliance_pct"]),
                   _delta(d["tta_compliance_pct"], "dpct"))
    row1[2].metric("TTR met", text("pct", cur["ttr_compliance_pct"]),
                   _delta(d["ttr_compliance_pct"], "dpct"))
    row1[3].metric("Breaches", f"{cur['breaches']:,}")
    row2[0].metric("MTTA", text("dur", cur["mtta_s"]), _delta(d["mtta_s"], "ddur"),
                   delta_color="inverse", help=f"Median {text('dur', cur['p50_tta_s'])}, "
                                               f"P90 {text('dur', cur['p90_tta_s'])}")
    row2[1].metric("MTTR", text("dur", cur["mttr_s"]), _delta(d["mttr_s"], "ddur"),
                   delta_color="inverse", help=f"Median {text('dur', cur['p50_ttr_s'])}, "
                                               f"P90 {text('dur', cur['p90_ttr_s'])}")
    row2[2].metric("Noise reduction", text("pct", r["noise"]["noise_reduction_pct"]),
                   help="1 - groups / raw events (duplicates included)")
    busiest = r["on_call"]["busiest"]
    row2[3].metric("Busiest", busiest["username"] if busiest else "–",
                   help="Busiest means " + r["on_call"]["rule"])


def chart(r: dict[str, Any]) -> None:
    days = r["alerts"]["per_day"]
    x = [f"{d['day']:%a %d %b}" for d in days]
    fig = go.Figure()
    for s in SEVERITIES:
        fig.add_bar(x=x, y=[d["by_severity"][s] for d in days], name=s,
                    marker_color=ui.SEVERITY_COLORS[s][0])
    fig.update_layout(barmode="stack", height=260, title="Alerts per day",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.25}, yaxis_title="alerts")
    st.plotly_chart(fig, width="stretch", key="weekly_chart")


def downloads(r: dict[str, Any]) -> None:
    name = f"weekly-report-{r['week']}"
    cols = st.columns(3)
    for col, (label, ext, render, mime) in zip(cols, (
            ("HTML (for e-mail)", "html", to_html, "text/html"),
            ("Markdown", "md", to_markdown, "text/markdown"),
            ("CSV (tables)", "csv", to_csv, "text/csv"))):
        col.download_button(f"Download {label}", render(r).encode("utf-8"), f"{name}.{ext}",
                            mime, key=f"weekly_dl_{ext}", width="stretch")


def render() -> None:
    ui.current_actor()
    ui.compact_layout()
    st.title("Weekly report")
    tz, now = ui.user_tz(), SYSTEM_CLOCK.now()
    week, service, team = filters(now, tz.key)
    st.query_params["week"] = week_label(week)
    try:
        with db.transaction(ui.engine()) as s:
            r = weekly_report(s, week, tz.key, service, team, now)
    except AlertdeskError as err:
        st.error(ui.plain(str(err)))
        st.stop()
    st.caption(f"Alerts created {ui.fmt_time(r['start'], tz)} → {ui.fmt_time(r['end'], tz)} "
               f"({tz.key}, {r['hours']:g} h), compared with the week before."
               + ("" if r["complete"] else " The week is not over: numbers are partial."))
    tiles(r)
    downloads(r)
    chart(r)
    for name, header, rows in tables(r, text):
        st.subheader(name)
        if rows:
            st.dataframe(pd.DataFrame(rows, columns=header), hide_index=True, width="stretch",
                         key=f"weekly_{name.lower().replace(' ', '_')}")
        else:
            st.caption("Nothing this week.")


render()
