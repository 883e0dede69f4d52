"""Users & API keys (admins): who may sign in and with which role, and the keys machines
use. Adding a user, changing a role, disabling someone or setting a new password, creating
a key (shown once; a normal API key, or a wall/calendar URL token) and revoking one all go
through core.auth, audited; a disabled user or a
new password ends that person's web sessions at once. The same is in the API
(``/api/v1/users``, ``/api/v1/api-keys``)."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import auth, db
from core.actor import ROLES
from core.clock import SYSTEM_CLOCK
from core.errors import FieldError
from dashboard import ui

KEEP = "(unchanged)"
KINDS: dict[str | None, str] = {None: "API key (role below)", "wall": "wall screen URL",
                                "calendar": "calendar feed URL"}


def users_section(rows: list[dict[str, Any]]) -> None:
    st.subheader("Users")
    ui.show_outcome("admin_users")
    tz = ui.user_tz()
    st.dataframe(pd.DataFrame({
        "Username": [r["username"] for r in rows], "Name": [r["display_name"] for r in rows],
        "E-mail": [r["email"] or "" for r in rows], "Role": [r["role"] for r in rows],
        "Active": [bool(r["is_active"]) for r in rows],
        "Created": [ui.fmt_time(r["created_at"], tz) for r in rows]}),
        hide_index=True, width="stretch", key="admin_users_table")
    add, change = st.columns(2)
    with add, st.form("admin_add_user", clear_on_submit=True):
        st.markdown("**Add a user**")
        name = st.text_input("Username", key="au_name")
        role = st.selectbox("Role", ROLES, key="au_role")
        email = st.text_input("E-mail (optional)", key="au_email")
        password = st.text_input("Password (12+ characters, not guessable)", type="password",
                                 key="au_password")
        if st.form_submit_button("Add user", type="primary"):
            ui.write_action("admin_users", f"User {name.strip().lower()} added", _add_user,
                            name, role, email, password)
            st.rerun()
    with change, st.form("admin_change_user"):
        st.markdown("**Change a user**")
        who = st.selectbox("User", [r["username"] for r in rows], key="cu_user")
        new_role = st.selectbox("Role", [KEEP, *ROLES], key="cu_role")
        active = st.selectbox("Active", [KEEP, "active", "disabled"], key="cu_active")
        new_pw = st.text_input("New password (optional)", type="password", key="cu_password")
        if st.form_submit_button("Save"):
            ui.write_action("admin_users", f"User {who} changed", _change_user, who, new_role,
                            active, new_pw)
            st.rerun()


def keys_section(rows: list[dict[str, Any]]) -> None:
    st.subheader("API keys")
    ui.show_outcome("admin_keys")
    created = st.session_state.pop("admin_new_key", None)
    if created:
        st.warning("Copy the key now: it is shown once and stored only as a hash.")
        st.code(created["key"], language=None)
        if created["scope"] == "wall":
            st.caption("Open the wall at /?wall=<key> (or /wall?token=<key>) on this site.")
        elif created["scope"] == "calendar":
            st.caption("Subscribe to /api/v1/on-call/schedules/<id>.ics?token=<key> on the API.")
    tz = ui.user_tz()
    st.dataframe(pd.DataFrame({
        "ID": [r["id"] for r in rows], "Name": [r["name"] for r in rows],
        "Starts with": [r["key_prefix"] + "…" for r in rows], "Role": [r["role"] for r in rows],
        "Opens": [KINDS[r["scope"]] for r in rows],
        "Created by": [r["created_by"] or "" for r in rows],
        "Created": [ui.fmt_time(r["created_at"], tz) for r in rows],
        "Last used": [ui.fmt_time(r["last_used_at"], tz) if r["last_used_at"] else "never"
                      for r in rows],
        "Revoked": [ui.fmt_time(r["revoked_at"], tz) if r["revoked_at"] else "" for r in rows]}),
        hide_index=True, width="stretch", key="admin_keys_table")
    add, revoke = st.columns(2)
    with add, st.form("admin_add_key", clear_on_submit=True):
        st.markdown("**Create a key**")
        name = st.text_input("Name (what uses it: prometheus, lobby tv…)", key="ak_name")
        scope = st.selectbox("Kind", list(KINDS), format_func=KINDS.get, key="ak_scope",
                             help="A wall or calendar key goes in a URL and opens only that "
                                  "view (read-only); those URLs take no other key")
        role = st.selectbox("Role (API keys only)", ROLES, index=ROLES.index("operator"),
                            key="ak_role", help="operator to send alerts in; wall and "
                                                "calendar keys are always viewer")
        if st.form_submit_button("Create key", type="primary"):
            ui.write_action("admin_keys", f"Key {name.strip()} created", _add_key, name, role,
                            scope)
            st.rerun()
    live = {r["id"]: f"#{r['id']} {r['name']} ({r['scope'] or r['role']}, {r['key_prefix']}…)"
            for r in rows if r["revoked_at"] is None}
    with revoke, st.form("admin_revoke_key"):
        st.markdown("**Revoke a key** (it stops working at once)")
        pick = st.selectbox("Key", list(live), index=0 if live else None, format_func=live.get,
                            key=f"rk_key_{'_'.join(map(str, live))}")  # new keys: new widget
        if st.form_submit_button("Revoke", disabled=not live) and pick is not None:
            ui.write_action("admin_keys", f"Key #{pick} revoked", _revoke_key, pick)
            st.rerun()


def _add_user(session: Any, name: str, role: str, email: str, password: str) -> None:
    auth.create_user(session, name, password or None, role, ui.current_actor(),
                     email=email.strip() or None, now=SYSTEM_CLOCK.now())


def _change_user(session: Any, who: str, role: str, active: str, password: str) -> None:
    if role == KEEP and active == KEEP and not password:
        raise FieldError("body", "nothing to change: pick a role, active or a new password")
    auth.update_user(session, who, ui.current_actor(), SYSTEM_CLOCK.now(),
                     role=None if role == KEEP else role,
                     is_active=None if active == KEEP else active == "active",
                     password=password or None)


def _add_key(session: Any, name: str, role: str, scope: str | None) -> None:
    key, _ = auth.create_api_key(session, name, None if scope else role, ui.current_actor(),
                                 now=SYSTEM_CLOCK.now(), scope=scope)
    st.session_state["admin_new_key"] = {"key": key, "scope": scope}


def _revoke_key(session: Any, key_id: int) -> None:
    auth.revoke_api_key(session, key_id, ui.current_actor(), SYSTEM_CLOCK.now())


def render() -> None:
    actor = ui.current_actor()
    ui.compact_layout()
    st.title("Users & API keys")
    if not actor.can("admin"):
        st.info("Managing users and API keys needs the admin role.")
        return
    with db.transaction(ui.engine()) as s:
        people = auth.list_users(s)
        keys = auth.list_api_keys(s, actor)
    users_section(people)
    keys_section(keys)


render()
