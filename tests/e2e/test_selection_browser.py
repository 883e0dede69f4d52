"""Multi-select in the queue, in a real browser: five checkboxes ticked at a human pace and
at 100 ms intervals select exactly those five alerts, the page does not move while
selecting, and the action applies to exactly the alerts it names."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core import db as core_db
from core import views
from core.alerts import queue
from scripts.screenshots import (
    ACK_X,
    RESOLVE_X,
    click_row_button,
    log_in,
    select_row,
    wait_for_app,
    wait_for_grid,
)
from tests.e2e.test_browser import page, ui_url  # noqa: F401 - fixtures
from tests.factories import make_alert, make_users

ROWS = [1, 3, 4, 6, 8]


def queue_of(engine: sa.Engine, page: Page, ui_url: str, n: int) -> list[int]:  # noqa: F811
    """``n`` high alerts, a minute apart; olga signed in on the painted queue. Returns the
    alert ids in the order the queue shows them."""
    make_users(engine)
    now = datetime.now(timezone.utc)
    for i in range(n):
        make_alert(engine, now - timedelta(minutes=i), summary=f"disk {i} full",
                   device_id=f"db-{i:02d}", severity="high")
    with core_db.transaction(engine) as s:
        order = views.queue_page(s, queue.AlertFilter(state=("open",)), now)[0]["id"].tolist()
    log_in(page, ui_url + "/queue", "olga", "secret-pass-1")
    wait_for_grid(page)
    return [int(i) for i in order]


def grid_top(p: Page) -> float:
    box = p.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    return float(box["y"])


@pytest.mark.parametrize("pace_ms", [700, 100])
def test_five_checkboxes_select_exactly_those_five(engine: sa.Engine, ui_url: str,  # noqa: F811
                                                   page: Page, pace_ms: int) -> None:  # noqa: F811
    order = queue_of(engine, page, ui_url, 12)
    top = grid_top(page)
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    for row in ROWS:
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)
        page.wait_for_timeout(pace_ms)
        assert grid_top(page) == top, "the grid moved while selecting"
    expected = sorted(order[r] for r in ROWS)
    # The grid sends its selection after a debounce and the rerun paints top-down: the
    # button can read "(5)" while the line under it is still the previous run's. So wait
    # for the line itself (CI once read it in between).
    line = page.locator(".st-key-queue_selection")
    expect(line).to_contain_text("5 selected: ", timeout=15_000)
    wait_for_app(page)
    assert grid_top(page) == top, "the grid moved after selecting"
    button = page.get_by_role("button", name="Acknowledge (5)")
    button.wait_for(timeout=15_000)
    shown = line.inner_text()
    assert "5 selected: " in shown and all(f"#{i}" in shown for i in expected), shown
    button.click()
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]')
    with engine.connect() as c:
        acked = c.execute(sa.text("select id from alerts where state = 'acknowledged' "
                                  "order by id")).scalars().all()
    assert acked == expected


def test_the_queue_pages_past_500(engine: sa.Engine, ui_url: str, page: Page) -> None:  # noqa: F811
    make_users(engine)
    now = datetime.now(timezone.utc)
    for i in range(520):
        make_alert(engine, now - timedelta(seconds=i), summary=f"alert {i}", device_id=f"d{i}")
    log_in(page, ui_url + "/queue", "victor", "secret-pass-1")
    page.get_by_text("alerts 1–100 of 520").wait_for(timeout=30_000)   # 100 a page by default
    for first in (101, 201, 301, 401):
        page.get_by_role("button", name="Next ›").click()
        page.get_by_text(f"alerts {first}–{first + 99} of 520").wait_for(timeout=30_000)
    page.get_by_role("button", name="Next ›").click()
    page.get_by_text("alerts 501–520 of 520").wait_for(timeout=30_000)
    wait_for_app(page)
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None and box["height"] < 36 * 21 + 40   # 20 rows, not 500
    assert page.get_by_role("button", name="Next ›").is_disabled()


def test_keyboard_acknowledges_the_selected_alert(engine: sa.Engine, ui_url: str,  # noqa: F811
                                                  page: Page) -> None:  # noqa: F811
    make_users(engine)
    now = datetime.now(timezone.utc)
    first = make_alert(engine, now - timedelta(minutes=5), summary="disk full", severity="high")
    make_alert(engine, now, summary="other", severity="low")
    log_in(page, ui_url + "/queue", "olga", "secret-pass-1")
    wait_for_grid(page)
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)       # tick the first row
    page.get_by_role("button", name="Acknowledge (1)").wait_for(timeout=15_000)
    wait_for_app(page)
    page.locator("body").press("a")                           # A: acknowledge
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=15_000)
    with engine.connect() as c:
        assert c.execute(sa.text("select state from alerts where id = :i"),
                         {"i": first}).scalar_one() == "acknowledged"


def test_row_buttons_act_in_one_click_without_moving_the_grid(engine: sa.Engine,  # noqa: F811
                                                              ui_url: str, page: Page) -> None:  # noqa: F811
    order = queue_of(engine, page, ui_url, 6)
    select_row(page, 4)                                        # a selection is held …
    page.get_by_role("button", name="Acknowledge (1)").wait_for(timeout=15_000)
    wait_for_app(page)
    top = grid_top(page)
    click_row_button(page, 2, ACK_X)                           # … while row 2 is acked
    page.get_by_text("Acknowledged 1 alert").first.wait_for(timeout=15_000)
    wait_for_app(page)
    assert grid_top(page) == top, "the grid moved after the row action"
    click_row_button(page, 3, RESOLVE_X)                       # and row 3 resolved
    page.get_by_text("Resolved 1 alert").first.wait_for(timeout=15_000)
    with engine.connect() as c:
        states = dict(c.execute(sa.text("select id, state from alerts")).all())
    assert states[order[2]] == "acknowledged" and states[order[3]] == "resolved"
    assert sum(s != "new" for s in states.values()) == 2       # nothing else changed
    # the selection survived both actions: the bulk button still names the one alert
    assert f"1 selected: #{order[4]}" in page.locator(".st-key-queue_selection").inner_text()


def test_1366x768_shows_the_urgent_columns_without_scrolling(engine: sa.Engine,  # noqa: F811
                                                             ui_url: str, page: Page) -> None:  # noqa: F811
    from dashboard.queue_actions import ROW_WIDTHS
    from dashboard.ui import QUEUE_COLUMN_CONFIG
    make_users(engine)
    make_alert(engine, datetime.now(timezone.utc), summary="disk full", severity="high")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, ui_url + "/queue", "olga", "secret-pass-1")
    wait_for_grid(page, settle_ms=800)
    wait_for_app(page)
    # the grid keeps an accessible copy of the columns it paints: those in view only; it is
    # built after the grid has measured its width, so wait for it (not a one-shot read)
    must = ["Ack", "Resolve", "Severity", "SLA", "State", "Summary", "Service"]
    headers = """() => [...document.querySelectorAll(
        '[data-testid="stDataFrame"] [role=columnheader]')].map(t => t.textContent)"""
    try:
        page.wait_for_function(f"m => ({headers})().length && m.every(c => ({headers})().includes(c))",
                               arg=must, timeout=15_000)
    except PlaywrightTimeout:
        pass                                                   # the assert says what is missing
    painted = page.evaluate(headers)
    assert all(c in painted for c in must), painted
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    upto_service = 33 + sum(int(c["width"]) for name, c in QUEUE_COLUMN_CONFIG.items()
                            if name in ("ID", "Open", *must)) + sum(ROW_WIDTHS)
    assert upto_service <= box["width"] and box["x"] + box["width"] <= 1366, (upto_service, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366   # no page scrollbar
