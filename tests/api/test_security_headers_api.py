"""Security headers on every API response: a normal one, errors (401, 404, 413, 422, 500),
a streamed CSV, and the docs pages, whose policy still lets Swagger UI run."""
from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from starlette.requests import Request

from api import errors
from api.headers import API_CSP

COMMON = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
          "referrer-policy": "no-referrer", "cache-control": "no-store"}


def assert_secured(r: httpx.Response, csp: str | None = API_CSP) -> None:
    for name, value in COMMON.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers)
    if csp is not None:
        assert r.headers["content-security-policy"] == csp
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_normal_and_error_responses(http, viewer) -> None:
    ok = http.get("/api/v1/alerts", headers=viewer)
    assert ok.status_code == 200
    assert_secured(ok)
    for r, status in [(http.get("/api/v1/alerts"), 401),
                      (http.get("/api/v1/alerts/999999", headers=viewer), 404),
                      (http.get("/api/v1/alerts", params={"page": 0}, headers=viewer), 422),
                      (http.get("/nowhere"), 404),
                      (http.post("/api/v1/alerts", content=b"x" * (1024 * 1024 + 1),
                                 headers={**viewer, "content-type": "application/json"}), 413)]:
        assert r.status_code == status, r.text
        assert_secured(r)
    assert_secured(http.get("/healthz"))
    assert_secured(http.get("/openapi.json"))


def test_streamed_csv(http, viewer) -> None:
    r = http.get("/api/v1/alerts/export.csv", headers=viewer)
    assert r.status_code == 200
    assert_secured(r)


def test_the_500_handler_sends_them_too() -> None:
    """Starlette answers a 500 from outside every middleware: the handler adds them."""
    scope = {"type": "http", "method": "GET", "path": "/api/v1/alerts", "headers": [],
             "query_string": b"", "scheme": "http", "server": ("testserver", 80)}
    r = errors._unexpected(Request(scope), RuntimeError("boom"))
    for name, value in {**COMMON, "content-security-policy": API_CSP}.items():
        assert r.headers[name] == value


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_get_a_policy_that_lets_them_run(http, path) -> None:
    r = http.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_secured(r, csp=None)
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"   # the OpenAPI document, "Try it out"
    scripts = directives["script-src"].split()
    for src in re.findall(r'<script src="([^"]+)"', r.text):   # the bundles (CDN or own)
        assert (src.startswith("/") and "'self'" in scripts) or any(
            src.startswith(allowed) for allowed in scripts if allowed.startswith("https:"))
    for inline in re.findall(r"<script>(.*?)</script>", r.text, re.S):   # by hash only
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
