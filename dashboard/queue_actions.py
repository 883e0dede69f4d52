"""The queue's actions: the bulk action bar over the selected alerts, the one-click
Ack / Resolve buttons on each row, the line naming the selection, and the outcome.

Every action names its alerts by id: the bulk bar acts on the ids the selection line shows
(positions resolved against the pinned id list of pages/queue.py), a row button on the id
its label carries. Nothing here runs SQL; core.alerts.store.apply_many does."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from core import db
from core.actor import Actor
from core.alerts.store import RESOLUTIONS, ActionRequest, apply_many
from core.clock import SYSTEM_CLOCK
from core.errors import ACTION_VERBS
from dashboard import ui

NO_RESOLUTION = "(no resolution code)"
SILENCE_FOR = {"15 minutes": 15, "1 hour": 60, "4 hours": 240, "24 hours": 1440}
BULK_ACTIONS = (("acknowledge", "Acknowledge", "primary"), ("investigate", "Investigate", "secondary"),
                ("resolve", "Resolve", "secondary"), ("note", "Add note", "secondary"),
                ("assign", "Assign to me", "secondary"))
# Keyboard shortcuts of the action bar (Streamlit reserves C and R, so resolve is X).
SHORTCUTS = {"acknowledge": "A", "investigate": "I", "resolve": "X", "note": "N",
             "assign": "M", "silence": "S"}
MAX_LISTED = 20

def selected_rows(key: str) -> list[int]:
    try:
        return list(st.session_state[key]["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def selected_ids(key: str) -> list[int]:
    pin = st.session_state.get("queue_pin") or {}
    ids: list[int] = pin.get("ids", []) if pin.get("key") == key else []
    return [ids[i] for i in selected_rows(key) if 0 <= i < len(ids)]


def _request(action: str, actor: Actor, now: datetime) -> ActionRequest:
    """What an action button asks for, with the options the expander holds (note,
    resolution code, silence duration)."""
    note = (st.session_state.get("queue_note") or "").strip() or None
    if action == "assign":
        return ActionRequest("note", note=note, assign_to=actor.name)
    until = None
    if action == "silence":
        until = now + timedelta(minutes=SILENCE_FOR[st.session_state.get("queue_silence_for", "1 hour")])
    code = st.session_state.get("queue_resolution", NO_RESOLUTION)
    return ActionRequest(action, note=note, until=until,
                         resolution=code if action == "resolve" and code != NO_RESOLUTION else None)


def _run(engine: Any, actor: Actor, ids: list[int], action: str) -> None:
    """Apply the action to exactly these alerts; the outcome is shown after the rerun."""
    now = SYSTEM_CLOCK.now()
    with db.transaction(engine) as s:
        results = apply_many(s, ids, _request(action, actor, now), actor, now)
    st.session_state["queue_outcome"] = (action, results, now, None)
    st.session_state["queue_note"] = ""


def do_action(engine: Any, actor: Actor, key: str, action: str) -> None:
    """Button callback: runs before the rerun, so it can clear the note and the selection."""
    if action == "note" and not (st.session_state.get("queue_note") or "").strip():
        st.session_state["queue_outcome"] = ("note", {}, SYSTEM_CLOCK.now(), "Write a note first.")
        return
    _run(engine, actor, selected_ids(key), action)
    st.session_state["queue_nonce"] = st.session_state.get("queue_nonce", 0) + 1


ROW_ACTIONS = {"Ack": "acknowledge", "Resolve": "resolve"}
ROW_WIDTHS = (80, 104)   # px; with the columns before Service they fit 1366x768


def row_action(engine: Any, actor: Actor, column: str) -> None:
    """One click on a row's Ack / Resolve button. The button's label names the alert
    ("Ack #42"), so the action goes to that id even if a refresh moved the rows between
    paint and click. The grid keeps its key: selection, scroll position and sort stay."""
    click = st.session_state.get(f"queue_row_{column.lower()}")
    found = re.search(r"#(\d+)$", str((click or {}).get("label") or ""))
    if found:
        _run(engine, actor, [int(found.group(1))], ROW_ACTIONS[column])


def row_action_columns(engine: Any, actor: Actor) -> dict[str, Any]:
    return {column: st.column_config.ButtonColumn(
        column, width=width, type="secondary", key=f"queue_row_{column.lower()}",
        on_click=row_action, args=(engine, actor, column),
        help=f"{action.capitalize()} this alert in one click (the note and resolution code "
             "under *Note, resolution code, silence duration* go with it)")
        for (column, action), width in zip(ROW_ACTIONS.items(), ROW_WIDTHS)}


def show_outcome() -> None:
    out = st.session_state.get("queue_outcome")
    if not out:
        return
    action, results, at, error = out
    fresh = st.session_state.get("queue_toasted") != at   # a toast once, not every refresh
    st.session_state["queue_toasted"] = at
    if error:
        st.error(error)
        if fresh:
            st.toast(error, icon=":material/error:")
        return
    done = [i for i, err in results.items() if err is None]
    failed = [err for err in results.values() if err]
    verb = {"note": "Noted", "assign": "Assigned to you"}.get(
        action, ACTION_VERBS.get(action, action).capitalize())
    when = ui.fmt_time(at, ui.user_tz())[11:]
    if done:
        ids = ", ".join(f"#{i}" for i in done[:MAX_LISTED]) + (" …" if len(done) > MAX_LISTED else "")
        text = f"{verb} {len(done)} alert{'s' * (len(done) != 1)} at {when}: {ids}"
        st.success(text)
        if fresh:
            st.toast(text, icon=":material/check_circle:")
    if failed:
        lines = [f"- {ui.plain(m)}" for m in failed[:MAX_LISTED]]
        more = [f"- … and {len(failed) - MAX_LISTED} more"] if len(failed) > MAX_LISTED else []
        st.warning(f"{len(failed)} not changed:\n" + "\n".join(lines + more))
        if fresh:
            st.toast(f"{len(failed)} not changed: {ui.plain(failed[0])}", icon=":material/warning:",
                     duration="long")


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
