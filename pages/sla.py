"""SLA compliance: a period in the viewer's zone, breakdowns (core.sla.compliance), daily trends
and the breached alerts (core.sla.trends), and the targets editor for managers.

Periods: "Last 24 hours" is the 24 h up to now; "Last 7/30 days" run from the local
midnight 6/29 days ago up to now (so the trend shows 7/30 local days); a custom range runs
from the local midnight of its first day to the local midnight after its last day.
Every table has a CSV download of exactly the frame it shows.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.severity import SEVERITIES
from core.sla.compliance import ComplianceQuery, compliance
from core.sla.store import delete_override, list_policies, upsert_policy
from core.sla.trends import breached_alerts, daily_trend
from dashboard import periods, teams_widget, ui

BREAKDOWNS = {"By severity": "severity", "By service": "service", "Severity × service": "both",
              "By team": "team"}
LINKS = 20
MAX_TARGET_MIN = 90 * 24 * 60


def _dur(seconds: float | None) -> str:
    return "" if seconds is None else ui.duration(seconds)


def compliance_display(rows: list[dict[str, Any]], group_by: str) -> pd.DataFrame:
    """Compliance rows as the tables show them: %, durations as text, breaches."""
    dims = {"severity": ["Severity"], "service": ["Service"], "both": ["Severity", "Service"],
            "team": ["Team"]}
    out: dict[str, list[Any]] = {d: [r[d.lower()] for r in rows] for d in dims[group_by]}
    out["Alerts"] = [r["alerts"] for r in rows]
    out["TTA met %"] = [r["tta_compliance_pct"] for r in rows]
    out["TTR met %"] = [r["ttr_compliance_pct"] for r in rows]
    for clock in ("tta", "ttr"):
        up = clock.upper()
        out[f"Mean {up}"] = [_dur(r[f"m{clock}_s"]) for r in rows]
        out[f"Median {up}"] = [_dur(r[f"p50_{clock}_s"]) for r in rows]
        out[f"P90 {up}"] = [_dur(r[f"p90_{clock}_s"]) for r in rows]
    out["Breaches"] = [r["breaches"] for r in rows]
    return pd.DataFrame(out, columns=list(out))


def trend_display(days: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({
        "Day": [d["day"].isoformat() for d in days],
        "Hours": [int(d["hours"]) for d in days],
        "Alerts": [d["alerts"] for d in days],
        "TTA met %": [d["tta_compliance_pct"] for d in days],
        "TTR met %": [d["ttr_compliance_pct"] for d in days],
        "MTTA": [_dur(d["mtta_s"]) for d in days],
        "MTTR": [_dur(d["mttr_s"]) for d in days],
        **{f"Breaches {s}": [d["breaches_by_severity"][s] for d in days] for s in SEVERITIES},
    })


def breaches_display(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame({
        "ID": [r["id"] for r in rows], "Severity": [r["severity"] for r in rows],
        "Service": [r["service"] for r in rows], "Summary": [r["summary"] for r in rows],
        "State": [r["state"] for r in rows],
        "Created": [ui.fmt_time(r["created_at"], tz) for r in rows],
        "Breached": [r["breached"] for r in rows],
        "TTA": [_dur(r["tta_s"]) for r in rows],
        "TTA target": [ui.duration(r["tta_target_s"]) for r in rows],
        "TTR": [_dur(r["ttr_s"]) for r in rows],
        "TTR target": [ui.duration(r["ttr_target_s"]) for r in rows],
        "Over by": [_dur(r["overrun_s"]) for r in rows],
    }, columns=["ID", "Severity", "Service", "Summary", "State", "Created", "Breached", "TTA",
                "TTA target", "TTR", "TTR target", "Over by"])


def policies_display(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame({
        "Severity": [r["severity"] for r in rows],
        "Service": [r["service"] or "(all services)" for r in rows],
        "TTA (min)": [r["tta_s"] / 60 for r in rows], "TTR (min)": [r["ttr_s"] / 60 for r in rows],
        "Updated": [ui.fmt_time(r["updated_at"], tz) for r in rows],
        "By": [r["updated_by"] for r in rows],
    }, columns=["Severity", "Service", "TTA (min)", "TTR (min)", "Updated", "By"])


def table(df: pd.DataFrame, key: str, filename: str) -> None:
    """The frame, and a CSV of exactly that frame."""
    shown = ui.style_severity(df) if "Severity" in df.columns and len(df) else df
    # A styled frame would print floats with six decimals: one decimal, % where it is one.
    fmt = {c: st.column_config.NumberColumn(c, format="%.1f %%" if str(c).endswith("%")
                                             else "%.1f")
           for c in df.columns
           if str(c).endswith("%") or pd.api.types.is_float_dtype(df[c])}
    st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=fmt)
    st.download_button("Download CSV", df.to_csv(index=False).encode(), filename, "text/csv",
                       key=f"{key}_csv")


def tiles(rows: list[dict[str, Any]]) -> None:
    """Period totals: sums of the per-severity counts (compliance = met / decided)."""
    total = {k: sum(r[k] for r in rows) for k in ("alerts", "tta_met", "tta_decided",
                                                  "ttr_met", "ttr_decided", "breaches")}
    cols = st.columns(4)
    cols[0].metric("Alerts", f"{total['alerts']:,}")
    for col, clock in ((cols[1], "tta"), (cols[2], "ttr")):
        decided = total[f"{clock}_decided"]
        value = "n/a" if not decided else f"{100 * total[f'{clock}_met'] / decided:.1f} %"
        col.metric(f"{clock.upper()} compliance", value,
                   help="Met / decided: alerts whose clock stopped or whose deadline passed")
    cols[3].metric("Breaches", f"{total['breaches']:,}")


def _figure(title: str, yaxis: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, height=280, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.2}, yaxis_title=yaxis)
    return fig


def trend_charts(days: list[dict[str, Any]]) -> None:
    x = [d["day"] for d in days]
    pct = _figure("Compliance per day", "% met")
    pct.add_scatter(x=x, y=[d["tta_compliance_pct"] for d in days], name="TTA", mode="lines+markers")
    pct.add_scatter(x=x, y=[d["ttr_compliance_pct"] for d in days], name="TTR", mode="lines+markers")
    pct.update_yaxes(range=[0, 105])
    means = _figure("MTTA / MTTR per day", "minutes")
    for name, key in (("MTTA", "mtta_s"), ("MTTR", "mttr_s")):
        means.add_scatter(x=x, y=[None if d[key] is None else d[key] / 60 for d in days],
                          name=name, mode="lines+markers")
    bars = _figure("Breaches per day by severity", "alerts")
    for s in SEVERITIES:
        bars.add_bar(x=x, y=[d["breaches_by_severity"][s] for d in days], name=s,
                     marker_color=ui.SEVERITY_COLORS[s][0])
    bars.update_layout(barmode="stack")
    for col, fig, key in zip(st.columns(3), (pct, means, bars),
                             ("sla_pct_chart", "sla_means_chart", "sla_breach_chart")):
        with col:
            st.plotly_chart(fig, width="stretch", key=key)


def breaches_section(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    total = rows[0]["total"] if rows else 0
    st.caption(f"{len(rows)} of {total} breached alerts · worst first: severity, then the "
               "longest overrun")
    cols = st.columns(4)
    for i, r in enumerate(rows[:LINKS]):
        cols[i % 4].page_link(ui.ALERT_PAGE, label=f"#{r['id']} {r['severity']} · "
                              f"{r['breached']}", query_params={"id": str(r["id"])})
    table(breaches_display(rows, tz), "sla_breaches", "sla-breached-alerts.csv")


def targets_form(actor: Actor) -> None:
    with st.form("sla_target_form"):
        st.markdown("**Set targets** (new alerts get them; measured history keeps its own)")
        c1, c2, c3, c4 = st.columns(4)
        severity = c1.selectbox("Severity", SEVERITIES, key="sla_f_severity")
        service = c2.text_input("Service override", key="sla_f_service",
                                placeholder="blank = all services")
        tta = c3.number_input("TTA (minutes)", 1, MAX_TARGET_MIN, 5, key="sla_f_tta")
        ttr = c4.number_input("TTR (minutes)", 1, MAX_TARGET_MIN, 30, key="sla_f_ttr")
        if st.form_submit_button("Save targets", type="primary"):
            body = {"severity": severity, "service": service.strip() or None,
                    "tta_s": int(tta) * 60, "ttr_s": int(ttr) * 60}
            where = f" for {service.strip()}" if service.strip() else ""
            ui.write_action("sla_outcome", f"Targets for {severity}{where} saved",
                            upsert_policy, body, actor, SYSTEM_CLOCK.now())
            st.rerun()


def targets_section(actor: Actor, tz: ZoneInfo) -> None:
    ui.show_outcome("sla_outcome")
    with db.transaction(ui.engine()) as s:
        rows = list_policies(s)
    table(policies_display(rows, tz), "sla_policies", "sla-targets.csv")
    if not actor.can("manager"):
        return
    targets_form(actor)
    overrides = [(r["severity"], r["service"]) for r in rows if r["service"]]
    if overrides:
        c1, c2 = st.columns([3, 1])
        pick = c1.selectbox("Service override", overrides, key="sla_del_pick",
                            format_func=lambda o: f"{o[0]} / {o[1]}")
        c2.button("Delete override", key="sla_del", on_click=ui.write_action,
                  args=("sla_outcome", f"Override {pick[0]} / {pick[1]} deleted",
                        delete_override, pick[0], pick[1], actor))


def filters(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, str | None, str | None]:
    c1, c2, c3, c4 = st.columns([2, 3, 2, 2])
    start, end = periods.picker("sla", now, tz, c1, c2)
    service = c3.text_input("Service", key="sla_service", placeholder="all services")
    severity = c4.selectbox("Severity", ["all", *SEVERITIES], key="sla_severity")
    assert start is not None and end is not None  # no "all time" here
    return start, end, service.strip() or None, None if severity == "all" else severity


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("SLA compliance")
    tz, now = ui.user_tz(), SYSTEM_CLOCK.now()
    start, end, service, severity = filters(now, tz)
    st.caption(f"Alerts created {ui.fmt_time(start, tz)} → {ui.fmt_time(end, tz)} ({tz.key}). "
               "Open alerts count once their deadline passed.")
    with db.transaction(ui.engine()) as s:
        by = {k: compliance(s, ComplianceQuery(start, end, g, service, severity), now)
              for k, g in BREAKDOWNS.items()}
        days = daily_trend(s, start, end, tz.key, service, severity, now=now)
        breached = breached_alerts(s, start, end, service, severity, now=now)
    tiles(by["By severity"])
    for tab, (name, group_by) in zip(st.tabs(list(BREAKDOWNS)), BREAKDOWNS.items()):
        with tab:
            table(compliance_display(by[name], group_by), f"sla_by_{group_by}",
                  f"sla-compliance-{group_by}.csv")
    st.subheader("Trends per day")
    trend_charts(days)
    with st.expander("Per-day numbers"):
        table(trend_display(days), "sla_days_table", "sla-per-day.csv")
    st.subheader("Breached alerts")
    breaches_section(breached, tz)
    st.subheader("SLA targets")
    targets_section(actor, tz)
    with st.expander("Service owners (teams)"):
        teams_widget.section(actor)


render()
