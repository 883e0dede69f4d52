"""Screenshots of a running Alertdesk UI, for the docs and for reviewing the layout.

    python scripts/screenshots.py [--url http://127.0.0.1:8501] [--username admin]
                                  [--password ...] [--out docs/screenshots]

Logs in headless (Debian chromium at /usr/bin/chromium), waits for each page to finish
running, and saves <page>-<W>x<H>.png for every page at 1920x1080 and 1366x768 (the queue,
an alert, the queue's group view and each page of the sidebar); with ``--wall-key`` (a
wall key: ``python -m dashboard create-api-key screenshots --scope wall``) also the NOC wall,
which opens without a login.
The alert page shown is the first alert of the queue (its row is selected in the grid and
the "Open #N" link followed), so the script needs at least one open alert.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = ((1920, 1080), (1366, 768))


def wait_for_app(page: Page, timeout: float = 30_000) -> None:
    """Streamlit's own state attributes: connected, and the script has finished."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
                           timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout)


def log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=30_000)
    wait_for_app(page)


def wait_for_grid(page: Page, settle_ms: int = 500, timeout: float = 30_000) -> None:
    """The first data grid is on the page and drawn: its canvas's accessible copy of the
    column headers exists (a click before that is lost), then a moment to settle."""
    page.wait_for_selector('[data-testid="stDataFrame"] [role=columnheader]', state="attached",
                           timeout=timeout)
    page.wait_for_timeout(settle_ms)


def select_row(page: Page, row: int, table: str = '[data-testid="stDataFrame"]') -> None:
    """Tick a row's selection checkbox in the canvas grid (RECIPES §6 coordinates)."""
    box = page.locator(table).first.bounding_box()
    assert box is not None, "no dataframe on the page"
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)


# Centres of the queue row's Ack / Resolve buttons: the checkbox column (33 px), ID (60),
# Open (52), then dashboard.queue_actions.ROW_WIDTHS (80, 104).
ACK_X, RESOLVE_X = 185, 277


def click_row_button(page: Page, row: int, x: float) -> None:
    """Click a button cell of the queue grid (ACK_X / RESOLVE_X) on ``row``."""
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None, "no dataframe on the page"
    page.mouse.click(box["x"] + x, box["y"] + 35 + 35 * row + 17)


PAGES = (("sla", "SLA compliance"), ("health", "Health scores"), ("weekly", "Weekly report"),
         ("analytics", "Analytics"),
         ("groups", "Groups"), ("suppression", "Suppression"), ("escalation", "Escalation"),
         ("oncall", "On-call"), ("audit", "Audit"), ("profile", "Profile"),
         ("admin", "Users & API keys"), ("queue-groups", "Queue"))


def other_pages(page: Page, out: Path, size: str) -> list[Path]:
    """Through the sidebar, as a person would (page.goto would work too: sign-in lasts)."""
    saved = []
    for name, link in PAGES:
        nav = page.locator('[data-testid="stSidebarNavLink"]', has_text=link)
        if not nav.count():
            print(f"no {link!r} page in the sidebar; skipped", file=sys.stderr)
            continue
        nav.first.click()
        wait_for_app(page)
        if name == "queue-groups":
            page.get_by_role("radio", name="Groups").click()  # the queue's view switch
            wait_for_app(page)
        page.wait_for_timeout(1500)  # canvas grids and plotly paint after the run
        saved.append(out / f"{name}-{size}.png")
        page.screenshot(path=str(saved[-1]))
    return saved


def wall(browser: Any, base: str, key: str, out: Path) -> list[Path]:
    saved = []
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{base}/?wall={key}")
        wait_for_app(page)
        page.wait_for_timeout(1500)
        saved.append(out / f"wall-{width}x{height}.png")
        page.screenshot(path=str(saved[-1]))
        page.close()
    return saved


def shoot(base: str, username: str, password: str, out: Path,
          wall_key: str | None = None) -> list[Path]:
    saved: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                log_in(page, base.rstrip("/") + "/queue", username, password)
                wait_for_grid(page, settle_ms=800)  # let the canvas grid paint
                saved.append(out / f"queue-{width}x{height}.png")
                page.screenshot(path=str(saved[-1]))
                select_row(page, 0)
                link = page.locator(".st-key-queue_selection a", has_text="Open #")
                link.evaluate("e => e.scrollIntoView({block: 'center'})")  # not under the header
                link.click()
                page.wait_for_selector('[data-testid="stHeading"] h1:has-text("Alert #")')
                wait_for_app(page)
                page.wait_for_timeout(800)
                saved.append(out / f"alert-{width}x{height}.png")
                page.screenshot(path=str(saved[-1]), full_page=True)
                saved += other_pages(page, out, f"{width}x{height}")
                page.close()
            if wall_key:
                saved += wall(browser, base.rstrip("/"), wall_key, out)
        finally:
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8501", help="base URL of the UI")
    ap.add_argument("--username", default="admin")
    ap.add_argument("--password", default=os.environ.get("ALERTDESK_ADMIN_PASSWORD"),
                    help="default: $ALERTDESK_ADMIN_PASSWORD")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--wall-key", help="a wall key (create-api-key NAME --scope wall): "
                                       "also shoot the NOC wall")
    args = ap.parse_args(argv)
    if not args.password:
        ap.error("no password: pass --password or set ALERTDESK_ADMIN_PASSWORD")
    if not Path(CHROMIUM).exists():
        ap.error(f"{CHROMIUM} is missing: run `make test` (it installs chromium) "
                 "or `apt-get install -y chromium`")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in shoot(args.url, args.username, args.password, args.out, args.wall_key):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
