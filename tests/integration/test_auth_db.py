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
        create_user(s, "noc-anna", "demo-password", "operator")
        assert bootstrap(s, "boss", "boss-password", None) is None  # given, so not printed
    with core_db.transaction(engine) as s:
        assert authenticate(s, "boss", "boss-password").role == "admin"


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
