"""The queue in a real browser (Debian chromium driven by Playwright) against a real
Streamlit server and the per-test database: sign in, the live table, a click on a row's
checkbox, Acknowledge, the auto-refresh picking up a new alert, and the CSV download."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright

from scripts.screenshots import ARGS, CHROMIUM, log_in, select_row, wait_for_app, wait_for_grid
from scripts.ui_server import UIServer
from tests.e2e.test_launcher import free_port
from tests.factories import event_rows, make_alert, make_users, row


@pytest.fixture
def ui_url(db_url: str) -> Iterator[str]:
    with UIServer(db_url, free_port()).running() as server:
        yield server.url


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "chromium missing: `make test` installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1600, "height": 1000},
                                      accept_downloads=True)
        yield context.new_page()
        browser.close()


def metric(page: Page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]', has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_operator_acknowledges_in_the_browser(engine: sa.Engine, ui_url: str, page: Page) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    first = make_alert(engine, now, summary="core router down", severity="critical")
    make_alert(engine, now, summary="disk 80%", severity="low")
    log_in(page, ui_url + "/queue", "olga", "secret-pass-1")
    page.wait_for_selector('[data-testid="stDataFrame"]')
    assert metric(page, "Open") == "2"
    wait_for_grid(page)         # the canvas grid paints after the element exists
    select_row(page, 0)
    page.get_by_role("button", name="Acknowledge (1)").click()
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]')
    assert "Acknowledged 1 alert" in page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    assert row(engine, first).state == "acknowledged"
    assert event_rows(engine, first)[-1].actor == "olga"
    assert metric(page, "Unacked") == "1"


def test_queue_refreshes_itself_and_exports_csv(engine: sa.Engine, ui_url: str,
                                                page: Page) -> None:
    make_users(engine)
    make_alert(engine, datetime.now(timezone.utc), summary="first", severity="high")
    log_in(page, ui_url + "/queue?severity=high", "victor", "secret-pass-1")
    page.wait_for_selector('[data-testid="stDataFrame"]')
    assert metric(page, "Open") == "1"
    make_alert(engine, datetime.now(timezone.utc), summary="second, arrives later",
               severity="high")
    # No reload and no click: the fragment's 10 s timer must bring the new alert in.
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')].some(
               m => m.innerText.includes('Open') && m.innerText.includes('2'))""",
        timeout=25_000)
    assert page.get_by_role("button", name="Acknowledge").count() == 0  # viewer
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r["summary"] for r in rows) == ["first", "second, arrives later"]
    assert {r["severity"] for r in rows} == {"high"}


def test_wall_opens_from_its_url_with_a_wall_key(engine: sa.Engine, ui_url: str,
                                                   page: Page) -> None:
    """What the TV shows: no login and no sidebar, black, the tiles with the real counts,
    the top of the queue; a wrong key, or a key that is not a wall key, shows an error and
    no data."""
    from core import db as core_db
    from core.auth import create_api_key

    make_users(engine)
    now = datetime.now(timezone.utc)
    make_alert(engine, now, summary="core router down", severity="critical")
    make_alert(engine, now, summary="uplink flapping", severity="critical", device_id="edge-2")
    make_alert(engine, now, summary="disk 80%", severity="low")
    with core_db.transaction(engine) as s:
        key, _ = create_api_key(s, "lobby tv", None, None, scope="wall")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{ui_url}/?wall={key}")
    page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert metric(page, "CRITICAL") == "2" and metric(page, "LOW") == "1"
    assert metric(page, "UNACKED") == "3"
    assert "core router down" in page.locator('.wall-table.top').inner_text()
    background = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=\"stMain\"]')).backgroundColor")
    assert background == "rgb(0, 0, 0)"
    page.goto(f"{ui_url}/wall?token={key}")           # the other documented URL
    page.wait_for_selector('[data-testid="stMetric"]', timeout=30_000)
    wait_for_app(page)
    assert "/wall" in page.url and "not found" not in page.inner_text("body").lower()
    page.goto(f"{ui_url}/?wall=not-a-key")
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=30_000)
    assert "Invalid or revoked wall token" in page.inner_text("body")
    assert not page.locator('[data-testid="stMetric"]').count()
    with core_db.transaction(engine) as s:   # a normal key, whatever its role: refused
        normal, _ = create_api_key(s, "old tv", "viewer", None)
    page.goto(f"{ui_url}/?wall={normal}")
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=30_000)
    assert "Not a wall token" in page.inner_text("body")
    assert not page.locator('[data-testid="stMetric"]').count()
