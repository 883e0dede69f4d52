import pytest

from core import lifecycle
from core.errors import InvalidTransition

VALID = [
    ("new", "acknowledge", "acknowledged"), ("new", "investigate", "investigating"),
    ("new", "resolve", "resolved"), ("acknowledged", "investigate", "investigating"),
    ("acknowledged", "resolve", "resolved"), ("investigating", "resolve", "resolved"),
    ("resolved", "close", "closed"), ("resolved", "reopen", "new"), ("closed", "reopen", "new"),
    ("new", "silence", "silenced"), ("investigating", "silence", "silenced"),
]
INVALID = [
    ("acknowledged", "acknowledge"), ("resolved", "acknowledge"), ("closed", "resolve"),
    ("new", "close"), ("new", "reopen"), ("investigating", "acknowledge"),
    ("resolved", "silence"), ("closed", "close"),
]


@pytest.mark.parametrize("state,action,expected", VALID)
def test_valid_paths(state: str, action: str, expected: str) -> None:
    assert lifecycle.transition(state, action).to_state == expected


@pytest.mark.parametrize("state,action", INVALID)
def test_invalid_paths_raise_with_operator_message(state: str, action: str) -> None:
    with pytest.raises(InvalidTransition) as err:
        lifecycle.transition(state, action, alert_id=123)
    assert str(err.value).startswith(f"alert 123 is {state}; it cannot be ")


def test_message_reads_naturally() -> None:
    with pytest.raises(InvalidTransition, match="alert 123 is resolved; it cannot be acknowledged"):
        lifecycle.transition("resolved", "acknowledge", alert_id=123)


def test_every_rule_has_unique_id_and_known_states() -> None:
    ids = [r.rule_id for r in lifecycle.TRANSITIONS.values()]
    assert len(ids) == len(set(ids))
    for (state, action), rule in lifecycle.TRANSITIONS.items():
        assert state in lifecycle.STATES and rule.to_state in lifecycle.STATES
        assert action in lifecycle.ACTIONS


def test_action_on_silenced_alert_first_returns_to_previous_state() -> None:
    steps = lifecycle.plan("silenced", "acknowledge", "new")
    assert [(s.from_state, s.to_state) for s in steps] == [("silenced", "new"),
                                                           ("new", "acknowledged")]


def test_silenced_alert_keeps_rules_of_its_previous_state() -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.plan("silenced", "acknowledge", "acknowledged")


def test_unsilence_only_from_silenced() -> None:
    assert lifecycle.plan("silenced", "unsilence", "investigating")[0].to_state == "investigating"
    with pytest.raises(InvalidTransition):
        lifecycle.plan("new", "unsilence", None)


def test_allowed_actions_for_buttons() -> None:
    assert lifecycle.allowed_actions("new") == ["acknowledge", "investigate", "resolve", "silence"]
    assert lifecycle.allowed_actions("resolved") == ["close", "reopen"]
    assert "acknowledge" in lifecycle.allowed_actions("silenced")
