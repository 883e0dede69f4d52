"""The event timelines of synthesised alerts, as the lifecycle would have written them.

Same kinds, rule ids and metadata shapes as ``core.alerts.store`` and ``core.alerts.model``:
``created`` by the source, then ``transition`` events by an operator (an acknowledge also
writes an ``assign`` event: acknowledging takes ownership), resolves by the source for
alerts that cleared on their own, and a ``silence`` for parked alerts.
"""
from __future__ import annotations

import numpy as np

from bench import catalog as cat

Columns = dict[str, np.ndarray]
EVENT_COLUMNS = ("alert_id", "at", "actor", "source", "kind", "from_state", "to_state",
                 "metadata")
SRC_ACTOR, SRC_EVENT = (np.array(cat.SOURCE_ACTOR, dtype=object),
                        np.array(cat.SOURCE_EVENT, dtype=object))
OPS, HUMAN = np.array(cat.OPERATORS, dtype=object), np.array(cat.HUMAN_SOURCES, dtype=object)
# Indexed by path (ACK, ACK_INV, INV, HUMAN_RESOLVE, AUTO) in bench.synth.
RESOLVE_FROM = np.array(["acknowledged", "investigating", "investigating", "new", "new"],
                        dtype=object)
RESOLVE_RULE = np.array(["RES-2", "RES-3", "RES-3", "RES-1", "RES-1"], dtype=object)
WORKING = np.array(["new", "acknowledged", "investigating"], dtype=object)
SILENCE_RULE = np.array(["SIL-1", "SIL-2", "SIL-3"], dtype=object)


def _meta(action: str, rule: str) -> str:
    return f'{{"action": "{action}", "rule": "{rule}"}}'


def _pick(value: object, sel: np.ndarray) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value[sel]
    return np.full(int(sel.sum()), value, dtype=object)


def _events(sel: np.ndarray, ids: np.ndarray, at: np.ndarray, actor: object, source: object,
            kind: str, frm: object, to: object, meta: object) -> Columns:
    """The events of the selected alerts (arrays are per alert; scalars are constants)."""
    values = (ids, at, actor, source, kind, frm, to, meta)
    return {name: _pick(v, sel) for name, v in zip(EVENT_COLUMNS, values)}


def _concat(parts: list[Columns]) -> Columns:
    """All events in time order (so event ids grow with time, as in production)."""
    out = {name: np.concatenate([p[name] for p in parts]) for name in EVENT_COLUMNS}
    order = np.argsort(out["at"], kind="stable")
    return {name: col[order] for name, col in out.items()}


def _created(ids: np.ndarray, idn: Columns, created: np.ndarray, alerts: Columns) -> Columns:
    meta = np.array([f'{{"fingerprint": "{f}", "severity": "{s}"}}'
                     for f, s in zip(alerts["fingerprint"], alerts["severity"])], dtype=object)
    every = np.ones(len(ids), dtype=bool)
    return _events(every, ids, created, SRC_ACTOR[idn["src"]], SRC_EVENT[idn["src"]],
                   "created", cat.NULL, "new", meta)


def _ack_assign(sel: np.ndarray, ids: np.ndarray, at: np.ndarray, op: np.ndarray,
                human: np.ndarray) -> list[Columns]:
    assign = np.array([f'{{"from": null, "to": "{o}"}}' for o in op[sel]], dtype=object)
    return [
        _events(sel, ids, at, op, human, "transition", "new", "acknowledged",
                _meta("acknowledge", "ACK-1")),
        {**_events(sel, ids, at, op, human, "assign", "acknowledged", "acknowledged", ""),
         "metadata": assign},
    ]


def history_events(ids: np.ndarray, idn: Columns, path: np.ndarray, t: Columns,
                   alerts: Columns) -> Columns:
    """Events of finished alerts: created, the human path (or a source resolve), close."""
    op, human = OPS[idn["op"]], HUMAN[idn["human"]]
    auto = path == 4
    resolver = np.where(auto, SRC_ACTOR[idn["src"]], op)
    resolver_src = np.where(auto, SRC_EVENT[idn["src"]], human)
    resolve_meta = np.array([_meta("resolve", r) for r in RESOLVE_RULE], dtype=object)[path]
    parts = [_created(ids, idn, t["created"], alerts),
             *_ack_assign(path <= 1, ids, t["ack"], op, human),
             _events(path == 1, ids, t["inv"], op, human, "transition", "acknowledged",
                     "investigating", _meta("investigate", "INV-2")),
             _events(path == 2, ids, t["inv"], op, human, "transition", "new",
                     "investigating", _meta("investigate", "INV-1")),
             _events(np.ones(len(ids), dtype=bool), ids, t["res"], resolver, resolver_src,
                     "transition", RESOLVE_FROM[path], "resolved", resolve_meta),
             _events(t["close"] >= 0, ids, t["close"], op, human, "transition", "resolved",
                     "closed", _meta("close", "CLO-1"))]
    return _concat(parts)


def open_events(ids: np.ndarray, idn: Columns, off: Columns, t: Columns,
                alerts: Columns) -> Columns:
    """Events of open alerts: created, [acknowledge + assign], [investigate], [silence]."""
    op, human = OPS[idn["op"]], HUMAN[idn["human"]]
    via_ack, work = off["via_ack"], off["work"]
    inv = work == 2
    silenced = off["state"] == 3
    parts = [_created(ids, idn, t["created"], alerts),
             *_ack_assign(via_ack, ids, t["ack"], op, human),
             _events(inv & via_ack, ids, t["inv"], op, human, "transition", "acknowledged",
                     "investigating", _meta("investigate", "INV-2")),
             _events(inv & ~via_ack, ids, t["inv"], op, human, "transition", "new",
                     "investigating", _meta("investigate", "INV-1")),
             _events(silenced, ids, t["silence"], op, human, "transition", WORKING[work],
                     "silenced",
                     np.array([_meta("silence", r) for r in SILENCE_RULE], dtype=object)[work])]
    return _concat(parts)
