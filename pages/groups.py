"""Groups: incidents instead of floods. Noise-reduction tiles and chart for a period, the
groups (filterable, CSV), and one group's members with why it looks as it does.

Silences and inhibition rules are managed on the Suppression page.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import db, views
from core.alerts.store import ActionRequest
from core.clock import SYSTEM_CLOCK
from core.errors import NotFound
from core.escalation.manual import add_responder, escalate_now
from core.grouping import read as groups_view
from core.grouping.actions import act_on_group
from dashboard import ui

PERIODS = {"Last 24 hours": (timedelta(days=1), timedelta(hours=1)),
           "Last 7 days": (timedelta(days=7), timedelta(hours=6)),
           "Last 30 days": (timedelta(days=30), timedelta(days=1))}
STATUS = {"Active": "active", "Resolved": "resolved", "All": None}
LIMIT = 500


def stats_tiles(stats: dict[str, Any]) -> None:
    cols = st.columns(5)
    cols[0].metric("Raw events", f"{stats['raw_events']:,}", help="Every signal received, "
                   "duplicates included")
    cols[1].metric("Alerts", f"{stats['alerts']:,}", help="After deduplication")
    cols[2].metric("Groups", f"{stats['groups']:,}", help="After grouping")
    cols[3].metric("Notifications", f"{stats['notifications']:,}",
                   help="Pages sent in the period, from the delivery log (one per target of "
                        "each escalation step)")
    pct = stats["noise_reduction_pct"]
    cols[4].metric("Noise reduction", "n/a" if pct is None else f"{pct:.1f} %",
                   help="1 - notifications / raw events")


def noise_chart(series: list[dict[str, Any]]) -> None:
    if not series:
        st.caption("No alerts in this period.")
        return
    df = pd.DataFrame(series)
    df["bucket"] = df["bucket"].map(lambda t: t.astimezone(ui.user_tz()))
    fig = go.Figure()
    for name, col, color in (("Raw events", "raw_events", "#9e9e9e"),
                             ("Alerts", "alerts", "#1565c0"), ("Groups", "groups", "#b71c1c")):
        fig.add_bar(x=df["bucket"], y=df[col], name=name, marker_color=color)
    fig.update_layout(barmode="group", height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": 1.15}, yaxis_title="count (log scale)")
    # raw events dwarf groups: a log axis keeps both readable; ticks at 1, 10, 100, 1,000...
    # as plain numbers (plotly's own log ticks read "2 5 2 5" between powers of ten)
    fig.update_yaxes(type="log", dtick=1, tickformat=",d", minor={"showgrid": False})
    st.plotly_chart(fig, width="stretch", key="noise_chart")


def members(engine: Any, group_id: int) -> None:
    try:
        with db.transaction(engine) as s:
            group = groups_view.get_group(s, group_id)
    except NotFound as err:
        st.error(ui.plain(str(err)))
        return
    tz = ui.user_tz()
    st.subheader(f"Group #{group_id}")
    st.text(f"Grouped by {', '.join(f'{k}={v}' for k, v in group['group_by'].items())} · "
            f"{group['why']} · highest severity {group['max_severity']} · "
            f"notify after {ui.fmt_time(group['notify_at'], tz)}")
    df = pd.DataFrame({
        "ID": [m["id"] for m in group["members"]],
        "Severity": [m["severity"] for m in group["members"]],
        "State": [m["state"] for m in group["members"]],
        "Summary": [m["summary"] for m in group["members"]],
        "Device": [m["device_id"] for m in group["members"]],
        "Dups": [m["duplicate_count"] for m in group["members"]],
        "Created": [ui.fmt_time(m["created_at"], tz) for m in group["members"]],
    })
    paging_line(group, tz)
    incident_actions(group_id, group)
    manual_steps(group_id, group)
    st.dataframe(ui.style_severity(df), hide_index=True, width="stretch",
                 key=f"group_members_{group_id}")
    ui.csv_button(df, f"group-{group_id}-members.csv", f"group_members_csv_{group_id}")
    for m in group["members"][:10]:
        if m["state"] not in ("resolved", "closed"):
            st.page_link(ui.ALERT_PAGE, label=f"Open alert #{m['id']}",
                         query_params={"id": str(m["id"])})


def paging_line(group: dict[str, Any], tz: Any) -> None:
    """How the incident pages: its escalation and what the delivery log holds for it."""
    esc, sent = group.get("escalation"), group["notifications"]
    if esc is None:
        st.caption("Paging: not started (the group's wait is not over, or no alert needs a "
                   "human, or no policy matches).")
        return
    state = {"active": f"escalating, next step {ui.fmt_time(esc['next_at'], tz)}",
             "done": "every tier and repeat sent",
             "stopped": f"stopped ({esc['stopped_reason']})"}.get(esc["state"], esc["state"])
    st.caption(f"Paging: policy '{esc['policy']}' · {state} · {sent['sent']} sent, "
               f"{sent['queued']} queued, {sent['cancelled']} cancelled")


def incident_actions(group_id: int, group: dict[str, Any]) -> None:
    """Acknowledge / resolve the whole incident (operators); the outcome shows on rerun."""
    key = f"group_outcome_{group_id}"
    ui.show_outcome(key)
    if not ui.current_actor().can("operator"):
        return
    new = sum(m["state"] == "new" for m in group["members"])
    open_ = sum(m["state"] not in ("resolved", "closed") for m in group["members"])
    c1, c2, _ = st.columns([1, 1, 3])
    for col, action, count, label in ((c1, "acknowledge", new, "Acknowledge incident"),
                                      (c2, "resolve", open_, "Resolve incident")):
        col.button(f"{label} ({count})", key=f"group_{action}_{group_id}", disabled=not count,
                   on_click=ui.write_action, args=(
                       key, f"Incident #{group_id}: {count} alert(s) {action}d",
                       _act, group_id, action))


def manual_steps(group_id: int, group: dict[str, Any]) -> None:
    """Escalate now / page one more person (operators), while the incident escalates."""
    esc = group.get("escalation")
    if esc is None or not ui.current_actor().can("operator"):
        return
    key = f"group_outcome_{group_id}"
    c1, c2, c3, _ = st.columns([1, 1, 1, 2])
    c1.button("Escalate now", key=f"group_escalate_{group_id}", disabled=esc["state"] != "active",
              help="The next tier is due at once (the worker fires it within seconds)",
              on_click=ui.write_action, args=(key, f"Incident #{group_id}: next tier due now",
                                              _escalate, group_id))
    with db.transaction(ui.engine()) as s:
        users = views.active_usernames(s)
    who = c2.selectbox("Responder", users, key=f"group_responder_{group_id}",
                       label_visibility="collapsed", index=None, placeholder="Add a responder")
    c3.button("Page them", key=f"group_page_{group_id}", disabled=who is None,
              on_click=ui.write_action, args=(key, f"Incident #{group_id}: {who} paged",
                                              _responder, group_id, who))


def _escalate(session: Any, group_id: int) -> None:
    escalate_now(session, ui.current_actor(), SYSTEM_CLOCK.now(), group_id=group_id)


def _responder(session: Any, group_id: int, username: str) -> None:
    add_responder(session, {"type": "user", "username": username}, ui.current_actor(),
                  SYSTEM_CLOCK.now(), group_id=group_id)


def _act(session: Any, group_id: int, action: str) -> None:
    """At click time: who and when are read then, not when the page was drawn."""
    act_on_group(session, group_id, ActionRequest(action), ui.current_actor(),
                 SYSTEM_CLOCK.now())


def render() -> None:
    ui.current_actor()
    engine = ui.engine()
    ui.compact_layout()
    st.title("Groups")
    c1, c2, c3 = st.columns([2, 2, 3])
    period = c1.selectbox("Period", list(PERIODS), index=1, key="groups_period")
    status = c2.selectbox("Status", list(STATUS), key="groups_status")
    service = c3.text_input("Service", key="groups_service", placeholder="all services")
    span, bucket = PERIODS[period]
    now = SYSTEM_CLOCK.now()
    f = groups_view.GroupFilter(status=STATUS[status], service=service.strip() or None,
                                start_date=now - span)
    with db.transaction(engine) as s:
        stats = groups_view.group_stats(s, now - span, now, f.service)
        series = groups_view.noise_series(s, now - span, now, bucket, f.service)
        rows, total = groups_view.list_groups(s, f, limit=LIMIT)
    stats_tiles(stats)
    noise_chart(series)
    df = ui.groups_display(rows)
    key = f"groups_table_{period}_{status}_{service}"  # a filter change clears the selection
    st.session_state["groups_table_key"] = key
    event = st.dataframe(ui.style_severity(df), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=key,
                         column_config={"Grouped by": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(df)} of {total} groups · select one to see its members")
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "groups.csv",
                       "text/csv", key="groups_csv")
    picked = event.selection.rows if event is not None else []
    if picked:
        members(engine, int(df.iloc[picked[0]]["ID"]))
    elif _group_from_url() is not None:  # a link from an alert: /groups?id=N
        members(engine, _group_from_url() or 0)


def _group_from_url() -> int | None:
    try:
        value = int(st.query_params.get("id", ""))
    except ValueError:
        return None
    return value if value > 0 else None


render()
