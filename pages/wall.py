"""NOC wall screen: a read-only page for a TV across the room.

Opened as ``/?wall=<key>`` (or ``/wall?token=<key>``) with a wall key, an API key of scope
"wall" that opens nothing else (``python -m dashboard create-api-key lobby-tv --scope wall``):
no login form, no sidebar, no action buttons. Signed-in users also reach it from the sidebar ("Wall").

Dark theme and big tiles via injected CSS. The tiles are ``st.metric`` elements inside keyed
containers (CSS targets ``.st-key-wall_tile_<severity>``). The two tables are HTML written
here with every cell escaped (``html_table``): ``st.table`` would render alert text as
Markdown and turn any URL in it into a link.

Never a frozen, green picture: the live part is a fragment that reruns every 10 s and
records the time of the last successful read. A failed read (database unreachable) or data
older than 60 s shows a loud red banner and dims the tiles (``staleness`` decides). If the
browser stops refreshing altogether (server gone, socket dropped), a CSS watchdog banner
that becomes visible 70 s after the last render covers the screen instead.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any, Callable

import pandas as pd
import streamlit as st

from core import db, views
from core import severity as sev
from core.clock import SYSTEM_CLOCK
from core.errors import AuthError, Forbidden, Unavailable
from dashboard import ui

STALE_AFTER = timedelta(seconds=60)
TOP = views.WALL_TOP          # the rows that fit the screen (the CSS below sizes them)
MAX_ONCALL = 8
TOP_COLUMNS = ["Severity", "SLA", "Summary", "Service", "Age", "State"]
NOBODY = "NOBODY"
TILE_COLORS = {**{s: ui.SEVERITY_COLORS[s] for s in sev.SEVERITIES},
               "breached": ("#4a0000", "#ff5252"), "unacked": ("#3e2a00", "#ffb300")}

# Every size is a share of the screen's height (vh), so one layout fits any 16:9 screen
# from 1280x720 to 3840x2160: the rows that fit are TOP (the top of the queue), "+N more"
# says the rest. Body text is 2.4vh: 26 px on a 1080p TV, never under 24 px there.
CSS = """
<style>
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {background:#000; color:#eee}
[data-testid="stMainBlockContainer"] {padding:1.2vh 1.6vw; max-width:100%}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {gap:.8vh}
.stApp h1 {color:#fff; font-size:4vh !important; line-height:1.25; padding:0 0 .3vh 0}
.stApp h3 {color:#fff; font-size:2.8vh !important; line-height:1.4; padding:.2vh 0 .8vh 0}
[data-testid="stHeadingWithActionElements"] a {display:none}
[data-testid="stMetric"] {border-radius:1vh; padding:.6vh 1vw}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {font-size:2.6vh !important;
  font-weight:700; line-height:1.2 !important; min-height:0 !important}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {font-size:7.5vh !important;
  font-weight:800; line-height:1.05 !important}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {color:#ddd;
  font-size:2.4vh !important; line-height:1.25}
.wall-table {font-size:2.4vh; color:#eee; background:#000; table-layout:fixed; width:100%;
  border-collapse:collapse}
.wall-table th {color:#bbb; font-weight:400; text-align:left}
.wall-table td, .wall-table th {border:1px solid #333; padding:.35vh .6vw; line-height:1.25;
  white-space:nowrap; overflow:hidden; text-overflow:ellipsis}
.wall-table.top th:nth-child(1) {width:11%} .wall-table.top th:nth-child(2) {width:23%}
.wall-table.top th:nth-child(3) {width:36%} .wall-table.top th:nth-child(4) {width:12%}
.wall-table.top th:nth-child(5) {width:8%} .wall-table.top th:nth-child(6) {width:10%}
.wall-table td.sla-breached {background:#b71c1c; color:#fff; font-weight:700}
.wall-table td.sla-risk {color:#ffb300; font-weight:700}
.wall-table td.nobody {background:#d50000; color:#fff; font-weight:900}
.wall-table td.oncall {color:#69f0ae; font-weight:700}
.st-key-wall_tiles_stale {opacity:.3; filter:grayscale(1)}
.wall-banner {background:#d50000; color:#fff; font-size:3.5vh; font-weight:900;
  text-align:center; padding:.8vh; border-radius:1vh; letter-spacing:.05em}
.wall-watchdog {position:fixed; inset:0; z-index:999999; background:rgba(120,0,0,.92);
  color:#fff; font-size:6vh; font-weight:900; display:flex; align-items:center;
  justify-content:center; text-align:center; opacity:0; pointer-events:none;
  animation:wall-watchdog 0s linear 70s forwards}
@keyframes wall-watchdog {to {opacity:1}}
""" + "".join(
    f".st-key-wall_tile_{name} [data-testid='stMetric'] {{background:{bg}}}"
    f".st-key-wall_tile_{name} [data-testid='stMetric'] * {{color:{fg} !important}}"
    for name, (bg, fg) in TILE_COLORS.items()) + "".join(
    f".wall-table td.sev-{name} {{background:{bg}; color:{fg}; font-weight:700}}"
    for name, (bg, fg) in ui.SEVERITY_COLORS.items()) + "</style>"
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


def html_table(key: str, columns: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """A table as HTML with every cell escaped (text, css class). Not ``st.table``: that
    renders cells as Markdown and links any URL in alert text; here text is only text."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f'<td class="{cls}">{escape(str(text))}</td>'
                                    for text, cls in row) + "</tr>" for row in rows)
    return f'<table class="wall-table {key}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def sla_class(text: str) -> str:
    return "sla-breached" if "breached" in text else "sla-risk" if "at risk" in text else ""


def top_rows(df: pd.DataFrame) -> list[list[tuple[str, str]]]:
    """The top of the queue: severity (coloured), SLA, summary, service, age, state."""
    out = []
    for r in df.itertuples():
        sla_text = ui.sla_text(r.sla_clock, r.sla_remaining_s, r.sla_level)
        out.append([(str(r.severity).upper(), f"sev-{r.severity}"), (sla_text, sla_class(sla_text)),
                    (r.summary, ""), (r.service, ""), (ui.duration(r.age_s), ""), (r.state, "")])
    return out


def oncall_rows(rows: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    return [[(r["schedule_name"], ""), (r["username"] or NOBODY,
                                        "nobody" if not r["username"] else "oncall")]
            for r in rows]


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
        with left, st.container(key="wall_top"):
            st.subheader(f"Top of the queue · {data['total']:,} open")
            if data["top"].empty:
                st.caption("No open alerts.")
            else:
                st.html(html_table("top", TOP_COLUMNS, top_rows(data["top"].head(TOP))))
                more = data["total"] - min(len(data["top"]), TOP)
                if more > 0:
                    st.caption(f"+{more:,} more open alert{'s' * (more != 1)} (the queue has them all)")
        with right:
            st.subheader("On call now")
            rows = data["oncall"]
            if rows:
                st.html(html_table("oncall", ["Schedule", "On call"],
                                   oncall_rows(rows[:MAX_ONCALL])))
                if len(rows) > MAX_ONCALL:
                    st.caption(f"+{len(rows) - MAX_ONCALL} more schedules")
            else:
                st.caption("No on-call schedules.")


@st.fragment(run_every="10s")
def live(engine: db.Engine, now_fn: Callable[[], datetime], token: str | None) -> None:
    now = now_fn()
    error: str | None = None
    try:
        st.session_state["wall_data"] = views.wall_snapshot(engine, now, token)
        st.session_state["wall_last_ok"] = now
    except (AuthError, Forbidden):
        st.session_state.pop("wall_data", None)
        st.error("WALL TOKEN REVOKED OR INVALID — no data shown. Create a new wall key.")
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
