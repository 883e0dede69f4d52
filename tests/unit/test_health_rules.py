"""The health formula (core.health.rules) on fixed inputs: quiet = 100, each factor and its cap,
band boundaries, clamping, the window parser. Expected numbers are worked out by hand in
the comments (docs/HEALTH.md has the same worked example)."""
from datetime import timedelta

import pytest

from core.errors import FieldError
from core.health.rules import HealthInputs, band, clamp, health, open_penalty, parse_window


def test_a_quiet_service_scores_100_excellent() -> None:
    h = health(HealthInputs())
    assert (h.score, h.band) == (100.0, "Excellent")
    assert h.penalties == {"open": 0, "breaches": 0, "mttr": 0, "recurrence": 0}
    assert (h.breach_share, h.recurrence_share, h.mttr_ratio) == (None, None, None)


def test_alerts_handled_well_cost_nothing() -> None:
    # 40 alerts, none breached, resolved at 0.4x target on average, no repeats, none open.
    h = health(HealthInputs(alerts=40, breaches=0, resolved=40, mttr_ratio=0.4))
    assert (h.score, h.band, h.breach_share) == (100.0, "Excellent", 0.0)


@pytest.mark.parametrize(("open_by_severity", "weight", "penalty"), [
    ({"info": 9}, 0, 0.0),                       # info weighs nothing
    ({"low": 1}, 1, 40 * 1 / 51),                # 0.78
    ({"critical": 1}, 25, 40 * 25 / 75),         # 13.33
    ({"critical": 2}, 50, 20.0),                 # half the cap at W = 50
    ({"high": 3, "medium": 5}, 50, 20.0),        # 30 + 20
    ({"critical": 20}, 500, 40 * 500 / 550),     # 36.36: diminishing returns
])
def test_open_pressure_weights_severities_with_diminishing_returns(
        open_by_severity: dict[str, int], weight: int, penalty: float) -> None:
    h = health(HealthInputs(open_by_severity=open_by_severity))
    assert h.open_weight == weight
    assert h.penalties["open"] == round(penalty, 2)
    assert h.score == round(100 - penalty, 1)


def test_open_pressure_alone_never_reaches_poor() -> None:
    assert open_penalty(10**9) < 40
    assert health(HealthInputs(open_by_severity={"critical": 10**6})).band == "Fair"


@pytest.mark.parametrize(("breaches", "alerts", "penalty"), [
    (0, 10, 0.0), (1, 10, 5.0), (5, 20, 12.5), (5, 10, 25.0), (10, 10, 25.0)])
def test_breach_share_full_at_half_breached(breaches: int, alerts: int, penalty: float) -> None:
    assert health(HealthInputs(alerts=alerts, breaches=breaches)).penalties["breaches"] == penalty


@pytest.mark.parametrize(("ratio", "penalty"), [
    (0.5, 0.0), (1.0, 0.0), (1.25, 5.0), (1.5, 10.0), (2.0, 20.0), (7.0, 20.0)])
def test_mttr_only_above_target_costs_full_at_twice(ratio: float, penalty: float) -> None:
    h = health(HealthInputs(alerts=4, resolved=4, mttr_ratio=ratio))
    assert h.penalties["mttr"] == penalty


def test_mttr_ratio_without_resolved_alerts_is_ignored() -> None:
    h = health(HealthInputs(alerts=3, resolved=0, mttr_ratio=5.0))
    assert (h.penalties["mttr"], h.mttr_ratio) == (0.0, None)


@pytest.mark.parametrize(("recurring", "alerts", "penalty"), [
    (1, 20, 1.5), (5, 20, 7.5), (10, 20, 15.0), (30, 20, 15.0)])
def test_recurrence_share_full_at_half(recurring: int, alerts: int, penalty: float) -> None:
    h = health(HealthInputs(alerts=alerts, recurring=recurring))
    assert h.penalties["recurrence"] == penalty
    assert h.recurrence_share == round(recurring / alerts, 4)


def test_worked_example_from_the_docs() -> None:
    # payments: open 1 critical + 2 high + 5 low -> W = 25 + 20 + 5 = 50 -> 20.0
    # 40 alerts, 6 breached -> 15 % -> 25 * 0.3 = 7.5
    # MTTR 1.3x target -> 20 * 0.3 = 6.0; 4 recurrences of 40 -> 10 % -> 15 * 0.2 = 3.0
    h = health(HealthInputs(open_by_severity={"critical": 1, "high": 2, "low": 5},
                            alerts=40, breaches=6, resolved=30, mttr_ratio=1.3, recurring=4))
    assert h.penalties == {"open": 20.0, "breaches": 7.5, "mttr": 6.0, "recurrence": 3.0}
    assert (h.score, h.band) == (63.5, "Fair")


def test_a_service_on_fire_lands_in_critical() -> None:
    # 4 open criticals (W 100 -> 26.67), 60 % breached (25), MTTR 2.5x (20), 30 % recurring (9)
    h = health(HealthInputs(open_by_severity={"critical": 4}, alerts=10, breaches=6,
                            resolved=4, mttr_ratio=2.5, recurring=3))
    assert h.score == round(100 - (40 * 100 / 150 + 25 + 20 + 9), 1) == 19.3
    assert h.band == "Critical"


def test_everything_maxed_clamps_at_zero() -> None:
    h = health(HealthInputs(open_by_severity={"critical": 10**9}, alerts=1, breaches=1,
                            resolved=1, mttr_ratio=100.0, recurring=50))
    assert 0.0 <= h.score < 0.1 and h.band == "Critical"
    assert (clamp(-3.0), clamp(104.0), clamp(55.5)) == (0.0, 100.0, 55.5)


@pytest.mark.parametrize(("score", "name"), [
    (100.0, "Excellent"), (90.0, "Excellent"), (89.9, "Good"), (75.0, "Good"),
    (74.9, "Fair"), (60.0, "Fair"), (59.9, "Poor"), (40.0, "Poor"), (39.9, "Critical"),
    (0.0, "Critical")])
def test_bands_at_exact_boundaries(score: float, name: str) -> None:
    assert band(score) == name


def test_the_band_follows_the_rounded_score() -> None:
    # 1 breach of 10 -> 5.0; MTTR 1.2495x -> 4.99: 100 - 9.99 = 90.01 -> 90.0 Excellent
    h = health(HealthInputs(alerts=10, breaches=1, resolved=10, mttr_ratio=1.2495))
    assert (h.score, h.band) == (90.0, "Excellent")


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", timedelta(days=7)), ("24h", timedelta(hours=24)), (" 30d ", timedelta(days=30)),
    ("1h", timedelta(hours=1)), ("90d", timedelta(days=90))])
def test_windows(text: str, expected: timedelta) -> None:
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["", "7", "7w", "-1d", "0h", "91d", "seven days", None])
def test_bad_windows_name_the_field(text: str | None) -> None:
    with pytest.raises(FieldError) as err:
        parse_window(text)
    assert err.value.field == "window"
