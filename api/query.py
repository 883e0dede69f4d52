"""Unknown query parameters are refused (422 naming the parameter), never silently ignored:
``?assignee=x`` on a route without that filter must not answer with the whole table. The
known ones are the route's declared parameters (its dependencies' included)."""
from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from core.errors import FieldError


def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise FieldError(unknown[0], f"unknown query parameter {unknown[0]!r}; this route "
                                     f"takes: {allowed}")


def _query_names(dependant: Any) -> set[str]:
    names = {str(p.alias) for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
