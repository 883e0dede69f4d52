"""Sign-in over HTTP: failed passwords are throttled per account and per client address
(429 + Retry-After, the same for unknown users), new passwords must pass the policy."""
from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
import sqlalchemy as sa

from core import db as core_db
from core.auth import attempt
from core.errors import Throttled


def token(http: httpx.Client, username: str, password: str) -> httpx.Response:
    return http.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_failed_sign_ins_are_throttled_with_429_and_retry_after(http: httpx.Client,
                                                               engine: sa.Engine) -> None:
    answers = {}
    for username in ("olga", "nobody"):          # an unknown user gets the very same answers
        seen = [token(http, username, "wrong-guess") for _ in range(6)]
        refused = token(http, username, "secret-pass-1")
        answers[username] = [(r.status_code, r.json()) for r in seen] + \
            [(refused.status_code, refused.json())]
        assert [r.status_code for r in seen] == [401] * 6
        assert refused.status_code == 429
        assert refused.json() == {"error": "too many failed sign-ins; try again in 30 s"}
        assert 28 <= int(refused.headers["Retry-After"]) <= 30
    assert answers["olga"] == answers["nobody"]
    with engine.connect() as c:   # the state is in PostgreSQL: any process sees it
        assert c.execute(sa.text("select kind, failures from login_throttle order by kind")
                         ).all() == [("account", 6), ("account", 6), ("address", 12)]
    with core_db.transaction(engine) as s:   # e.g. a UI process: blocked there too
        tried = attempt(s, "olga", "secret-pass-1", datetime.now(timezone.utc), None)
    with pytest.raises(Throttled):
        tried.result()


def test_a_success_clears_the_accounts_count(http: httpx.Client, engine: sa.Engine) -> None:
    for _ in range(5):
        assert token(http, "olga", "wrong-guess").status_code == 401
    assert token(http, "olga", "secret-pass-1").status_code == 200
    for _ in range(5):   # five free failures again, not a block
        assert token(http, "olga", "wrong-guess").status_code == 401
    assert token(http, "olga", "secret-pass-1").status_code == 200


def test_the_client_address_is_throttled_across_accounts(
        http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDESK_LOGIN_ADDRESS_FREE_FAILURES", "2")
    for name in ("olga", "victor", "maria"):
        assert token(http, name, "Winter2026!").status_code == 401
    r = token(http, "ada", "secret-pass-1")
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_new_passwords_must_pass_the_policy(http: httpx.Client, admin: dict[str, str]) -> None:
    for password, why in (("short-pw-1", "at least 12 characters"),
                          ("password12345", "This is similar to a commonly used password"),
                          ("nina-nina-nina-nina", "too easy to guess")):
        r = http.post("/api/v1/users", json={"username": "nina", "password": password},
                      headers=admin)
        assert r.status_code == 422 and r.json()["field"] == "password", r.text
        assert why in r.json()["error"], r.text
        r = http.patch("/api/v1/users/olga", json={"password": password}, headers=admin)
        assert r.status_code == 422 and r.json()["field"] == "password", r.text
    r = http.post("/api/v1/users", json={"username": "nina", "password": "tidal-copper-lantern"},
                  headers=admin)
    assert r.status_code == 201
    assert token(http, "nina", "tidal-copper-lantern").status_code == 200


def test_wall_and_calendar_keys_are_made_by_the_api_and_open_nothing_else(
        http: httpx.Client, admin: dict[str, str]) -> None:
    r = http.post("/api/v1/api-keys", json={"name": "lobby tv", "scope": "wall"}, headers=admin)
    assert r.status_code == 201, r.text
    wall = r.json()
    assert (wall["scope"], wall["role"]) == ("wall", "viewer") and wall["key"].startswith("ad_")
    r = http.post("/api/v1/api-keys", json={"name": "tv", "scope": "wall", "role": "operator"},
                  headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "role"
    r = http.post("/api/v1/api-keys", json={"name": "tv", "scope": "admin"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "scope"
    normal = http.post("/api/v1/api-keys", json={"name": "prometheus"}, headers=admin).json()
    assert (normal["scope"], normal["role"]) == (None, "operator")
    for headers in ({"X-API-Key": wall["key"]}, {"Authorization": f"Bearer {wall['key']}"}):
        for path in ("/api/v1/alerts", "/api/v1/on-call/current", "/metrics"):
            r = http.get(path, headers=headers)
            assert r.status_code == 403, (path, r.text)
            assert "is a wall key: it opens only the NOC wall" in r.json()["error"]
    r = http.post("/api/v1/alerts", json={"summary": "x", "severity": "low"},
                  headers={"X-API-Key": wall["key"]})
    assert r.status_code == 403
    assert http.get("/api/v1/alerts", headers={"X-API-Key": normal["key"]}).status_code == 200
    listed = {k["name"]: k["scope"] for k in http.get("/api/v1/api-keys", headers=admin).json()["data"]}
    assert listed == {"lobby tv": "wall", "prometheus": None}



def test_bad_tokens_get_one_plain_answer_and_nothing_of_the_library(
        http: httpx.Client, viewer: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    import time

    import jwt as pyjwt

    from core.secret import app_secret

    now = int(time.time())
    expired = pyjwt.encode({"sub": "victor", "iat": now - 7200, "exp": now - 3600},
                           app_secret(), algorithm="HS256")
    forged = pyjwt.encode({"sub": "ada", "iat": now, "exp": now + 60}, "not-the-secret",
                          algorithm="HS256")
    good = viewer["Authorization"].split()[1]
    bad = ["nonsense", "a.b.c", good[:-4] + "AAA=", good + "x", "eyJhbGciOiJub25lIn0.e30.",
           forged, ".".join(good.split(".")[:2])]
    for token in bad:
        r = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()) == (401, {"error": "invalid or expired token"}), token
    r = http.get("/api/v1/alerts", headers={"Authorization": f"Bearer {expired}"})
    assert (r.status_code, r.json()["error"]) == (401, "invalid or expired token: sign in again")
    assert not any(t in caplog.text for t in bad + [expired])  # no token reaches the log


def test_users_and_keys_page_like_every_list(http: httpx.Client, admin: dict[str, str]) -> None:
    everyone = http.get("/api/v1/users", headers=admin).json()
    assert (everyone["page"], everyone["limit"], everyone["total"]) == (1, 500, 4)
    second = http.get("/api/v1/users", params={"page": 2, "limit": 3}, headers=admin).json()
    assert [u["username"] for u in second["data"]] == [everyone["data"][3]["username"]]
    assert (second["page"], second["limit"], second["total"]) == (2, 3, 4)
    for params, field in (({"page": 0}, "page"), ({"limit": 501}, "limit")):
        for url in ("/api/v1/users", "/api/v1/api-keys"):
            r = http.get(url, params=params, headers=admin)
            assert (r.status_code, r.json()["field"]) == (422, field), r.text
    keys = http.get("/api/v1/api-keys", params={"limit": 1}, headers=admin).json()
    assert set(keys) >= {"data", "page", "limit", "total"} and len(keys["data"]) <= 1
