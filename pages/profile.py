"""Profile: how you are reached when you are paged — your contact methods (phone for SMS
and voice calls, e-mail, Slack member id) and your notification rules per urgency (high:
critical and high alerts; low: the rest), each a contact method and a delay. An admin can
open anyone's profile (``/profile?user=olga``). Rules live in core/people."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import db
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, FieldError
from core.people import store
from core.people.rules import TYPES, URGENCIES
from dashboard import ui

ADDRESS_HINT = {"sms": "+15551234567", "voice": "+15551234567", "email": "you@example.com",
                "slack": "U024BE7LH (your Slack member id)"}


def whose() -> str:
    actor = ui.current_actor()
    wanted = (st.query_params.get("user") or "").strip().lower()
    return wanted if wanted and actor.can("admin") else actor.name


def methods_section(user: str, methods: list[dict[str, Any]]) -> None:
    st.subheader("Contact methods")
    ui.show_outcome("profile_methods")
    if methods:
        st.dataframe(pd.DataFrame({"ID": [m["id"] for m in methods],
                                   "Type": [m["type"] for m in methods],
                                   "Address": [m["address"] for m in methods],
                                   "Label": [m["label"] for m in methods]}),
                     hide_index=True, width="stretch", key="profile_methods_table")
    else:
        st.caption("No contact methods yet: pages reach you by your profile e-mail and phone.")
    with st.form("profile_add_method", border=False):
        c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
        kind = c1.selectbox("Type", TYPES, key="pm_type")
        address = c2.text_input("Address", key="pm_address", placeholder=ADDRESS_HINT["sms"])
        label = c3.text_input("Label", key="pm_label", placeholder="mobile")
        if c4.form_submit_button("Add"):
            ui.write_action("profile_methods", f"{kind} contact added", _add, user,
                            {"type": kind, "address": address, "label": label})
            st.rerun()
    if methods:
        c1, c2, _ = st.columns([2, 1, 3])
        gone = c1.selectbox("Remove", [m["id"] for m in methods], index=None, key="pm_remove",
                            format_func=lambda i: next(f"#{m['id']} {m['type']} {m['address']}"
                                                       for m in methods if m["id"] == i),
                            placeholder="Remove a contact method", label_visibility="collapsed")
        c2.button("Remove", key="pm_remove_btn", disabled=gone is None,
                  on_click=ui.write_action, args=("profile_methods", "Contact removed",
                                                  _remove, user, gone))


def rules_section(user: str, methods: list[dict[str, Any]], rules: list[dict[str, Any]]) -> None:
    st.subheader("Notification rules")
    st.caption("One line per rule: urgency, contact method id, minutes after the page "
               "starts — e.g. `high, 1, 0` then `high, 2, 2` then `high, 3, 5`. "
               "Without a rule for an urgency you get SMS for critical, e-mail otherwise.")
    ui.show_outcome("profile_rules")
    text = "\n".join(f"{r['urgency']}, {r['contact_method_id']}, {r['delay_s'] // 60}"
                     for r in rules)
    with st.form("profile_rules_form", border=False):
        lines = st.text_area("Rules", text, key="pr_rules", height=120,
                             placeholder="high, 1, 0\nhigh, 2, 2\nlow, 3, 0")
        if st.form_submit_button("Save rules", type="primary"):
            ui.write_action("profile_rules", "Rules saved", _save_rules, user, lines)
            st.rerun()


def _parse(lines: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(filter(None, (x.strip() for x in lines.splitlines())), 1):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3 or parts[0] not in URGENCIES:
            raise ValueError(f"line {n}: write urgency (high or low), contact id, minutes")
        try:
            out.append({"urgency": parts[0], "contact_method_id": int(parts[1]),
                        "delay_s": int(float(parts[2]) * 60)})
        except ValueError:
            raise ValueError(f"line {n}: the contact id and the minutes are numbers") from None
    return out


def _add(session: Any, user: str, body: dict[str, Any]) -> None:
    store.add_method(session, user, body, ui.current_actor(), SYSTEM_CLOCK.now())


def _remove(session: Any, user: str, method_id: int) -> None:
    store.delete_method(session, user, method_id, ui.current_actor(), SYSTEM_CLOCK.now())


def _save_rules(session: Any, user: str, lines: str) -> None:
    try:
        rules = _parse(lines)
    except ValueError as err:
        raise FieldError("rules", str(err)) from None
    store.put_rules(session, user, {"rules": rules}, ui.current_actor(), SYSTEM_CLOCK.now())


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    user = whose()
    st.title("Profile" if user == actor.name else f"Profile of {user}")
    try:
        with db.transaction(ui.engine()) as s:
            methods = store.list_methods(s, user, actor)
            rules = store.list_rules(s, user, actor)
    except AlertdeskError as err:
        st.error(ui.plain(str(err)))
        return
    methods_section(user, methods)
    rules_section(user, methods, rules)


render()
