from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import db as core_db
from core import teams
from core.actor import Actor
from core.errors import FieldError, Forbidden
from core.sla.compliance import ComplianceQuery, compliance
from core.sla.store import list_policies, upsert_policy
from tests.conftest import T0
from tests.factories import MANAGER, OPERATOR, act, make_alert, make_users, row

MACHINE = Actor("key:am", "operator", "api", is_human=False)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def history(engine: sa.Engine) -> None:
    """Hand-made fixture; expected numbers below are computed by hand."""
    make_users(engine)
    a1 = make_alert(engine, T0, summary="a1")
    act(engine, a1, "acknowledge", T0 + s(60))
    act(engine, a1, "resolve", T0 + s(600))          # TTA 60 met, TTR 600 met
    a2 = make_alert(engine, T0, summary="a2")
    act(engine, a2, "investigate", T0 + s(400))
    act(engine, a2, "resolve", T0 + s(2000))         # TTA 400 > 300, TTR 2000 > 1800
    make_alert(engine, T0, summary="a3")             # open, nobody responded: both breached
    make_alert(engine, T0 + s(3500), summary="a4")   # open, 100 s old: not yet decided
    h1 = make_alert(engine, T0, summary="h1", severity="high", service="web")
    act(engine, h1, "resolve", T0 + s(100), actor=MACHINE)  # source resolved it: no TTA
    make_alert(engine, T0 - timedelta(days=2), summary="old")  # outside the period


def query(**kw: object) -> ComplianceQuery:
    base = dict(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=2))
    base.update(kw)
    return ComplianceQuery(**base)  # type: ignore[arg-type]


def test_compliance_by_severity_matches_hand_computed(engine: sa.Engine, history: None) -> None:
    with core_db.transaction(engine) as ses:
        rows = compliance(ses, query(), T0 + s(3600))
    crit, high = rows
    assert crit["severity"] == "critical" and high["severity"] == "high"
    assert (crit["alerts"], crit["tta_met"], crit["ttr_met"], crit["breaches"]) == (4, 1, 1, 2)
    assert crit["tta_compliance_pct"] == 33.33 and crit["ttr_compliance_pct"] == 33.33
    assert (crit["mtta_s"], crit["p50_tta_s"], crit["p90_tta_s"]) == (230, 230, 366)
    assert (crit["mttr_s"], crit["p50_ttr_s"], crit["p90_ttr_s"]) == (1300, 1300, 1860)
    assert (high["alerts"], high["tta_compliance_pct"], high["ttr_compliance_pct"]) == (1, 100, 100)
    assert high["mtta_s"] is None and high["mttr_s"] == 100 and high["breaches"] == 0


def test_compliance_filters_and_grouping(engine: sa.Engine, history: None) -> None:
    with core_db.transaction(engine) as ses:
        by_service = compliance(ses, query(group_by="service"), T0 + s(3600))
        only_web = compliance(ses, query(service="web", group_by="both"), T0 + s(3600))
        empty = compliance(ses, query(start=T0 + timedelta(days=5), end=T0 + timedelta(days=6)),
                           T0 + s(3600))
    assert [(r["service"], r["alerts"]) for r in by_service] == [("billing", 4), ("web", 1)]
    assert [(r["severity"], r["service"], r["alerts"]) for r in only_web] == [("high", "web", 1)]
    assert empty == []


def test_compliance_rejects_bad_period(engine: sa.Engine) -> None:
    with pytest.raises(FieldError) as err:
        with core_db.transaction(engine) as ses:
            compliance(ses, query(end=T0 - timedelta(days=1)), T0)
    assert err.value.field == "end"


def test_targets_are_data_editable_by_manager_with_service_override(engine: sa.Engine) -> None:
    make_users(engine)
    with core_db.transaction(engine) as ses:
        assert [(p["severity"], p["tta_s"], p["ttr_s"]) for p in list_policies(ses)][0] == (
            "critical", 300, 1800)
        upsert_policy(ses, {"severity": "critical", "service": "billing", "tta_s": 60,
                            "ttr_s": 600}, MANAGER, T0)
    with pytest.raises(Forbidden):
        with core_db.transaction(engine) as ses:
            upsert_policy(ses, {"severity": "critical", "tta_s": 1, "ttr_s": 2}, OPERATOR, T0)
    with pytest.raises(FieldError, match="ttr_s"):
        with core_db.transaction(engine) as ses:
            upsert_policy(ses, {"severity": "critical", "tta_s": 600, "ttr_s": 60}, MANAGER, T0)
    billing = make_alert(engine, T0, summary="x", service="billing")
    web = make_alert(engine, T0, summary="y", service="web")
    assert (row(engine, billing).tta_target_s, row(engine, billing).ttr_target_s) == (60, 600)
    assert row(engine, web).tta_target_s == 300
    # Editing the policy later does not rewrite the targets already frozen on alerts.
    with core_db.transaction(engine) as ses:
        upsert_policy(ses, {"severity": "critical", "service": "billing", "tta_s": 120,
                            "ttr_s": 900}, MANAGER, T0)
    assert row(engine, billing).tta_target_s == 60


def test_compliance_by_team_follows_service_owners(engine: sa.Engine, history: None) -> None:
    with core_db.transaction(engine) as ses:
        teams.put(ses, {"billing": "payments"}, MANAGER, T0)
    now = T0 + s(3600)
    with core_db.transaction(engine) as ses:
        by_team = compliance(ses, query(group_by="team"), now)
        payments = compliance(ses, query(team="payments"), now)
        unowned = compliance(ses, query(team=teams.NO_TEAM, group_by="service"), now)
        nobody = compliance(ses, query(team="no-such-team"), now)
    assert [(r["team"], r["alerts"], r["breaches"], r["tta_compliance_pct"]) for r in by_team] == [
        ("(no team)", 1, 0, 100.0), ("payments", 4, 2, 33.33)]
    assert [(r["severity"], r["alerts"]) for r in payments] == [("critical", 4)]
    assert [(r["service"], r["alerts"]) for r in unowned] == [("web", 1)]
    assert nobody == []


def test_service_owners_are_validated_and_need_a_manager(engine: sa.Engine) -> None:
    make_users(engine)
    with pytest.raises(FieldError) as err:
        with core_db.transaction(engine) as ses:
            teams.put(ses, {"billing": "  "}, MANAGER, T0)
    assert err.value.field == "service_teams.billing"
    with pytest.raises(Forbidden):
        with core_db.transaction(engine) as ses:
            teams.put(ses, {"billing": "payments"}, OPERATOR, T0)
    with core_db.transaction(engine) as ses:
        assert teams.load(ses) == {}
        teams.put(ses, {" web ": "frontend", "billing": "payments"}, MANAGER, T0)
    with core_db.transaction(engine) as ses:
        assert teams.load(ses) == {"billing": "payments", "web": "frontend"}


def test_an_integrations_acknowledge_stops_the_tta_clock(engine: sa.Engine) -> None:
    """Decided as PagerDuty does: an API key's acknowledge is a response (the queue, the SLA
    and the state agree); a source resolving its own alert is not."""
    from tests.factories import make_alert, row

    acked = make_alert(engine, T0, device_id="a")
    act(engine, acked, "acknowledge", T0 + s(60), actor=MACHINE)
    r = row(engine, acked)
    assert (r.state, r.acknowledged_at) == ("acknowledged", T0 + s(60))
    auto = make_alert(engine, T0, device_id="b")
    act(engine, auto, "resolve", T0 + s(60), actor=MACHINE)
    assert row(engine, auto).acknowledged_at is None
