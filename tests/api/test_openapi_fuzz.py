"""Property-based fuzzing of every operation in the OpenAPI (Schemathesis), against the
real app on the session's uvicorn server and a database of its own.

Each generated request (schema-valid and schema-violating ones) is sent once without
credentials and once as each role; Schemathesis's boundary ("coverage") cases, thousands
of them, go out without credentials and as admin. Now
and then a string or integer in it is swapped for a value that broke this API before
(NUL, instants at the ends of the calendar, integers past 64 bits, ...), and a path id
for one of a seeded row, so the request gets past the 404. No answer may be a 5xx; every
4xx is ``{"error": ...}`` and a 422 names the field.

Bounded for the suite: a few examples per operation, derandomized from a fixed seed, no
deadline. ``ALERTDESK_FUZZ_EXAMPLES=200`` makes a deeper local run (and
``ALERTDESK_FUZZ_SEED`` another one). The figures are printed at the end of the run."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase

from api.app import create_app
from core import db as core_db
from tests.conftest import TEMPLATE
from tests.factories import make_users

EXAMPLES = int(os.environ.get("ALERTDESK_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("ALERTDESK_FUZZ_SEED", "17"))
USERS = {"viewer": "victor", "operator": "olga", "manager": "maria", "admin": "ada"}
CALLERS = ("anonymous", *USERS)

# Values that broke this API before; each has a regression test in test_hostile_input_api.
HOSTILE_TEXT = ["a\x00b", "\x00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                "9999-12-31", "0001-01-01", "9999-W52", "99999999999999999999999", "-1",
                "NaN", "1e309", "x" * 5000, "../../etc/passwd", "\u202e", "24:00", ""]
HOSTILE_INT = [0, -1, 2**31, 2**63, -(2**63) - 1, 10**20]
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "dictionaries": {"hostile-int": {"values": HOSTILE_INT}},
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none",
                   "dictionaries": {
                       "integer": {"dictionary": "hostile-int", "probability": 0.2}}},
    "phases": {"stateful": {"enabled": False},
               # every route answers 405 to other methods (Starlette): not worth the requests
               "coverage": {"unexpected-methods": []}},
})
schema = schemathesis.openapi.from_dict(create_app().openapi(), config=CONFIG)
KNOWN: dict[str, Any] = {}   # path parameter -> a seeded row's id or name (see seed)


@dataclass
class Target:
    base_url: str
    callers: dict[str, dict[str, str]]
    session: requests.Session = field(default_factory=requests.Session)
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def fuzz_db(pg_server_url: sa.URL, admin_engine: sa.Engine,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for the whole module: whatever the fuzzer writes stays there, and is
    dropped with it."""
    name = f"adt_fuzz_{os.environ.get('PYTEST_XDIST_WORKER', 'm')}_{os.getpid()}"
    with admin_engine.connect() as c:
        c.execute(sa.text(f"drop database if exists {name} with (force)"))
        c.execute(sa.text(f"create database {name} template {TEMPLATE}"))
    url = pg_server_url.set(database=name).render_as_string(hide_password=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALERTDESK_DATABASE_URL", url)
        mp.setenv("ALERTDESK_DATA_DIR", str(Path(tmp_path_factory.mktemp("fuzz")) / "data"))
        mp.setenv("ALERTDESK_NOTIFY_TIMEOUT_S", "1")   # a test send to a fuzzed address
        yield url
    core_db.get_engine(url).dispose()
    with admin_engine.connect() as c:
        c.execute(sa.text(f"drop database if exists {name} with (force)"))


@pytest.fixture(scope="module")
def target(api_base: str, fuzz_db: str) -> Target:
    make_users(core_db.get_engine(fuzz_db))
    session = requests.Session()
    callers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, username in USERS.items():
        r = session.post(f"{api_base}/api/v1/auth/token",
                         json={"username": username, "password": "secret-pass-1"})
        assert r.status_code == 200, r.text
        callers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    KNOWN.update(seed(session, api_base, callers["admin"]))
    return Target(api_base, callers, session)


def seed(session: requests.Session, base: str, admin: dict[str, str]) -> dict[str, Any]:
    """One row of each kind a path names, so fuzzed requests reach past the lookup."""
    def post(path: str, body: dict[str, Any]) -> Any:
        r = session.post(f"{base}/api/v1{path}", json=body, headers=admin)
        assert r.status_code in (200, 201), (path, r.text)
        return r.json()

    alert = post("/alerts", {"summary": "Disk full", "severity": "critical",
                             "service": "billing", "device_id": "db-01"})
    schedule = post("/on-call/schedules", {"name": "NOC", "timezone": "UTC", "layers": [
        {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
         "participants": ["olga", "maria"]}]})
    override = post("/on-call/overrides", {"schedule_id": schedule["id"], "username": "olga",
                                           "start": "2030-01-01T00:00:00Z",
                                           "end": "2030-01-02T00:00:00Z"})
    silence = post("/silences", {"matchers": [{"name": "service", "op": "=", "value": "x"}],
                                 "ends_at": "2030-01-01T00:00:00Z", "comment": "fuzz"})
    method = post("/users/ada/contact-methods", {"type": "email", "address": "a@example.com"})
    key = post("/api-keys", {"name": "fuzz", "role": "viewer"})
    post("/heartbeats/nightly", {})
    return {"alert_id": alert["id"], "item_id": alert["id"], "group_id": alert["group_id"],
            "schedule_id": schedule["id"], "override_id": override["id"],
            "silence_id": silence["id"], "method_id": method["id"], "key_id": key["id"],
            "policy_id": 1, "rule_id": 1, "username": "ada", "severity": "critical",
            "service": "billing", "name": "nightly"}


@schema.hook
def flatmap_case(_: Any, case: Any) -> st.SearchStrategy[Any]:
    """The fuzzing phase's cases go through ``hostile`` (drawn, so still reproducible)."""
    return hostile(case)


@st.composite
def hostile(draw: st.DrawFn, case: Any) -> Any:
    """Sometimes a seeded id in the path, sometimes one hostile value somewhere."""
    for name in case.path_parameters or {}:
        if name in KNOWN and draw(st.booleans()):
            case.path_parameters[name] = KNOWN[name]
    slots = [("query", p.name) for p in case.operation.query]
    slots += [("path", name) for name in case.path_parameters or {}]
    slots += [("body", path) for path in _text_leaves(case.body, ())]
    if not slots or draw(st.integers(0, 3)) != 0:
        return case
    where, key = draw(st.sampled_from(slots))
    value = draw(st.sampled_from(HOSTILE_TEXT))
    if where == "query":
        case.query = {**(case.query or {}), key: value}
    elif where == "path":
        case.path_parameters[key] = value
    else:
        _set(case.body, key, value)
    return case


def _text_leaves(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _text_leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _text_leaves(v, (*path, i))
    elif isinstance(value, str) and path:
        yield path


def _set(body: Any, path: tuple[Any, ...], value: str) -> None:
    for step in path[:-1]:
        body = body[step]
    body[path[-1]] = value


# Routes that answer errors in another product's documented shape (their senders parse it).
OWN_ERROR_SHAPE = ("/v2/enqueue",)   # PagerDuty Events API v2: {"status", "message", "errors"}


def names_the_field(response: Any) -> None:
    if not 400 <= response.status_code < 500 or response.request.path_url.startswith(
            OWN_ERROR_SHAPE):
        return
    body = response.json()
    assert isinstance(body.get("error"), str), response.text
    if response.status_code == 422:
        assert body.get("field"), f"a 422 that names no field: {response.text}"


@schema.parametrize()
def test_no_input_gets_a_server_error(case: Any, target: Target) -> None:
    # The boundary cases (thousands, all derived from the schema) go out as admin, who
    # reaches every route's code, and without credentials; the random ones as everybody.
    boundary = case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE
    for caller in ("anonymous", "admin") if boundary else CALLERS:
        headers = target.callers[caller]
        response = case.call(base_url=target.base_url, session=target.session,
                             headers=headers, timeout=30)
        target.statuses[response.status_code // 100 * 100] += 1
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        names_the_field(response)


@pytest.fixture(autouse=True)
def _figures(target: Target, record_property: Any) -> Iterator[None]:
    """Each operation's request count and 5xx count, for the summary conftest prints."""
    before = sum(target.statuses.values()), target.statuses[500]
    yield
    record_property("fuzz", {"requests": sum(target.statuses.values()) - before[0],
                             "server_errors": target.statuses[500] - before[1]})
