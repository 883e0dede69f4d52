"""OIDC single sign-on in the UI, through Streamlit's own ``st.login`` (Authlib): the
``[auth]`` secrets it needs are written from ALERTDESK_OIDC_* into a 0600 file in the data
dir at start (``streamlit_args``), with the cookie secret derived from the app secret so
every UI replica shares it. After the provider's redirect, ``st.user`` holds the ID token's
claims; core/sso.py turns them into a user, a role and an Alertdesk session (the same
lasting, revocable session as a password sign-in)."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from core import config
from core.secret import app_secret
from core.sso import SsoConfig

CALLBACK = "/oauth2callback"


def redirect_uri() -> str:
    base = os.environ.get("ALERTDESK_PUBLIC_URL") or f"http://127.0.0.1:{config.ui_port()}"
    return base.rstrip("/") + CALLBACK


def secrets_toml(cfg: SsoConfig) -> str:
    cookie = hmac.new(app_secret().encode(), b"streamlit-auth-cookie", hashlib.sha256).hexdigest()
    scopes = " ".join(dict.fromkeys(["openid", "email", "profile", cfg.role_claim]))
    q = json.dumps   # a JSON string is a valid TOML basic string
    return "\n".join([
        "[auth]", f"redirect_uri = {q(redirect_uri())}", f"cookie_secret = {q(cookie)}",
        f"client_id = {q(cfg.client_id)}", f"client_secret = {q(cfg.client_secret)}",
        f"server_metadata_url = {q(cfg.metadata_url)}",
        # prompt=login: Streamlit's default select_account is refused by some providers
        f"client_kwargs = {{ prompt = \"login\", scope = {q(scopes)} }}", ""])


def streamlit_args() -> list[str]:
    """``--secrets.files <file>`` for ``streamlit run`` when SSO is configured, else []."""
    cfg = SsoConfig.from_env()
    if cfg is None:
        return []
    path: Path = config.data_dir() / "streamlit-secrets.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets_toml(cfg))
    return ["--secrets.files", str(path)]


def claims() -> dict[str, Any] | None:
    """The provider's claims when the browser came back signed in at the provider."""
    import streamlit as st  # (here: the launcher imports this module without Streamlit)

    try:
        logged_in = st.user.get("is_logged_in")
        if logged_in is not True:   # (AppTest: a mock, not True)
            return None
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no [auth] configured: nobody signed in this way
        return None
