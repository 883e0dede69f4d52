"""Group commit for the one-alert intakes: requests of one caller on one route that arrive
while that caller already has PARALLEL writes running (per API worker) wait, and the first
of those writes to end takes them all into its next transaction (core/ingest/together.py
keeps each one's answer its own).

Why: a single-alert post spends most of its CPU on what every transaction costs (the thread
hand-off, a connection, the caller's check, the context read, the statements, a commit);
requests that share a transaction share these. A request that finds a free write slot
waits for nothing, so a lone or light sender is served as before; sharing starts when a
sender has more requests in flight than the slots (bench: 0.92 transactions per request at
4 clients over 2 workers, ~0.6-0.7 at 8). Nobody is answered before the transaction holding
their alert has committed.

What could make one request's answer depend on another's is kept out:
- only requests with the same credentials share a transaction (key = route + credentials),
  so the caller check that refuses one refuses each of them alike;
- a part that fails validation is answered with its own 4xx, the rest go on;
- when the shared transaction fails for any other reason (after core.db's own re-runs of
  deadlocks and serialization failures), each request is run again alone and gets the
  answer it would have got without company.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from core.errors import AuthError, Forbidden

log = logging.getLogger("alertdesk.api")
P = TypeVar("P")
# Writes one key may have running at once (per API worker). 1 would share the most, but at
# two senders per worker they only take turns (each waits for the other's write, none is
# ever shared: 446 vs 488 /s at 4 clients on 2 workers); 2 keeps that case as it was and
# shares once more senders wait (8 clients: 602 /s with 2, 673 with 1, 536 unshared).
PARALLEL = 2
LIMIT = 200  # requests per shared transaction at most (each may carry up to MAX_BATCH alerts)

# ``write(parts)``: in a worker thread, one answer per part (a value, or the exception that
# part's request must raise)
Write = Callable[[Sequence[P]], list[Any]]


class _Key(Generic[P]):
    """One key's parts waiting for a write, and how many writes it has running."""

    def __init__(self) -> None:
        self.waiting: list[tuple[P, asyncio.Future[Any]]] = []
        self.running = 0


class Coalescer(Generic[P]):
    """Per event loop and key: up to ``parallel`` writes run at once, as separate requests
    always did; a request that finds them all busy waits, and the first write to end takes
    every request waiting (up to ``limit``) into its next transaction."""

    def __init__(self, parallel: int = PARALLEL, limit: int = LIMIT,
                 weight: Callable[[P], int] = lambda _: 1, budget: int | None = None) -> None:
        """``weight``/``budget``: a write takes waiting parts while their weights sum to at
        most ``budget`` (always at least one part); None: no budget, only ``limit``."""
        self.parallel, self.limit = parallel, limit
        self.weight, self.budget = weight, budget
        self._loops: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[Any, _Key[P]]] = weakref.WeakKeyDictionary()
        self._tasks: set[asyncio.Task[None]] = set()

    def waiting(self) -> int:
        """Parts waiting for a write to take them, on every loop."""
        return sum(len(k.waiting) for keys in list(self._loops.values()) for k in keys.values())

    async def submit(self, key: Any, part: P, write: Write[P]) -> Any:
        """``part``'s answer from ``write``; raises what ``write`` answered for it."""
        loop = asyncio.get_running_loop()
        keys = self._loops.setdefault(loop, {})
        state = keys.setdefault(key, _Key())
        future: asyncio.Future[Any] = loop.create_future()
        state.waiting.append((part, future))
        if state.running < self.parallel:
            state.running += 1
            task = loop.create_task(self._drain(keys, key, state, write))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self, waiting: list[tuple[P, asyncio.Future[Any]]]
              ) -> list[tuple[P, asyncio.Future[Any]]]:
        """The next write's parts, in arrival order, taken off ``waiting``."""
        count, total = 0, 0
        for part, _ in waiting[:self.limit]:
            total += self.weight(part)
            if count and self.budget is not None and total > self.budget:
                break
            count += 1
        batch = waiting[:count]
        del waiting[:count]
        return batch

    async def _drain(self, keys: dict[Any, _Key[P]], key: Any, state: _Key[P],
                     write: Write[P]) -> None:
        try:
            while state.waiting:
                batch = self._take(state.waiting)
                try:
                    answers = await run_in_threadpool(write, [part for part, _ in batch])
                except Exception as err:  # write's own failure: every part gets it
                    answers = [err] * len(batch)
                except BaseException:  # cancelled (the loop is closing): nobody hangs
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), answer in zip(batch, answers, strict=True):
                    if future.done():  # the request went away (client disconnected)
                        continue
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        finally:
            state.running -= 1
            if not state.running:
                del keys[key]
                for _, future in state.waiting:  # only when the task itself was cancelled
                    if not future.done():
                        future.cancel()


def alone_on_failure(run: Callable[[Sequence[P]], list[Any]]) -> Write[P]:
    """``run`` over all parts; when it raises with company, each part is run again alone
    and answered as if it had come alone. The caller's refusal (401/403) is everyone's."""

    def write(parts: Sequence[P]) -> list[Any]:
        try:
            return run(parts)
        except (AuthError, Forbidden):
            raise
        except Exception as err:
            if len(parts) == 1:
                raise
            log.warning("a shared intake transaction of %d requests failed (%s); running "
                        "each alone", len(parts), type(err).__name__)
        answers: list[Any] = []
        for part in parts:
            try:
                answers.extend(run([part]))
            except Exception as err:
                answers.append(err)
        return answers

    return write
