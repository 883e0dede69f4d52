"""Hostile input found by the OpenAPI fuzzer (test_openapi_fuzz.py), one test per class of
bug: each was a 500, and is now a 4xx naming the field with nothing written."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

ALERT = {"summary": "Disk full", "severity": "high", "service": "billing", "device_id": "db-01"}


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(f"select count(*) from {table}")).scalar_one())


def refused(r: httpx.Response, field: str, status: int = 422) -> None:
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.text


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/alerts", {"service": "a\x00b"}, "service"),
    ("/api/v1/alerts", {"q": "\x00"}, "q"),
    ("/api/v1/audit", {"actor": "a\x00"}, "actor"),
    ("/api/v1/reports/health/alerts", {"name": "\x00"}, "name"),
    ("/api/v1/users/a%00b/contact-methods", {}, "username"),
    ("/api/v1/reports/service-health/a%00b", {}, "service"),
])
def test_nul_in_query_or_path_is_a_422_naming_it(http, admin, path, params, field) -> None:
    """PostgreSQL text holds no NUL: psycopg2 refused the statement (500)."""
    refused(http.get(path, params=params, headers=admin), field)


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/alerts", {"end_date": "9999-12-31T23:59:59-14:00"}, "end_date"),
    ("/api/v1/sla/compliance", {"start": "0001-01-01T00:00:00+14:00"}, "start"),
    ("/api/v1/reports/statistics", {"end": "0001-01-01"}, "end"),
    ("/api/v1/reports/daily", {"date": "9999-12-31"}, "date"),
    ("/api/v1/reports/weekly", {"week_start": "0001-01-01"}, "week_start"),
    ("/api/v1/reports/weekly", {"week": "9999-W52"}, "week"),
    ("/api/v1/on-call/current", {"at": "9999-12-31T23:59:59-14:00"}, "at"),
    ("/api/v1/alerts/export.csv", {"start_date": "9999-12-31T23:59:59-14:00"}, "start_date"),
])
def test_instants_past_the_calendar_are_a_422(http, admin, path, params, field) -> None:
    """Converting to UTC or adding a period went past year 9999 (OverflowError, 500)."""
    r = http.get(path, params=params, headers=admin)
    refused(r, field)
    assert "between 1970-01-01 and 9000-01-01" in r.json()["error"]


def test_body_instants_past_the_calendar_are_a_422(http, admin, engine) -> None:
    r = http.post("/api/v1/silences", headers=admin, json={
        "matchers": [{"name": "service", "op": "=", "value": "billing"}],
        "ends_at": "9999-12-31T23:59:59-14:00", "comment": "x"})
    refused(r, "ends_at")
    assert count(engine, "silences") == 0


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/groups", "/api/v1/audit",
                                  "/api/v1/notifications", "/api/v1/silences",
                                  "/api/v1/heartbeats"])
def test_a_page_past_bigint_is_a_422(http, admin, path) -> None:
    """OFFSET (page - 1) * limit overflowed PostgreSQL's bigint (500)."""
    refused(http.get(path, params={"page": 10**20}, headers=admin), "page")


@pytest.mark.parametrize("path", ["/api/v1/sla/trends", "/api/v1/reports/daily",
                                  "/api/v1/reports/health/trend"])
def test_a_zone_name_too_long_for_a_path_is_a_422(http, admin, path) -> None:
    """zoneinfo raised OSError (file name too long), which check_zone did not expect."""
    refused(http.get(path, params={"tz": "x" * 5000}, headers=admin), "tz")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/webhooks/generic", "/api/v1/webhooks/alertmanager"])
def test_json_nested_too_deeply_for_the_parser_is_a_400(http, admin, engine, path) -> None:
    """The standard-library fallback parser raised RecursionError (500)."""
    r = http.post(path, content=nested(5000), headers={**admin, "content-type": "application/json"})
    assert r.status_code == 400 and "nested too deeply" in r.json()["error"], r.text


@pytest.mark.parametrize(("path", "template"), [
    ("/api/v1/alerts", '{"summary": "x", "severity": "high", "metadata": {"k": %s}}'),
    ("/api/v1/webhooks/generic", '{"summary": "x", "severity": "high", "metadata": {"k": %s}}'),
    ("/api/v1/alerts/{id}/notes", '{"note": "n", "metadata": {"k": %s}}'),
    ("/api/v1/alerts/{id}/acknowledge", '{"metadata": {"k": %s}}'),
])
def test_metadata_nested_deeper_than_32_levels_is_a_422(http, admin, engine, path,
                                                          template) -> None:
    """300 levels were stored, then the response encoder gave up (500 after the write)."""
    alert_id = http.post("/api/v1/alerts", json=ALERT, headers=admin).json()["id"]
    before = (count(engine, "alerts"), count(engine, "alert_events"))
    r = http.post(path.format(id=alert_id), content=template % nested(300),
                  headers={**admin, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"].endswith("metadata"), r.text
    assert (count(engine, "alerts"), count(engine, "alert_events")) == before
    ok = http.post(path.format(id=alert_id), content=template % nested(20),
                   headers={**admin, "content-type": "application/json"})
    assert ok.status_code < 300, ok.text


def test_a_deep_body_not_sent_as_json_is_not_parsed_as_json_again(http, admin) -> None:
    body = b"[" * 5000 + b'"\\u0000"' + b"]" * 5000
    r = http.post("/api/v1/silences", content=body,
                  headers={**admin, "content-type": "text/plain"})
    assert r.status_code in (400, 422), r.text


def test_an_error_quoting_a_lone_surrogate_is_still_json(http, admin, engine) -> None:
    """The 422 named a label key holding a lone surrogate; encoding that message failed."""
    body = b'{"summary": "x", "severity": "high", "labels": {"k\\ud800": "v"}}'
    r = http.post("/api/v1/alerts", content=body,
                  headers={**admin, "content-type": "application/json"})
    refused(r, "labels.k\\ud800")
    assert count(engine, "alerts") == 0


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("PUT", "/api/v1/settings/teams", {"teams": {"ops\x00": ["billing"]}}, "teams.ops\\x00"),
    ("POST", "/api/v1/silences", {"matchers": [{"name": "service", "op": "=",
                                                "value": "bill\x00"}],
                                  "ends_at": "2030-01-01T00:00:00Z", "comment": "x"},
     "matchers[0].value"),
    ("POST", "/api/v1/users", {"username": "eve", "password": "secret-pass-1\ud800",
                               "role": "viewer"}, "password"),
])
def test_text_postgresql_cannot_store_in_a_body_is_a_422(http, admin, engine, method, path,
                                                         body: dict[str, Any], field) -> None:
    """A NUL (``\\u0000``) or lone surrogate anywhere in a JSON body: named, nothing written."""
    before = count(engine, "audit_log")
    r = http.request(method, path, content=json.dumps(body),   # ensure_ascii: \\u escapes
                     headers={**admin, "content-type": "application/json"})
    refused(r, field)
    assert count(engine, "audit_log") == before


def test_a_csv_export_checks_its_input_before_the_first_byte(http, viewer, manager) -> None:
    """Refused filters are a 422 with a JSON body, not a 200 whose body stops after the
    header; a good export still streams its header and rows."""
    for path, params, field, who in [
            ("/api/v1/alerts/export.csv", {"end_date": "0001-01-01T00:00:00+14:00"},
             "end_date", viewer),
            ("/api/v1/notifications/export.csv", {"start": "9999-12-31T23:59:59-14:00"},
             "start", viewer),
            ("/api/v1/audit/export.csv", {"actor": "a\x00"}, "actor", manager)]:
        r = http.get(path, params=params, headers=who)
        assert r.headers["content-type"].startswith("application/json"), r.text
        refused(r, field)
    r = http.get("/api/v1/alerts/export.csv", headers=viewer)
    assert r.status_code == 200 and r.text.startswith("id,created_at,")


@pytest.mark.parametrize(("path", "body"), [("/api/v1/escalation-policies", {"": 1}),
                                            ("/api/v1/on-call/schedules", {"": 1}),
                                            ("/api/v1/users/ada/contact-methods", {"": 1})])
def test_an_empty_name_is_still_named(http, admin, path, body) -> None:
    """A 422 for an empty key (or query parameter name) named no field at all."""
    refused(http.post(path, json=body, headers=admin), '""')
    refused(http.get("/api/v1/groups/stats?=x", headers=admin), "query")


@pytest.mark.parametrize(("content_type", "body", "status", "field"), [
    ("application/json", b"{}", 422, "username"),
    ("text/plain", b'{"username": "ada"}', 422, "password"),
    ("application/json", b'{"username": "a\\u0000", "password": "x"}', 422, "username"),
    ("application/json", b'{"username": "ada", "password": "x\\ud800"}', 422, "password"),
    ("application/x-www-form-urlencoded", b"username=a%00&password=x", 422, "username"),
    ("application/json", b"[" * 5000 + b"]" * 5000, 400, None),
])
def test_sign_in_bodies_the_schema_does_not_show(http, content_type, body, status,
                                                 field) -> None:
    """POST /auth/token parses its body itself (JSON or the OAuth2 form), so the fuzzer
    sends it none: a missing field, a NUL or lone surrogate (SQL, bcrypt) and deep nesting
    were each a 500."""
    r = http.post("/api/v1/auth/token", content=body, headers={"content-type": content_type})
    assert r.status_code == status, r.text
    assert r.json().get("field") == field
