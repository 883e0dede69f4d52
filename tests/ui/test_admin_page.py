"""Users & API keys in AppTest, as an admin: add a user, change a role, disable someone and
set a new password (their web sessions end), create a key (shown once, stored as a hash)
and revoke it; bad input names the field; for anyone else the page does not exist."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from core import db as core_db
from core import signin
from tests.factories import make_users
from tests.ui.conftest import app_as


def admin_page(**query: str):  # type: ignore[no-untyped-def]
    at = app_as("ada", "admin", **query)
    at.switch_page("../pages/admin.py")
    return at.run()




def test_admin_manages_users(engine: sa.Engine) -> None:
    make_users(engine)
    at = admin_page()
    assert not at.exception and at.title[0].value == "Users & API keys"
    at.text_input(key="au_name").input("Nina")
    at.selectbox(key="au_role").select("manager")
    at.text_input(key="au_password").input("a-long-password-1")
    at.button[0].click().run()
    assert "User nina added" in at.success[0].value
    with engine.connect() as c:
        assert c.execute(sa.text("select role, is_active from users where username = 'nina'")
                         ).one() == ("manager", True)
    with core_db.transaction(engine) as s:
        token = signin.start(s, "olga", datetime.now(timezone.utc))
    at.selectbox(key="cu_user").select("olga")
    at.selectbox(key="cu_active").select("disabled")
    at.button[1].click().run()
    assert "User olga changed" in at.success[0].value
    with core_db.transaction(engine) as s:
        assert signin.resume(s, token, datetime.now(timezone.utc)) is None
    at.text_input(key="au_name").input("x y")
    at.text_input(key="au_password").input("short")
    at.button[0].click().run()
    assert "username" in at.error[0].value
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from users")).scalar_one() == 5


def test_admin_creates_a_key_once_and_revokes_it(engine: sa.Engine) -> None:
    make_users(engine)
    at = admin_page()
    at.text_input(key="ak_name").input("lobby tv")
    at.selectbox(key="ak_role").select("viewer")
    at.button[2].click().run()
    key = at.code[0].value
    assert key.startswith("ad_") and "shown once" in at.warning[0].value
    with engine.connect() as c:
        assert key not in str(c.execute(sa.text("select * from api_keys")).all())
    at.run()
    assert not at.code   # shown once
    at.button[3].click().run()
    assert "revoked" in at.success[0].value
    with engine.connect() as c:
        assert c.execute(sa.text("select revoked_at is not null from api_keys "
                                 "where name = 'lobby tv'")).scalar_one()


def test_admin_creates_a_wall_key_that_opens_only_the_wall(engine: sa.Engine) -> None:
    make_users(engine)
    at = admin_page()
    at.text_input(key="ak_name").input("lobby tv")
    at.selectbox(key="ak_scope").select("wall")
    at.button[2].click().run()
    assert not at.exception
    key = at.code[0].value
    assert "/?wall=<key>" in at.caption[0].value
    with engine.connect() as c:
        assert c.execute(sa.text("select role, scope from api_keys where name = 'lobby tv'")
                         ).one() == ("viewer", "wall")
    assert "wall screen URL" in at.dataframe[1].value["Opens"].tolist()
    wall = app_as(None, wall=key).run()
    assert not wall.exception and not wall.error and wall.metric


def test_the_page_is_not_there_for_others(engine: sa.Engine) -> None:
    make_users(engine)
    at = app_as("olga", "operator")
    at.switch_page("../pages/admin.py")
    at.run()
    assert not at.exception
    assert at.title[0].value != "Users & API keys" and not at.code
