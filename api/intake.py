"""The one-alert intakes' shared write (REST ``POST /api/v1/alerts``, PagerDuty Events v2
trigger/resolve, the Grafana webhook): a request becomes a Part, parts of one caller on one
route share a transaction (api/coalesce.py), core/ingest/together.py applies them."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.coalesce import Coalescer, Write, alone_on_failure
from api.security import Credentials
from core import db as core_db
from core.actor import Actor
from core.clock import SYSTEM_CLOCK
from core.errors import AlertdeskError, AuthError, Forbidden
from core.ingest.batch import MAX_BATCH, BatchResult
from core.ingest.signal import Signal
from core.ingest.together import ingest_parts


@dataclass(frozen=True)
class Part:
    """One request: ``parse`` (the caller's actor -> its signals and whatever its answer
    needs; a domain error refuses this request only), ``answer`` (in the transaction,
    after the write: the response's body)."""

    caller: Credentials
    parse: Callable[[Actor], tuple[list[Signal], Any]]
    answer: Callable[[Session, BatchResult, Any, datetime], Any]
    size: int = 1  # alerts it carries (about: before parsing), for the shared write's budget


class Route:
    """An intake route: who may send (the caller to an actor, or AuthError/Forbidden), and
    how its errors name fields (None: the alert's own; "alerts": ``alerts[i].x``)."""

    def __init__(self, name: str, actor: Callable[[Session, Credentials], Actor],
                 field: str | None = None) -> None:
        self.name, self.actor, self.field = name, actor, field
        self.write: Write[Part] = alone_on_failure(self._run)

    async def submit(self, part: Part) -> Any:
        """``part``'s answer; raises its refusal (a domain error, a database error)."""
        return await INTAKE.submit((self.name, part.caller.kind, part.caller.value), part,
                                   self.write)

    def _run(self, parts: Sequence[Part]) -> list[Any]:
        now = SYSTEM_CLOCK.now()

        def work(s: Session) -> list[Any]:
            actor = self.actor(s, parts[0].caller)  # the same credentials for every part
            answers: list[Any] = [None] * len(parts)
            parsed: list[tuple[int, list[Signal], Any]] = []
            for i, part in enumerate(parts):
                try:
                    signals, extra = part.parse(actor)
                except (AuthError, Forbidden):
                    raise
                except AlertdeskError as err:
                    answers[i] = err
                    continue
                parsed.append((i, signals, extra))
            results = ingest_parts(s, [signals for _, signals, _ in parsed], actor, now,
                                   self.field)
            for (i, _, extra), result in zip(parsed, results, strict=True):
                answers[i] = (result if isinstance(result, Exception) else
                              parts[i].answer(s, result, extra, now))
            return answers

        return core_db.run_transaction(work)


# A shared transaction holds at most MAX_BATCH alerts, as one batch request may: requests that
# carry many alerts (Grafana groups) do not make a transaction bigger than any sender can.
INTAKE: Coalescer[Part] = Coalescer(weight=lambda part: part.size, budget=MAX_BATCH)
