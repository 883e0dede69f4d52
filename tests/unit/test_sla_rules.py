from datetime import datetime, timedelta, timezone

import pytest

from core import severity as sev
from core.errors import FieldError
from core.sla import rules as sla

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def at(**kw: float) -> datetime:
    return T0 + timedelta(**kw)


def test_open_alert_counts_down_and_turns_at_risk_below_20_percent() -> None:
    s = sla.status(T0, None, None, 300, 1800, at(seconds=200))
    assert (s.tta_remaining_s, s.ttr_remaining_s, s.at_risk, s.label) == (100, 1600, False, "ok")
    s = sla.status(T0, None, None, 300, 1800, at(seconds=241))
    assert s.at_risk and s.label == "at risk"


def test_breach_is_known_while_the_alert_is_still_open() -> None:
    s = sla.status(T0, None, None, 300, 1800, at(seconds=301))
    assert s.tta_breached and not s.ttr_breached and s.label == "breached"
    assert s.tta_remaining_s == -1


def test_clocks_stop_on_response_and_resolution() -> None:
    s = sla.status(T0, at(seconds=120), at(seconds=2000), 300, 1800, at(days=3))
    assert (s.tta_s, s.ttr_s) == (120, 2000)
    assert not s.tta_breached and s.ttr_breached
    assert s.tta_remaining_s is None and s.ttr_remaining_s is None


def test_source_resolution_before_anyone_responds_stops_tta_without_a_response() -> None:
    s = sla.status(T0, None, at(seconds=60), 300, 1800, at(hours=5))
    assert s.tta_s is None and not s.tta_breached and not s.ttr_breached


def test_service_override_wins_then_severity_default_then_builtin() -> None:
    policies = {("critical", None): sla.Targets(600, 3600),
                ("critical", "billing"): sla.Targets(60, 600)}
    assert sla.pick_targets(policies, "critical", "billing") == sla.Targets(60, 600)
    assert sla.pick_targets(policies, "critical", "web") == sla.Targets(600, 3600)
    assert sla.pick_targets({}, "high", None) == sla.Targets(900, 7200)


@pytest.mark.parametrize("raw,expected", [
    ("critical", "critical"), ("page", "critical"), ("ERROR", "high"), ("major", "high"),
    ("warning", "medium"), ("minor", "low"), ("none", "info"), ("L1", "critical"),
    ("l2", "medium"), ("L3", "info"),
])
def test_severity_mappings(raw: str, expected: str) -> None:
    assert sev.normalize(raw) == expected


@pytest.mark.parametrize("raw", ["urgent", "", None, 3])
def test_unknown_severity_names_the_field(raw: object) -> None:
    with pytest.raises(FieldError) as err:
        sev.normalize(raw)
    assert err.value.field == "severity"
