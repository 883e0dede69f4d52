"""The audit trail on a real PostgreSQL: every hooked configuration change writes exactly one
row (actor, before → after) in its own transaction, refused changes write none, secrets and
hashes never reach a row, the table is append-only, and the search reads config changes and
alert actions as one stream."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from core import auth
from core import db as core_db
from core.audit import AuditFilter, iter_csv, record, search
from core.errors import Conflict, FieldError, Forbidden
from core.escalation.store import create_policy, replace_policy
from core.oncall import store as oncall
from core.settings import put_setting
from core.sla.store import delete_override, upsert_policy
from core.suppression.inhibition_store import create_rule, update_rule
from core.suppression.silences_store import create_silence, expire_silence
from tests.conftest import T0
from tests.factories import ADMIN, MANAGER, OPERATOR, act, make_alert, make_users

H = timedelta(hours=1)
SLACK = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def audit(engine: sa.Engine, entity: str | None = None) -> list[dict[str, Any]]:
    """The audit rows (oldest first), optionally of one entity."""
    with engine.connect() as c:
        rows = c.execute(sa.text("select * from audit_log where :e is null or entity = :e "
                                 "order by id"), {"e": entity}).mappings()
        return [dict(r) for r in rows]


def whole_log(engine: sa.Engine) -> str:
    with engine.connect() as c:
        return str(c.scalar(sa.text("select coalesce(string_agg(t::text, ' '), '') "
                                    "from audit_log t")))


def test_sla_targets_create_update_delete(engine: sa.Engine) -> None:
    body = {"severity": "critical", "service": "billing", "tta_s": 120, "ttr_s": 600}
    with core_db.transaction(engine) as s:
        upsert_policy(s, body, MANAGER, T0)
    with core_db.transaction(engine) as s:
        upsert_policy(s, {**body, "tta_s": 240}, MANAGER, T0 + H)
    with core_db.transaction(engine) as s:
        assert delete_override(s, "critical", "billing", MANAGER, T0 + 2 * H)
    made, changed, gone = audit(engine, "sla_policy")
    assert (made["action"], made["before"], made["after"]["tta_s"]) == ("create", None, 120)
    assert (made["actor"], made["actor_role"], made["source"]) == ("maria", "manager", "ui")
    assert made["entity_id"] == "critical/billing" and made["at"] == T0
    assert changed["action"] == "update"
    assert (changed["before"]["tta_s"], changed["after"]["tta_s"]) == (120, 240)
    assert (gone["action"], gone["before"]["tta_s"], gone["after"]) == ("delete", 240, None)


def test_settings_record_the_old_and_new_value(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        put_setting(s, "wall", {"refresh_s": 30}, MANAGER, T0)
        put_setting(s, "wall", {"refresh_s": 10}, MANAGER, T0 + H)
    first, second = audit(engine, "setting")
    assert (first["action"], first["before"], first["after"]) == (
        "create", None, {"value": {"refresh_s": 30}})
    assert (second["action"], second["before"], second["after"]) == (
        "update", {"value": {"refresh_s": 30}}, {"value": {"refresh_s": 10}})


def test_escalation_policy_secrets_are_masked(engine: sa.Engine) -> None:
    tiers = [{"delay_s": 0, "targets": [{"type": "slack", "webhook_url": SLACK}]}]
    with core_db.transaction(engine) as s:
        pid = create_policy(s, {"name": "noc", "priority": 1, "tiers": tiers}, MANAGER, T0)["id"]
    with core_db.transaction(engine) as s:
        replace_policy(s, pid, {"name": "noc", "priority": 2, "tiers": tiers}, MANAGER, T0 + H)
    made, changed = audit(engine, "escalation_policy")
    assert made["entity_id"] == str(pid) and made["action"] == "create"
    target = made["after"]["tiers"][0]["targets"][0]
    assert target["webhook_url_sealed"] == "•••" and "webhook_url" not in target
    assert (changed["before"]["priority"], changed["after"]["priority"]) == (1, 2)
    assert "very-secret-token" not in whole_log(engine) and "gAAAA" not in whole_log(engine)


def test_oncall_schedule_and_override(engine: sa.Engine) -> None:
    make_users(engine)
    layer = {"name": "primary", "rotation": "daily", "handoff": "09:00", "start": "2026-03-02",
             "participants": ["olga", "maria"]}
    body = {"name": "NOC", "timezone": "UTC", "layers": [layer]}
    with core_db.transaction(engine) as s:
        sid = oncall.create_schedule(s, body, MANAGER, T0)["id"]
        oncall.replace_schedule(s, sid, {**body, "timezone": "Europe/Berlin"}, MANAGER, T0)
        oncall.create_override(s, {"schedule_id": sid, "username": "olga",
                                   "start": T0.isoformat(), "end": (T0 + H).isoformat()},
                               OPERATOR, T0)
    made, changed = audit(engine, "oncall_schedule")
    assert made["after"]["layers"][0]["participants"] == ["olga", "maria"]
    assert (changed["before"]["timezone"], changed["after"]["timezone"]) == ("UTC", "Europe/Berlin")
    (over,) = audit(engine, "oncall_override")
    assert (over["actor"], over["after"]["username"]) == ("olga", "olga")
    assert over["after"]["end"] == "2026-03-02T10:00:00+00:00"


def test_silence_create_and_expire(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        sid = create_silence(s, {"matchers": [{"name": "service", "op": "=", "value": "db"}],
                                 "ends_at": T0 + 2 * H, "comment": "CHG-1"}, OPERATOR, T0)["id"]
    with core_db.transaction(engine) as s:
        expire_silence(s, sid, OPERATOR, T0 + H)
    made, expired = audit(engine, "silence")
    assert (made["action"], made["after"]["comment"], made["after"]["state"]) == (
        "create", "CHG-1", "active")
    assert expired["action"] == "expire" and expired["before"]["expired_at"] is None
    assert (expired["after"]["state"], expired["after"]["expired_by"]) == ("expired", "olga")


def test_inhibition_rule_create_and_update(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        rid = create_rule(s, {"name": "db-down", "source_match": {"alertname": "DbDown"},
                              "target_match": {"service": "db"}, "equal": ["device_id"]},
                          MANAGER, T0)["id"]
        update_rule(s, rid, {"enabled": False}, MANAGER, T0 + H)
    made, changed = audit(engine, "inhibition_rule")
    assert (made["action"], made["after"]["name"], changed["action"]) == ("create", "db-down", "update")
    assert (changed["before"]["enabled"], changed["after"]["enabled"]) == (True, False)


def test_users_and_api_keys_never_log_hashes_or_keys(engine: sa.Engine) -> None:
    with core_db.transaction(engine) as s:
        auth.create_user(s, "nina", "first-pass-1", "operator", ADMIN, now=T0)
        auth.update_user(s, "nina", ADMIN, T0 + H, role="manager", password="second-pass-2")
        auth.update_user(s, "nina", ADMIN, T0 + 2 * H, is_active=False)
        key, row = auth.create_api_key(s, "prom", "operator", ADMIN, now=T0)
        auth.revoke_api_key(s, row["id"], ADMIN, T0 + H)
        hashes = list(s.scalars(sa.text("select password_hash from users union all "
                                        "select key_hash from api_keys")))
    made, promoted, disabled = audit(engine, "user")
    assert made["after"]["username"] == "nina" and "password_hash" not in made["after"]
    assert (promoted["before"]["role"], promoted["after"]["role"]) == ("operator", "manager")
    assert promoted["note"] == "password changed" and disabled["note"] is None
    assert (disabled["before"]["is_active"], disabled["after"]["is_active"]) == (True, False)
    created, revoked = audit(engine, "api_key")
    assert (created["action"], revoked["action"]) == ("create", "revoke")
    assert revoked["before"]["revoked_at"] is None and revoked["after"]["revoked_at"] is not None
    log = whole_log(engine)
    assert all(h and h not in log for h in hashes) and key not in log
    assert "pass-" not in log


def test_refused_or_rolled_back_changes_write_nothing(engine: sa.Engine) -> None:
    body = {"severity": "critical", "service": "billing", "tta_s": 120, "ttr_s": 600}
    with pytest.raises(Forbidden), core_db.transaction(engine) as s:
        upsert_policy(s, body, OPERATOR, T0)
    with pytest.raises(FieldError), core_db.transaction(engine) as s:
        upsert_policy(s, {**body, "ttr_s": 60}, MANAGER, T0)
    with pytest.raises(Forbidden), core_db.transaction(engine) as s:
        auth.create_user(s, "nina", "first-pass-1", "operator", MANAGER)
    with pytest.raises(RuntimeError), core_db.transaction(engine) as s:
        put_setting(s, "wall", {"refresh_s": 30}, MANAGER, T0)
        raise RuntimeError("a later step of the same request fails")
    with core_db.transaction(engine) as s:
        sid = create_silence(s, {"matchers": [{"name": "service", "op": "=", "value": "db"}],
                                 "ends_at": T0 + H, "comment": "x"}, OPERATOR, T0)["id"]
        expire_silence(s, sid, OPERATOR, T0)
    with pytest.raises(Conflict), core_db.transaction(engine) as s:
        expire_silence(s, sid, OPERATOR, T0 + H)
    assert [r["action"] for r in audit(engine)] == ["create", "expire"]


@pytest.mark.parametrize("statement", ["update audit_log set actor = 'mallory'",
                                       "delete from audit_log", "truncate audit_log"])
def test_the_audit_log_is_append_only(engine: sa.Engine, statement: str) -> None:
    with core_db.transaction(engine) as s:
        put_setting(s, "wall", {"refresh_s": 30}, MANAGER, T0)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(sa.text(statement))
    assert [r["actor"] for r in audit(engine)] == ["maria"]


@pytest.fixture
def stream(engine: sa.Engine) -> dict[str, int]:
    """Config changes and alert actions interleaved in time (T0 = 09:00 UTC, 2 March)."""
    make_users(engine)  # four "create user" rows by system, at the database's clock
    with engine.begin() as c:  # pin them to a known time, before everything else
        c.execute(sa.text("alter table audit_log disable trigger audit_log_no_update_delete"))
        c.execute(sa.text("update audit_log set at = :t"), {"t": T0 - 24 * H})
        c.execute(sa.text("alter table audit_log enable trigger audit_log_no_update_delete"))
    alert = make_alert(engine, T0)  # 'created' is not an action: not in the stream
    with core_db.transaction(engine) as s:
        put_setting(s, "wall", {"refresh_s": 30}, MANAGER, T0 + H)        # 10:00
    act(engine, alert, "acknowledge", T0 + 2 * H, note="on it")         # 11:00
    with core_db.transaction(engine) as s:
        record(s, ADMIN, "setting", "night", "update", {"v": 1}, {"v": 2},
               datetime(2026, 3, 1, 22, 59, tzinfo=timezone.utc))
        record(s, ADMIN, "setting", "late", "update", {"v": 1}, {"v": 2},
               datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc))
    return {"alert": alert}


def find(engine: sa.Engine, page: int = 1, limit: int = 50, **kw: Any) -> tuple[list[Any], int]:
    with core_db.transaction(engine) as s:
        rows, total, _ = search(s, AuditFilter(**kw), page, limit)
    return [(r["entity"], r["entity_id"], r["action"]) for r in rows], total


def test_search_is_one_stream_newest_first(engine: sa.Engine, stream: dict[str, int]) -> None:
    aid = str(stream["alert"])
    rows, total = find(engine, limit=3)  # same instant: the later row first
    assert total == 9 and rows == [("alert", aid, "assign"), ("alert", aid, "acknowledge"),
                                   ("setting", "wall", "create")]
    assert find(engine, page=2, limit=3)[0] == [("setting", "late", "update"),
                                                ("setting", "night", "update"),
                                                ("user", "ada", "create")]
    assert find(engine, page=4, limit=3) == ([], 9)
    with core_db.transaction(engine) as s:
        (ack,) = search(s, AuditFilter(q="on it"), 1, 10)[0]
    assert (ack["actor"], ack["before"], ack["after"], ack["note"]) == (
        "olga", {"state": "new"}, {"state": "acknowledged"}, "on it")
    assert ack["changes"] == "state: new → acknowledged"


def test_search_filters(engine: sa.Engine, stream: dict[str, int]) -> None:
    assert find(engine, actor="maria") == ([("setting", "wall", "create")], 1)
    assert find(engine, entity="alert")[1] == 2 and find(engine, entity="config")[1] == 7
    assert find(engine, entity="user", q="VICTOR") == ([("user", "victor", "create")], 1)
    assert find(engine, q="refresh_s", entity="alert") == ([], 0)
    assert find(engine, q="100%") == ([], 0)  # LIKE wildcards are plain text
    berlin = ZoneInfo("Europe/Berlin")  # 2 March in Berlin starts at 23:00 UTC on 1 March
    start, end = datetime(2026, 3, 2, tzinfo=berlin), datetime(2026, 3, 2, 12, tzinfo=berlin)
    # [start, end): 'late' at 23:00 UTC is in, 'night' at 22:59 and the 11:00 UTC ack are out
    assert find(engine, start=start, end=end) == ([("setting", "wall", "create"),
                                                   ("setting", "late", "update")], 2)
    assert find(engine, start=T0 + 3 * H) == ([], 0)


@pytest.mark.parametrize(("kw", "field"), [({"entity": "alerts"}, "entity"),
                                           ({"start": T0, "end": T0}, "end"),
                                           ({"start": datetime(2026, 3, 2)}, "start")])
def test_bad_filters_name_the_field(engine: sa.Engine, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as err:
        find(engine, **kw)
    assert err.value.field == field


def test_csv_holds_the_same_rows(engine: sa.Engine, stream: dict[str, int]) -> None:
    import csv
    import io

    lines = list(csv.reader(io.StringIO("".join(iter_csv(engine, AuditFilter(actor="olga"))))))
    assert lines[0][:8] == ["at", "actor", "actor_role", "source", "entity", "entity_id",
                            "action", "changes"]
    assert [(r[4], r[6], r[7]) for r in lines[1:]] == [
        ("alert", "assign", "assignee: null → olga"),
        ("alert", "acknowledge", "state: new → acknowledged")]
    assert lines[1][0] == "2026-03-02T11:00:00+00:00"


def test_the_total_stops_at_the_cap(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from core import audit as audit_module

    monkeypatch.setattr(audit_module, "COUNT_CAP", 3)
    with core_db.transaction(engine) as s:
        for i in range(5):
            put_setting(s, "wall", {"refresh_s": i}, MANAGER, T0 + i * H)
    with core_db.transaction(engine) as s:
        assert search(s, AuditFilter(), 1, 2)[1:] == (3, True)
        page = search(s, AuditFilter(), 3, 2)  # paging goes on past the cap
        assert [r["after"] for r in page.rows] == [{"value": {"refresh_s": 0}}]
        assert search(s, AuditFilter(start=T0 + 3 * H), 1, 2)[1:] == (2, False)
