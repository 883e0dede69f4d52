"""The On-call page in AppTest against the real database: now/next cards with contact, gaps
in red, timelines, the rotation editor (managers), overrides (operators for themselves),
the viewer's own shifts; and the editor's line parser."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core import db as core_db
from core.auth import create_user
from core.errors import FieldError
from core.oncall import store
from core.oncall.parse import parse_schedule
from dashboard import oncall_widgets as w
from tests.factories import MANAGER, make_users
from tests.ui.conftest import app_as

PAST = "2020-01-06"  # a Monday long ago: every rotation below covers "now"


def layer(name: str, people: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "rotation": "daily", "handoff": "09:00", "start": PAST,
            "participants": people, **extra}


def make_schedule(engine: sa.Engine, name: str, *layers: dict[str, Any],
                  zone: str = "UTC") -> int:
    with core_db.transaction(engine) as s:
        row = store.create_schedule(s, {"name": name, "timezone": zone, "layers": list(layers)},
                                    MANAGER, datetime.now(timezone.utc))
    return int(row["id"])


def open_page(username: str, role: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/oncall.py").run()
    assert not at.exception, at.exception
    return at


def button(at, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.scalar(sa.text(f"select count(*) from {table}")) or 0)


def test_card_shows_who_is_on_call_now_with_contact_and_the_timelines(engine) -> None:
    make_users(engine)
    with core_db.transaction(engine) as s:
        create_user(s, "nora", None, "operator", display_name="Nora Night",
                    email="nora@example.com")
    make_schedule(engine, "NOC primary", layer("primary", ["nora"]), zone="Europe/London")
    at = open_page("victor", "viewer")
    texts = [m.value for m in at.markdown]
    assert "On call now: **Nora Night (nora@example.com)**" in texts, texts
    assert any("schedule zone Europe/London" in c.value for c in at.caption)
    assert not at.error
    assert len(at.get("plotly_chart")) == 2  # the overview and the schedule's layers
    shifts = at.dataframe[0].value
    assert list(shifts.columns) == w.SHIFT_COLUMNS and set(shifts["Person"]) == {"nora"}
    assert at.download_button(key="sh_csv").label == "Download CSV"


def test_a_restriction_that_excludes_now_shows_nobody_in_red(engine) -> None:
    make_users(engine)
    later = (datetime.now(timezone.utc).isoweekday() + 2) % 7 + 1  # neither today nor yesterday
    make_schedule(engine, "Weekend desk",
                  layer("desk", ["olga"], restrictions=[{"days": [later], "from": "09:00",
                                                         "to": "10:00"}]))
    at = open_page("olga", "operator")
    assert len(at.error) == 1 and at.error[0].value.startswith("Nobody on call until "), \
        [e.value for e in at.error]
    assert any(m.value.startswith("Next: olga from") for m in at.markdown)


def test_manager_creates_a_schedule_through_the_editor(engine) -> None:
    make_users(engine)
    at = open_page("maria", "manager")
    at.text_input(key="ed_new_name").input("NOC primary")
    at.selectbox(key="ed_new_tz").set_value("America/New_York")
    at.text_area(key="ed_new_layers").input(
        "primary | weekly | 09:00 | 2026-03-02 | olga, maria\n\n"
        "business | custom:24 | 08:30 | 2026-03-02 | ada | 1-5 09:00-17:00; 6,7 10:00-12:00")
    button(at, "Create schedule").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Schedule 'NOC primary' created" in at.success[0].value
    with core_db.transaction(engine) as s:
        [row] = store.list_schedules(s)
    assert row["timezone"] == "America/New_York"
    assert [(x["name"], x["rotation"], x["shift_hours"], x["handoff"], x["participants"])
            for x in row["layers"]] == [("primary", "weekly", None, "09:00", ["olga", "maria"]),
                                        ("business", "custom", 24, "08:30", ["ada"])]
    assert row["layers"][1]["restrictions"] == [
        {"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "17:00"},
        {"days": [6, 7], "from": "10:00", "to": "12:00"}]
    assert at.get("plotly_chart")


def test_bad_handoff_names_the_field_and_stores_nothing(engine) -> None:
    make_users(engine)
    at = open_page("maria", "manager")
    at.text_input(key="ed_new_name").input("NOC primary")
    at.text_area(key="ed_new_layers").input("\nprimary | daily | 25:00 | 2026-03-02 | olga")
    button(at, "Create schedule").click().run()
    assert "layers line 2 (handoff)" in at.error[0].value and "25:00" in at.error[0].value
    at.text_area(key="ed_new_layers").input("primary | daily | 09:00 | 2026-03-02 | olga, zed")
    button(at, "Create schedule").click().run()
    assert ("layers line 1 (participants[1]): no active user 'zed'"
            in at.error[0].value.replace("\\", ""))  # shown Markdown-escaped
    assert count(engine, "oncall_schedules") == 0 and count(engine, "oncall_layers") == 0


def test_manager_edits_an_existing_schedule(engine) -> None:
    make_users(engine)
    sid = make_schedule(engine, "NOC primary", layer("primary", ["olga"]))
    at = open_page("maria", "manager")
    at.selectbox(key="ed_pick").set_value(sid).run()
    box = next(t for t in at.text_area if t.label == "Layers")
    assert box.value == f"primary | daily | 09:00 | {PAST} | olga"
    box.input(f"primary | daily | 09:00 | {PAST} | olga, maria")
    button(at, "Save schedule").click().run()
    assert "Schedule 'NOC primary' saved" in at.success[0].value
    with core_db.transaction(engine) as s:
        assert store.get_schedule(s, sid)["layers"][0]["participants"] == ["olga", "maria"]


def test_operator_adds_an_override_for_themselves(engine) -> None:
    make_users(engine)
    sid = make_schedule(engine, "NOC primary", layer("primary", ["maria", "olga"]))
    at = open_page("olga", "operator")
    assert at.selectbox(key=f"ov_shift_{sid}").value == 0
    button(at, "Add override").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "olga is on call for NOC primary" in at.success[0].value
    with engine.connect() as c:
        [row] = c.execute(sa.text("select * from oncall_overrides")).mappings().all()
    assert (row["username"], row["created_by"], row["schedule_id"]) == ("olga", "olga", sid)
    assert row["ends_at"] - row["starts_at"] == timedelta(days=1)
    assert any(m.value.startswith("On call now: **olga") for m in at.markdown)
    button(at, "Remove override").click().run()          # changed her mind
    assert not at.error and at.success[0].value.endswith(f"{row['id']} removed")
    with engine.connect() as c:
        assert c.scalar(sa.text("select count(*) from oncall_overrides")) == 0


def test_operator_cannot_put_someone_else_on_call(engine) -> None:
    make_users(engine)
    sid = make_schedule(engine, "NOC primary", layer("primary", ["maria", "olga"]))
    at = open_page("olga", "operator")
    at.selectbox(key=f"ov_who_{sid}_0").set_value("maria")
    button(at, "Add override").click().run()
    assert "only a manager may put someone else on call" in at.error[0].value
    at.date_input(key=f"ov_ed_{sid}_0").set_value(datetime(2020, 1, 1).date())
    button(at, "Add override").click().run()
    assert "end: must be after start" in at.error[0].value
    assert count(engine, "oncall_overrides") == 0


def test_viewer_sees_no_editor_and_no_override_form(engine) -> None:
    make_users(engine)
    make_schedule(engine, "NOC primary", layer("primary", ["olga"]))
    at = open_page("victor", "viewer")
    assert [t.label for t in at.tabs] == ["Shifts", "My upcoming shifts"]
    labels = [b.label for b in at.button]
    assert "Add override" not in labels and "Create schedule" not in labels
    assert not at.text_area


def test_my_upcoming_shifts_lists_the_users_shifts(engine) -> None:
    make_users(engine)
    make_schedule(engine, "NOC primary", layer("primary", ["olga", "maria"]))
    make_schedule(engine, "Database", layer("db", ["maria"]))
    at = open_page("olga", "operator")
    mine = at.dataframe[1].value  # Shifts, then My upcoming shifts
    assert 14 <= len(mine) <= 16 and set(mine["Schedule"]) == {"NOC primary"}
    assert set(mine["Length"]) == {"1d 0h"} and list(mine["Start"]) == sorted(mine["Start"])


# --- the editor's parser (pure) -----------------------------------------------------------

def test_parser_round_trip_and_unknown_zone() -> None:
    text = ("primary | weekly | 09:00 | 2026-03-02 | olga, maria\n"
            "night | custom:12 | 21:00 | 2026-03-02 | ada | 1-3,5 21:00-09:00")
    body, lines = w.schedule_body({"name": "x", "timezone": "Mars/Olympus", "layers": text})
    assert lines == [1, 2] and body["layers"][1]["shift_hours"] == 12
    assert body["layers"][1]["restrictions"] == [{"days": [1, 2, 3, 5], "from": "21:00",
                                                   "to": "09:00"}]
    with pytest.raises(FieldError) as err:
        parse_schedule(body)
    assert err.value.field == "timezone" and "unknown time zone" in str(err.value)
    schedule = parse_schedule({**body, "timezone": "Europe/London"})
    from core.oncall.parse import schedule_json
    assert w.layers_text(schedule_json(schedule)["layers"]) == text.replace("1-3,5", "1,2,3,5")


@pytest.mark.parametrize(("text", "field"), [
    ("primary | daily | 09:00", "layers line 1"),
    ("\nprimary | custom | 09:00 | 2026-03-02 | olga", "layers line 2: rotation"),
    ("primary | daily | 09:00 | 2026-03-02 | olga | weekdays", "layers line 1: restrictions"),
    ("primary | daily | 09:00 | 2026-03-02 | olga | 1-x 09:00-10:00",
     "layers line 1: restrictions"),
])
def test_parser_names_the_bad_line(text: str, field: str) -> None:
    with pytest.raises(FieldError) as err:
        w.parse_layers(text)
    assert err.value.field == field
