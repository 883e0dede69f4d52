"""NOC wall screen: a read-only page for a TV across the room.

Opened as ``/?wall=<key>`` (or ``/wall?token=<key>``) with a viewer-role API key
(``python -m dashboard create-api-key wall --role viewer``): no login form, no sidebar, no
action buttons. Signed-in users also reach it from the sidebar ("Wall").

Dark theme and big tiles via injected CSS. The tiles are ``st.metric`` elements inside keyed
containers (CSS targets ``.st-key-wall_tile_<severity>``), so the only HTML this page writes
is style and fixed words; alert text, schedule names and usernames go through tables.

Never a frozen, green picture: the live part is a fragment that reruns every 10 s and
records the time of the last successful read. A failed read (database unreachable) or data
older than 60 s shows a loud red banner and dims the tiles (``staleness`` decides). If the
browser stops refreshing altogether (server gone, socket dropped), a CSS watchdog banner
that becomes visible 70 s after the last render covers the screen instead.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core import db, views
from core import severity as sev
from core.clock import SYSTEM_CLOCK
from core.errors import AuthError, Unavailable
from dashboard import ui

STALE_AFTER = timedelta(seconds=60)
TOP = views.WALL_TOP
NOBODY = "NOBODY"
TILE_COLORS = {**{s: ui.SEVERITY_COLORS[s] for s in sev.SEVERITIES},
               "breached": ("#4a0000", "#ff5252"), "unacked": ("#3e2a00", "#ffb300")}

CSS = """
<style>
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {background:#000; color:#eee}
[data-testid="stMainBlockContainer"] {padding:1rem 2rem; max-width:100%}
.stApp h1 {color:#fff; font-size:3rem; padding:0}
[data-testid="stMetric"] {border-radius:12px; padding:.6rem 1rem}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {font-size:1.5rem !important;
  font-weight:700}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {font-size:6rem !important;
  font-weight:800; line-height:1.1}
[data-testid="stCaptionContainer"], .stApp p {color:#ccc; font-size:1.4rem}
[data-testid="stTable"] table {font-size:1.55rem; color:#eee; background:#000}
[data-testid="stTable"] th {color:#aaa; font-size:1.2rem}
[data-testid="stTable"] td, [data-testid="stTable"] th {border-color:#333 !important}
.st-key-wall_tiles_stale {opacity:.3; filter:grayscale(1)}
.wall-banner {background:#d50000; color:#fff; font-size:3rem; font-weight:900;
  text-align:center; padding:1rem; border-radius:8px; letter-spacing:.05em}
.wall-watchdog {position:fixed; inset:0; z-index:999999; background:rgba(120,0,0,.92);
  color:#fff; font-size:4rem; font-weight:900; display:flex; align-items:center;
  justify-content:center; text-align:center; opacity:0; pointer-events:none;
  animation:wall-watchdog 0s linear 70s forwards}
@keyframes wall-watchdog {to {opacity:1}}
""" + "".join(
    f".st-key-wall_tile_{name} [data-testid='stMetric'] {{background:{bg}}}"
    f".st-key-wall_tile_{name} [data-testid='stMetric'] * {{color:{fg} !important}}"
    for name, (bg, fg) in TILE_COLORS.items()) + "</style>"
KIOSK_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], footer {display:none !important}
</style>"""


def staleness(last_ok: datetime | None, now: datetime, error: str | None) -> str | None:
    """The stale-data banner text, or None when the picture is fresh (pure)."""
    since = ("no successful update yet" if last_ok is None else
             f"last update {last_ok:%H:%M:%S} ({int((now - last_ok).total_seconds())} s ago)")
    if error is not None:
        return f"DATABASE UNREACHABLE — {since}"
    if last_ok is None:
        return f"DATA IS STALE — {since}"
    if now - last_ok > STALE_AFTER:
        return f"DATA IS STALE — {since}"
    return None


def top_table(df: pd.DataFrame) -> Any:
    table = pd.DataFrame({
        "Severity": df["severity"].str.upper(),
        "SLA": [ui.sla_text(c, r, lv) for c, r, lv in
                zip(df["sla_clock"], df["sla_remaining_s"], df["sla_level"])],
        "Summary": df["summary"], "Service": df["service"],
        "Age": [ui.duration(x) for x in df["age_s"]], "State": df["state"],
    })

    def sev_css(value: str) -> str:
        bg, fg = ui.SEVERITY_COLORS.get(value.lower(), ("#000", "#eee"))
        return f"background-color:{bg}; color:{fg}; font-weight:700"

    def sla_css(value: str) -> str:
        if "breached" in value:
            return "background-color:#b71c1c; color:#fff; font-weight:700"
        return "color:#ffb300; font-weight:700" if "at risk" in value else ""

    return table.style.map(sev_css, subset=["Severity"]).map(sla_css, subset=["SLA"]).hide()


def oncall_table(rows: list[dict[str, Any]]) -> Any:
    table = pd.DataFrame({"Schedule": [r["schedule_name"] for r in rows],
                          "On call": [r["username"] or NOBODY for r in rows]},
                         columns=["Schedule", "On call"])
    return table.style.map(
        lambda v: "background-color:#d50000; color:#fff; font-weight:900" if v == NOBODY else
        "color:#69f0ae; font-weight:700", subset=["On call"]).hide()


def tiles(data: dict[str, Any], stale: bool) -> None:
    m = data["metrics"]
    with st.container(key="wall_tiles_stale" if stale else "wall_tiles"):
        cols = st.columns(len(sev.SEVERITIES) + 2)
        for col, name in zip(cols, sev.SEVERITIES):
            with col.container(key=f"wall_tile_{name}"):
                st.metric(name.upper(), m[name])
        with cols[-2].container(key="wall_tile_breached"):
            st.metric("BREACHING NOW", m["breached"])
        with cols[-1].container(key="wall_tile_unacked"):
            st.metric("UNACKED", m["unacknowledged"])
        left, right = st.columns([3, 1])
        with left:
            st.subheader(f"Top of the queue ({min(len(data['top']), TOP)} of {data['total']} open)")
            if data["top"].empty:
                st.text("No open alerts.")
            else:
                st.table(top_table(data["top"]))
        with right:
            st.subheader("On call now")
            if data["oncall"]:
                st.table(oncall_table(data["oncall"]))
            else:
                st.text("No on-call schedules.")


@st.fragment(run_every="10s")
def live(engine: db.Engine, now_fn: Callable[[], datetime], token: str | None) -> None:
    now = now_fn()
    error: str | None = None
    try:
        st.session_state["wall_data"] = views.wall_snapshot(engine, now, token)
        st.session_state["wall_last_ok"] = now
    except AuthError:
        st.session_state.pop("wall_data", None)
        st.error("WALL TOKEN REVOKED OR INVALID — no data shown. Create a new viewer key.")
        return
    except Unavailable as err:
        error = str(err)
    last_ok: datetime | None = st.session_state.get("wall_last_ok")
    banner = staleness(last_ok, now, error)
    tz = ui.user_tz()
    if banner:
        # Fixed words plus a clock time and a number: no data text in this HTML.
        st.html(f'<div class="wall-banner">{banner}</div>')
    else:
        st.caption(f"updated {now.astimezone(tz):%H:%M:%S} ({tz.key}) · refreshes every 10 s")
    stamp = now.astimezone(tz).strftime("%H:%M:%S")
    st.html(f'<div class="wall-watchdog" data-at="{stamp}">SCREEN FROZEN — NOT UPDATED SINCE '
            f'{stamp}<br>reload the page</div>')
    data = st.session_state.get("wall_data")
    if data is not None:
        tiles(data, stale=banner is not None)


def render_wall(engine: db.Engine, now_fn: Callable[[], datetime] = SYSTEM_CLOCK.now,
                token: str | None = None, kiosk: bool = False) -> None:
    st.html(CSS)
    if kiosk:
        st.html(KIOSK_CSS)
    st.title("Alertdesk — NOC wall")
    live(engine, now_fn, token)


def render() -> None:
    token = st.session_state.get("wall_token")
    if token is None:
        ui.current_actor()  # the sidebar page: only after app.py's login gate
    render_wall(ui.engine(), SYSTEM_CLOCK.now, token=token, kiosk=token is not None)


if __name__ == "__main__":  # run as a page by st.navigation; importable for unit tests
    render()
