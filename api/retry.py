"""Every write route is re-run when PostgreSQL aborts its transaction for a reason a re-run
can clear (deadlock, serialization failure, a lost insert race: core.db.retryable).

A route's writes happen in one transaction, so an aborted request left nothing behind and
running it again from the start is safe; the caller sees one answer. The body was read
once and is cached on the request (Starlette keeps it), so the re-run parses the same
bytes. Reads are not retried: they take no locks that could deadlock."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy as sa
from fastapi import Request, Response
from fastapi.routing import APIRoute

from core import db as core_db

log = logging.getLogger("alertdesk.api")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RetryingRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not (self.methods or set()) & WRITES:
            return handler

        async def retrying(request: Request) -> Response:
            for attempt in range(core_db.ATTEMPTS):
                try:
                    return await handler(request)
                except sa.exc.DBAPIError as err:
                    if not core_db.retryable(err) or attempt == core_db.ATTEMPTS - 1:
                        raise
                    log.info("%s %s: %s; running it again (attempt %d)", request.method,
                             request.url.path, type(err.orig).__name__, attempt + 2)
                await asyncio.sleep(core_db.backoff(attempt))
            raise AssertionError("unreachable")

        return retrying
