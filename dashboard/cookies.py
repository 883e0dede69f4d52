"""The sign-in cookie in the browser. Streamlit can read the cookies a page was opened with
(``st.context.cookies``) but has no way to set one, so a zero-height component writes it
with JavaScript into the app's own document (the component frame is same-origin). The
value is the signed credential of core/signin.py; the server never trusts it without the
``ui_sessions`` row, so a cookie cleared late, or copied, is refused once revoked.
Not HttpOnly (JavaScript writes it); SameSite=Strict, and Secure when served over HTTPS."""
from __future__ import annotations

import json

import streamlit as st
import streamlit.components.v1 as components

from core.signin import COOKIE


def sent() -> str | None:
    """The sign-in cookie the page was opened with (a reload, a new tab, a deep link)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser request behind this run
        return None
    return value if isinstance(value, str) and value else None   # (AppTest: a mock)


def _write(value: str, max_age_s: int) -> None:
    js = f"""<script>
const d = window.parent.document, v = {json.dumps(value)}, name = {json.dumps(COOKIE)};
if (!d.cookie.split('; ').includes(name + '=' + v)) {{
  d.cookie = name + '=' + v + '; Path=/; Max-Age={max_age_s}; SameSite=Strict'
    + (window.parent.location.protocol === 'https:' ? '; Secure' : '');
}}
</script>"""
    components.html(js, height=0)


def keep(token: str, max_age_s: int) -> None:
    """Make sure the browser holds this sign-in (idempotent: same element every run)."""
    _write(token, max(max_age_s, 1))


def clear() -> None:
    """Drop the browser's sign-in cookie (after logout, or when it no longer holds)."""
    _write("", 0)
