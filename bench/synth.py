"""Vectorised (numpy) synthesis of alerts and their event timelines, one chunk at a time.

A chunk is two column maps, ``alerts`` and ``events``: timestamps are int64 epoch
milliseconds (-1 = NULL), counters int64, text object arrays (``catalog.NULL`` = NULL).
Every row satisfies the schema's CHECKs by construction: resolved/closed rows carry
``resolved_at`` (closed ones ``closed_at`` too), silenced rows ``silenced_until`` and
``state_before_silence``, and each alert's events replay the lifecycle rules
(created -> [acknowledge -> assign] -> [investigate] -> resolve -> [close], or a silence).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import catalog as cat
from bench.events import history_events, open_events

Columns = dict[str, np.ndarray]
ACK, ACK_INV, INV, HUMAN_RESOLVE, AUTO = range(5)      # paths of a finished alert
PATH_P = np.array([0.42, 0.15, 0.05, 0.05, 0.33])
NEW, ACKED, INVESTIGATING, SILENCED = range(4)          # states of an open alert
OPEN_STATE_P = np.array([0.45, 0.25, 0.18, 0.12])
OPEN_STATES = np.array(["new", "acknowledged", "investigating", "silenced"], dtype=object)
CLOSED_SHARE = 0.85


@dataclass(frozen=True)
class Chunk:
    alerts: Columns
    events: Columns


def _obj(values: tuple[str, ...] | list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


SEV, SRC, DEV, NAME = (_obj(cat.SEVERITIES), _obj(cat.SOURCES), _obj(cat.DEVICES),
                       _obj(cat.ALERTNAMES))
SVC, OPS, HUMAN = _obj(cat.SERVICES), _obj(cat.OPERATORS), _obj(cat.HUMAN_SOURCES)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float,
               n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, n))


def _identity(rng: np.random.Generator, ids: np.ndarray, dup_p: float) -> Columns:
    """Who/what each alert is: severity, device (and so service), source, alert name."""
    n = len(ids)
    sev = rng.choice(len(cat.SEVERITIES), n, p=cat.SEVERITY_P)
    dev = rng.choice(len(cat.DEVICES), n, p=cat.DEVICE_WEIGHTS)
    return {"sev": sev, "dev": dev, "svc": cat.DEVICE_SERVICE[dev],
            "src": rng.choice(len(cat.SOURCES), n, p=cat.SOURCE_P),
            "name": rng.integers(0, len(cat.ALERTNAMES), n),
            "op": rng.integers(0, len(cat.OPERATORS), n),
            "human": rng.integers(0, len(cat.HUMAN_SOURCES), n),
            "dup": rng.geometric(dup_p, n).astype(np.int64)}


def _text(ids: np.ndarray, idn: Columns) -> Columns:
    """The text columns of the alerts: fingerprint (unique: it embeds the id, so no alert has a
    previous occurrence and prev_service_at / prev_device_at stay NULL), summary..."""
    sev, dev, svc, name = SEV[idn["sev"]], DEV[idn["dev"]], SVC[idn["svc"]], NAME[idn["name"]]
    fps = [f"gen:{d}:{a}:{i}" for d, a, i in zip(dev, name, ids.tolist())]
    return {
        "fingerprint": _obj(fps), "source": SRC[idn["src"]], "service": svc, "device_id": dev,
        "severity": sev, "summary": _obj([f"{a} on {d}" for a, d in zip(name, dev)]),
        "labels": _obj([f'{{"alertname": "{a}", "instance": "{d}", "service": "{s}", '
                        f'"severity": "{v}"}}' for a, d, s, v in zip(name, dev, svc, sev)]),
    }


def _sla(created: np.ndarray, sev: np.ndarray) -> Columns:
    tta, ttr = cat.TTA_TARGET_S[sev], cat.TTR_TARGET_S[sev]
    return {"tta_target_s": tta, "ttr_target_s": ttr,
            "tta_due_at": created + tta * 1000, "ttr_due_at": created + ttr * 1000}


def _at(created: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Absolute ms from an offset in ms; a negative offset means 'did not happen' (-1)."""
    return np.where(offset >= 0, created + offset.astype(np.int64), -1)


def _history_offsets(rng: np.random.Generator, sev: np.ndarray, created: np.ndarray,
                     now_ms: int) -> Columns:
    """Per path, ms after creation of the first response, investigate, resolve, close.

    TTA and TTR are lognormal around a fraction of the severity's target, so most alerts
    meet their SLA and a realistic tail (roughly 10 %) breaches it."""
    n = len(sev)
    path = rng.choice(len(PATH_P), n, p=PATH_P)
    tta = np.maximum(_lognormal(rng, cat.TTA_TARGET_S[sev] * cat.TTA_MEDIAN_RATIO[sev], 0.9, n), 5)
    work = np.maximum(_lognormal(rng, cat.TTR_TARGET_S[sev] * 0.25, 1.0, n), 30)
    auto = np.maximum(_lognormal(rng, cat.TTR_TARGET_S[sev] * 0.05, 1.2, n), 30)
    res = np.where(path == AUTO, auto, np.where(path == HUMAN_RESOLVE, tta, tta + work))
    inv = np.where(path == ACK_INV, tta + work * rng.uniform(0.1, 0.6, n),
                   np.where(path == INV, tta, -1.0))
    close = res + np.maximum(_lognormal(rng, 3600.0, 1.0, n), 60)
    room = (now_ms - 60_000 - created) / 1000.0      # everything happened before now
    closed = (rng.random(n) < CLOSED_SHARE) & (close <= room)
    scale = np.minimum(1.0, room / res)              # squeeze the last hours' timelines
    tta, res = tta * scale, res * scale
    inv = np.where(inv >= 0, inv * scale, -1.0)
    return {"path": path, "ack": np.where(path == AUTO, -1.0, tta) * 1000, "inv": inv * 1000,
            "res": res * 1000, "close": np.where(closed, close * 1000, -1.0)}


def historical(rng: np.random.Generator, first_id: int, n: int, lo_ms: int, hi_ms: int,
               now_ms: int) -> Chunk:
    """``n`` finished (resolved or closed) alerts created in [lo_ms, hi_ms), ids ascending
    with creation time."""
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    idn = _identity(rng, ids, dup_p=0.6)
    created = np.sort(rng.integers(lo_ms, hi_ms, n))
    off = _history_offsets(rng, idn["sev"], created, now_ms)
    ack, res, close = (_at(created, off[k]) for k in ("ack", "res", "close"))
    seen = created + ((idn["dup"] > 1) * off["res"] * rng.random(n)).astype(np.int64)
    path = off["path"]
    alerts = {"id": ids, **_text(ids, idn),
              "state": np.where(close >= 0, "closed", "resolved").astype(object),
              "state_before_silence": np.full(n, cat.NULL, dtype=object),
              "silenced_until": np.full(n, -1, dtype=np.int64),
              "assignee": np.where((path == ACK) | (path == ACK_INV), OPS[idn["op"]], cat.NULL),
              "duplicate_count": idn["dup"], "created_at": created, "last_seen_at": seen,
              "acknowledged_at": ack, "resolved_at": res, "closed_at": close,
              "updated_at": np.maximum(res, close), **_sla(created, idn["sev"])}
    times = {"created": created, "ack": ack, "inv": _at(created, off["inv"]), "res": res,
             "close": close}
    return Chunk(alerts, history_events(ids, idn, path, times, alerts))


def _open_offsets(rng: np.random.Generator, sev: np.ndarray, age: np.ndarray) -> Columns:
    """State and ms offsets (ack, investigate, silence) of alerts still open at ``now``."""
    n = len(sev)
    state = rng.choice(len(OPEN_STATE_P), n, p=OPEN_STATE_P)
    before = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    work = np.where(state == SILENCED, before, state)          # the working state
    tta = _lognormal(rng, cat.TTA_TARGET_S[sev] * cat.TTA_MEDIAN_RATIO[sev] * 1000, 0.9, n)
    tta = np.where(tta < 0.95 * age, tta, age * rng.uniform(0.05, 0.9, n))
    via_ack = (work == ACKED) | ((work == INVESTIGATING) & (rng.random(n) < 0.5))
    inv = np.where(work != INVESTIGATING, -1.0,
                   np.where(via_ack, tta + (age - tta) * rng.uniform(0.05, 0.5, n), tta))
    ack = np.where(work == NEW, -1.0, tta)
    last = np.maximum(np.maximum(ack, inv), 0.0)
    silence = np.where(state == SILENCED, last + (age - last) * rng.uniform(0.1, 0.9, n), -1.0)
    return {"state": state, "work": work, "via_ack": via_ack, "ack": ack, "inv": inv,
            "silence": silence, "last": np.maximum(last, silence)}


def open_alerts(rng: np.random.Generator, first_id: int, n: int, now_ms: int,
                window_ms: int = 2 * 86_400_000) -> Chunk:
    """``n`` open alerts (new / acknowledged / investigating / silenced) created in the
    last ``window_ms``; silences end in the next 15 min to 12 h."""
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    idn = _identity(rng, ids, dup_p=0.3)
    age = np.sort(rng.uniform(60_000, window_ms, n))[::-1]
    created = now_ms - age.astype(np.int64)
    off = _open_offsets(rng, idn["sev"], age)
    silenced = off["state"] == SILENCED
    until = now_ms + rng.integers(15 * 60_000, 12 * 3_600_000, n)
    alerts = {"id": ids, **_text(ids, idn), "state": OPEN_STATES[off["state"]],
              "state_before_silence": np.where(silenced, OPEN_STATES[off["work"]], cat.NULL),
              "silenced_until": np.where(silenced, until, -1),
              "assignee": np.where(off["via_ack"], OPS[idn["op"]], cat.NULL),
              "duplicate_count": idn["dup"], "created_at": created,
              "last_seen_at": created + (age * rng.random(n)).astype(np.int64),
              "acknowledged_at": _at(created, off["ack"]), "resolved_at": np.full(n, -1),
              "closed_at": np.full(n, -1), "updated_at": created + off["last"].astype(np.int64),
              **_sla(created, idn["sev"])}
    times = {"created": created, "ack": _at(created, off["ack"]),
             "inv": _at(created, off["inv"]), "silence": _at(created, off["silence"])}
    return Chunk(alerts, open_events(ids, idn, off, times, alerts))
