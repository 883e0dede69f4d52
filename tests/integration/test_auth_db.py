import pytest
import sqlalchemy as sa

from core import db as core_db
from core.auth import actor_from_api_key, authenticate, bootstrap, create_user
from core.errors import AuthError
from tests.conftest import T0


def test_first_start_creates_admin_with_generated_password_once(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        password = bootstrap(s, None, None, None)
    assert password and len(password) >= 12
    with core_db.transaction(engine) as s:
        assert authenticate(s, "admin", password).role == "admin"
        assert bootstrap(s, None, None, None) is None  # second start: nothing new
        assert s.scalar(sa.text("select count(*) from users")) == 1
        assert s.scalar(sa.text("select password_hash from users")) != password


def test_admin_created_even_when_demo_users_came_first(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        create_user(s, "noc-anna", "noc-anna-own-pass", "operator")
        assert bootstrap(s, "boss", "boss-passphrase-7", None) is None  # given, so not printed
    with core_db.transaction(engine) as s:
        assert authenticate(s, "boss", "boss-passphrase-7").role == "admin"


def test_bootstrap_ingest_key_is_stored_hashed_and_works(engine: sa.Engine) -> None:
    key = "ad_bootstrap-key-0123456789abcdef"
    with core_db.transaction(engine) as s:
        bootstrap(s, "admin", "admin-password", key)
        bootstrap(s, "admin", "admin-password", key)  # idempotent
    with core_db.transaction(engine) as s:
        assert actor_from_api_key(s, key, T0).role == "operator"
        stored = s.execute(sa.text("select key_prefix, key_hash from api_keys")).all()
        with pytest.raises(AuthError):
            actor_from_api_key(s, "ad_other", T0)
    assert len(stored) == 1 and key not in stored[0].key_hash and stored[0].key_prefix == key[:7]


def test_long_passwords_and_unknown_users_are_just_wrong(engine: sa.Engine,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from core.errors import FieldError

    # bcrypt at cost 9 (~30 ms a check) so that its work, not a few ms of a busy machine's
    # noise, is what the timing below compares (at the suite's cost 4, ~1 ms, it flaked)
    monkeypatch.setenv("ALERTDESK_BCRYPT_ROUNDS", "9")
    with core_db.transaction(engine) as s:
        create_user(s, "olga", "secret-pass-1", "operator")
        with pytest.raises(FieldError) as err:
            create_user(s, "nina", "x" * 73, "operator")
        assert err.value.field == "password"
    for name, password in (("olga", "y" * 100), ("olga", "é" * 40), ("nobody", "whatever-123")):
        with pytest.raises(AuthError, match="wrong username or password"):
            with core_db.transaction(engine) as s:
                authenticate(s, name, password)

    def took(name: str) -> float:
        started = time.perf_counter()
        with pytest.raises(AuthError), core_db.transaction(engine) as s:
            authenticate(s, name, "not-the-password")
        return time.perf_counter() - started
    known = sorted(took("olga") for _ in range(5))[2]
    unknown = sorted(took("nobody") for _ in range(5))[2]
    print(f"wrong password: {known * 1000:.1f} ms known user, {unknown * 1000:.1f} ms unknown")
    assert unknown > known / 3          # bcrypt runs for both (was 3 ms against ~250 ms)


def test_tokens_end_with_a_password_change_role_change_or_deactivation(engine: sa.Engine) -> None:
    from datetime import datetime, timedelta, timezone

    import jwt as pyjwt

    from core.auth import actor_from_token, issue_token, update_user
    from core.secret import app_secret
    from tests.factories import ADMIN, make_users

    make_users(engine)
    now = datetime.now(timezone.utc)   # PyJWT checks exp against the real clock
    old = {u: issue_token(authenticate_as(engine, u), now - timedelta(seconds=10))
           for u in ("olga", "maria", "victor")}
    later = now - timedelta(seconds=5)
    with core_db.transaction(engine) as s:
        update_user(s, "olga", ADMIN, later, password="a-new-passphrase-9")
        update_user(s, "maria", ADMIN, later, role="viewer")
    for user in ("olga", "maria"):
        with pytest.raises(AuthError, match="issued before"):
            with core_db.transaction(engine) as s:
                actor_from_token(s, old[user])
    with core_db.transaction(engine) as s:
        assert actor_from_token(s, old["victor"]).name == "victor"      # untouched
        assert actor_from_token(s, issue_token(authenticate_as(engine, "maria"),
                                               now)).role == "viewer"
    no_exp = pyjwt.encode({"sub": "victor", "iat": now.timestamp()}, app_secret(), algorithm="HS256")
    with pytest.raises(AuthError, match="^invalid or expired token$"):
        with core_db.transaction(engine) as s:
            actor_from_token(s, no_exp)


def authenticate_as(engine: sa.Engine, username: str):  # type: ignore[no-untyped-def]
    with core_db.transaction(engine) as s:
        return authenticate(s, username, "secret-pass-1")


@pytest.mark.parametrize(("password", "why"), [
    ("eleven-char", "at least 12 characters"),
    ("passwordpassword", "too easy to guess: Repeats"),
    ("password12345", "too easy to guess: This is"),       # a very common password
    ("qwertyuiop[]", "too easy to guess"),                 # a keyboard walk
    ("nina-nina-nina", "too easy to guess"),               # the username, repeated
    ("x" * 73, "at most 72 bytes"),
])
def test_new_passwords_must_be_long_and_not_guessable(engine: sa.Engine, password: str,
                                                      why: str) -> None:
    from core.auth import update_user
    from core.errors import FieldError
    from tests.factories import ADMIN, make_users

    make_users(engine)
    with pytest.raises(FieldError, match=why) as err, core_db.transaction(engine) as s:
        create_user(s, "nina", password, "operator")
    assert err.value.field == "password"
    with pytest.raises(FieldError, match=why), core_db.transaction(engine) as s:
        update_user(s, "olga", ADMIN, T0, password=password)
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from users where username = 'nina'")
                         ).scalar_one() == 0


def test_old_weak_passwords_still_sign_in_and_a_weak_bootstrap_password_is_named(
        engine: sa.Engine) -> None:
    from core.auth import hash_password
    from core.errors import FieldError

    with core_db.transaction(engine) as s:   # set before the policy: only its hash is known
        s.execute(sa.text("insert into users (username, display_name, timezone, role, "
                          "password_hash, is_active, created_at) values ('old', 'old', 'UTC', "
                          "'viewer', :h, true, now())"), {"h": hash_password("password")})
    with core_db.transaction(engine) as s:
        assert authenticate(s, "old", "password").name == "old"
    with pytest.raises(FieldError, match="ALERTDESK_ADMIN_PASSWORD: is too easy"):
        with core_db.transaction(engine) as s:
            bootstrap(s, "boss", "administrator", None)


def test_the_cli_makes_wall_and_calendar_keys(engine: sa.Engine,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from dashboard.__main__ import main

    assert main(["create-api-key", "lobby-tv", "--scope", "wall"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wall key 'lobby-tv': ad_") and "/?wall=ad_" in out
    assert main(["create-api-key", "team-cal", "--scope", "calendar"]) == 0
    assert ".ics?token=ad_" in capsys.readouterr().out
    assert main(["create-api-key", "tv", "--scope", "wall", "--role", "admin"]) == 2
    assert "role: a wall key only reads" in capsys.readouterr().err
    with engine.connect() as c:
        assert c.execute(sa.text("select name, role, scope from api_keys order by id")).all() == [
            ("lobby-tv", "viewer", "wall"), ("team-cal", "viewer", "calendar")]
