"""On-call over HTTP: contract shapes, current with and without schedule_id, field-named
422s with nothing stored, overrides by role, the iCalendar feed (parsed by icalendar) and
its ?token= calendar-key auth."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import icalendar
import pytest

from core import db as core_db
from core.auth import create_api_key
from core.clock import FrozenClock

ON = "/api/v1/on-call"


def schedule(**changes: Any) -> dict[str, Any]:
    layer = {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "participants": ["olga", "maria"]}
    layer.update(changes.pop("layer", {}))
    return {"name": "NOC primary", "timezone": "UTC", "layers": [layer], **changes}


def create(http, manager, **changes: Any) -> dict[str, Any]:
    r = http.post(f"{ON}/schedules", json=schedule(**changes), headers=manager)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_schedules_contract_and_roles(http, viewer, operator, manager) -> None:
    assert http.post(f"{ON}/schedules", json=schedule(), headers=operator).status_code == 403
    assert http.get(f"{ON}/schedules").status_code == 401
    created = create(http, manager)
    assert created["layers"] == [{"position": 0, "name": "primary", "rotation": "daily",
                                  "shift_hours": None, "handoff": "09:00", "start": "2026-03-02",
                                  "participants": ["olga", "maria"], "restrictions": []}]
    assert (created["timezone"], created["enabled"], created["created_by"]) == ("UTC", True, "maria")
    listed = http.get(f"{ON}/schedules", headers=viewer).json()
    assert listed["total"] == 1 and listed["data"][0]["id"] == created["id"]
    assert http.get(f"{ON}/schedules", params={"rotation_type": "weekly"},
                    headers=viewer).json()["data"] == []
    assert http.get(f"{ON}/schedules", params={"enabled": "false"},
                    headers=viewer).json()["data"] == []
    assert http.get(f"{ON}/schedules/{created['id']}", headers=viewer).json() == created
    assert http.get(f"{ON}/schedules/999", headers=viewer).status_code == 404
    edited = schedule(enabled=False, layer={"rotation": "weekly", "participants": ["ada"]})
    assert http.put(f"{ON}/schedules/{created['id']}", json=edited,
                    headers=operator).status_code == 403
    r = http.put(f"{ON}/schedules/{created['id']}", json=edited, headers=manager)
    assert r.status_code == 200, r.text
    assert (r.json()["enabled"], r.json()["layers"][0]["participants"]) == (False, ["ada"])
    assert http.get(f"{ON}/schedules", params={"rotation_type": "weekly"},
                    headers=viewer).json()["total"] == 1


def test_current_with_and_without_schedule_id(http, viewer, manager) -> None:
    sid = create(http, manager)["id"]
    create(http, manager, name="Later", layer={"start": "2027-01-01"})
    r = http.get(f"{ON}/current", params={"schedule_id": sid, "at": "2026-03-03T10:00:00Z"},
                 headers=viewer)
    assert r.status_code == 200, r.text
    one, = r.json()["data"]                      # the same envelope as without schedule_id
    assert (one["schedule_id"], one["username"]) == (sid, "maria")
    assert [datetime.fromisoformat(one[k]) for k in ("shift_start", "shift_end")] == [
        datetime.fromisoformat("2026-03-03T09:00:00+00:00"),
        datetime.fromisoformat("2026-03-04T09:00:00+00:00")]
    assert one["next"]["username"] == "olga"
    assert datetime.fromisoformat(one["next"]["shift_start"]) == datetime.fromisoformat(
        one["shift_end"])
    every = http.get(f"{ON}/current", params={"at": "2026-03-03T10:00:00Z"}, headers=viewer).json()
    assert [(c["schedule_name"], c["username"]) for c in every["data"]] == [
        ("Later", None), ("NOC primary", "maria")]
    assert http.get(f"{ON}/current", params={"at": "yesterday"},
                    headers=viewer).json()["field"] == "at"


@pytest.mark.parametrize(("changes", "field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"layer": {"handoff": "25:00"}}, "layers[0].handoff"),
    ({"layer": {"participants": ["olga", "ghost"]}}, "layers[0].participants[1]"),
    ({"layer": {"rotation": "custom"}}, "layers[0].shift_hours"),
])
def test_bad_schedules_are_422_naming_the_field(http, manager, viewer, changes: dict,
                                                field: str) -> None:
    r = http.post(f"{ON}/schedules", json=schedule(**changes), headers=manager)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["error"].startswith(field + ": ")
    assert http.get(f"{ON}/schedules", headers=viewer).json()["total"] == 0


def test_overrides_by_role_and_shifts(http, operator, manager, viewer) -> None:
    sid = create(http, manager)["id"]
    when = {"start": "2026-03-03T12:00:00Z", "end": "2026-03-03T14:00:00Z"}
    r = http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "olga",
                                           "start": "2026-03-03T12:00:00Z",
                                           "end": "2026-03-03T11:00:00Z"}, headers=manager)
    assert r.status_code == 422 and r.json()["field"] == "end"
    assert http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "maria", **when},
                     headers=operator).status_code == 403
    assert http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "olga", **when},
                     headers=viewer).status_code == 403
    r = http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "olga", **when},
                  headers=operator)
    assert r.status_code == 201, r.text
    assert r.json()["created_by"] == "olga"
    got = http.get(f"{ON}/schedules/{sid}/shifts", headers=viewer, params={
        "start": "2026-03-03T09:00:00Z", "end": "2026-03-04T09:00:00Z"}).json()["data"]
    assert [(s["username"], s["source"]) for s in got] == [
        ("maria", "primary"), ("olga", "override"), ("maria", "primary")]
    body = http.get(f"{ON}/schedules/{sid}/overrides", headers=viewer,
                    params={"start": "2026-03-03"}).json()
    assert [o["username"] for o in body["data"]] == ["olga"]
    assert (body["page"], body["limit"], body["total"]) == (1, 1, 1)  # the list shape


@pytest.fixture
def frozen(monkeypatch) -> datetime:
    now = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
    monkeypatch.setattr("api.routes_oncall.SYSTEM_CLOCK", FrozenClock(now))
    return now


def test_ics_feed_parses_and_has_one_event_per_shift(http, viewer, manager, frozen) -> None:
    sid = create(http, manager)["id"]
    r = http.get(f"{ON}/schedules/{sid}.ics", headers=viewer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    assert str(cal["method"]) == "PUBLISH" and str(cal["x-wr-calname"]) == "On call: NOC primary"
    events = cal.walk("VEVENT")
    assert len(events) == 61  # Mar 10 09:00 .. May 9 09:00: the shifts overlapping 60 days
    assert len({str(e["uid"]) for e in events}) == 61
    first = events[0]
    assert first.decoded("dtstart") == frozen - timedelta(hours=3)  # Mar 10 09:00 UTC
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(days=1)
    assert first.decoded("dtstart").utcoffset() == timedelta(0)
    assert [str(e["summary"]) for e in events[:2]] == ["On call: olga", "On call: maria"]
    again = icalendar.Calendar.from_ical(http.get(f"{ON}/schedules/{sid}.ics",
                                                  headers=viewer).content)
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == [str(e["uid"]) for e in events]


def test_ics_feed_shows_gaps(http, viewer, manager, frozen) -> None:
    sid = create(http, manager, layer={"participants": ["olga"], "restrictions": [
        {"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "17:00"}]})["id"]
    events = icalendar.Calendar.from_ical(
        http.get(f"{ON}/schedules/{sid}.ics", headers=viewer).content).walk("VEVENT")
    summaries = [str(e["summary"]) for e in events]
    assert summaries[:2] == ["On call: olga", "NOBODY on call"]
    assert summaries.count("On call: olga") == 44  # weekdays Mar 10 .. May 8 (16+22+6)


def test_ics_token_auth(http, engine, manager, frozen) -> None:
    """The URL takes only a calendar key, which reads the feed and nothing else."""
    sid = create(http, manager)["id"]
    with core_db.transaction(engine) as s:
        key, row = create_api_key(s, "team calendar", None, None, scope="calendar")
        normal, _ = create_api_key(s, "old feed", "viewer", None)
        wall, _ = create_api_key(s, "lobby tv", None, None, scope="wall")
    assert row["scope"] == "calendar" and row["role"] == "viewer"
    assert http.get(f"{ON}/schedules/{sid}.ics").status_code == 401
    r = http.get(f"{ON}/schedules/{sid}.ics", params={"token": key})
    assert r.status_code == 200 and b"BEGIN:VCALENDAR" in r.content
    assert http.get(f"{ON}/schedules/{sid}.ics", params={"token": key + "x"}).status_code == 401
    jwt = manager["Authorization"].split()[1]
    r = http.get(f"{ON}/schedules/{sid}.ics", params={"token": jwt})
    assert r.status_code == 401 and "calendar key" in r.json()["error"]
    assert http.get(f"{ON}/schedules/999.ics", params={"token": key}).status_code == 404
    r = http.get(f"{ON}/schedules/{sid}.ics", params={"token": normal})
    assert r.status_code == 403, r.text
    assert r.json()["error"].startswith("key:old feed is a normal API key, which must not go "
                                        "in a URL: create a calendar key (python -m dashboard "
                                        "create-api-key NAME --scope calendar")
    r = http.get(f"{ON}/schedules/{sid}.ics", params={"token": wall})
    assert r.status_code == 403 and "only a calendar key opens" in r.json()["error"]
    for path in (f"{ON}/schedules/{sid}", f"{ON}/schedules/{sid}.ics", "/api/v1/alerts"):
        r = http.get(path, headers={"X-API-Key": key})   # not an API key for anything else
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"] == ("key:team calendar is a calendar key: it opens only the "
                                     "on-call calendar feeds (.ics?token=<key>), not the API")
    assert http.get(f"{ON}/schedules/{sid}.ics",
                    headers={"X-API-Key": normal}).status_code == 200   # headers: as before


def test_overrides_are_removed_by_their_owner_or_a_manager(http, operator, manager,
                                                            viewer) -> None:
    sid = create(http, manager)["id"]
    when = {"start": "2026-03-03T12:00:00Z", "end": "2026-03-03T14:00:00Z"}
    mine = http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "olga", **when},
                     headers=operator).json()
    theirs = http.post(f"{ON}/overrides", json={"schedule_id": sid, "username": "maria",
                                                "start": "2026-03-04T12:00:00Z",
                                                "end": "2026-03-04T14:00:00Z"},
                       headers=manager).json()
    assert http.delete(f"{ON}/overrides/{mine['id']}", headers=viewer).status_code == 403
    assert http.delete(f"{ON}/overrides/{theirs['id']}", headers=operator).status_code == 403
    r = http.delete(f"{ON}/overrides/{mine['id']}", headers=operator)
    assert r.status_code == 200 and r.json()["username"] == "olga"
    assert http.delete(f"{ON}/overrides/{mine['id']}", headers=operator).status_code == 404
    got = http.get(f"{ON}/schedules/{sid}/shifts", headers=viewer, params={
        "start": "2026-03-03T09:00:00Z", "end": "2026-03-04T09:00:00Z"}).json()["data"]
    assert [(s["username"], s["source"]) for s in got] == [("maria", "primary")]
    assert http.delete(f"{ON}/overrides/{theirs['id']}", headers=manager).status_code == 200
    rows = http.get("/api/v1/audit", params={"entity": "oncall_override"},
                    headers=manager).json()["data"]
    assert sorted(r["action"] for r in rows) == ["create", "create", "delete", "delete"]
