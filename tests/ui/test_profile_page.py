"""The Profile page in AppTest: contact methods and rules, for oneself; bad input named."""
from __future__ import annotations

import sqlalchemy as sa

from tests.factories import make_users
from tests.ui.conftest import app_as


def open_page(username: str, role: str = "operator", **query: str):  # type: ignore[no-untyped-def]
    at = app_as(username, role).run()
    at.switch_page("../pages/profile.py")
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def submit(at, label: str):  # type: ignore[no-untyped-def]
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_add_contacts_and_rules(engine) -> None:
    make_users(engine)
    at = open_page("olga")
    assert at.title[0].value == "Profile"
    at.selectbox(key="pm_type").set_value("sms")
    at.text_input(key="pm_address").input("555-1234")
    at = submit(at, "Add")
    assert "E.164" in at.error[0].value
    at.text_input(key="pm_address").input("+15551230001")
    at = submit(at, "Add")
    at.selectbox(key="pm_type").set_value("email")
    at.text_input(key="pm_address").input("olga@example.com")
    at = submit(at, "Add")
    with engine.connect() as c:
        ids = dict(c.execute(sa.text("select type, id from contact_methods")).all())
    assert set(ids) == {"sms", "email"}
    at.text_area(key="pr_rules").input(f"high, {ids['sms']}, 0\nhigh, {ids['email']}, 5\n"
                                       f"low, {ids['email']}, 0")
    at = submit(at, "Save rules")
    assert "Rules saved" in at.success[0].value
    with engine.connect() as c:
        rules = c.execute(sa.text("select urgency, delay_s from notification_rules "
                                  "order by urgency, delay_s")).all()
    assert [tuple(r) for r in rules] == [("high", 0), ("high", 300), ("low", 0)]
    at.text_area(key="pr_rules").input("urgent, 1, 0")
    at = submit(at, "Save rules")
    assert "line 1" in at.error[0].value
    other = open_page("victor", "viewer", user="olga")   # not an admin: their own profile
    assert other.title[0].value == "Profile"
    admin = open_page("ada", "admin", user="olga")
    assert admin.title[0].value == "Profile of olga"
