"""Several senders' requests in one transaction (group commit for the one-alert intakes).

A source that posts one alert per request (REST, PagerDuty Events v2, Grafana) pays a
transaction per alert: a connection checkout, the caller's check, the context read, the
lookup and upsert statements and a commit, each costing more than the alert's own row.
Requests of one caller that arrive while its previous write runs are applied together
(api/coalesce.py gathers them); this module keeps each one's answer its own:

- each part is validated alone: a bad part gets its own FieldError, the others go on;
- parts are applied in arrival order, in rounds whose fingerprints are disjoint: a part
  that names a fingerprint an earlier part of the round names starts the next round, so
  it sees what it would have seen coming alone after the ones before it (a resolve and a
  firing of one alert stay a resolve then a reopen, never a merged "last status wins");
- each part's result (created, duplicates, reopened, resolved, ids) is cut from its round's
  by its own fingerprints, which no other part of the round touched.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.actor import Actor
from core.alerts.model import AlertIn
from core.errors import FieldError
from core.ingest.batch import MAX_BATCH, BatchResult, apply, prepare
from core.ingest.signal import FIRING, RESOLVED, Signal

Prepared = tuple[int, list[tuple[AlertIn, str, int]], list[str]]  # part index, items, order


def ingest_parts(session: Session, parts: list[list[Signal]], actor: Actor, now: datetime,
                 field: str | None) -> list[BatchResult | FieldError]:
    """Each part's BatchResult, or the FieldError that refused it (``field`` as for
    ingest_batch: None names the alert's own field, "alerts" gives ``alerts[i].x``)."""
    out: list[BatchResult | FieldError | None] = [None] * len(parts)
    ready: list[Prepared] = []
    for index, signals in enumerate(parts):
        try:
            items, order = prepare(signals, field)
        except FieldError as err:
            out[index] = err
            continue
        ready.append((index, items, order))
    for round_ in rounds(ready):
        items = sorted((item for _, part, _ in round_ for item in part),
                       key=lambda item: item[0].dedup_key())
        result = apply(session, items, [fp for _, _, order in round_ for fp in order],
                       actor, now)
        if len(round_) == 1:  # a lone request (the common case): the round's result is its own
            out[round_[0][0]] = result
            continue
        sets = Outcomes.of(result)
        for index, part, order in round_:
            out[index] = share(result, sets, part, order)
    return [r for r in out if r is not None]


def rounds(ready: list[Prepared]) -> list[list[Prepared]]:
    """Consecutive parts with disjoint fingerprints (and at most MAX_BATCH of them)."""
    out: list[list[Prepared]] = []
    seen: set[str] = set()
    size = 0
    for part in ready:
        keys = {a.dedup_key() for a, _, _ in part[1]}
        if not out or keys & seen or size + len(part[1]) > MAX_BATCH:
            out.append([])
            seen, size = set(), 0
        out[-1].append(part)
        seen |= keys
        size += len(part[1])
    return out


@dataclass(frozen=True)
class Outcomes:
    """A round's outcomes as sets, built once per round (not once per part)."""

    created: frozenset[int]
    deduplicated: frozenset[int]
    reopened: frozenset[int]
    resolved: frozenset[int]

    @staticmethod
    def of(result: BatchResult) -> Outcomes:
        return Outcomes(frozenset(result.created), frozenset(result.deduplicated),
                        frozenset(result.reopened), frozenset(result.resolved))


def share(result: BatchResult, sets: Outcomes, items: list[tuple[AlertIn, str, int]],
          order: list[str]) -> BatchResult:
    """One part's cut of its round's result (the counts as ingest_batch makes them), in
    time proportional to the part, not the round."""
    ids = {fp: result.ids[fp] for fp in order if fp in result.ids}
    mine = sorted(set(ids.values()))
    firing = {a.dedup_key(): n for a, status, n in items if status == FIRING}
    resolving = sum(1 for _, status, _ in items if status == RESOLVED)
    resolved = [i for i in mine if i in sets.resolved]
    return BatchResult(
        created=[i for i in mine if i in sets.created],
        deduplicated=[i for i in mine if i in sets.deduplicated],
        reopened=[i for i in mine if i in sets.reopened], resolved=resolved,
        unmatched_resolved=resolving - len(resolved), ids=ids, order=order,
        duplicates=sum(n - (ids.get(fp) in sets.created or ids.get(fp) in sets.reopened)
                       for fp, n in firing.items()))
