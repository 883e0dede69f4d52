"""The active queue in AppTest: the real page script against the real database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.factories import OPERATOR, act, event_rows, make_alert, make_users, row
from tests.ui.conftest import app_as, select_rows


def now() -> datetime:
    return datetime.now(timezone.utc)


def seed(engine: sa.Engine) -> dict[str, int]:
    make_users(engine)
    t = now()
    return {
        "low": make_alert(engine, t - timedelta(minutes=5), summary="queue depth", severity="low",
                          service="kafka"),
        "crit_late": make_alert(engine, t - timedelta(minutes=4), summary="link down",
                                severity="critical", service="edge"),
        "crit_soon": make_alert(engine, t - timedelta(minutes=1), summary="bgp flap",
                                severity="critical", service="edge"),
        "high": make_alert(engine, t - timedelta(minutes=30), summary="5xx rate", severity="high",
                           service="checkout"),
    }


def test_login_form_refuses_wrong_password_then_signs_in(engine) -> None:
    make_users(engine)
    at = app_as(None).run()
    assert not at.exception and at.title[0].value == "Alertdesk"
    at.text_input[0].input("olga")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert at.error[0].value == "wrong username or password"
    at.text_input[1].input("secret-pass-1")
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "Active queue"


def test_login_form_says_when_sign_ins_are_throttled(engine, monkeypatch) -> None:
    """After the free failures the form refuses, even the right password, with a clear
    message (no crash); an unknown user gets the very same answer."""
    monkeypatch.setenv("ALERTDESK_LOGIN_FREE_FAILURES", "1")
    make_users(engine)
    at = app_as(None).run()
    for username in ("olga", "nobody"):
        for password in ("wrong-password", "wrong-again", "secret-pass-1"):
            at.text_input[0].input(username)
            at.text_input[1].input(password)
            at.button[0].click().run()
            assert not at.exception
        assert at.error[0].value.startswith("too many failed sign-ins; try again in ")
    assert at.title[0].value == "Alertdesk"    # still the login form
    with engine.connect() as c:
        assert c.execute(sa.text("select kind, failures from login_throttle")).all() == [
            ("account", 2), ("account", 2)]    # refused attempts are not counted


def test_queue_sorted_by_severity_then_sla_time_left(engine) -> None:
    ids = seed(engine)
    at = app_as("olga").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["ID"].tolist() == [ids["crit_late"], ids["crit_soon"], ids["high"], ids["low"]]
    assert table["SLA"].iloc[0].startswith("TTA at risk")  # 1 of 5 minutes left
    assert table["SLA"].iloc[2].startswith("TTA breached")  # high: 30 min > 15 min target
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Critical"] == "2" and metrics["Open"] == "4" and metrics["Breached"] == "1"


def test_bulk_acknowledge_records_the_operator(engine) -> None:
    ids = seed(engine)
    at = select_rows(app_as("olga").run(), [0, 2])
    at.text_input(key="queue_note").input("on it")
    at.button(key="act_acknowledge").click().run()
    assert not at.exception
    assert "Acknowledged 2 alerts" in at.success[0].value
    for name in ("crit_late", "high"):
        assert row(engine, ids[name]).state == "acknowledged"
        last = event_rows(engine, ids[name])[-1]
        assert (last.actor, last.source, last.to_state) == ("olga", "ui", "acknowledged")
    ack = [e for e in event_rows(engine, ids["crit_late"]) if e.kind == "transition"][0]
    assert ack.note == "on it"
    assert row(engine, ids["crit_soon"]).state == "new"


def test_bulk_action_reports_alerts_it_could_not_change(engine) -> None:
    ids = seed(engine)
    at = select_rows(app_as("olga").run(), [0, 1])
    act(engine, ids["crit_soon"], "resolve", now())  # someone else resolves it meanwhile
    at.button(key="act_acknowledge").click().run()
    assert "Acknowledged 1 alert" in at.success[0].value
    assert f"alert {ids['crit_soon']} is resolved; it cannot be acknowledged (resolved by " \
        f"{OPERATOR.name} " in at.warning[0].value           # who got there first, and when
    assert row(engine, ids["crit_soon"]).state == "resolved"


def test_viewer_sees_the_queue_but_no_action_buttons(engine) -> None:
    seed(engine)
    at = app_as("victor", "viewer").run()
    assert not at.exception and len(at.dataframe[0].value) == 4
    labels = {b.label for b in at.button}
    assert not labels & {"Acknowledge", "Investigate", "Resolve", "Silence", "Add note"}


def test_filters_come_from_and_go_to_the_url(engine) -> None:
    ids = seed(engine)
    at = app_as("olga", severity="critical", service="edge").run()
    assert sorted(at.dataframe[0].value["ID"]) == sorted([ids["crit_late"], ids["crit_soon"]])
    at.multiselect(key="f_severity").set_value(["high", "low"]).run()
    assert at.query_params["severity"] == "high,low"
    assert not at.dataframe and "No open alerts" in at.info[0].value  # edge has none
    at.selectbox(key="f_service").set_value("(all services)").run()
    assert sorted(at.dataframe[0].value["ID"]) == sorted([ids["high"], ids["low"]])
    assert "service" not in at.query_params


def test_text_search_and_alert_text_shown_as_text(engine) -> None:
    make_users(engine)
    evil = "**bold** <script>alert(1)</script> [x](http://evil)"
    alert_id = make_alert(engine, now(), summary=evil, severity="medium")
    make_alert(engine, now(), summary="unrelated", severity="medium")
    at = app_as("olga", q="script").run()
    table = at.dataframe[0].value
    assert table["ID"].tolist() == [alert_id] and table["Summary"].iloc[0] == evil
    assert all("<script>" not in m.value for m in at.markdown)


def test_silence_then_the_row_shows_silenced(engine) -> None:
    ids = seed(engine)
    at = select_rows(app_as("olga").run(), [3])
    at.selectbox(key="queue_silence_for").set_value("4 hours")
    at.button(key="act_silence").click().run()
    r = row(engine, ids["low"])
    assert r.state == "silenced" and r.state_before_silence == "new"
    assert timedelta(hours=3, minutes=59) < r.silenced_until - now() <= timedelta(hours=4)
    table = at.dataframe[0].value
    assert table.loc[table["ID"] == ids["low"], "State"].item() == "silenced"


def test_server_side_order_holds_across_an_action(engine) -> None:
    ids = seed(engine)
    at = app_as("olga").run()
    at.selectbox(key="queue_sort_order").set_value("newest").run()
    newest = sorted(ids.values(), key=lambda i: row(engine, i).created_at, reverse=True)
    assert at.dataframe[0].value["ID"].tolist() == newest
    at = select_rows(at, [0])
    at.button(key="act_acknowledge").click().run()
    assert not at.exception and row(engine, newest[0]).state == "acknowledged"
    assert at.dataframe[0].value["ID"].tolist() == newest      # still newest first
    assert at.dataframe[0].value["Ack"].isna().tolist()[0]       # acked: no Ack button left
    assert at.dataframe[0].value["Resolve"].tolist()[0] == f"Resolve #{newest[0]}"
