"""Unknown query parameters are refused (422 naming the parameter), never silently ignored:
``?assignee=x`` on a route without that filter must not answer with the whole table. The
known ones are the route's declared parameters (its dependencies' included).

A NUL character in a query or path parameter is refused the same way: PostgreSQL text
cannot hold one, so it could only fail later, inside a statement, as a 500."""
from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from core.errors import FieldError


async def reject_unknown_query(request: Request) -> None:
    """App-wide. Async (no I/O): a sync dependency costs a thread-pool hop on every request
    (~7 % of a single-alert post's API CPU each, py-spy)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise FieldError(unknown[0] or "query", f"unknown query parameter {unknown[0]!r}; "
                                                f"this route takes: {allowed}")


def _query_names(dependant: Any) -> set[str]:
    names = {str(p.alias) for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_nul(request: Request) -> None:  # async: no I/O, no thread hop
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in name or "\x00" in str(value):
            raise FieldError(name.replace("\x00", "\\x00"), "must not contain NUL characters")
