"""The queue past one page, in AppTest: server-side pages, tiles that follow the filters,
"my alerts", assign to me, a resolution code on resolve, and the count of alerts that
arrived while a selection holds the table still."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.factories import act, make_alert, make_users, row
from tests.ui.conftest import app_as, select_rows


def now() -> datetime:
    return datetime.now(timezone.utc)


def many(engine: sa.Engine, n: int, severity: str = "high") -> list[int]:
    t = now()
    return [make_alert(engine, t - timedelta(seconds=n - i), summary=f"{severity} {i}",
                       device_id=f"{severity}-{i}", severity=severity) for i in range(n)]


def test_pages_reach_every_alert(engine: sa.Engine) -> None:
    make_users(engine)
    ids = many(engine, 120)
    at = app_as("olga").run()
    at.selectbox(key="queue_page_size").select(50).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 50
    assert "Page **1** of 3" in " ".join(m.value for m in at.markdown)
    at.button(key="queue_next").click().run()
    at.button(key="queue_next").click().run()
    last = at.dataframe[0].value["ID"].tolist()
    assert len(last) == 20 and at.button(key="queue_next").disabled
    seen = set(last)
    at.button(key="queue_prev").click().run()
    seen |= set(at.dataframe[0].value["ID"].tolist())
    at.button(key="queue_prev").click().run()
    seen |= set(at.dataframe[0].value["ID"].tolist())
    assert seen == set(ids)
    # an action keeps the page
    at.button(key="queue_next").click().run()
    page2 = at.dataframe[0].value["ID"].tolist()
    at = select_rows(at, [0])
    at.button(key="act_acknowledge").click().run()
    assert row(engine, page2[0]).state == "acknowledged"
    assert "Page **2** of 3" in " ".join(m.value for m in at.markdown)


def test_tiles_follow_the_filters(engine: sa.Engine) -> None:
    make_users(engine)
    many(engine, 3, "critical")
    many(engine, 5, "low")
    at = app_as("olga", severity="critical").run()
    tiles = {m.label: m.value for m in at.metric}
    assert (tiles["Open"], tiles["Critical"], tiles["Low"]) == ("3", "3", "0")


def test_assign_to_me_then_my_alerts(engine: sa.Engine) -> None:
    make_users(engine)
    ids = many(engine, 4)
    at = select_rows(app_as("olga").run(), [1, 2])
    mine = at.dataframe[0].value["ID"].tolist()[1:3]
    at.button(key="act_assign").click().run()
    assert [row(engine, i).assignee for i in ids].count("olga") == 2
    assert "Assigned to you 2 alerts" in at.success[0].value
    at.toggle(key="f_mine").set_value(True).run()
    assert sorted(at.dataframe[0].value["ID"].tolist()) == sorted(mine)
    assert at.query_params["mine"] in ("1", ["1"])


def test_resolve_with_a_resolution_code(engine: sa.Engine) -> None:
    make_users(engine)
    alert, = many(engine, 1)
    at = select_rows(app_as("olga").run(), [0])
    at.selectbox(key="queue_resolution").select("false_positive")
    at.button(key="act_resolve").click().run()
    r = row(engine, alert)
    assert (r.state, r.resolution) == ("resolved", "false_positive")


def test_alerts_arriving_during_a_selection_are_counted(engine: sa.Engine) -> None:
    make_users(engine)
    first = many(engine, 2)
    at = select_rows(app_as("olga").run(), [0])
    make_alert(engine, now() + timedelta(seconds=1), summary="late arrival", severity="critical")
    at.run()
    assert sorted(at.dataframe[0].value["ID"].tolist()) == sorted(first)   # held still
    line = " ".join(c.value for c in at.caption)
    assert "1 selected" in line and "1 new alert since you selected" in line
    act(engine, first[0], "acknowledge", now())
