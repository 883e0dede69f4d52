"""The active queue: headline figures, shareable filters, the table, single and bulk actions.

Auto-refresh and selection. The figures, the table and the action bar live in one fragment
that reruns every 10 s, so the desk stays live without a full-page rerun. A grid selection
is positional (RECIPES §5), so a refresh that brought a new critical alert to row 0 would
silently move the user's checkmarks onto other alerts. Therefore, while rows are selected,
the table is *pinned*: it shows the same alerts in the same order as when the user
selected (their values — state, SLA — still refresh), and the actions resolve positions
against that pinned id list. Acting, clearing the selection or changing a filter unpins it
(the table key includes the filters and a nonce bumped after each action).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from core import db, lifecycle, views
from core import severity as sev
from core.actor import Actor
from core.alerts import export, queue
from core.alerts.store import RESOLUTIONS, ActionRequest, apply_many
from core.clock import SYSTEM_CLOCK
from core.errors import ACTION_VERBS, FieldError
from core.grouping import read as groups_view
from dashboard import exports, ui

LIMIT = 500
VIEWS = ("Alerts", "Groups")
OPEN = list(lifecycle.OPEN_STATES)
FILTER_KEYS = ("f_severity", "f_state", "f_service", "f_q", "f_muted", "f_mine")
PAGE_SIZES = (50, 100, 250, 500)
NO_RESOLUTION = "(no resolution code)"
MUTED = {"show": None, "hide": False, "only": True}  # silenced/inhibited alerts
ALL_SERVICES = "(all services)"
SILENCE_FOR = {"15 minutes": 15, "1 hour": 60, "4 hours": 240, "24 hours": 1440}
BULK_ACTIONS = (("acknowledge", "Acknowledge", "primary"), ("investigate", "Investigate", "secondary"),
                ("resolve", "Resolve", "secondary"), ("note", "Add note", "secondary"),
                ("assign", "Assign to me", "secondary"))
# Keyboard shortcuts of the action bar (Streamlit reserves C and R, so resolve is X).
SHORTCUTS = {"acknowledge": "A", "investigate": "I", "resolve": "X", "note": "N",
             "assign": "M", "silence": "S"}
MAX_LISTED = 20


# --- filters <-> URL ------------------------------------------------------------------

def _split(key: str) -> list[str]:
    return [v.strip() for raw in st.query_params.get_all(key) for v in raw.split(",") if v.strip()]


def _filters_from_url() -> dict[str, Any]:
    severities = []
    for value in _split("severity"):
        try:
            severities.append(sev.normalize(value))
        except FieldError:  # an unknown severity in a shared URL is ignored, not fatal
            continue
    states = [s for v in _split("state") for s in (OPEN if v == "open" else [v]) if s in OPEN]
    return {"f_severity": [s for s in sev.SEVERITIES if s in severities],
            "f_state": [s for s in OPEN if s in states and len(set(states)) < len(OPEN)],
            "f_service": st.query_params.get("service") or ALL_SERVICES,
            "f_q": st.query_params.get("q", ""),
            "f_muted": st.query_params.get("suppressed") if st.query_params.get("suppressed")
            in MUTED else "show",
            "f_mine": st.query_params.get("mine") == "1"}


def _init_filters() -> None:
    """URL first (a shared link), else what this session had, else the defaults."""
    if all(k in st.session_state for k in FILTER_KEYS):
        return
    has_url = any(k in st.query_params for k in ("severity", "state", "service", "q",
                                                 "suppressed", "mine"))
    saved = st.session_state.get("queue_filters")
    values = _filters_from_url() if has_url or not saved or set(saved) != set(FILTER_KEYS) \
        else saved
    for key in FILTER_KEYS:
        st.session_state[key] = values[key]


def _sync_url(values: dict[str, Any]) -> None:
    params: dict[str, str] = {}
    if st.session_state.get("queue_view") == "Groups":
        params["view"] = "groups"
    if values["f_severity"]:
        params["severity"] = ",".join(values["f_severity"])
    if values["f_state"] and set(values["f_state"]) != set(OPEN):
        params["state"] = ",".join(values["f_state"])
    if values["f_service"] != ALL_SERVICES:
        params["service"] = str(values["f_service"])
    if values["f_q"]:
        params["q"] = str(values["f_q"])
    if values["f_muted"] != "show":
        params["suppressed"] = str(values["f_muted"])
    if values["f_mine"]:
        params["mine"] = "1"
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def filter_bar(services: list[str], me: str) -> tuple[queue.AlertFilter, str]:
    """The filter widgets; returns the core filter and a short key naming it."""
    _init_filters()
    if st.session_state["f_service"] not in services:
        services = [*services, st.session_state["f_service"]]
    c1, c2, c3, c4, c5, c6 = st.columns([3, 4, 2, 2.6, 1.4, 1.7], vertical_alignment="bottom")
    c1.multiselect("Severity", list(sev.SEVERITIES), key="f_severity", placeholder="all")
    c2.multiselect("State", OPEN, key="f_state", placeholder="all open")
    c3.selectbox("Service", [ALL_SERVICES, *[s for s in services if s != ALL_SERVICES]],
                 key="f_service")
    c4.text_input("Search", key="f_q", placeholder="summary, service or device")
    c5.selectbox("Muted", list(MUTED), key="f_muted",
                 help="Silenced or inhibited alerts: show them, hide them, or only them")
    c6.toggle("Mine", key="f_mine", help="Only alerts assigned to you")
    values = {k: st.session_state[k] for k in FILTER_KEYS}
    st.session_state["queue_filters"] = values
    _sync_url(values)
    f = queue.AlertFilter(severity=tuple(values["f_severity"]),
                          state=tuple(values["f_state"]) or ("open",),
                          service=None if values["f_service"] == ALL_SERVICES else values["f_service"],
                          q=values["f_q"] or None, suppressed=MUTED[values["f_muted"]],
                          assignee=me if values["f_mine"] else None)
    fkey = hashlib.sha1(repr(sorted(values.items())).encode()).hexdigest()[:10]
    return f, fkey


# --- selection & pinning -------------------------------------------------------------

def table_key(fkey: str) -> str:
    return f"queue_table_{fkey}_{st.session_state.get('queue_nonce', 0)}"


def selected_rows(key: str) -> list[int]:
    try:
        return list(st.session_state[key]["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def selected_ids(key: str) -> list[int]:
    pin = st.session_state.get("queue_pin") or {}
    ids: list[int] = pin.get("ids", []) if pin.get("key") == key else []
    return [ids[i] for i in selected_rows(key) if 0 <= i < len(ids)]


def table_data(s: Any, f: queue.AlertFilter, key: str, now: datetime
               ) -> tuple[Any, int, dict[str, Any] | None]:
    """The live page of the queue, or the pinned alerts while a selection is active (then
    also the pin: when it was taken, and how many alerts arrived since)."""
    pin = st.session_state.get("queue_pin")
    if selected_rows(key) and pin and pin["key"] == key:
        arrived = queue.count(s, replace(f, start_date=pin["at"]))
        return views.queue_rows_by_ids(s, pin["ids"], now), pin["total"], {**pin, "new": arrived}
    size, page = page_size(), st.session_state.get("queue_pageno", 1)
    df, total = views.queue_page(s, f, now, size, page)
    if df.empty and page > 1:             # the page emptied (alerts resolved): go back
        page = max(1, -(-total // size))
        st.session_state["queue_pageno"] = page
        df, total = views.queue_page(s, f, now, size, page)
    st.session_state["queue_pin"] = {"key": key, "ids": df["id"].tolist(), "total": total,
                                     "at": now}
    return df, total, None


def page_size() -> int:
    """Kept apart from its widget's state: the pager is not drawn while a selection holds
    the table, and Streamlit forgets the state of widgets not drawn."""
    return int(st.session_state.get("queue_size", 100))


def pager(total: int) -> None:
    """Server-side pages over any number of alerts: where we are, and the way on."""
    size = page_size()
    pages = max(1, -(-total // size))
    page = min(st.session_state.get("queue_pageno", 1), pages)
    c_prev, c_where, c_next, c_size = st.columns([1, 3, 1, 1.3], vertical_alignment="center")
    c_prev.button("‹ Previous", key="queue_prev", disabled=page <= 1, width="stretch",
                  on_click=_go, args=(page - 1,), shortcut="Shift+Left")
    first = (page - 1) * size + 1 if total else 0
    c_where.markdown(f"Page **{page}** of {pages} · alerts {first:,}–{min(page * size, total):,}"
                     f" of {total:,}")
    c_next.button("Next ›", key="queue_next", disabled=page >= pages, width="stretch",
                  on_click=_go, args=(page + 1,), shortcut="Shift+Right")
    c_size.selectbox("Rows per page", PAGE_SIZES, key="queue_page_size",
                     index=PAGE_SIZES.index(size), on_change=_resize,
                     label_visibility="collapsed", format_func=lambda n: f"{n} per page")


def _go(page: int) -> None:
    st.session_state["queue_pageno"] = page


def _resize() -> None:
    st.session_state["queue_size"] = st.session_state["queue_page_size"]
    _go(1)


# --- actions ---------------------------------------------------------------------------

def do_action(engine: Any, actor: Actor, key: str, action: str) -> None:
    """Button callback: runs before the rerun, so it can clear the note and the selection."""
    ids = selected_ids(key)
    note = (st.session_state.get("queue_note") or "").strip() or None
    now = SYSTEM_CLOCK.now()
    if action == "note" and not note:
        st.session_state["queue_outcome"] = ("note", {}, now, "Write a note first.")
        return
    until = None
    if action == "silence":
        until = now + timedelta(minutes=SILENCE_FOR[st.session_state.get("queue_silence_for", "1 hour")])
    code = st.session_state.get("queue_resolution", NO_RESOLUTION)
    req = ActionRequest(action, note=note, until=until,
                        resolution=code if action == "resolve" and code != NO_RESOLUTION else None)
    if action == "assign":
        req = ActionRequest("note", note=note, assign_to=actor.name)
    with db.transaction(engine) as s:
        results = apply_many(s, ids, req, actor, now)
    st.session_state["queue_outcome"] = (action, results, now, None)
    st.session_state["queue_note"] = ""
    st.session_state["queue_nonce"] = st.session_state.get("queue_nonce", 0) + 1


def show_outcome() -> None:
    out = st.session_state.get("queue_outcome")
    if not out:
        return
    action, results, at, error = out
    if error:
        st.error(error)
        return
    done = [i for i, err in results.items() if err is None]
    failed = [err for err in results.values() if err]
    verb = {"note": "Noted", "assign": "Assigned to you"}.get(
        action, ACTION_VERBS.get(action, action).capitalize())
    when = ui.fmt_time(at, ui.user_tz())[11:]
    if done:
        ids = ", ".join(f"#{i}" for i in done[:MAX_LISTED]) + (" …" if len(done) > MAX_LISTED else "")
        st.success(f"{verb} {len(done)} alert{'s' * (len(done) != 1)} at {when}: {ids}")
    if failed:
        lines = [f"- {ui.plain(m)}" for m in failed[:MAX_LISTED]]
        more = [f"- … and {len(failed) - MAX_LISTED} more"] if len(failed) > MAX_LISTED else []
        st.warning(f"{len(failed)} not changed:\n" + "\n".join(lines + more))


def action_bar(engine: Any, actor: Actor, key: str, ids: list[int]) -> None:
    n = len(ids)
    with st.expander("Note, resolution code, silence duration"):
        c_note, c_code, c_sil = st.columns([4, 1.4, 1])
        c_note.text_input("Note (goes with the action)", key="queue_note", max_chars=10_000,
                          placeholder="optional for acknowledge / investigate / resolve")
        c_code.selectbox("Resolution code (on resolve)", [NO_RESOLUTION, *RESOLUTIONS],
                         key="queue_resolution")
        c_sil.selectbox("Silence for", list(SILENCE_FOR), index=1, key="queue_silence_for")
    cols = st.columns(len(BULK_ACTIONS) + 1)
    for col, (action, label, kind) in zip(cols, BULK_ACTIONS):
        col.button(f"{label} ({n})" if n else label, key=f"act_{action}", type=kind,
                   disabled=not n, on_click=do_action, args=(engine, actor, key, action),
                   width="stretch", shortcut=SHORTCUTS[action])
    cols[len(BULK_ACTIONS)].button(f"Silence ({n})" if n else "Silence", key="act_silence",
                                   disabled=not n, on_click=do_action,
                                   args=(engine, actor, key, "silence"), width="stretch",
                                   shortcut=SHORTCUTS["silence"])


def selection_line(ids: list[int], pin: dict[str, Any] | None) -> None:
    """What the actions will apply to, by alert id, and "Open" for a single one. Always
    there and always one line, so nothing above the grid moves while rows are ticked (a
    moving grid turned the next click into a click on another row)."""
    with st.container(key="queue_selection"):
        # "Open" sits on the left: the grid's hover toolbar covers the right end of this line
        c_open, c_text = st.columns([1, 6], vertical_alignment="center")
        one = len(ids) == 1
        c_open.page_link(ui.ALERT_PAGE, label=f"Open #{ids[0]}" if one else "Open alert",
                         icon=":material/open_in_new:", disabled=not one,
                         query_params={"id": str(ids[0])} if one else None)
        listed = ", ".join(f"#{i}" for i in ids[:MAX_LISTED]) + (" …" if len(ids) > MAX_LISTED else "")
        arrived = f" · {pin['new']} new alert{'s' * (pin['new'] != 1)} since you selected: " \
            "act or clear the selection to see them" if pin and pin.get("new") else ""
        c_text.caption((f"{len(ids)} selected: {listed}" if ids else
                        "No alert selected: tick rows to act on them, one to open it") + arrived)


# --- the live part ---------------------------------------------------------------------

def metrics_row(m: dict[str, int]) -> None:
    cols = st.columns(8)
    for col, name in zip(cols, sev.SEVERITIES):
        col.metric(name.capitalize(), m[name])
    cols[5].metric("Open", m["open"])
    cols[6].metric("Breached", m["breached"], help="Open alerts whose running SLA clock is past due")
    cols[7].metric("Unacked", m["unacknowledged"], help="Unacknowledged: open alerts in state new")


@st.fragment(run_every="10s")
def live_queue(engine: Any, actor: Actor, f: queue.AlertFilter, fkey: str) -> None:
    now = SYSTEM_CLOCK.now()
    key = table_key(fkey)
    st.session_state["queue_table_key"] = key  # tests and the browser script read it
    if st.session_state.get("queue_pager_for") != fkey:   # new filters: back to page 1
        st.session_state["queue_pager_for"], st.session_state["queue_pageno"] = fkey, 1
    with db.transaction(engine) as s:
        m = views.queue_metrics(s, now, f)
        df, total, pin = table_data(s, f, key, now)
    metrics_row(m)
    show_outcome()
    if df.empty:
        st.info("No open alerts match these filters.")
        return
    ids = selected_ids(key)  # read before the grid, so the toolbar can sit above it
    if actor.can("operator"):
        action_bar(engine, actor, key, ids)
    selection_line(ids, pin)
    st.dataframe(ui.style_queue(ui.queue_display(df)), key=key, on_select="rerun",
                 selection_mode="multi-row", hide_index=True, height=min(36 * len(df) + 38, 640),
                 column_config=ui.QUEUE_COLUMN_CONFIG)
    if pin is None:
        pager(total)
    note = (" · selection active: rows stay put while you act (values still refresh)"
            if pin else " · refreshes every 10 s")
    st.caption(f"Updated {ui.fmt_time(now, ui.user_tz())[11:]} ({ui.user_tz().key}){note}")


def view_toggle() -> str:
    """One row per alert, or one row per active group (expand one to act on its alerts)."""
    if "queue_view" not in st.session_state:
        st.session_state["queue_view"] = ("Groups" if st.query_params.get("view") == "groups"
                                          else "Alerts")
    view = st.segmented_control("View", VIEWS, key="queue_view", label_visibility="collapsed")
    return view or "Alerts"


def group_view(engine: Any, actor: Actor, f: queue.AlertFilter, fkey: str) -> None:
    with db.transaction(engine) as s:
        rows, total = groups_view.list_groups(
            s, groups_view.GroupFilter(status="active", service=f.service), limit=LIMIT)
    if not rows:
        st.info("No active groups.")
        return
    df = ui.groups_display(rows)
    key = f"queue_groups_{fkey}"
    st.session_state["queue_groups_key"] = key  # tests and the browser script read it
    event = st.dataframe(ui.style_severity(df), hide_index=True, width="stretch",
                         on_select="rerun", selection_mode="single-row", key=key,
                         column_config={"Grouped by": st.column_config.TextColumn(width="large")})
    st.caption(f"{len(df)} of {total} active groups · select one to work its alerts")
    picked = event.selection.rows if event is not None else []
    if picked:
        gid = int(df.iloc[picked[0]]["ID"])
        st.subheader(f"Group #{gid}: {df.iloc[picked[0]]['Grouped by']}")
        live_queue(engine, actor, replace(f, group_id=gid), f"{fkey}_g{gid}")


def render() -> None:
    actor = ui.current_actor()
    engine = ui.engine()
    ui.compact_layout()
    st.title("Active queue")
    with db.transaction(engine) as s:
        services = queue.services(s)
    view = view_toggle()
    f, fkey = filter_bar(services, actor.name)
    if view == "Groups":
        group_view(engine, actor, f, fkey)
    else:
        live_queue(engine, actor, f, fkey)
    now = SYSTEM_CLOCK.now()
    exports.csv_download(
        f"queue_csv_{fkey}", "alerts.csv", export.count_upto(engine, f, exports.ONE_CLICK + 1),
        lambda: export.count(engine, f), lambda on_rows: export.iter_csv(engine, f, now, on_rows),
        help="Every alert matching the filters, not just the rows shown")


render()
