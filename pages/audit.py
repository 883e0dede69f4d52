"""Audit: configuration changes and alert actions in one searchable list (core.audit), for
managers and admins; everyone else sees why the page is empty.

Filters: search text, actor (exact), what changed (alert actions, all configuration, or one
kind of configuration), a period in the viewer's zone. Before → after is shown as the
changed keys only ("tta_s: 300 → 600"); the CSV holds exactly the rows and columns shown.
The whole history matching the filters is ``GET /api/v1/audit/export.csv``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core import db
from core.audit import ENTITIES, AuditFilter, search
from core.clock import SYSTEM_CLOCK
from dashboard import ui

PERIODS = ["Last 24 hours", "Last 7 days", "Last 30 days", "All time", "Custom range"]
WHAT = {"Everything": None, "Alert actions": "alert", "Configuration changes": "config",
        **{e.replace("_", " ").capitalize(): e for e in ENTITIES}}
PAGE_SIZE = 100
COLUMNS = ["Time", "Actor", "Role", "Source", "Entity", "ID", "Action", "Changes", "Note"]


def period_bounds(label: str, now: datetime, tz: ZoneInfo, custom: tuple[date, date] | None = None
                  ) -> tuple[datetime | None, datetime | None]:
    """[start, end) for a period label in the viewer's zone; days start at local midnight."""
    today = now.astimezone(tz).date()
    if label == "Last 24 hours":
        return now - timedelta(hours=24), None
    if label in ("Last 7 days", "Last 30 days"):
        days = 7 if label == "Last 7 days" else 30
        return datetime.combine(today - timedelta(days=days - 1), time(0), tzinfo=tz), None
    if label == "All time":
        return None, None
    first, last = custom or (today, today)
    return (datetime.combine(first, time(0), tzinfo=tz),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz))


def audit_display(rows: list[dict[str, Any]], tz: ZoneInfo) -> pd.DataFrame:
    return pd.DataFrame({
        "Time": [ui.fmt_time(r["at"], tz) for r in rows],
        "Actor": [r["actor"] for r in rows], "Role": [r["actor_role"] or "" for r in rows],
        "Source": [r["source"] for r in rows], "Entity": [r["entity"] for r in rows],
        "ID": [r["entity_id"] for r in rows], "Action": [r["action"] for r in rows],
        "Changes": [r["changes"] for r in rows], "Note": [r["note"] or "" for r in rows],
    }, columns=COLUMNS)


def filters(now: datetime, tz: ZoneInfo) -> AuditFilter:
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    q = c1.text_input("Search", key="audit_q", placeholder="text in what changed, notes, ids")
    actor = c2.text_input("Actor", key="audit_actor", placeholder="exact username or key:name")
    what = c3.selectbox("What", list(WHAT), key="audit_what")
    label = c4.selectbox("Period", PERIODS, index=1, key="audit_period")
    custom = None
    if label == "Custom range":
        today = now.astimezone(tz).date()
        picked = st.date_input("Days (local)", (today - timedelta(days=6), today),
                               max_value=today, key="audit_days")
        dates = list(picked) if isinstance(picked, tuple) else [picked]
        custom = (dates[0], dates[-1]) if dates else None
    start, end = period_bounds(label, now, tz, custom)
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
