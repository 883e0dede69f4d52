"""The NOC wall on a TV, in a real browser: with 280 open alerts everything fits one screen
at 1920x1080 and at 3840x2160 (no scrolling either way), the rows that fit are shown and
"+N more" says the rest, no text is under 24 px at 1080p (sizes follow the screen), and
alert text shows as typed (never as Markdown or a link)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import Page

from core import db as core_db
from core.auth import create_api_key
from core.views import WALL_TOP
from scripts.screenshots import wait_for_app
from tests.e2e.test_browser import page, ui_url  # noqa: F401 - fixtures
from tests.factories import make_alert, make_users

MEASURE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const shown = [...main.querySelectorAll('*')].filter(e => e.offsetParent !== null
      && !e.closest('.wall-watchdog')
      && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
  return {scrollH: main.scrollHeight, clientH: main.clientHeight,
          scrollW: main.scrollWidth, clientW: main.clientWidth,
          minFont: Math.min(...shown.map(e => parseFloat(getComputedStyle(e).fontSize))),
          rows: document.querySelectorAll('.wall-table.top tbody tr').length,
          links: main.querySelectorAll('.wall-table a, .wall-table strong').length};
}"""


def test_the_wall_fits_1080p_and_4k(engine: sa.Engine, ui_url: str, page: Page) -> None:  # noqa: F811
    make_users(engine)
    now = datetime.now(timezone.utc)
    make_alert(engine, now - timedelta(hours=2), severity="critical",
               summary="**bold** [click](http://example.com) a summary long enough to be cut "
                       "off at the edge of its column on any screen")
    for i in range(279):
        make_alert(engine, now - timedelta(minutes=i), severity=("high", "low")[i % 2],
                   summary=f"disk {i} full", device_id=f"db-{i}")
    with core_db.transaction(engine) as s:
        key, _ = create_api_key(s, "lobby tv", None, None, scope="wall")
    for width, height, smallest in ((1920, 1080, 24), (3840, 2160, 48)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{ui_url}/?wall={key}")
        page.get_by_text(f"+{280 - WALL_TOP} more open alerts").wait_for(timeout=30_000)
        wait_for_app(page)             # the run that drew it has drawn the rest (on call) too
        page.wait_for_timeout(500)
        m = page.evaluate(MEASURE)
        assert m["scrollH"] <= m["clientH"] and m["scrollW"] <= m["clientW"], (width, m)
        assert m["minFont"] >= smallest, (width, m)
        assert m["rows"] == WALL_TOP and m["links"] == 0, (width, m)
    assert "**bold** [click](http://example.com)" in page.locator(".st-key-wall_top").inner_text()
