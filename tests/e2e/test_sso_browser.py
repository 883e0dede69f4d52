"""OIDC single sign-on in a real browser against a real OpenID Provider (npm oidc-provider
under node, tests/oidc/idp.mjs) and a real Streamlit server: a person the provider puts in
noc-operators signs in as an operator (user created, no password), stays signed in across
a reload, and logs out; someone whose groups map to no role is refused and nothing is
written."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from dashboard.sso import streamlit_args
from scripts.screenshots import wait_for_app
from scripts.ui_server import UIServer
from tests.e2e.test_launcher import free_port
from tests.e2e.test_signin_browser import browser, signed_in  # noqa: F401 - fixture
from tests.factories import make_users

IDP_DIR = Path(__file__).resolve().parents[1] / "oidc"


@pytest.fixture
def sso_ui(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    node = shutil.which("node")
    assert node and (IDP_DIR / "node_modules" / "oidc-provider").exists(), \
        "node 20 and tests/oidc/node_modules are needed: `make oidc-provider`"
    ui_port, idp_port = free_port(), free_port()
    ui_url = f"http://127.0.0.1:{ui_port}"
    idp = subprocess.Popen([node, str(IDP_DIR / "idp.mjs")], cwd=IDP_DIR, env={
        **os.environ, "IDP_PORT": str(idp_port), "UI": ui_url,
        "IDP_GROUPS": "alice=noc-operators|staff,bob=guests"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert idp.stdout is not None
    lines = [idp.stdout.readline() for _ in range(1)]
    while not lines[-1].startswith("listening") and lines[-1] and len(lines) < 20:
        lines.append(idp.stdout.readline())   # (node 20: a runtime warning comes first)
    assert lines[-1].startswith("listening"), lines
    for key, value in {"METADATA_URL": f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration",
                       "CLIENT_ID": "alertdesk", "CLIENT_SECRET": "alertdesk-test-secret",
                       "ROLES": "noc-admins=admin,noc-operators=operator", "NAME": "TestIdP"}.items():
        monkeypatch.setenv(f"ALERTDESK_OIDC_{key}", value)
    monkeypatch.setenv("ALERTDESK_PUBLIC_URL", ui_url)
    assert httpx.get(os.environ["ALERTDESK_OIDC_METADATA_URL"]).status_code == 200
    ui = UIServer(db_url, ui_port).start(*streamlit_args())
    try:
        yield ui_url
    finally:
        ui.stop()
        idp.terminate()
        idp.wait(10)


def provider_login(page: Page, ui_url: str, who: str) -> None:
    page.goto(ui_url + "/queue")
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with TestIdP").click()
    page.wait_for_selector('input[name="login"]', timeout=30_000)   # the provider's page
    page.fill('input[name="login"]', who)
    page.fill('input[name="password"]', "anything")
    page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{ui_url}/**", timeout=30_000)


def test_sso_sign_in_maps_groups_to_a_role(engine: sa.Engine, sso_ui: str,
                                           browser: Browser) -> None:  # noqa: F811
    make_users(engine)
    page = browser.new_context().new_page()
    provider_login(page, sso_ui, "alice")
    assert signed_in(page)
    assert "Signed in as alice@example.test" in page.locator('[data-testid="stSidebar"]').inner_text()
    with engine.connect() as c:
        user = c.execute(sa.text("select role, password_hash from users "
                                 "where username = 'alice@example.test'")).one()
        assert tuple(user) == ("operator", None)
        assert c.execute(sa.text("select via from ui_sessions")).scalars().all() == ["oidc"]
    page.reload()
    assert signed_in(page), "a reload signed the SSO user out"

    page.get_by_role("button", name="Log out").click()
    # Streamlit's /auth/logout drops its identity cookie and sends the browser on to the
    # provider's logout page, which asks to confirm, then back to the app
    page.wait_for_url(lambda u: not u.startswith(sso_ui), timeout=30_000)
    page.locator('button[value="yes"]').click(timeout=30_000)
    page.wait_for_url(lambda u: u.startswith(sso_ui), timeout=30_000)
    page.goto(sso_ui + "/queue")
    assert not signed_in(page)
    with engine.connect() as c:
        assert c.execute(sa.text("select revoked_reason from ui_sessions")).scalars().all() == [
            "logout"]

    other = browser.new_context().new_page()
    provider_login(other, sso_ui, "bob")
    other.get_by_text("has no Alertdesk role").wait_for(timeout=30_000)
    assert not signed_in(other)
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from users where username like 'bob%'")
                         ).scalar_one() == 0
