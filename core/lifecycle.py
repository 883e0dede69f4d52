"""The alert state machine: one table of (state, action) -> (new state, rule id). Pure.

Silenced is a state with a memory: ``silence`` parks an open alert until a time, and it
returns to the state it had when that time passes (the worker) or on any operator action
(which first unsilences, then applies the action to the remembered state).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from core.errors import InvalidTransition

NEW, ACKNOWLEDGED, INVESTIGATING = "new", "acknowledged", "investigating"
RESOLVED, CLOSED, SILENCED = "resolved", "closed", "silenced"
STATES: Final = (NEW, ACKNOWLEDGED, INVESTIGATING, RESOLVED, CLOSED, SILENCED)
OPEN_STATES: Final = (NEW, ACKNOWLEDGED, INVESTIGATING, SILENCED)
WORKING_STATES: Final = (NEW, ACKNOWLEDGED, INVESTIGATING)
# The open states as an SQL list, for statements written as text (``state in {OPEN_SQL}``);
# migrations keep their own frozen copy, as a migration must not change with the code.
OPEN_SQL: Final = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"


def needs_human_sql(alias: str) -> str:
    """SQL: the alert ``alias`` needs a human (in 'new', not muted): it may page."""
    return f"{alias}.state = 'new' and {alias}.silence_id is null and {alias}.inhibited_by is null"


# An escalation ``e`` (its lead alert joined as ``a``) as it stands now. The worker's next
# tick stops an escalation whose alert (an incident: every member) no longer needs a human
# and cancels its pending pages; until then reads show it stopped already, with the reason
# the tick will record, so an acknowledged alert never reads 'active' (one indexed look-up).
_UNIT_LIVE = (f"case when e.group_id is null then {needs_human_sql('a')} else exists ("
              f"select 1 from alerts m where m.group_id = e.group_id and {needs_human_sql('m')})"
              " end")
_STOPPING = f"(e.state = 'active' and not ({_UNIT_LIVE}))"
_REASON_NOW = (
    "case when e.group_id is null then (case when a.state = 'new' then 'muted' else a.state end)"
    " else (select case when bool_or(m.state in ('acknowledged','investigating'))"
    " then 'acknowledged' when bool_or(m.state = 'silenced') then 'silenced'"
    " when bool_or(m.state = 'new') then 'muted' else 'resolved' end"
    f" from alerts m where m.group_id = e.group_id and m.state in {OPEN_SQL}) end")
ESCALATION_STATE_SQL: Final = f"case when {_STOPPING} then 'stopped' else e.state end"
ESCALATION_REASON_SQL: Final = f"case when {_STOPPING} then {_REASON_NOW} else e.stopped_reason end"
ESCALATION_NEXT_AT_SQL: Final = f"case when {_STOPPING} then null else e.next_at end"

ACTIONS: Final = ("acknowledge", "investigate", "resolve", "close", "reopen", "silence",
                  "unsilence", "unacknowledge")
# Actions that count as a human response for TTA (when taken by a person, not a source).
RESPONSE_ACTIONS: Final = frozenset({"acknowledge", "investigate", "resolve"})


@dataclass(frozen=True)
class Rule:
    rule_id: str
    to_state: str


TRANSITIONS: Final[dict[tuple[str, str], Rule]] = {
    (NEW, "acknowledge"): Rule("ACK-1", ACKNOWLEDGED),
    (NEW, "investigate"): Rule("INV-1", INVESTIGATING),
    (ACKNOWLEDGED, "investigate"): Rule("INV-2", INVESTIGATING),
    (NEW, "resolve"): Rule("RES-1", RESOLVED),
    (ACKNOWLEDGED, "resolve"): Rule("RES-2", RESOLVED),
    (INVESTIGATING, "resolve"): Rule("RES-3", RESOLVED),
    (RESOLVED, "close"): Rule("CLO-1", CLOSED),
    (RESOLVED, "reopen"): Rule("REO-1", NEW),
    (CLOSED, "reopen"): Rule("REO-2", NEW),
    (NEW, "silence"): Rule("SIL-1", SILENCED),
    (ACKNOWLEDGED, "silence"): Rule("SIL-2", SILENCED),
    (INVESTIGATING, "silence"): Rule("SIL-3", SILENCED),
    (SILENCED, "silence"): Rule("SIL-4", SILENCED),  # extends or shortens the silence
    # Forgotten acks (escalation engine): an expired ack returns the alert to the queue.
    (ACKNOWLEDGED, "unacknowledge"): Rule("UNACK-1", NEW),
    (INVESTIGATING, "unacknowledge"): Rule("UNACK-2", NEW),
}


@dataclass(frozen=True)
class Step:
    """One state change to record: ``from_state`` -> ``to_state`` under ``rule_id``."""

    action: str
    from_state: str
    to_state: str
    rule_id: str


def transition(state: str, action: str, *, alert_id: int | None = None) -> Rule:
    """The rule for ``action`` in ``state``, or InvalidTransition."""
    rule = TRANSITIONS.get((state, action))
    if rule is None:
        raise InvalidTransition(alert_id, state, action)
    return rule


def plan(state: str, action: str, state_before_silence: str | None,
         *, alert_id: int | None = None) -> list[Step]:
    """The steps that ``action`` takes from ``state``: an implicit unsilence first when the
    alert is silenced and the action is not a silence, then the action itself."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    steps: list[Step] = []
    if state == SILENCED and action not in ("silence", "unsilence"):
        assert state_before_silence is not None
        steps.append(Step("unsilence", SILENCED, state_before_silence, "UNSIL-2"))
        state = state_before_silence
    if action == "unsilence":
        if state != SILENCED or state_before_silence is None:
            raise InvalidTransition(alert_id, state, action)
        return [Step("unsilence", SILENCED, state_before_silence, "UNSIL-1")]
    rule = transition(state, action, alert_id=alert_id)
    steps.append(Step(action, state, rule.to_state, rule.rule_id))
    return steps


def allowed_actions(state: str) -> list[str]:
    """Actions an operator can take now (for buttons), in table order."""
    effective = [state]
    if state == SILENCED:
        effective = [SILENCED, *WORKING_STATES]
    seen: list[str] = []
    for (from_state, action) in TRANSITIONS:
        if from_state in effective and action not in seen and action != "unacknowledge":
            seen.append(action)
    return seen
