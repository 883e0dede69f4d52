"""Shared UI helpers: the engine, the signed-in actor, time zones and formatting.

Pages import this module and ``core``; neither holds SQL. Alert text (summaries, notes,
labels) is shown only through ``st.text`` or dataframes, never through Markdown/HTML.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from core import auth, db, durations, signin, views
from core import sso as core_sso
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, AuthError, Throttled
from core.migrations import apply as migrate
from dashboard import cookies, sso

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

ROOT = Path(__file__).resolve().parents[1]
QUEUE_PAGE = ROOT / "pages" / "queue.py"
ALERT_PAGE = ROOT / "pages" / "alert.py"
GROUPS_PAGE = ROOT / "pages" / "groups.py"
SUPPRESSION_PAGE = ROOT / "pages" / "suppression.py"
ESCALATION_PAGE = ROOT / "pages" / "escalation.py"
SLA_PAGE = ROOT / "pages" / "sla.py"
ONCALL_PAGE = ROOT / "pages" / "oncall.py"
WALL_PAGE = ROOT / "pages" / "wall.py"
WEEKLY_PAGE = ROOT / "pages" / "weekly.py"
AUDIT_PAGE = ROOT / "pages" / "audit.py"
HEALTH_PAGE = ROOT / "pages" / "health.py"
PROFILE_PAGE = ROOT / "pages" / "profile.py"
ADMIN_PAGE = ROOT / "pages" / "admin.py"
ANALYTICS_PAGE = ROOT / "pages" / "analytics.py"
SEVERITY_COLORS = {  # (background, text): readable without emoji or icon fonts
    "critical": ("#b71c1c", "#ffffff"), "high": ("#c43e00", "#ffffff"),
    "medium": ("#f9a825", "#000000"), "low": ("#1565c0", "#ffffff"),
    "info": ("#616161", "#ffffff"),
}
QUEUE_COLUMN_CONFIG = {  # most urgent facts first, so narrow screens still show them
    "ID": st.column_config.NumberColumn("ID", width=60, format="%d", pinned=True),
    "Open": st.column_config.LinkColumn("Open", width=52, display_text="open",
                                        help="The alert's page, in a new tab (one click)"),
    "Severity": st.column_config.TextColumn("Severity", width=75),
    "SLA": st.column_config.TextColumn("SLA", width=158,
                                       help="Running clock: TTA until someone responds, then TTR"),
    "State": st.column_config.TextColumn("State", width=100),
    "Summary": st.column_config.TextColumn("Summary", width=240),
    "Service": st.column_config.TextColumn("Service", width=110),
    "Device": st.column_config.TextColumn("Device", width=90),
    "Age": st.column_config.TextColumn("Age", width=70),
    "Assignee": st.column_config.TextColumn("Assignee", width=90),
    "Dups": st.column_config.NumberColumn("Dups", width=55, help="Duplicates folded into this alert"),
    "Muted": st.column_config.TextColumn("Muted", width=130,
                                         help="Will not notify: silenced, inhibited or flapping"),
}
MD_SPECIAL = set("\\`*_[]<>#|~$")
SLA_STYLES = {"breached": "background-color: #ffebee; color: #b71c1c",
              "at risk": "background-color: #fff3e0; color: #b33c00"}


# --- engine -------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> db.Engine:
    """One engine per URL (never a zero-arg cache: RECIPES §4), migrated once per URL so
    ``streamlit run dashboard/app.py`` also works on a fresh database."""
    engine = db.get_engine(url)
    migrate.upgrade(engine)
    return engine


def engine() -> db.Engine:
    return _engine_for(db.database_url())  # resolved on every run


# --- the signed-in user ---------------------------------------------------------------

def login(engine_: db.Engine, username: str, password: str) -> str | None:
    """Check the password (throttled after failures: core/login_throttle.py) and open a
    lasting session (core/signin.py), whose cookie the next run's sidebar writes
    (``keep_signed_in``). None when signed in, else the message for the form."""
    now = SYSTEM_CLOCK.now()
    with db.transaction(engine_) as s:
        attempt = auth.attempt(s, username, password, now, _client_address())
        token = signin.start(s, attempt.actor.name, now) if attempt.actor else None
    try:
        actor = attempt.result()   # after the commit: a failure stays counted
    except (AuthError, Throttled) as err:
        return str(err)
    st.session_state["actor"] = replace(actor, source="ui")
    st.session_state["session_token"] = token
    return None


def _client_address() -> str | None:
    """The browser's address as Streamlit sees it (None from localhost or behind a local
    proxy, and in AppTest, which has no connection): only accounts are throttled then."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def logout() -> None:
    """End the session everywhere: the row is revoked (every tab, every copy of the cookie),
    this session's state is dropped, and the login form clears the cookie."""
    token = st.session_state.get("session_token") or cookies.sent()
    if token:
        with db.transaction(engine()) as s:
            signin.end(s, token, SYSTEM_CLOCK.now())
    _forget()


def _forget() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def refresh_actor(engine_: db.Engine) -> Actor | None:
    """Who is signed in, re-read every run: from this session's credential or the cookie
    the page was opened with. A revoked, idle or expired session, a role change or a
    disabled user applies at once."""
    token = st.session_state.get("session_token") or cookies.sent()
    if token is None and not sso.claims():
        return _refresh_without_session(engine_)
    with db.transaction(engine_) as s:
        resumed = signin.resume(s, token, SYSTEM_CLOCK.now())
    if resumed is None:
        _forget()
        token = _sso_session(engine_)
        if token is None:
            return None
        with db.transaction(engine_) as s:
            resumed = signin.resume(s, token, SYSTEM_CLOCK.now())
        if resumed is None:
            return None
    st.session_state.update(actor=resumed.actor, tz=resumed.timezone, session_token=token,
                            session_expires=resumed.expires_at)
    return resumed.actor


def _sso_session(engine_: db.Engine) -> str | None:
    """A new session for someone the identity provider just signed in (st.login), or None
    (nobody, or refused: the reason waits for the login form in ``sso_refused``)."""
    cfg, claims = core_sso.SsoConfig.from_env(), sso.claims()
    if cfg is None or claims is None:
        return None
    try:
        with db.transaction(engine_) as s:
            return core_sso.sign_in(s, claims, cfg, SYSTEM_CLOCK.now())
    except AuthError as err:
        st.session_state["sso_refused"] = str(err)
        return None


def _refresh_without_session(engine_: db.Engine) -> Actor | None:
    """An actor put in the session by a test harness (AppTest), with no browser session:
    the user is re-read all the same."""
    actor: Actor | None = st.session_state.get("actor")
    if actor is None:
        return None
    with db.transaction(engine_) as s:
        profile = views.user_profile(s, actor.name)
    if profile is None or not profile.is_active:
        _forget()
        return None
    actor = Actor(profile.username, profile.role, "ui")
    st.session_state["actor"] = actor
    st.session_state["tz"] = profile.timezone
    return actor


def keep_signed_in() -> None:
    """Write this session's credential into the browser (once it is there, nothing
    changes); the login form calls ``cookies.clear`` instead."""
    token, expires = st.session_state.get("session_token"), st.session_state.get("session_expires")
    if token and expires:
        cookies.keep(token, int((expires - SYSTEM_CLOCK.now()).total_seconds()))


def current_actor() -> Actor:
    actor: Actor | None = st.session_state.get("actor")
    if actor is None:  # pages only run after app.py's login gate
        st.stop()
    assert actor is not None
    return actor


def user_tz() -> ZoneInfo:
    try:
        return ZoneInfo(st.session_state.get("tz") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- writes from pages -------------------------------------------------------------------

def write_action(key: str, done: str, fn: Any, *args: Any) -> None:
    """A button/form callback: ``fn(session, *args)`` in one transaction; the outcome (a
    success text, or the domain error naming the field) waits in ``st.session_state[key]``
    for ``show_outcome`` on the next run."""
    try:
        with db.transaction(engine()) as s:
            fn(s, *args)
        st.session_state[key] = ("success", done)
    except AlertdeskError as err:
        st.session_state[key] = ("error", str(err))


def show_outcome(key: str) -> None:
    kind, message = st.session_state.pop(key, (None, None))
    if kind == "error":
        st.error(plain(message))
    elif kind == "success":
        st.success(plain(message))


# --- formatting (pure) ---------------------------------------------------------------

def duration(seconds: float) -> str:
    """50s, 4m 10s, 53m, 3h 5m, 2d 4h (core.durations), of the magnitude, whole seconds."""
    return durations.human(int(abs(seconds)))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sla_text(clock: str, remaining: float | None, level: str) -> str:
    """TTA 4m 10s left / TTA at risk, 50s left / TTR breached 3m 5s ago."""
    if _missing(remaining) or not clock:
        return "stopped"
    assert remaining is not None
    if level == "breached":
        return f"{clock} breached {duration(remaining)} ago"
    if level == "at risk":
        return f"{clock} at risk, {duration(remaining)} left"
    return f"{clock} {duration(remaining)} left"


def fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def queue_display(df: pd.DataFrame, row_actions: bool = False) -> pd.DataFrame:
    """The queue frame as the table shows it: strings for the countdowns, short labels;
    with ``row_actions`` the one-click Ack / Resolve buttons, whose labels carry the alert
    id (the click is applied to the id it names, never to a row position that a refresh
    may have moved)."""
    actions = {"Ack": [f"Ack #{i}" if st_ == "new" else None
                       for i, st_ in zip(df["id"], df["state"].str.split(" ").str[0])],
               "Resolve": [f"Resolve #{i}" for i in df["id"]]} if row_actions else {}
    return pd.DataFrame({
        "ID": df["id"].astype("int64"),
        "Open": [f"/alert?id={i}" for i in df["id"]],
        **actions,
        "Severity": df["severity"],
        "SLA": [sla_text(c, r, lv) for c, r, lv in
                zip(df["sla_clock"], df["sla_remaining_s"], df["sla_level"])],
        "State": df["state"],
        "Summary": df["summary"],
        "Service": df["service"],
        "Device": df["device_id"],
        "Age": [duration(s) for s in df["age_s"]],
        "Assignee": df["assignee"],
        "Dups": df["duplicate_count"].astype("int64"),
        "Muted": df["muted"],
    })


def _severity_css(value: str) -> str:
    bg, fg = SEVERITY_COLORS.get(value, ("", ""))
    return f"background-color: {bg}; color: {fg}" if bg else ""


def _sla_css(value: str) -> str:
    for word, css in SLA_STYLES.items():
        if word in value:
            return css
    return ""


def style_queue(display: pd.DataFrame) -> Styler:
    return display.style.map(_severity_css, subset=["Severity"]).map(_sla_css, subset=["SLA"])


def style_severity(display: pd.DataFrame) -> Styler:
    return display.style.map(_severity_css, subset=["Severity"])


def groups_display(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Groups as the tables show them (Groups page, the queue's group view)."""
    tz = user_tz()
    return pd.DataFrame({
        "ID": [r["id"] for r in rows],
        "Severity": [r["max_severity"] for r in rows],
        "Status": [r["status"] for r in rows],
        "Grouped by": [", ".join(f"{k}={v}" for k, v in r["group_by"].items()) for r in rows],
        "Why": [r["why"] for r in rows],
        "Members": [r["member_count"] for r in rows],
        "Open": [r["open_count"] for r in rows],
        "Raw events": [r["raw_events"] for r in rows],
        "First seen": [fmt_time(r["first_seen_at"], tz) for r in rows],
        "Last seen": [fmt_time(r["last_seen_at"], tz) for r in rows],
        "Span": [duration((r["last_seen_at"] - r["first_seen_at"]).total_seconds())
                 for r in rows],
    }, columns=["ID", "Severity", "Status", "Grouped by", "Why", "Members", "Open",
                "Raw events", "First seen", "Last seen", "Span"])


def csv_button(df: pd.DataFrame, filename: str, key: str) -> None:
    """A CSV of exactly the frame shown (every table of the app has one)."""
    st.download_button("Download CSV", df.to_csv(index=False).encode(), filename, "text/csv",
                       key=key)


def kv_frame(pairs: list[tuple[str, Any]]) -> pd.DataFrame:
    """Field/value pairs as an all-text frame (values are data, never markup)."""
    return pd.DataFrame({"Field": [k for k, _ in pairs],
                         "Value": ["" if v is None else str(v) for _, v in pairs]})


def compact_layout() -> None:
    """Less empty space around the page (a style-only st.html takes no room): a laptop's
    1366x768 shows the queue's columns and more rows."""
    st.html("<style>[data-testid='stMainBlockContainer']{padding:2.2rem 1.5rem 2rem;"
            "max-width:100%} [data-testid='stMainBlockContainer'] h1{font-size:2.1rem;"
            "padding:0 0 .2rem}</style>")


def plain(text: str) -> str:
    """Escape Markdown/HTML so a message that quotes data shows as typed in st.error etc."""
    return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in str(text))

