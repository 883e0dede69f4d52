"""One alert (``/alert?id=N``): fields, labels, SLA clocks, the full timeline, and actions.

Everything that came from a source or an operator (summary, description, labels, notes) is
rendered with ``st.text``, dataframes or ``st.json`` — never as Markdown or HTML. The links
a source sent (a Grafana panel, a runbook) are a dataframe's link column, http(s) only
(core/alerts/links.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core import db, lifecycle, views
from core.actor import Actor
from core.alerts import queue
from core.alerts.links import web_links
from core.alerts.store import ActionRequest, add_note, apply
from core.clock import SYSTEM_CLOCK
from core.errors import ACTION_VERBS, AlertdeskError, NotFound
from core.grouping import read as groups_view
from core.reports.related import related_alerts
from dashboard import ui

BADGE = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue", "info": "gray"}
SILENCE_FOR = {"15 minutes": 15, "1 hour": 60, "4 hours": 240, "24 hours": 1440}
ALERT_KEYS = {"acknowledge": "A", "investigate": "I", "resolve": "X", "silence": "S"}
ACTION_PAST = {"acknowledged": "acknowledged", "investigating": "is investigating",
               "resolved": "resolved", "closed": "closed", "silenced": "silenced",
               "new": "reopened"}


def alert_id_from_url() -> int | None:
    try:
        value = int(st.query_params.get("id", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def pick_alert() -> None:
    with st.form("open_alert"):
        value = st.number_input("Alert id", min_value=1, step=1, format="%d")
        if st.form_submit_button("Open"):
            st.query_params["id"] = str(int(value))
            st.rerun()


def header(row: Any) -> None:
    st.page_link(ui.QUEUE_PAGE, label="Back to the queue", icon=":material/arrow_back:")
    st.title(f"Alert #{row.id}")
    # severity and state are closed vocabularies (CHECK constraints), safe in Markdown
    state_color = "violet" if row.state in lifecycle.OPEN_STATES else "green"
    st.markdown(f":{BADGE.get(row.severity, 'gray')}-badge[{row.severity}] "
                f":{state_color}-badge[{row.state}]")
    with st.container(border=True):
        st.text(row.summary)
        if row.description:
            st.text(row.description)


def sla_frame(row: Any, now: datetime) -> pd.DataFrame:
    s = queue.sla_of(row, now)
    clocks = [("TTA", s.tta_target_s, row.acknowledged_at or row.resolved_at, s.tta_remaining_s,
               s.tta_breached), ("TTR", s.ttr_target_s, row.resolved_at, s.ttr_remaining_s,
                                 s.ttr_breached)]
    out = []
    for name, target, stop, left, breached in clocks:
        elapsed = ((stop or now) - row.created_at).total_seconds()
        level = views.sla_level(left, target)
        status = ("breached" if breached else "met" if stop is not None
                  else "at risk" if level == "at risk" else "running")
        out.append({"Clock": name, "Target": ui.duration(target), "Elapsed": ui.duration(elapsed),
                    "Remaining": "stopped" if left is None else
                    (f"overdue {ui.duration(left)}" if left < 0 else ui.duration(left)),
                    "Status": status})
    return pd.DataFrame(out)


def fields(row: Any, tz: ZoneInfo) -> None:
    t = lambda v: ui.fmt_time(v, tz)  # noqa: E731
    pairs = [("Severity", row.severity), ("State", row.state), ("Service", row.service),
             ("Device", row.device_id), ("Source", row.source), ("Fingerprint", row.fingerprint),
             ("Assignee", row.assignee or "(nobody)"), ("Duplicates", row.duplicate_count),
             ("Reopened", row.reopen_count), ("Created", t(row.created_at)),
             ("Last seen", t(row.last_seen_at)), ("Acknowledged", t(row.acknowledged_at)),
             ("Resolved", t(row.resolved_at)), ("Closed", t(row.closed_at))]
    if row.silenced_until is not None:
        pairs.append(("Silenced until", t(row.silenced_until)))
    st.dataframe(ui.kv_frame(pairs), hide_index=True, width="stretch", height=35 * len(pairs) + 38,
                 column_config={"Field": st.column_config.TextColumn(width=120)})


def mapping(title: str, data: dict[str, Any]) -> None:
    st.subheader(title)
    if not data:
        st.caption("none")
        return
    st.dataframe(pd.DataFrame({"Key": list(data), "Value": [str(v) for v in data.values()]}),
                 hide_index=True, width="stretch")


def links(metadata: Any) -> None:
    """The source's links (Grafana's rule, silence, dashboard, panel and screenshot URLs; a
    PagerDuty event's links): the text as plain text, the URL as a link; web URLs only."""
    found = web_links(metadata)
    if not found:
        return
    st.subheader("Links")
    st.dataframe(pd.DataFrame({"Link": [x["text"] for x in found],
                               "URL": [x["href"] for x in found]}),
                 hide_index=True, width="stretch",
                 column_config={"URL": st.column_config.LinkColumn("URL")})


def why(row: Any, group: dict[str, Any] | None) -> None:
    """Why the alert looks as it does: its dedup key, its group, what suppresses it."""
    st.subheader("Why")
    # duplicate_count counts every signal, the first included: N signals = N - 1 duplicates
    dups = max(int(row.duplicate_count or 1) - 1, 0)
    lines = [f"Deduplicated by fingerprint {row.fingerprint}"
             + (f" ({dups} duplicate{'s' * (dups != 1)} folded in)" if dups else "")]
    if group is not None:
        values = ", ".join(f"{k}={v}" for k, v in group["group_by"].items())
        lines.append(f"Group #{group['id']}: grouped by {values}; {group['why']}")
    if getattr(row, "silence_id", None):
        lines.append(f"Silenced by silence #{row.silence_id}: it will not notify")
    if getattr(row, "inhibited_by", None):
        lines.append(f"Inhibited by alert #{row.inhibited_by} "
                     f"(rule #{getattr(row, 'inhibit_rule_id', '?')}): it will not notify")
    if getattr(row, "flapping", False):
        lines.append("Flapping: it changes state often; notifications are damped")
    st.text("\n".join(lines))
    if group is not None:
        st.page_link(ui.GROUPS_PAGE, label=f"Open group #{group['id']}",
                     query_params={"id": str(group["id"])}, icon=":material/workspaces:")
    if getattr(row, "inhibited_by", None):
        st.page_link(ui.ALERT_PAGE, label=f"Open the inhibiting alert #{row.inhibited_by}",
                     query_params={"id": str(row.inhibited_by)})
    st.page_link(ui.ESCALATION_PAGE, label="Escalation timeline (who was notified, delivered?)",
                 query_params={"alert": str(row.id)}, icon=":material/campaign:")


def timeline(events: list[dict[str, Any]], tz: ZoneInfo) -> None:
    st.subheader("Timeline")
    df = pd.DataFrame({
        "Time": [ui.fmt_time(e["at"], tz) for e in events],
        "Actor": [e["actor"] for e in events],
        "Source": [e["source"] for e in events],
        "Change": [f"{e['from_state'] or '-'} → {e['to_state'] or '-'}" for e in events],
        "Kind": [e["kind"] for e in events],
        "Note": [e["note"] or "" for e in events],
        "Details": [json.dumps(e["metadata"], sort_keys=True) if e["metadata"] else ""
                    for e in events],
    })
    st.dataframe(df, hide_index=True, width="stretch",
                 column_config={"Note": st.column_config.TextColumn(width="large")})
    ui.csv_button(df, "alert-timeline.csv", "timeline_csv")


def do_action(engine: Any, actor: Actor, alert_id: int, action: str, assign_to: str | None) -> None:
    """Button callback: one transaction; a domain refusal becomes the page's st.error."""
    note = (st.session_state.get("alert_note") or "").strip() or None
    now = SYSTEM_CLOCK.now()
    until = None
    if action == "silence":
        until = now + timedelta(minutes=SILENCE_FOR[st.session_state.get("alert_silence_for", "1 hour")])
    try:
        with db.transaction(engine) as s:
            if action in ("note", "assign"):
                add_note(s, alert_id, note if action == "note" else None, actor, now,
                         assign_to=assign_to if action == "assign" else None)
            else:
                apply(s, alert_id, ActionRequest(action, note=note, until=until), actor, now)
    except AlertdeskError as err:
        st.session_state["alert_outcome"] = ("error", str(err))
        return
    done = {"note": "Note added", "assign": f"Assigned to {assign_to}"}.get(
        action, f"Alert {ACTION_VERBS.get(action, action)}")
    st.session_state["alert_outcome"] = ("success", done)
    st.session_state["alert_note"] = ""


def actions(engine: Any, actor: Actor, row: Any, users: list[str]) -> None:
    kind, message = st.session_state.pop("alert_outcome", (None, None))
    if kind == "error":
        st.error(ui.plain(message))
    elif kind == "success":
        st.success(ui.plain(message))
    allowed = lifecycle.allowed_actions(row.state)
    if row.state == lifecycle.SILENCED:
        allowed.append("unsilence")
    st.text_area("Note", key="alert_note", max_chars=10_000, height=68,
                 placeholder="goes with the action, or add it on its own")
    cols = st.columns(len(allowed) + 1)
    for col, action in zip(cols, allowed):
        col.button(action.capitalize(), key=f"do_{action}", width="stretch",
                   type="primary" if action == "acknowledge" else "secondary",
                   on_click=do_action, args=(engine, actor, row.id, action, None),
                   shortcut=ALERT_KEYS.get(action))
    cols[-1].button("Add note", key="do_note", width="stretch",
                    on_click=do_action, args=(engine, actor, row.id, "note", None))
    c1, c2, _ = st.columns([2, 2, 3])
    if "silence" in allowed:
        c1.selectbox("Silence for", list(SILENCE_FOR), index=1, key="alert_silence_for")
    options = users if row.assignee in users or row.assignee is None else [row.assignee, *users]
    who = c2.selectbox("Assign to", options, key="alert_assignee",
                       index=options.index(row.assignee) if row.assignee in options else None)
    c2.button("Assign", key="do_assign", disabled=who is None,
              on_click=do_action, args=(engine, actor, row.id, "assign", who))


def related(engine: Any, alert_id: int) -> None:
    """Alerts that fire together with this one (core.reports.related): same group, or
    within 5 minutes, ranked by how often their fingerprints fired together before."""
    st.subheader("Related alerts")
    with db.transaction(engine) as s:
        found = related_alerts(s, alert_id, window_s=300, limit=20)
    if not found["data"]:
        st.caption("Nothing fired within 5 minutes of this alert or in its group.")
        return
    df = pd.DataFrame({
        "Alert": [f"/alert?id={r['id']}" for r in found["data"]],
        "Severity": [r["severity"] for r in found["data"]],
        "State": [r["state"] for r in found["data"]],
        "Summary": [r["summary"] for r in found["data"]],
        "Service": [r["service"] for r in found["data"]],
        "Offset": [ui.duration(abs(r["offset_s"])) + (" before" if r["offset_s"] < 0 else
                                                     " after") for r in found["data"]],
        "Same group": [r["same_group"] for r in found["data"]],
        "Fired together": [f"{r['co_occurrences']} of {found['history']}"
                           for r in found["data"]]})
    st.session_state["alert_related_rows"] = len(df)
    st.dataframe(ui.style_severity(df), hide_index=True, width="stretch", column_config={
        "Alert": st.column_config.LinkColumn("Alert", display_text=r"id=(\d+)"),
        "Fired together": st.column_config.TextColumn(
            help="Of this alert's recent occurrences, how many had the other within 5 min")})
    ui.csv_button(df, f"alert-{alert_id}-related.csv", "related_csv")


def change_text(event: dict[str, Any], now: datetime) -> str:
    """ "victor acknowledged it 5 s ago" (pure)."""
    meta = event.get("metadata") or {}
    what = {"transition": f"moved it to {event['to_state']}",
            "assign": f"assigned it to {meta.get('to')}",
            "note": "added a note"}.get(str(event["kind"]), str(event["kind"]))
    if event["kind"] == "transition" and event["to_state"] in ACTION_PAST:
        what = f"{ACTION_PAST[event['to_state']]} it"
    ago = ui.duration(max((now - event["at"]).total_seconds(), 0))
    return f"{event['actor']} {what} {ago} ago"


@st.fragment(run_every="10s")
def live_status(engine: Any, alert_id: int, seen: int, me: str) -> None:
    """The SLA clocks, live (re-read every 10 s), and a notice when someone else acted on
    the alert since this page was drawn: what they did, and a way to see it."""
    now = SYSTEM_CLOCK.now()
    with db.transaction(engine) as s:
        row = queue.get_alert(s, alert_id)
        all_events = queue.events(s, alert_id)
    newer = all_events[seen:]
    others = [e for e in newer if e["actor"] != me and e["kind"] in ("transition", "assign", "note")]
    if others:
        with st.container(key="alert_changed"):
            c_text, c_btn = st.columns([4, 1], vertical_alignment="center")
            c_text.warning("Changed while you were looking: "
                           + ui.plain("; ".join(change_text(e, now) for e in others[-3:])))
            if c_btn.button("Show it", key="alert_reload", icon=":material/refresh:"):
                st.session_state[f"alert_seen_{alert_id}"] = len(all_events)
                st.rerun(scope="app")
    st.subheader("SLA")
    st.dataframe(sla_frame(row, now), hide_index=True, width="stretch")
    st.caption(f"Live: updated {ui.fmt_time(now, ui.user_tz())[11:]}, every 10 s")


def render() -> None:
    actor = ui.current_actor()
    engine = ui.engine()
    alert_id = alert_id_from_url()
    if alert_id is None:
        ui.compact_layout()
        st.title("Alert detail")
        st.info("Open an alert from the queue, or enter its id.")
        pick_alert()
        return
    tz = ui.user_tz()
    try:
        with db.transaction(engine) as s:
            row = queue.get_alert(s, alert_id)
            events = queue.events(s, alert_id)
            users = views.active_usernames(s) if actor.can("operator") else []
            group = groups_view.group_summary(s, row.group_id) if row.group_id else None
    except NotFound as err:
        st.error(ui.plain(str(err)))
        pick_alert()
        return
    ui.compact_layout()
    header(row)
    if actor.can("operator"):
        with st.container(border=True):
            actions(engine, actor, row, users)
    left, right = st.columns([3, 2])
    with left:
        # what this person has seen: set when they open the alert or click "Show it"
        seen = st.session_state.setdefault(f"alert_seen_{alert_id}", len(events))
        live_status(engine, alert_id, seen, actor.name)
        st.subheader("Details")
        fields(row, tz)
    with right:
        why(row, group)
        links(row.metadata)
        mapping("Labels", row.labels)
        mapping("Annotations", row.annotations)
        if row.metadata:
            with st.expander("Metadata"):
                st.json(row.metadata)
    timeline(events, tz)
    related(engine, alert_id)
    st.caption(f"Times in {tz.key}")


render()
