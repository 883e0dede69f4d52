"""Streamlit entrypoint: page config, the login gate, the sidebar and the page list.

Run with ``python -m streamlit run dashboard/app.py`` (``python -m dashboard`` does this).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on sys.path (RECIPES §3)
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.actor import Actor  # noqa: E402
from core.sso import SsoConfig  # noqa: E402
from dashboard import cookies, sso, ui  # noqa: E402

st.set_page_config(page_title="Alertdesk", layout="wide")


def login_form(engine: object) -> None:
    st.title("Alertdesk")
    _, middle, _ = st.columns([1, 1, 1])
    with middle, st.form("login"):
        st.subheader("Sign in")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary", width="stretch")
    if submitted:
        refused = ui.login(engine, username, password)  # type: ignore[arg-type]
        if refused is None:
            st.rerun()
        with middle:
            st.error(refused)   # wrong username or password, or throttled: try again in …
    single_sign_on(middle)
    if cookies.sent():   # the page came with a sign-in that no longer holds
        cookies.clear()


def single_sign_on(where: Any) -> None:
    """"Sign in with <provider>" (st.login) when ALERTDESK_OIDC_* is set; a refusal says why."""
    cfg = SsoConfig.from_env()
    if cfg is None:
        return
    with where:
        refused = st.session_state.pop("sso_refused", None)
        if refused:
            st.error(ui.plain(refused))
            if st.button("Use another account", key="sso_other", width="stretch"):
                st.logout()
        if st.button(f"Sign in with {cfg.name}", key="sso_login", type="primary",
                     width="stretch", icon=":material/key:"):
            st.login()


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.text(f"Signed in as {actor.name}\nRole: {actor.role}\nTimes in {ui.user_tz().key}")
        if st.button("Log out", key="logout", icon=":material/logout:"):
            ui.logout()
            if sso.claims():     # also drop Streamlit's identity cookie of the provider
                # st.logout() sends a redirect with this run. Stop, not rerun: a new run
                # first drops the messages not yet sent, and the redirect was not kept
                # (then the identity cookie survived and the next visit signed back in).
                st.logout()
                st.stop()
            st.rerun()
        ui.keep_signed_in()


def home() -> None:
    """The root URL lands on the queue. (A default page is served only at "/", so the queue
    is a normal page to keep /queue?severity=critical working as a shareable link.)"""
    st.switch_page(ui.QUEUE_PAGE, query_params=st.query_params.to_dict())


def wall_screen(engine: object, key: str) -> None:
    """``/?wall=<key>`` or ``/wall?token=<key>``: the NOC wall with a wall key (an API key
    of scope "wall", which opens nothing else) as a read-only token, before (and instead
    of) the login gate; no sidebar, no actions. Any other key is refused, and says why."""
    from core import auth, db
    from core.clock import SYSTEM_CLOCK
    from core.errors import AuthError, Forbidden

    try:
        with db.transaction(engine) as s:  # type: ignore[arg-type]
            auth.actor_from_api_key(s, key, SYSTEM_CLOCK.now(), source="ui", scope="wall")
    except AuthError:
        st.error("# Invalid or revoked wall token\nCreate a wall key with "
                 "`python -m dashboard create-api-key lobby-tv --scope wall` (or on the "
                 "Users & API keys page).")
        st.stop()
    except Forbidden as err:
        st.error(f"# Not a wall token\n{ui.plain(str(err))}")
        st.stop()
    st.session_state["wall_token"] = key
    # The default page is served at "/" whatever its url_path, so /wall needs a page of its
    # own next to it (a lone wall page was the default, and /wall?token= said "not found").
    st.navigation([st.Page(wall_home, title="Alertdesk", url_path="wall-home", default=True),
                   st.Page(ui.WALL_PAGE, title="Wall", url_path="wall")],
                  position="hidden").run()


def wall_home() -> None:
    """/?wall=<key> lands on the wall page, with its key."""
    st.switch_page(ui.WALL_PAGE, query_params=st.query_params.to_dict())


def main() -> None:
    engine = ui.engine()
    wall_key = st.query_params.get("wall") or st.query_params.get("token")
    if wall_key:
        wall_screen(engine, wall_key)
        return
    actor = ui.refresh_actor(engine)
    pages = [
        st.Page(home, title="Home", url_path="home", default=True, visibility="hidden"),
        st.Page(ui.QUEUE_PAGE, title="Queue", url_path="queue", icon=":material/view_list:"),
        st.Page(ui.ALERT_PAGE, title="Alert detail", url_path="alert",
                icon=":material/description:"),
        st.Page(ui.SLA_PAGE, title="SLA compliance", url_path="sla", icon=":material/timer:"),
        st.Page(ui.HEALTH_PAGE, title="Health scores", url_path="health",
                icon=":material/monitor_heart:"),
        st.Page(ui.WEEKLY_PAGE, title="Weekly report", url_path="weekly",
                icon=":material/summarize:"),
        st.Page(ui.ANALYTICS_PAGE, title="Analytics", url_path="analytics",
                icon=":material/insights:"),
        st.Page(ui.GROUPS_PAGE, title="Groups", url_path="groups", icon=":material/workspaces:"),
        st.Page(ui.SUPPRESSION_PAGE, title="Suppression", url_path="suppression",
                icon=":material/notifications_off:"),
        st.Page(ui.ESCALATION_PAGE, title="Escalation", url_path="escalation",
                icon=":material/campaign:"),
        st.Page(ui.ONCALL_PAGE, title="On-call", url_path="oncall",
                icon=":material/support_agent:"),
        st.Page(ui.AUDIT_PAGE, title="Audit", url_path="audit", icon=":material/history:"),
        st.Page(ui.PROFILE_PAGE, title="Profile", url_path="profile", icon=":material/person:"),
        st.Page(ui.WALL_PAGE, title="Wall", url_path="wall", icon=":material/tv:"),
    ]
    if actor is None or actor.can("admin"):   # (registered before login: deep links work)
        pages.append(st.Page(ui.ADMIN_PAGE, title="Users & API keys", url_path="admin",
                             icon=":material/admin_panel_settings:"))
    # The pages are registered even before login, so a shared link such as
    # /queue?severity=critical keeps its page and filters through the login form.
    page = st.navigation(pages, position="sidebar" if actor else "hidden", expanded=True)
    if actor is None:
        login_form(engine)
        return
    sidebar(actor)
    page.run()


main()
