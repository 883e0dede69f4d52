"""Audit: configuration changes and alert actions in one searchable list (core.audit), for
managers and admins; everyone else sees why the page is empty.

Filters: search text, actor (exact), what changed (alert actions, all configuration, or one
kind of configuration), a period in the viewer's zone. Before → after is shown as the
changed keys only ("tta_s: 300 → 600"); the CSV holds exactly the rows and columns shown.
The whole history matching the filters is ``GET /api/v1/audit/export.csv``.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core import db
from core.audit import ENTITIES, AuditFilter, search
from core.clock import SYSTEM_CLOCK
from dashboard import periods, ui

WHAT = {"Everything": None, "Alert actions": "alert", "Configuration changes": "config",
        **{e.replace("_", " ").capitalize(): e for e in ENTITIES}}
PAGE_SIZE = 100
COLUMNS = ["Time", "Actor", "Role", "Source", "Entity", "ID", "Action", "Changes", "Note",
           "Metadata"]


def audit_display(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame({
        "Time": [ui.fmt_time(r["at"], tz) for r in rows],
        "Actor": [r["actor"] for r in rows], "Role": [r["actor_role"] or "" for r in rows],
        "Source": [r["source"] for r in rows], "Entity": [r["entity"] for r in rows],
        "ID": [r["entity_id"] for r in rows], "Action": [r["action"] for r in rows],
        "Changes": [r["changes"] for r in rows], "Note": [r["note"] or "" for r in rows],
        "Metadata": [json.dumps(r["metadata"], ensure_ascii=False, sort_keys=True)
                     if r.get("metadata") else "" for r in rows],
    }, columns=COLUMNS)


def filters(now: datetime, tz: ZoneInfo) -> AuditFilter:
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    q = c1.text_input("Search", key="audit_q", placeholder="text in what changed, notes, ids")
    actor = c2.text_input("Actor", key="audit_actor", placeholder="exact username or key:name")
    what = c3.selectbox("What", list(WHAT), key="audit_what")
    start, end = periods.picker("audit", now, tz, c4, st, all_time=True)
    return AuditFilter(q, actor, WHAT[what], start, end)


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("Audit")
    if not actor.can("manager"):
        st.warning("The audit trail is for managers and admins only.")
        return
    tz, now = ui.user_tz(), SYSTEM_CLOCK.now()
    f = filters(now, tz)
    page = int(st.number_input("Page", min_value=1, value=1, step=1, key="audit_page"))
    with db.transaction(ui.engine()) as s:
        rows, total, capped = search(s, f, page, PAGE_SIZE)
    first = (page - 1) * PAGE_SIZE
    st.caption(f"{total:,}{'+' if capped else ''} entries, newest first · showing {first + 1 if rows else 0}–"
               f"{first + len(rows)} · times in {tz.key}")
    df = audit_display(rows, tz)
    st.dataframe(df, hide_index=True, width="stretch", key="audit_table",
                 column_config={"Changes": st.column_config.TextColumn(width="large")})
    st.download_button("Download CSV", df.to_csv(index=False).encode(), "audit.csv",
                       "text/csv", key="audit_csv")


render()
