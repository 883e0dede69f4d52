"""The README is a contract: every endpoint it names exists with the methods it names, and
every GET it documents answers a signed-in caller (no 404/405/422/5xx) with each documented
parameter value, so the docs and the code cannot drift apart unnoticed.

How the README is read (``documented()``): paragraphs (blank-line separated, a table is one),
and in them the backticked paths: ``GET|POST /api/v1/users`` (absolute, with its methods),
``/groups/stats`` or ``…/export.csv`` (relative: resolved against the paragraph's last
absolute API path, dropping its trailing segments until a route matches; a path that
matches no route and is not a page of the web UI fails), ``/api/v1/reports/*`` (every route
under it), ``{id}``-style placeholders (filled with objects ``world`` creates first). A
query string in a path (``?by=service|device&window=7d``) and a free-standing ``name=a|b``
are documented values: each value is tried alone on the paragraph's GET routes that take
the parameter, and at least one must accept it. Lists must have the list shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from core import db as core_db
from core import worker
from core.auth import create_api_key
from tests.factories import make_alert

README = Path(__file__).resolve().parents[2] / "README.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_TOKEN = re.compile(r"`((?:(?:GET|POST|PUT|PATCH|DELETE)\|?)+\s+)?([/…][^`]*)`")
VALUE_TOKEN = re.compile(r"`([a-z_]+)=([^`\s&?]*)`")
ABSOLUTE = ("/api/", "/v2/", "/healthz", "/docs", "/metrics")
# Pages of the web UI (their paths and query strings are the UI's, not the API's).
UI_PAGES = {p.stem for p in (README.parent / "pages").glob("*.py")} | {""}
# Documented query parameters of the web UI only (the queue's "mine=1").
UI_ONLY_PARAMS = {"mine"}
# Documented, not served yet, each with the reason; the test fails once one is served (then
# delete it here) or if a gap appears that is not listed.
KNOWN_GAPS: dict[str, str] = {}   # "METHOD /path": why the README is ahead of the code


@dataclass
class Doc:
    """One documented path: its methods (empty: not said), where it stands, its values."""
    methods: tuple[str, ...]
    path: str                          # placeholders kept, query string removed
    values: dict[str, list[str]] = field(default_factory=dict)
    paragraph: int = 0


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


@dataclass(frozen=True)
class Route:
    """A route of the running app as its OpenAPI document declares it (registration order)."""
    path: str
    methods: frozenset[str]
    query: frozenset[str]
    required: frozenset[str] = frozenset()  # query parameters the route cannot do without


def api_routes() -> list[Route]:
    from api.app import app

    out = [Route("/docs", frozenset({"GET"}), frozenset()),     # pages outside the OpenAPI
           Route("/redoc", frozenset({"GET"}), frozenset()),
           Route("/a/{token}", frozenset({"GET", "POST"}), frozenset())]
    for path, ops in app.openapi()["paths"].items():
        methods = frozenset(m.upper() for m in ops if m.upper() in METHODS)
        params = [p for op in ops.values() if isinstance(op, dict)
                  for p in op.get("parameters", []) if p.get("in") == "query"]
        out.append(Route(path, methods, frozenset(p["name"] for p in params),
                         frozenset(p["name"] for p in params if p.get("required"))))
    return out


PLACEHOLDER = re.compile(r"\{[^}/]*\}|<[^>/]*>")


def seg_match(doc: str, route: str, strict: bool) -> bool:
    """One path segment: a route parameter takes a documented placeholder (or, unless
    ``strict``, any literal such as ``me``); literals must be equal."""
    pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route)) + "$"
    if PLACEHOLDER.search(doc):
        return bool(re.match(pattern, PLACEHOLDER.sub("X1", doc)))
    if doc == route or (doc == "me" and route == "{username}"):  # /users/me/… is documented
        return True
    return not strict and "{" in route and bool(re.match(pattern, doc))


def matching(path: str, routes: list[Route], strict: bool = False) -> list[Route]:
    """The routes a documented path names, the most literal first (``/groups/stats``
    before ``/groups/{group_id}``, ``{id}.ics`` before ``{id}``)."""
    doc = path.split("/")
    found = [r for r in routes if len(r.path.split("/")) == len(doc)
             and all(seg_match(d, x, strict) for d, x in zip(doc, r.path.split("/")))]
    return sorted(found, key=lambda r: (r.path.count("{"), -len(r.path)))


def under(prefix: str, routes: list[Route]) -> list[Route]:
    """The routes below a documented prefix (``/api/v1/reports/*``, ``/users/{username}/…``)."""
    base = prefix.rstrip("*…").rstrip("/").split("/")
    return [r for r in routes if len(r.path.split("/")) > len(base)
            and all(seg_match(d, x, True) for d, x in zip(base, r.path.split("/")))]


def split_query(raw: str) -> tuple[str, dict[str, list[str]]]:
    path, _, query = raw.partition("?")
    values: dict[str, list[str]] = {}
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        if name:
            values[name] = [v for v in value.split("|") if v and "<" not in v]
    return path.rstrip(".,;:"), values


def prefix_only(path: str) -> bool:
    """``/api/v1/reports/*``, ``…/x/…``, or a bare ``/a/`` (the paths under it)."""
    return path.endswith(("/*", "/…", "/")) and path != "/"


def known(path: str, routes: list[Route]) -> bool:
    return bool(under(path, routes) if prefix_only(path) else matching(path, routes, True))


def resolve(raw: str, anchor: str | None, routes: list[Route]) -> str | None:
    """``raw`` as an absolute API path; None for a path of the web UI."""
    if raw.startswith(ABSOLUTE):
        return raw
    rest = raw.lstrip("…")
    rest = rest if rest.startswith("/") else "/" + rest
    parts = (anchor or "/api/v1").rstrip("/").split("/")
    for cut in range(len(parts), 2, -1):  # never above /api/v1
        candidate = "/".join(parts[:cut]) + rest
        if known(candidate, routes):
            return candidate
    first = rest.strip("/").split("/")[0].split("?")[0]
    if first in UI_PAGES or raw.startswith("/?"):
        return None
    return raw  # matches nothing: the route test names it


def documented(text: str, routes: list[Route]) -> tuple[list[Doc], list[tuple[int, str, list[str]]]]:
    """The documented paths, and the free-standing ``name=a|b`` values per paragraph."""
    docs: list[Doc] = []
    loose: list[tuple[int, str, list[str]]] = []
    for n, para in enumerate(paragraphs(text)):
        anchor: str | None = None  # the paragraph's last absolute API path
        for m in PATH_TOKEN.finditer(para):
            methods = tuple(x for x in (m.group(1) or "").strip().split("|") if x)
            raw = re.sub(r"\s*\n\s*", "", m.group(2))
            if " " in raw:
                continue  # prose in backticks, not a path
            if raw.startswith(("/.well-known", "/oauth2callback")) or "." in raw.split("/")[1][:1]:
                continue  # the identity provider's URLs, not ours
            path, values = split_query(raw)
            resolved = resolve(path, anchor, routes)
            if resolved is None:
                continue
            if resolved.startswith("/api/"):
                anchor = resolved.rstrip("*…/") if prefix_only(resolved) else resolved
            docs.append(Doc(methods, resolved, values, n))
        flat = re.sub(r"\s*\n\s*", "", para)  # values may be wrapped: `by=a|\nb`
        for m in VALUE_TOKEN.finditer(flat):
            values = [v for v in m.group(2).split("|") if v]
            if values:
                loose.append((n, m.group(1), values))
    return docs, loose


def routes_of(doc: Doc, routes: list[Route]) -> list[Route]:
    return under(doc.path, routes) if prefix_only(doc.path) else matching(doc.path, routes)


def query_names(route: Route) -> frozenset[str]:
    return route.query


# -- the documented paths exist with their methods (no server needed) ----------------------

def test_every_documented_path_is_a_route_with_its_methods() -> None:
    routes = api_routes()
    docs, _ = documented(README.read_text(), routes)
    assert len(docs) > 60, "the README parser found too few paths: is it still reading it?"
    missing = []
    for doc in docs:
        found = routes_of(doc, routes)
        if not found:
            missing.append(f"{doc.path} (no route)")
            continue
        served = {m for r in found for m in r.methods}
        missing += [f"{m} {doc.path}" for m in doc.methods if m not in served]
    gaps = {m.replace(" (no route)", "") for m in missing}
    assert {g for g in gaps if not any(g.endswith(k.split(" ", 1)[1]) for k in KNOWN_GAPS)} \
        == set(), sorted(gaps)
    assert {k for k in KNOWN_GAPS if not any(g.endswith(k.split(" ", 1)[1]) for g in gaps)} \
        == set(), "served now: remove from KNOWN_GAPS"


# -- the documented GETs answer, with every documented value --------------------------------

@pytest.fixture
def world(http: httpx.Client, engine: sa.Engine, admin: dict[str, str],
          manager: dict[str, str], operator: dict[str, str]) -> dict[str, str]:
    """One of each thing a documented path can name, made first; route param -> value."""
    now = datetime.now(timezone.utc)
    alert = make_alert(engine, now - timedelta(minutes=5), service="billing",
                       labels={"alertname": "DiskFull", "team": "storage"})
    worker.tick(engine, now)  # escalation started, notifications queued
    with engine.connect() as c:
        group = c.scalar(sa.text("select group_id from alerts where id = :i"), {"i": alert})
        note = c.scalar(sa.text("select min(id) from notifications"))
    schedule = http.post("/api/v1/on-call/schedules", headers=manager, json={
        "name": "noc", "timezone": "UTC", "layers": [{
            "name": "daily", "rotation": "daily", "handoff": "09:00", "start": "2026-01-05",
            "participants": ["olga", "maria"]}]})
    assert schedule.status_code == 201, schedule.text
    silence = http.post("/api/v1/silences", headers=operator, json={
        "matchers": [{"name": "service", "op": "=", "value": "billing"}], "comment": "CHG-1",
        "ends_at": (now + timedelta(hours=1)).isoformat()})
    assert silence.status_code == 201, silence.text
    beat = http.post("/api/v1/heartbeats/nightly-backup", headers=operator,
                     json={"timeout_s": 300})
    assert beat.status_code in (200, 201), beat.text
    policies = http.get("/api/v1/escalation-policies", headers=admin).json()["data"]
    rules = http.get("/api/v1/inhibit-rules", headers=admin).json()["data"]
    with core_db.transaction(engine) as s:
        calendar, _ = create_api_key(s, "team-calendar", None, None, scope="calendar")
        _, key = create_api_key(s, "tool", "operator", None)
    return {"alert_id": str(alert), "group_id": str(group), "notification_id": str(note),
            "schedule_id": str(schedule.json()["id"]), "silence_id": str(silence.json()["id"]),
            "policy_id": str(policies[0]["id"]), "rule_id": str(rules[0]["id"]),
            "key_id": str(key["id"]), "username": "olga", "service": "billing",
            "name": "billing", "severity": "critical", "calendar": calendar}


def fill(doc_path: str, route: Route, world: dict[str, str]) -> str:
    """The documented path with each placeholder replaced by the value of the route
    parameter at its place (literal segments such as ``me`` are kept)."""
    out = []
    for doc_seg, route_seg in zip(doc_path.split("/"), route.path.split("/"), strict=True):
        names = re.findall(r"\{(\w+)\}", route_seg)
        if names and re.search(r"\{[^}]*\}|<[^>]*>", doc_seg):
            seg = route_seg
            for name in names:
                if name not in world:
                    pytest.fail(f"the contract test has no value for {{{name}}} of {route.path}")
                seg = seg.replace("{" + name + "}", world[name])
            out.append(seg)
        else:
            out.append(doc_seg)
    return "/".join(out)


def get(http: httpx.Client, url: str, route: Route, headers: dict[str, str],
        world: dict[str, str], params: dict[str, str] | None = None) -> httpx.Response:
    """GET ``url`` with ``params`` and the route's required parameters (from ``world``)."""
    needed = {name: world[name] for name in route.required if name in world}
    if url.endswith(".ics"):  # calendar apps send no headers: a calendar key in the URL
        return http.get(url, params={**needed, **(params or {}), "token": world["calendar"]})
    return http.get(url, params={**needed, **(params or {})}, headers=headers)


def check(r: httpx.Response, what: str) -> list[str]:
    problems = []
    if r.status_code in (404, 405, 422) or r.status_code >= 500:
        problems.append(f"{what}: {r.status_code} {r.text[:200]}")
    elif r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        if isinstance(body, list):
            problems.append(f"{what}: a bare list, not {{data, page, limit, total}}")
        elif isinstance(body, dict) and isinstance(body.get("data"), list):
            lacks = {"page", "limit", "total"} - set(body)
            if lacks:
                problems.append(f"{what}: a list without {sorted(lacks)}")
    return problems


def fill_route(route: Route, world: dict[str, str]) -> str | None:
    """A route below a documented prefix, its parameters filled; None when one has no value."""
    names = re.findall(r"\{(\w+)\}", route.path)
    if any(n not in world for n in names):
        return None
    return re.sub(r"\{(\w+)\}", lambda m: world[m.group(1)], route.path)


def gets(docs: list[Doc], routes: list[Route], world: dict[str, str]
         ) -> list[tuple[Doc, Route, str]]:
    """(documented path, its route, the URL to GET) for every documented GET."""
    out = []
    for doc in docs:
        if doc.methods and "GET" not in doc.methods:
            continue
        if prefix_only(doc.path):
            for route in under(doc.path, routes):
                url = fill_route(route, world)
                if "GET" in route.methods and url is not None:
                    out.append((doc, route, url))
            continue
        found = matching(doc.path, routes)
        if found and "GET" in found[0].methods:
            out.append((doc, found[0], fill(doc.path, found[0], world)))
    return out


def test_every_documented_get_answers_with_every_documented_value(
        http: httpx.Client, admin: dict[str, str], world: dict[str, str]) -> None:
    routes = api_routes()
    docs, loose = documented(README.read_text(), routes)
    triples = gets(docs, routes, world)
    assert len({r.path for _, r, _ in triples}) > 30, "too few documented GET routes found"
    problems: list[str] = []
    by_paragraph: dict[int, list[tuple[str, Route]]] = {}
    for doc, route, url in triples:
        by_paragraph.setdefault(doc.paragraph, []).append((url, route))
        problems += check(get(http, url, route, admin, world), f"GET {url}")
        for name, values in doc.values.items():  # values written in the path's query string
            fixed = {k: v[0] for k, v in doc.values.items() if k != name and len(v) == 1}
            for value in values:
                r = get(http, url, route, admin, world, {**fixed, name: value})
                problems += check(r, f"GET {url}?{name}={value}")
    tried = 0
    for n, name, values in loose:  # `name=a|b` written beside the paths of its paragraph
        takers = [(u, r) for u, r in by_paragraph.get(n, []) if name in query_names(r)]
        if not takers:
            if name not in UI_ONLY_PARAMS:
                problems.append(f"{name}={'|'.join(values)}: no GET of its paragraph takes it")
            continue
        for value in values:
            tried += 1
            answers = [get(http, u, r, admin, world, {name: value}) for u, r in takers]
            if not any(r.status_code < 400 for r in answers):
                problems.append(f"{name}={value}: refused by {[u for u, _ in takers]}: "
                                f"{[r.text[:120] for r in answers]}")
    assert tried >= 10, "too few documented values found"
    assert not problems, "\n".join(problems)
