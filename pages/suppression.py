"""Suppression: silences (maintenance windows) and inhibition rules.

Matched alerts are still stored and shown (filter them on the queue); they only never
notify. Operators create and expire silences; managers edit inhibition rules.
Matchers are typed one per line, Alertmanager style: ``service=checkout``,
``severity!=critical``, ``instance=~web-.*``, ``alertname!~Watchdog|Info.*``.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import streamlit as st

from core import db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError
from core.suppression.inhibition_store import create_rule, list_rules, update_rule
from core.suppression.silences_store import (
    create_silence,
    expire_silence,
    list_silences,
    preview_silence,
)
from dashboard import ui

LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
DURATIONS = {"1 hour": 1, "2 hours": 2, "4 hours": 4, "8 hours": 8, "24 hours": 24,
             "3 days": 72, "1 week": 168}
STATE_FILTER = {"Active": "active", "Pending": "pending", "Expired": "expired", "All": None}


def parse_lines(text: str, field: str) -> list[dict[str, str]]:
    """``name op value`` per line -> matcher objects; FieldError names the line."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = LINE.match(line)
        if m is None:
            raise FieldError(f"{field} line {n}", "write name=value, name!=value, "
                                                  "name=~regex or name!~regex")
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out.append({"name": m.group(1), "op": m.group(2), "value": value})
    return out


def matchers_text(matchers: list[dict[str, str]]) -> str:
    return ", ".join(f"{m['name']}{m['op']}{m['value']}" for m in matchers)


def silence_form(actor: Actor) -> None:
    with st.form("new_silence", clear_on_submit=False):
        st.subheader("New silence")
        lines = st.text_area("Matchers (one per line)", key="sil_matchers", height=100,
                             placeholder="service=checkout\nalertname=~High.*")
        c1, c2 = st.columns(2)
        hours = DURATIONS[c1.selectbox("For", list(DURATIONS), index=1, key="sil_for")]
        delay = c2.number_input("Starts in (hours; 0 = now)", min_value=0, max_value=720,
                                value=0, key="sil_delay")
        comment = st.text_input("Comment", key="sil_comment", placeholder="why (required)")
        c_create, c_preview, _ = st.columns([1, 1, 3])
        preview = c_preview.form_submit_button("Preview matches", width="stretch",
                                               help="The open alerts these matchers "
                                                    "would mute now; nothing is saved")
        if preview:
            preview_matches(lines)
        if c_create.form_submit_button("Create silence", type="primary", width="stretch"):
            st.session_state.pop("sil_preview", None)
            now = SYSTEM_CLOCK.now()
            starts = now + timedelta(hours=int(delay))
            try:
                body = {"matchers": parse_lines(lines, "matchers"), "comment": comment,
                        "starts_at": starts, "ends_at": starts + timedelta(hours=hours)}
            except FieldError as err:
                st.session_state["sil_outcome"] = ("error", str(err))
            else:
                ui.write_action("sil_outcome", "Silence created", create_silence, body, actor, now)
            st.rerun()


def preview_matches(lines: str) -> None:
    """Keep what these matcher lines match now (or why they cannot) for show_preview."""
    try:
        matchers = parse_lines(lines, "matchers")
        with db.transaction(ui.engine()) as s:
            found = preview_silence(s, matchers)
    except FieldError as err:
        st.session_state["sil_preview"] = ("", None, str(err))
    else:
        st.session_state["sil_preview"] = (matchers_text(matchers), found, None)


def show_preview() -> None:
    """Under the form: the matching open alerts of the last preview, and the matchers it ran on."""
    kept = st.session_state.get("sil_preview")
    if not kept:
        return
    text, found, error = kept
    if error:
        st.error(ui.plain(error))
        return
    n, listed = found["matching_open_alerts"], found["alerts"]
    st.markdown(f"**{n} open alert{'s' * (n != 1)}** match{'es' * (n == 1)} {ui.plain(text)} now"
                + (f" (the first {len(listed)} below)" if n > len(listed) else ""))
    if listed:
        st.dataframe(pd.DataFrame({
            "ID": [a["id"] for a in listed], "Severity": [a["severity"] for a in listed],
            "State": [a["state"] for a in listed], "Service": [a["service"] for a in listed],
            "Device": [a["device_id"] for a in listed], "Summary": [a["summary"] for a in listed],
            "Muted by": [f"silence #{a['silence_id']}" if a["silence_id"] else ""
                         for a in listed]}), hide_index=True, width="stretch")


def silences_tab(actor: Actor) -> None:
    ui.show_outcome("sil_outcome")
    label = st.segmented_control("Show", list(STATE_FILTER), default="Active", key="sil_state")
    now = SYSTEM_CLOCK.now()
    with db.transaction(ui.engine()) as s:
        rows, total = list_silences(s, now, STATE_FILTER[label or "All"], limit=500)
    tz = ui.user_tz()
    df = pd.DataFrame({
        "ID": [r["id"] for r in rows], "State": [r["state"] for r in rows],
        "Matchers": [matchers_text(r["matchers"]) for r in rows],
        "Starts": [ui.fmt_time(r["starts_at"], tz) for r in rows],
        "Ends": [ui.fmt_time(r["ends_at"], tz) for r in rows],
        "Alerts": [r["alerts"] for r in rows], "Created by": [r["created_by"] for r in rows],
        "Comment": [r["comment"] for r in rows],
    }, columns=["ID", "State", "Matchers", "Starts", "Ends", "Alerts", "Created by", "Comment"])
    event = st.dataframe(df, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=f"silences_{label}")
    st.caption(f"{len(df)} of {total} silences · times in {tz.key}")
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "silences.csv",
                       "text/csv", key="silences_csv")
    picked = event.selection.rows if event is not None else []
    if picked and actor.can("operator") and df.iloc[picked[0]]["State"] != "expired":
        sid = int(df.iloc[picked[0]]["ID"])
        st.button(f"Expire silence #{sid}", key="sil_expire", on_click=ui.write_action,
                  args=("sil_outcome", f"Silence #{sid} expired", expire_silence, sid, actor,
                        SYSTEM_CLOCK.now()))
    if actor.can("operator"):
        silence_form(actor)
        show_preview()


def rule_form(actor: Actor) -> None:
    with st.form("new_rule"):
        st.subheader("New inhibition rule")
        name = st.text_input("Name", key="rule_name")
        c1, c2 = st.columns(2)
        source = c1.text_area("Source matchers (the cause)", key="rule_source", height=90,
                              placeholder="alertname=NodeDown")
        target = c2.text_area("Target matchers (suppressed)", key="rule_target", height=90,
                              placeholder="severity!=critical")
        equal = st.text_input("Equal labels (comma separated)", key="rule_equal",
                              placeholder="device_id")
        if st.form_submit_button("Create rule", type="primary"):
            try:
                body = {"name": name, "source_match": parse_lines(source, "source_match"),
                        "target_match": parse_lines(target, "target_match"),
                        "equal": [e.strip() for e in equal.split(",") if e.strip()]}
            except FieldError as err:
                st.session_state["rule_outcome"] = ("error", str(err))
            else:
                ui.write_action("rule_outcome", f"Rule {name!r} created", create_rule, body, actor,
                       SYSTEM_CLOCK.now())
            st.rerun()


def rules_tab(actor: Actor) -> None:
    ui.show_outcome("rule_outcome")
    with db.transaction(ui.engine()) as s:
        rows = list_rules(s)
    df = pd.DataFrame({
        "ID": [r["id"] for r in rows], "Name": [r["name"] for r in rows],
        "Enabled": [bool(r["enabled"]) for r in rows],
        "Source": [matchers_text(r["source_match"]) for r in rows],
        "Target": [matchers_text(r["target_match"]) for r in rows],
        "Equal": [", ".join(r["equal"] or []) for r in rows],
        "Suppressing": [r.get("alerts", 0) for r in rows],
    }, columns=["ID", "Name", "Enabled", "Source", "Target", "Equal", "Suppressing"])
    event = st.dataframe(df, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="rules_table")
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "inhibit-rules.csv",
                       "text/csv", key="rules_csv")
    picked = event.selection.rows if event is not None else []
    if picked and actor.can("manager"):
        rule = df.iloc[picked[0]]
        verb = "Disable" if rule["Enabled"] else "Enable"
        st.button(f"{verb} rule {rule['Name']!r}", key="rule_toggle", on_click=ui.write_action,
                  args=("rule_outcome", f"Rule {rule['Name']!r} {verb.lower()}d", update_rule,
                        int(rule["ID"]), {"enabled": not rule["Enabled"]}, actor,
                        SYSTEM_CLOCK.now()))
    if actor.can("manager"):
        rule_form(actor)


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("Suppression")
    st.caption("Silenced and inhibited alerts are kept and shown; they never notify.")
    silences, rules = st.tabs(["Silences", "Inhibition rules"])
    with silences:
        silences_tab(actor)
    with rules:
        rules_tab(actor)


render()
