"""Sign-in that lasts, in a real browser against real Streamlit servers: a reload, a new tab
on a deep link, a UI restart and a second UI replica (same database and data dir, no sticky
sessions) all find the user signed in; logout ends it everywhere, and a copy of the cookie
taken before is refused afterwards."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright

from core.signin import COOKIE
from scripts.screenshots import ARGS, CHROMIUM, log_in, wait_for_app
from scripts.ui_server import UIServer
from tests.e2e.test_launcher import free_port
from tests.factories import make_alert, make_users


@pytest.fixture
def servers(db_url: str) -> Iterator[tuple[UIServer, UIServer]]:
    one, two = UIServer(db_url, free_port()).start(), UIServer(db_url, free_port()).start()
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium missing: `make test` installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def signed_in(page: Page) -> bool:
    """Whether the page shows the app (sidebar with the user) rather than the login form."""
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stSidebar"], [data-testid="stForm"]', timeout=30_000)
    return page.locator('[data-testid="stSidebar"]').count() > 0 and \
        page.get_by_role("button", name="Log in").count() == 0


def cookie_of(page: Page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == COOKIE), None)


def test_sign_in_survives_reload_tabs_restart_and_replicas(
        engine: sa.Engine, servers: tuple[UIServer, UIServer], browser: Browser) -> None:
    make_users(engine)
    alert = make_alert(engine, datetime.now(timezone.utc), summary="core router down")
    one, two = servers
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    log_in(page, one.url + "/queue", "olga", "secret-pass-1")
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE}=')", timeout=15_000)
    token = cookie_of(page)
    assert token and token.count(".") == 2           # a signed JWT, not a session number

    page.reload()
    assert signed_in(page), "a reload signed the user out"
    tab = context.new_page()                          # a new tab on a deep link
    tab.goto(f"{one.url}/alert?id={alert}")
    assert signed_in(tab)
    tab.get_by_text("core router down").first.wait_for(timeout=30_000)

    one.stop()
    one.start()                                       # a UI restart, same port
    page.reload()
    assert signed_in(page), "a UI restart signed the user out"
    other = context.new_page()                        # another replica, no sticky session
    other.goto(two.url + "/queue")
    assert signed_in(other)

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Log in").wait_for(timeout=30_000)
    page.wait_for_function(f"() => !document.cookie.includes('{COOKIE}=')", timeout=15_000)
    page.reload()
    assert not signed_in(page)
    other.reload()                                    # logout ended it on every replica
    assert not signed_in(other)

    thief = browser.new_context()                     # a copy of the cookie taken before
    thief.add_cookies([{"name": COOKIE, "value": token, "url": two.url}])
    stolen = thief.new_page()
    stolen.goto(two.url + "/queue")
    assert not signed_in(stolen)
    with engine.connect() as c:
        assert c.execute(sa.text("select revoked_reason from ui_sessions")).scalars().all() == [
            "logout"]
