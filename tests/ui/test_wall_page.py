"""The NOC wall in AppTest: opened with a wall token, no login, read-only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core import db
from core.auth import create_api_key
from core.oncall import store
from tests.factories import MANAGER, act, make_alert, make_users
from tests.ui.conftest import app_as


def now() -> datetime:
    return datetime.now(timezone.utc)


def key(engine: sa.Engine, name: str = "wall", role: str | None = None,
        scope: str | None = "wall") -> str:
    """A wall key (by default), or another kind of key."""
    with db.transaction(engine) as s:
        return create_api_key(s, name, role, None, scope=scope)[0]


def seed(engine: sa.Engine) -> None:
    make_users(engine)
    t = now()
    make_alert(engine, t - timedelta(minutes=1), summary="<b>bgp</b> flap", severity="critical")
    late = make_alert(engine, t - timedelta(minutes=30), summary="5xx rate", severity="high")
    make_alert(engine, t - timedelta(minutes=2), summary="queue depth", severity="low")
    acked = make_alert(engine, t - timedelta(minutes=1), summary="link down", severity="critical")
    act(engine, acked, "acknowledge", t)
    assert late


def html(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(h.proto.body) for h in at.get("html")]


def wall_table(at, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(h for h in html(at) if f'class="wall-table {name}"' in h)


def make_schedule(engine: sa.Engine, name: str, start: str) -> None:
    layer = {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": start,
             "participants": ["olga"]}
    with db.transaction(engine) as s:
        store.create_schedule(s, {"name": name, "timezone": "UTC", "layers": [layer]},
                              MANAGER, now())


def metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def test_wall_token_opens_the_wall_without_login(engine) -> None:
    seed(engine)
    at = app_as(None, wall=key(engine)).run()
    assert not at.exception
    assert at.title[0].value == "Alertdesk — NOC wall"
    m = metrics(at)
    assert m["CRITICAL"] == "2" and m["HIGH"] == "1" and m["LOW"] == "1" and m["MEDIUM"] == "0"
    assert m["BREACHING NOW"] == "1"  # high: 30 min > its 15 min TTA
    assert m["UNACKED"] == "3"
    assert not at.text_input and not at.button and not at.sidebar  # no login form, no actions
    table = wall_table(at, "top")
    assert table.count("<tr>") == 5    # the header and 4 alerts
    assert "<td class=\"\">&lt;b&gt;bgp&lt;/b&gt; flap</td>" in table   # shown as typed
    assert any(c.value.startswith("updated ") for c in at.caption)
    assert not at.error and not any(h.startswith('<div class="wall-banner"') for h in html(at))
    assert any('class="wall-watchdog"' in h for h in html(at))  # the frozen-screen guard


def test_on_call_tile_names_nobody_when_no_one_is_on(engine) -> None:
    seed(engine)
    make_schedule(engine, "network", "2020-01-06")
    make_schedule(engine, "db", (now() + timedelta(days=3)).date().isoformat())  # not started
    at = app_as(None, token=key(engine)).run()
    assert not at.exception
    assert "On call now" in [h.value for h in at.subheader]
    oncall = wall_table(at, "oncall")
    assert '<td class="">network</td><td class="oncall">olga</td>' in oncall
    assert '<td class="">db</td><td class="nobody">NOBODY</td>' in oncall


def test_wrong_token_shows_error_and_no_data(engine) -> None:
    seed(engine)
    at = app_as(None, wall="ad_not-a-key").run()
    assert not at.exception
    assert "Invalid or revoked wall token" in at.error[0].value
    assert not at.metric and not any("wall-table" in h for h in html(at))
    assert not at.text_input and not at.button


def test_only_a_wall_key_opens_the_wall_and_a_revoked_one_does_not(engine) -> None:
    seed(engine)
    for other in (key(engine, "ops", "operator", None), key(engine, "boss", "admin", None),
                  key(engine, "feed", scope="calendar")):
        at = app_as(None, wall=other).run()
        assert not at.exception and not at.metric and not at.text_input
        assert at.error[0].value.startswith("# Not a wall token")
        assert "create a wall key" in at.error[0].value
    at = app_as(None, token=key(engine, "viewer key", "viewer", None)).run()   # /wall?token= too
    assert "normal API key, which must not go in a URL" in at.error[0].value
    revoked = key(engine, name="old wall")
    with engine.begin() as c:
        c.execute(sa.text("update api_keys set revoked_at = now() where name = 'old wall'"))
    at = app_as(None, wall=revoked).run()
    assert "Invalid or revoked wall token" in at.error[0].value and not at.metric


def test_signed_in_user_opens_wall_from_sidebar(engine) -> None:
    seed(engine)
    at = app_as("victor", "viewer").run()
    at.switch_page("../pages/wall.py").run()
    assert not at.exception
    assert metrics(at)["CRITICAL"] == "2"


def test_unreachable_database_shows_banner_and_keeps_last_picture(engine, monkeypatch) -> None:
    seed(engine)
    at = app_as(None, wall=key(engine)).run()
    assert not at.error
    import pages.wall as wall_mod

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("select 1", {}, Exception("connection refused"))

    monkeypatch.setattr(wall_mod.views, "queue_metrics", boom)
    at.run()
    assert not at.exception
    banners = [h for h in html(at) if h.startswith('<div class="wall-banner"')]
    assert len(banners) == 1 and "DATABASE UNREACHABLE — last update" in banners[0]
    assert not any(c.value.startswith("updated ") for c in at.caption)
    assert metrics(at)["CRITICAL"] == "2"  # last good picture, dimmed under the banner
