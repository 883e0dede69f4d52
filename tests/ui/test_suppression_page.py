"""The Suppression page in AppTest: an operator silences by matchers, the matching alert is
marked and says so; a bad matcher line is refused; managers toggle inhibition rules."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from tests.factories import make_alert, make_users, row
from tests.ui.conftest import app_as


def open_page(username: str, role: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/suppression.py").run()
    assert not at.exception, at.exception
    return at


def test_operator_creates_a_silence_that_marks_matching_alerts(engine) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    hit = make_alert(engine, now, summary="disk", service="checkout", severity="low")
    miss = make_alert(engine, now, summary="disk", service="billing", severity="low")
    at = open_page("olga", "operator")
    at.text_area(key="sil_matchers").input("service=checkout\nseverity=~low|info")
    at.text_input(key="sil_comment").input("CHG-42 storage swap")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Silence created" in at.success[0].value
    assert row(engine, hit).silence_id is not None and row(engine, miss).silence_id is None
    table = at.dataframe[0].value
    assert table["Matchers"].tolist() == ["service=checkout, severity=~low|info"]
    assert table["Alerts"].tolist() == [1]


def test_bad_matcher_line_is_refused_and_nothing_stored(engine) -> None:
    make_users(engine)
    at = open_page("olga", "operator")
    at.text_area(key="sil_matchers").input("service checkout")
    at.text_input(key="sil_comment").input("x")
    at.button[0].click().run()
    assert "matchers line 1" in at.error[0].value
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from silences")) == 0


def test_manager_disables_a_default_rule_viewer_cannot(engine) -> None:
    make_users(engine)
    viewer = open_page("victor", "viewer")
    assert len(viewer.dataframe[1].value) >= 3 and not viewer.text_area
    at = open_page("maria", "manager")
    at.session_state["rules_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="rule_toggle").click().run()
    with engine.connect() as c:
        enabled = c.execute(sa.text("select enabled from inhibit_rules order by id")).scalars().all()
    assert enabled.count(False) == 1


def test_queue_shows_and_filters_muted_alerts(engine) -> None:
    from core import db as core_db
    from core.suppression.silences_store import create_silence
    from tests.factories import OPERATOR

    make_users(engine)
    now = datetime.now(timezone.utc)
    hit = make_alert(engine, now, summary="disk", service="checkout", severity="low")
    loud = make_alert(engine, now, summary="disk", service="billing", severity="low")
    with core_db.transaction(engine) as s:
        create_silence(s, {"matchers": [{"name": "service", "op": "=", "value": "checkout"}],
                           "ends_at": now.replace(year=now.year + 1), "comment": "CHG-1"},
                       OPERATOR, now)
    at = app_as("olga").run()
    table = at.dataframe[0].value
    assert table.loc[table["ID"] == hit, "Muted"].item().startswith("silence #")
    assert table.loc[table["ID"] == loud, "Muted"].item() == ""
    at.selectbox(key="f_muted").set_value("hide").run()
    assert at.dataframe[0].value["ID"].tolist() == [loud]
    assert at.query_params["suppressed"] == "hide"
    at = app_as("olga", suppressed="only").run()
    assert at.dataframe[0].value["ID"].tolist() == [hit]


def test_preview_lists_what_the_matchers_would_mute_and_saves_nothing(engine) -> None:
    make_users(engine)
    now = datetime.now(timezone.utc)
    hit = make_alert(engine, now, summary="disk", service="checkout", severity="low")
    make_alert(engine, now, summary="disk", service="billing", severity="low")
    at = open_page("olga", "operator")
    at.text_area(key="sil_matchers").input("service=checkout")
    at.button[1].click().run()  # Preview matches
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("1 open alert** matches service=checkout now" in m.value for m in at.markdown)
    shown = [d.value for d in at.dataframe if "Muted by" in d.value.columns]
    assert len(shown) == 1 and shown[0]["ID"].tolist() == [hit]
    at.text_area(key="sil_matchers").input("service checkout")
    at.button[1].click().run()
    assert "matchers line 1" in at.error[0].value
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from silences")) == 0
        assert c.scalar(sa.text("select count(*) from alerts where silence_id is not null")) == 0
