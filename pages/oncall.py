"""On-call: who carries the pager now and next (per schedule, with contact; gaps in red),
the final schedule of the next 14 days as a timeline (after layers, restrictions and
overrides) with each layer and the overrides of one schedule underneath, its shifts with
CSV, the viewer's own upcoming shifts, overrides (operators for themselves, managers for
anyone: core/oncall/store.py decides) and the rotation editor (managers).

Times are shown in the viewer's zone; each schedule's own zone is noted. The editor's
line syntax is in dashboard/oncall_widgets.py.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import available_timezones

import pandas as pd
import plotly.express as px
import streamlit as st

from core import db, views
from core.actor import Actor
from core.auth import list_users
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, FieldError
from core.oncall import store
from core.oncall.rules import Shift, layer_shifts
from dashboard import oncall_widgets as w
from dashboard import ui

DAYS_AHEAD, MY_DAYS = 14, 30
ZONES = sorted(available_timezones())


def _fig(frame: pd.DataFrame, title: str, palette: dict[str, str]) -> Any:
    fig = px.timeline(frame, x_start="Start", x_end="End", y="Row", color="Person",
                      color_discrete_map=palette, color_discrete_sequence=w.PALETTE,
                      hover_data=["Source", "Start", "End"],
                      title=title, category_orders={"Row": list(dict.fromkeys(frame["Row"]))})
    fig.update_yaxes(title=None)  # category_orders already lists rows top down
    fig.update_layout(height=140 + 40 * frame["Row"].nunique(), legend_title_text=None,
                      margin={"t": 40, "b": 20})
    return fig


# --- now and next -----------------------------------------------------------------------------

def contact_text(contact: dict[str, Any] | None, username: str) -> str:
    if not contact:
        return username
    reach = " / ".join(x for x in (contact.get("email"), contact.get("phone")) if x)
    return f"{contact['display_name']} ({reach})" if reach else contact["display_name"]


def card(entry: dict[str, Any], names: dict[str, str], now: datetime) -> None:
    tz = ui.user_tz()
    nxt = entry["next"]
    with st.container(border=True):
        st.markdown(f"**{ui.plain(entry['schedule_name'])}**")
        st.caption(f"schedule zone {entry['timezone']}")
        if entry["username"] is None:
            until = (f" until {w.short(nxt['shift_start'], tz)}" if nxt
                     else " (nobody scheduled within a year)")
            st.error(f"Nobody on call{until}")
        else:
            who = contact_text(entry["contact"], entry["username"])
            st.markdown(f"On call now: **{ui.plain(who)}**")
            left = ui.duration((entry["shift_end"] - now).total_seconds())
            st.caption(f"until {w.short(entry['shift_end'], tz)} (in {left})")
        if nxt is not None and nxt["username"]:
            name = names.get(nxt["username"], nxt["username"])
            st.markdown(f"Next: {ui.plain(name)} from {w.short(nxt['shift_start'], tz)}")
        elif nxt is not None:
            st.markdown(f"Next: :red[nobody] from {w.short(nxt['shift_start'], tz)}")


def now_cards(now: datetime) -> None:
    with db.transaction(ui.engine()) as s:
        entries = store.current(s, None, now)
        nexts = {e["next"]["username"] for e in entries if e["next"] and e["next"]["username"]}
        names = {n: p.display_name for n in nexts if (p := views.user_profile(s, n))}
    if not entries:
        st.info("No enabled on-call schedules.")
    cols = st.columns(3)
    for i, entry in enumerate(entries):
        with cols[i % 3]:
            card(entry, names, now)


# --- timelines ---------------------------------------------------------------------------------

def overview(rows: list[dict[str, Any]], now: datetime, palette: dict[str, str]) -> None:
    end = now + timedelta(days=DAYS_AHEAD)
    tz = ui.user_tz()
    bars: list[dict[str, str]] = []
    with db.transaction(ui.engine()) as s:
        for r in (x for x in rows if x["enabled"]):
            bars += w.timeline_rows(r["name"], store.shifts(s, r["id"], now, end), tz, now, end)
    if bars:
        st.plotly_chart(_fig(pd.DataFrame(bars), f"Final schedule, next {DAYS_AHEAD} days",
                             palette), width="stretch", key="oc_overview")
        st.caption(f"Times in {tz.key}. Red: nobody on call.")


def detail(row: dict[str, Any], now: datetime, palette: dict[str, str]) -> None:
    """One schedule: the final row, then what wins in order: overrides, layers top down."""
    end, tz = now + timedelta(days=DAYS_AHEAD), ui.user_tz()
    with db.transaction(ui.engine()) as s:
        final = store.shifts(s, row["id"], now, end)
        found = store.list_overrides(s, row["id"], now, end)
    bars = w.timeline_rows("final", final, tz, now, end)
    bars += w.timeline_rows("overrides", [Shift(o["username"], o["start"], o["end"],
                                                f"override #{o['id']} by {o['created_by']}")
                                          for o in found], tz, now, end)
    for name, shifts in reversed(layer_shifts(store.to_schedule(row), now, end).items()):
        bars += w.timeline_rows(f"layer: {name}", shifts, tz, now, end)
    st.plotly_chart(_fig(pd.DataFrame(bars), f"{row['name']}: final, overrides and layers",
                         palette), width="stretch", key=f"oc_detail_{row['id']}")
    st.caption(f"times in {tz.key}; schedule zone {row['timezone']}. Under the final row, "
               "in precedence order: overrides, then layers (higher first).")


# --- tables ------------------------------------------------------------------------------------

def shifts_tab(row: dict[str, Any]) -> None:
    tz = ui.user_tz()
    today = SYSTEM_CLOCK.now().astimezone(tz).date()
    c1, c2 = st.columns(2)
    first = c1.date_input("From", today, key=f"sh_from_{row['id']}")
    last = c2.date_input("To (inclusive)", today + timedelta(days=DAYS_AHEAD - 1),
                         key=f"sh_to_{row['id']}")
    try:
        with db.transaction(ui.engine()) as s:
            shifts = store.shifts(s, row["id"], w.to_utc(first, time(0), tz),
                                  w.to_utc(last + timedelta(days=1), time(0), tz))
    except FieldError as err:
        st.error(ui.plain(str(err).replace("end:", "To:", 1)))
        return
    df = w.shifts_frame(shifts, tz)
    st.dataframe(w.style_gaps(df), hide_index=True, width="stretch", key=f"sh_table_{row['id']}")
    st.caption(f"{len(df)} shifts · times in {tz.key}; schedule zone {row['timezone']}")
    st.download_button("Download CSV", df.to_csv(index=False).encode(),
                       f"oncall-{row['id']}-{first}-{last}.csv", "text/csv", key="sh_csv")


def my_shifts_tab(actor: Actor, rows: list[dict[str, Any]], now: datetime) -> None:
    tz, end = ui.user_tz(), now + timedelta(days=MY_DAYS)
    frames = []
    with db.transaction(ui.engine()) as s:
        for r in (x for x in rows if x["enabled"]):
            mine = [x for x in store.shifts(s, r["id"], now, end) if x.username == actor.name]
            frames.append(w.shifts_frame(mine, tz, r["name"]))
    df = pd.concat(frames, ignore_index=True) if frames else w.shifts_frame([], tz, "")
    df = df.sort_values("Start", kind="stable").drop(columns="Person")
    st.dataframe(df, hide_index=True, width="stretch", key="my_shifts")
    ui.csv_button(df, "my-shifts.csv", "my_shifts_csv")
    st.caption(f"{len(df)} shifts of {actor.name} in the next {MY_DAYS} days · times in {tz.key}")


# --- overrides ---------------------------------------------------------------------------------

def override_body(sid: int, username: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"schedule_id": sid, "username": username, "start": start.isoformat(),
            "end": end.isoformat()}


def override_tab(actor: Actor, row: dict[str, Any], now: datetime, people: list[str]) -> None:
    ui.show_outcome("ov_outcome")
    tz, sid = ui.user_tz(), int(row["id"])
    with db.transaction(ui.engine()) as s:
        upcoming = store.shifts(s, sid, now, now + timedelta(days=DAYS_AHEAD))
    pick = st.selectbox("Shift to cover", range(len(upcoming)), key=f"ov_shift_{sid}",
                        format_func=lambda i: w.shift_label(upcoming[i], tz))
    shift = upcoming[pick or 0]
    with st.form(f"ov_form_{sid}_{pick}"):
        who = st.selectbox("Replacement", people, key=f"ov_who_{sid}_{pick}",
                           index=people.index(actor.name) if actor.name in people else 0)
        if not actor.can("manager"):
            st.caption("Only a manager may put someone else on call.")
        start, end = shift.start.astimezone(tz), shift.end.astimezone(tz)
        c1, c2, c3, c4 = st.columns(4)
        values = (c1.date_input("Start date", start.date(), key=f"ov_sd_{sid}_{pick}"),
                  c2.time_input("Start time", start.time(), key=f"ov_st_{sid}_{pick}"),
                  c3.date_input("End date", end.date(), key=f"ov_ed_{sid}_{pick}"),
                  c4.time_input("End time", end.time(), key=f"ov_et_{sid}_{pick}"))
        st.caption(f"times in {tz.key}; schedule zone {row['timezone']}")
        if st.form_submit_button("Add override", type="primary"):
            body = override_body(sid, who or "", w.to_utc(values[0], values[1], tz),
                                 w.to_utc(values[2], values[3], tz))
            ui.write_action("ov_outcome", f"{who} is on call for {row['name']} from "
                            f"{w.short(w.to_utc(values[0], values[1], tz), tz)}",
                            store.create_override, body, actor, SYSTEM_CLOCK.now())
            st.rerun()
    remove_override(actor, sid, now, tz)


def remove_override(actor: Actor, sid: int, now: datetime, tz: Any) -> None:
    """Upcoming overrides the viewer may remove (managers: all; operators: their own)."""
    with db.transaction(ui.engine()) as s:
        found = store.list_overrides(s, sid, now, now + timedelta(days=DAYS_AHEAD))
    mine = [o for o in found if actor.can("manager") or actor.name in (o["username"],
                                                                        o["created_by"])]
    if not mine:
        return
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Remove an override", mine, key=f"ov_del_pick_{sid}",
                        format_func=lambda o: f"#{o['id']} {o['username']} "
                                              f"{w.short(o['start'], tz)} → {w.short(o['end'], tz)}")
    c2.button("Remove override", key=f"ov_del_{sid}", on_click=ui.write_action,
              args=("ov_outcome", f"Override #{pick['id']} removed", store.delete_override,
                    int(pick["id"]), actor, SYSTEM_CLOCK.now()))


# --- the rotation editor -------------------------------------------------------------------------

def save_schedule(actor: Actor, sid: int | None, values: dict[str, Any]) -> None:
    """Create or replace from the editor; errors name the field or the line, nothing stored."""
    lines: list[int] = []
    try:
        body, lines = w.schedule_body(values)
        with db.transaction(ui.engine()) as s:
            if sid is None:
                store.create_schedule(s, body, actor, SYSTEM_CLOCK.now())
            else:
                store.replace_schedule(s, sid, body, actor, SYSTEM_CLOCK.now())
    except FieldError as err:
        st.session_state["ed_outcome"] = ("error", w.explain(err, lines))
    except AlertdeskError as err:
        st.session_state["ed_outcome"] = ("error", str(err))
    else:
        done = "created" if sid is None else "saved"
        st.session_state["ed_outcome"] = ("success", f"Schedule {body['name']!r} {done}")


def editor_tab(actor: Actor, rows: list[dict[str, Any]]) -> None:
    ui.show_outcome("ed_outcome")
    by_id = {r["id"]: r for r in rows}
    sid = st.selectbox("Schedule", [None, *by_id], key="ed_pick",
                       format_func=lambda i: "New schedule" if i is None else by_id[i]["name"])
    r: dict[str, Any] = by_id.get(sid) or {}
    k = f"ed_{sid}_{r['updated_at'].timestamp():.0f}" if r else "ed_new"
    zone = r.get("timezone") or ui.user_tz().key
    with st.form(k):
        c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
        values = {
            "name": c1.text_input("Name", r.get("name", ""), key=f"{k}_name"),
            "timezone": c2.selectbox("Time zone", ZONES, key=f"{k}_tz",
                                     index=ZONES.index(zone) if zone in ZONES else 0),
            "enabled": c3.checkbox("Enabled", bool(r.get("enabled", True)), key=f"{k}_enabled"),
            "description": st.text_input("Description", r.get("description") or "",
                                         key=f"{k}_description"),
            "layers": st.text_area("Layers", w.layers_text(r.get("layers", [])), height=120,
                                   key=f"{k}_layers", help=w.LINE_HELP,
                                   placeholder="primary | weekly | 09:00 | 2026-03-02 | olga, maria"
                                               "\nbusiness | daily | 09:00 | 2026-03-02 | ada "
                                               "| 1-5 09:00-17:00"),
        }
        st.caption(w.LINE_HELP)
        if st.form_submit_button("Save schedule" if r else "Create schedule", type="primary"):
            save_schedule(actor, sid, values)
            st.rerun()


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("On-call")
    now = SYSTEM_CLOCK.now()
    st.caption(f"Who carries the pager. Times in {ui.user_tz().key}; each schedule's zone "
               "is noted.")
    now_cards(now)
    with db.transaction(ui.engine()) as s:
        rows = store.list_schedules(s)
        people = [u["username"] for u in list_users(s) if u["is_active"]]
    palette = w.colors(people)
    overview(rows, now, palette)
    by_id = {r["id"]: r for r in rows}
    sid = st.selectbox("Schedule", list(by_id), key="oc_schedule",
                       format_func=lambda i: by_id[i]["name"] + ("" if by_id[i]["enabled"]
                                                                 else " (disabled)"))
    if sid is not None:
        detail(by_id[sid], now, palette)
    names = ["Shifts", "My upcoming shifts", *(["Override"] if actor.can("operator") else []),
             *(["Rotation editor"] if actor.can("manager") else [])]
    tabs = dict(zip(names, st.tabs(names)))
    if sid is not None:
        with tabs["Shifts"]:
            shifts_tab(by_id[sid])
    with tabs["My upcoming shifts"]:
        my_shifts_tab(actor, rows, now)
    if "Override" in tabs and sid is not None:
        with tabs["Override"]:
            override_tab(actor, by_id[sid], now, people)
    if "Rotation editor" in tabs:
        with tabs["Rotation editor"]:
            editor_tab(actor, rows)


render()
