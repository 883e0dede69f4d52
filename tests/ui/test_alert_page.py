"""The alert detail page in AppTest: fields, SLA, timeline, actions and their refusals."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.factories import MANAGER, act, event_rows, make_alert, make_users, row
from tests.ui.conftest import app_as


def now() -> datetime:
    return datetime.now(timezone.utc)


def open_alert(alert_id: int, username: str = "olga", role: str = "operator"):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/alert.py")
    at.query_params["id"] = str(alert_id)  # switch_page starts the page with no params
    at.run()
    assert not at.exception, at.exception
    return at


def test_detail_shows_fields_sla_and_timeline(engine) -> None:
    make_users(engine)
    alert_id = make_alert(engine, now() - timedelta(minutes=10), summary="*disk* full",
                          severity="high", labels={"alertname": "DiskFull"})
    act(engine, alert_id, "acknowledge", now() - timedelta(minutes=2), note="mine")
    at = open_alert(alert_id)
    assert at.title[0].value == f"Alert #{alert_id}"
    assert at.text[0].value == "*disk* full"  # shown as typed, not as Markdown
    sla = at.dataframe[0].value
    assert sla["Clock"].tolist() == ["TTA", "TTR"]
    assert sla["Status"].tolist() == ["met", "running"]
    timeline = at.dataframe[-1].value
    assert timeline["Kind"].tolist() == ["created", "transition", "assign"]  # ack takes it
    assert timeline["Note"].tolist() == ["", "mine", ""] and timeline["Actor"].iloc[1] == "olga"


def test_buttons_follow_the_state_and_resolve_writes_an_event(engine) -> None:
    make_users(engine)
    alert_id = make_alert(engine, now())
    at = open_alert(alert_id)
    keys = {b.key for b in at.button}
    assert {"do_acknowledge", "do_investigate", "do_resolve", "do_silence"} <= keys
    assert "do_close" not in keys and "do_reopen" not in keys
    at.text_area(key="alert_note").input("fixed by restart")
    at.button(key="do_resolve").click().run()
    assert at.success[0].value.startswith("Alert resolved")
    assert row(engine, alert_id).state == "resolved"
    assert event_rows(engine, alert_id)[-1].note == "fixed by restart"
    assert {"do_close", "do_reopen"} <= {b.key for b in at.button}


def test_stale_button_gets_the_domain_message(engine) -> None:
    make_users(engine)
    alert_id = make_alert(engine, now())
    at = open_alert(alert_id)
    act(engine, alert_id, "resolve", now(), actor=MANAGER)  # someone else, meanwhile
    at.button(key="do_acknowledge").click().run()
    assert at.error[0].value.replace("\\", "").startswith(
        f"alert {alert_id} is resolved; it cannot be acknowledged (resolved by {MANAGER.name} ")
    assert [e.kind for e in event_rows(engine, alert_id)] == ["created", "transition"]


def test_assign_and_viewer_is_read_only(engine) -> None:
    make_users(engine)
    alert_id = make_alert(engine, now())
    at = open_alert(alert_id)
    at.selectbox(key="alert_assignee").set_value("maria").run()
    at.button(key="do_assign").click().run()
    assert row(engine, alert_id).assignee == "maria"
    assert event_rows(engine, alert_id)[-1].kind == "assign"
    viewer = open_alert(alert_id, "victor", "viewer")
    assert not [b for b in viewer.button if (b.key or "").startswith("do_")]


def test_unknown_alert_says_so(engine) -> None:
    make_users(engine)
    at = open_alert(999)
    assert "alert 999 does not exist" in at.error[0].value


def test_related_alerts_fired_together_link_to_their_detail(engine) -> None:
    make_users(engine)
    t = now() - timedelta(minutes=30)
    first = make_alert(engine, t, summary="uplink down", service="edge", device_id="sw-1")
    second = make_alert(engine, t + timedelta(minutes=2), summary="BGP peer lost",
                        service="routing", device_id="rt-1")
    make_alert(engine, t + timedelta(minutes=20), summary="unrelated", service="dns")
    at = open_alert(first)
    assert at.session_state["alert_related_rows"] == 1
    related = at.dataframe[-1].value
    assert related["Alert"].tolist() == [f"/alert?id={second}"]
    assert related["Summary"].tolist() == ["BGP peer lost"]
    assert related["Offset"].tolist()[0].endswith(" after")
    assert at.download_button(key="related_csv").label == "Download CSV"
    assert at.download_button(key="timeline_csv").label == "Download CSV"


def test_a_change_by_someone_else_is_noticed_and_the_sla_stays_live(engine) -> None:
    from core.actor import Actor

    make_users(engine)
    alert_id = make_alert(engine, now() - timedelta(minutes=3), summary="disk full")
    at = open_alert(alert_id)
    assert not at.warning
    act(engine, alert_id, "acknowledge", now(), actor=Actor("victor", "operator", "ui"))
    at.run()   # the next rerun (the fragment's 10 s timer in a browser)
    notice = at.warning[0].value
    assert "Changed while you were looking" in notice and "victor acknowledged it" in notice
    at.button(key="alert_reload").click().run()
    assert not at.warning and "acknowledged" in at.markdown[0].value


def test_links_from_the_source_are_shown_web_urls_only(engine) -> None:
    """A Grafana alert's URLs (or any sender's metadata.links) as a link column; a
    javascript: URL sent through the generic webhook's metadata is not a link."""
    make_users(engine)
    alert_id = make_alert(engine, now(), summary="High memory usage", metadata={
        "links": [{"text": "Panel [x](javascript:alert(1))", "href": "https://grafana.example/d/1"},
                  {"text": "evil", "href": "javascript:alert(document.cookie)"}],
        "alertmanager": {"generatorURL": "http://prometheus.example/graph"}})
    at = open_alert(alert_id)
    assert "Links" in [h.value for h in at.subheader]
    [table] = [d.value for d in at.dataframe if "URL" in d.value.columns]
    assert table["URL"].tolist() == ["https://grafana.example/d/1",
                                     "http://prometheus.example/graph"]
    assert table["Link"].tolist()[0] == "Panel [x](javascript:alert(1))"  # plain text
    plain = make_alert(engine, now(), summary="no links")
    assert "Links" not in [h.value for h in open_alert(plain).subheader]
