"""The active queue: headline figures, shareable filters, the table, single and bulk actions.

Auto-refresh and selection. The figures, the table and the action bar live in one fragment
that reruns every 10 s, so the desk stays live without a full-page rerun. A grid selection
is positional (RECIPES §5), so a refresh that brought a new critical alert to row 0 would
silently move the user's checkmarks onto other alerts. Therefore, while rows are selected,
the table is *pinned*: it shows the same alerts in the same order as when the user
selected (their values — state, SLA — still refresh), and the actions resolve positions
against that pinned id list. A bulk action, clearing the selection or changing a filter
unpins it (the table key includes the filters and a nonce bumped after each bulk action).
A row's one-click Ack / Resolve keeps the key, so the selection, the scroll position and
the grid's own column sort survive it; the order chosen under the table (server-side, over
every page) survives everything. Actions live in dashboard/queue_actions.py.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

import streamlit as st

from core import db, lifecycle, views
from core import severity as sev
from core.actor import Actor
from core.alerts import export, queue
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError
from core.grouping import read as groups_view
from dashboard import exports, ui
from dashboard.queue_actions import (
    action_bar,
    row_action_columns,
    selected_ids,
    selected_rows,
    selection_line,
    show_outcome,
)

LIMIT = 500
VIEWS = ("Alerts", "Groups")
OPEN = list(lifecycle.OPEN_STATES)
FILTER_KEYS = ("f_severity", "f_state", "f_service", "f_q", "f_muted", "f_mine")
PAGE_SIZES = (50, 100, 250, 500)
SORTS = {"priority": "Most urgent first", "sla": "SLA due soonest", "newest": "Newest first",
         "oldest": "Oldest first", "service": "By service"}
MUTED = {"show": None, "hide": False, "only": True}  # silenced/inhibited alerts
ALL_SERVICES = "(all services)"


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


def table_data(s: Any, f: queue.AlertFilter, key: str, now: datetime
               ) -> tuple[Any, int, dict[str, Any] | None]:
    """The live page of the queue, or the pinned alerts while a selection is active (then
    also the pin: when it was taken, and how many alerts arrived since)."""
    pin = st.session_state.get("queue_pin")
    if selected_rows(key) and pin and pin["key"] == key:
        arrived = queue.count(s, replace(f, start_date=pin["at"]))
        return views.queue_rows_by_ids(s, pin["ids"], now), pin["total"], {**pin, "new": arrived}
    size, page = page_size(), st.session_state.get("queue_pageno", 1)
    sort = sort_order()
    df, total = views.queue_page(s, f, now, size, page, sort)
    if df.empty and page > 1:             # the page emptied (alerts resolved): go back
        page = max(1, -(-total // size))
        st.session_state["queue_pageno"] = page
        df, total = views.queue_page(s, f, now, size, page, sort)
    st.session_state["queue_pin"] = {"key": key, "ids": df["id"].tolist(), "total": total,
                                     "at": now}
    return df, total, None


def page_size() -> int:
    """Kept apart from its widget's state: the pager is not drawn while a selection holds
    the table, and Streamlit forgets the state of widgets not drawn."""
    return int(st.session_state.get("queue_size", 100))


def sort_order() -> str:
    """The server-side order (kept like the page size). The grid's own column headers sort
    only the rows on screen and forget it when an action refreshes the grid; this order
    covers every page and holds across actions, refreshes and reloads of the page."""
    sort = st.session_state.get("queue_sort") or st.query_params.get("sort") or "priority"
    return sort if sort in SORTS else "priority"


def pager(total: int) -> None:
    """Server-side pages over any number of alerts: where we are, and the way on."""
    size = page_size()
    pages = max(1, -(-total // size))
    page = min(st.session_state.get("queue_pageno", 1), pages)
    c_prev, c_where, c_next, c_sort, c_size = st.columns([1, 2.6, 1, 1.5, 1.2],
                                                         vertical_alignment="center")
    c_prev.button("‹ Previous", key="queue_prev", disabled=page <= 1, width="stretch",
                  on_click=_go, args=(page - 1,), shortcut="Shift+Left")
    first = (page - 1) * size + 1 if total else 0
    c_where.markdown(f"Page **{page}** of {pages} · alerts {first:,}–{min(page * size, total):,}"
                     f" of {total:,}")
    c_next.button("Next ›", key="queue_next", disabled=page >= pages, width="stretch",
                  on_click=_go, args=(page + 1,), shortcut="Shift+Right")
    c_sort.selectbox("Order", list(SORTS), key="queue_sort_order",
                     index=list(SORTS).index(sort_order()), on_change=_resort,
                     label_visibility="collapsed", format_func=SORTS.__getitem__)
    c_size.selectbox("Rows per page", PAGE_SIZES, key="queue_page_size",
                     index=PAGE_SIZES.index(size), on_change=_resize,
                     label_visibility="collapsed", format_func=lambda n: f"{n} per page")


def _go(page: int) -> None:
    st.session_state["queue_pageno"] = page


def _resort() -> None:
    st.session_state["queue_sort"] = st.session_state["queue_sort_order"]
    _go(1)


def _resize() -> None:
    st.session_state["queue_size"] = st.session_state["queue_page_size"]
    _go(1)


# --- actions ---------------------------------------------------------------------------

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
    if df.empty:
        show_outcome()
        st.info("No open alerts match these filters.")
        return
    ids = selected_ids(key)  # read before the grid, so the toolbar can sit above it
    if actor.can("operator"):
        action_bar(engine, actor, key, ids)
    selection_line(ids, pin)
    can_act = actor.can("operator")
    columns = {**ui.QUEUE_COLUMN_CONFIG, **(row_action_columns(engine, actor) if can_act else {})}
    st.dataframe(ui.style_queue(ui.queue_display(df, row_actions=can_act)), key=key,
                 on_select="rerun", selection_mode="multi-row", hide_index=True,
                 height=min(36 * len(df) + 38, 640), column_config=columns)
    # Below the grid (and as a toast): above it, the message would push the grid down
    # under the pointer just as the operator reaches for the next row's button.
    show_outcome()
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
