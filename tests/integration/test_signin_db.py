"""The UI's lasting sign-in (core/signin.py) on a real PostgreSQL, with the clock given:
a session resumes from its cookie until logout, the idle timeout, its end of life, a
password change or the user being disabled; a forged or foreign token never resumes."""
from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa

from core import db as core_db
from core import signin
from core.auth import issue_token, update_user
from core.secret import app_secret
from tests.conftest import T0
from tests.factories import ADMIN, OPERATOR, make_users

MIN = timedelta(minutes=1)


def start(engine: sa.Engine, username: str = "olga") -> str:
    with core_db.transaction(engine) as s:
        return signin.start(s, username, T0)


def who(engine: sa.Engine, token: str | None, at: timedelta) -> str | None:
    with core_db.transaction(engine) as s:
        r = signin.resume(s, token, T0 + at)
    return r.actor.name if r else None


def reasons(engine: sa.Engine) -> list[str | None]:
    with engine.connect() as c:
        return list(c.execute(sa.text("select revoked_reason from ui_sessions order by id")).scalars())


def test_a_session_resumes_until_logout_and_a_copy_is_refused_after(engine: sa.Engine) -> None:
    make_users(engine)
    token = start(engine)
    assert who(engine, token, 5 * MIN) == "olga"
    other_tab = start(engine)
    with core_db.transaction(engine) as s:
        assert signin.end(s, token, T0 + 6 * MIN)
        assert not signin.end(s, token, T0 + 7 * MIN)   # already over
    assert who(engine, token, 8 * MIN) is None
    assert who(engine, other_tab, 8 * MIN) == "olga"    # only the session logged out of ends
    assert reasons(engine) == ["logout", None]


def test_idle_timeout_and_end_of_life(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    make_users(engine)
    monkeypatch.setenv("ALERTDESK_UI_IDLE_TIMEOUT_MIN", "30")
    monkeypatch.setenv("ALERTDESK_UI_SESSION_DAYS", "1")
    busy, idle = start(engine), start(engine)
    for minutes in range(20, 24 * 60, 20):          # used every 20 minutes all day
        assert who(engine, busy, minutes * MIN) == "olga", minutes
    assert who(engine, busy, 24 * 60 * MIN + MIN) is None   # a day after sign-in at the latest
    assert who(engine, idle, 31 * MIN) is None               # 31 minutes unused
    assert who(engine, idle, 32 * MIN) is None
    assert reasons(engine) == [None, "idle"]


def test_password_change_and_disabling_end_the_sessions(engine: sa.Engine) -> None:
    make_users(engine)
    olga, victor = start(engine), start(engine, "victor")
    with core_db.transaction(engine) as s:
        update_user(s, "olga", ADMIN, T0 + MIN, password="a-new-passphrase-9")
        update_user(s, "victor", ADMIN, T0 + MIN, is_active=False)
    assert who(engine, olga, 2 * MIN) is None
    assert who(engine, victor, 2 * MIN) is None
    assert reasons(engine) == ["password changed", "user disabled"]


def test_forged_or_foreign_tokens_never_resume(engine: sa.Engine) -> None:
    make_users(engine)
    token = start(engine)
    claims = jwt.decode(token, app_secret(), algorithms=["HS256"], options={"verify_exp": False})
    forged = jwt.encode({**claims, "sub": "ada"}, "not-the-secret", algorithm="HS256")
    api_jwt = issue_token(OPERATOR, T0)                 # an API token is no UI session
    unknown = jwt.encode({**claims, "sid": "made-up"}, app_secret(), algorithm="HS256")
    for bad in (forged, api_jwt, unknown, "garbage", "", None):
        assert who(engine, bad, MIN) is None
    with engine.connect() as c:   # the session id itself is never stored
        assert claims["sid"] not in str(c.execute(sa.text("select * from ui_sessions")).all())


def test_sso_sign_in_creates_updates_and_refuses(engine: sa.Engine) -> None:
    from core.errors import AuthError
    from core.sso import SsoConfig, parse_roles, sign_in

    make_users(engine)
    cfg = SsoConfig("u", "i", "s", parse_roles("noc-admins=admin,noc-operators=operator"))
    claims = {"iss": "http://idp", "sub": "a1", "iat": 100, "email": "Alice@example.test",
              "name": "Alice", "groups": ["noc-operators"]}
    with core_db.transaction(engine) as s:
        token = sign_in(s, claims, cfg, T0)
    assert who(engine, token, MIN) == "alice@example.test"
    with pytest.raises(AuthError, match="has ended"):          # the same provider sign-in
        with core_db.transaction(engine) as s:
            sign_in(s, claims, cfg, T0 + MIN)
    with core_db.transaction(engine) as s:                     # a new one, now an admin
        sign_in(s, {**claims, "iat": 200, "groups": ["noc-admins"]}, cfg, T0 + 2 * MIN)
    with pytest.raises(AuthError, match="no Alertdesk role"):
        with core_db.transaction(engine) as s:
            sign_in(s, {**claims, "sub": "b2", "email": "bob@example.test", "groups": []},
                    cfg, T0)
    with engine.connect() as c:
        assert c.execute(sa.text("select role from users where username = 'alice@example.test'")
                         ).scalar_one() == "admin"
        assert c.execute(sa.text("select count(*) from users where username like 'bob%'")
                         ).scalar_one() == 0
        changes = c.execute(sa.text("select actor, action from audit_log where entity = 'user' "
                                    "and entity_id = 'alice@example.test' order by id")).all()
    assert [tuple(r) for r in changes] == [("system", "create"), ("sso:SSO", "update")]
