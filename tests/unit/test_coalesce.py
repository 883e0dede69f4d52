"""api/coalesce.py's scheduling on a real event loop with a plain write function: who waits,
who shares a write, who gets which answer (the database side: test_intake_sharing_api)."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from api.coalesce import Coalescer, alone_on_failure
from core.errors import AuthError, FieldError


class Writes:
    """Records each write's parts; the first ``held`` writes wait until released."""

    def __init__(self, held: int) -> None:
        self.calls: list[list[str]] = []
        self.held = held
        self.release = threading.Event()

    def __call__(self, parts: Sequence[str]) -> list[object]:
        self.calls.append(list(parts))
        if len(self.calls) <= self.held:
            assert self.release.wait(10)
        return [FieldError("summary", "bad") if p.startswith("bad") else p.upper()
                for p in parts]


async def until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"gave up waiting for {what}")


def test_requests_beyond_the_running_writes_share_the_next_one() -> None:
    async def scenario() -> None:
        c: Coalescer[str] = Coalescer(parallel=2)
        write = Writes(held=2)
        first = []
        for n, p in enumerate(("a", "b"), start=1):
            first.append(asyncio.create_task(c.submit("k", p, write)))
            await until(lambda n=n: len(write.calls) == n, "the write to start")
        rest = [asyncio.create_task(c.submit("k", p, write)) for p in ("c", "bad", "d")]
        other = asyncio.create_task(c.submit("other key", "e", write))  # not held back
        await until(lambda: c.waiting() == 3, "three waiting")
        write.release.set()
        assert await asyncio.gather(*first) == ["A", "B"]
        answers = await asyncio.gather(*rest, return_exceptions=True)
        assert answers[0] == "C" and answers[2] == "D"
        assert isinstance(answers[1], FieldError)
        assert await other == "E"
        assert sorted(map(sorted, write.calls)) == [["a"], ["b"], ["bad", "c", "d"], ["e"]]
        assert c.waiting() == 0
        assert await c.submit("k", "f", write) == "F"  # the key works again afterwards

    asyncio.run(scenario())


def test_a_write_that_fails_with_company_answers_each_part_alone() -> None:
    calls: list[list[str]] = []

    def run(parts: Sequence[str]) -> list[object]:
        calls.append(list(parts))
        if "boom" in parts:
            raise RuntimeError("refused")
        return [p.upper() for p in parts]

    answers = alone_on_failure(run)(["a", "boom", "b"])
    assert answers[0] == "A" and answers[2] == "B" and isinstance(answers[1], RuntimeError)
    assert calls == [["a", "boom", "b"], ["a"], ["boom"], ["b"]]


def test_the_callers_refusal_is_everyones() -> None:
    def run(parts: Sequence[str]) -> list[object]:
        raise AuthError("invalid API key")

    with pytest.raises(AuthError):
        alone_on_failure(run)(["a", "b"])


def test_a_write_takes_waiting_parts_up_to_its_budget() -> None:
    """Weights (alerts a request carries) cap a shared write; a part heavier than the whole
    budget still goes, alone."""
    async def scenario() -> None:
        c: Coalescer[str] = Coalescer(parallel=1, weight=len, budget=6)
        write = Writes(held=1)
        first = asyncio.create_task(c.submit("k", "a", write))
        await until(lambda: len(write.calls) == 1, "the first write")
        rest = [asyncio.create_task(c.submit("k", p, write))
                for p in ("bb", "ccc", "dd", "eeeeeeeeee", "f")]
        await until(lambda: c.waiting() == 5, "five waiting")
        write.release.set()
        assert await asyncio.gather(first, *rest) == ["A", "BB", "CCC", "DD", "EEEEEEEEEE", "F"]
        assert write.calls == [["a"], ["bb", "ccc"], ["dd"], ["eeeeeeeeee"], ["f"]]

    asyncio.run(scenario())
