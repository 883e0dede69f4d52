"""Every error leaves as {"error": "..."} (plus "field" for bad input), with the status the
contract names: 400 malformed, 401, 403, 404, 409, 413, 422; 503 with ``Retry-After`` while
the database cannot be reached (the processes reconnect by themselves when it is back)."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.headers import STATIC
from core.errors import AlertdeskError, AuthError, Conflict, FieldError, Forbidden, NotFound, Unavailable

log = logging.getLogger("alertdesk.api")

STATUS = [(FieldError, 422), (NotFound, 404), (Conflict, 409), (AuthError, 401), (Forbidden, 403),
          (Unavailable, 503)]


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": _printable(message)}
    if field:
        body["field"] = _printable(field)
    return JSONResponse(body, status_code=status, headers=headers)


def _printable(text: str) -> str:
    """The message as UTF-8 can carry it: a field or value that quotes the input may hold
    a lone surrogate (JSON's ``\\ud800``), which would fail the response itself."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AlertdeskError)
    status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, str(exc), getattr(exc, "field", None), headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx") or {}
        return error_response(400, "malformed JSON body: " + str(ctx.get("error", "")))
    loc = [str(p) for p in first.get("loc", ()) if not _is_tag(p)]
    field = ".".join(loc) or "body"
    return error_response(422, f"{field}: {first.get('msg', 'invalid')}", field)


def _is_tag(part: object) -> bool:
    """Location parts that are not field names: the body/query marker, union member tags."""
    text = str(part)
    return text in ("body", "query", "path") or "[" in text or text[:1].isupper()


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


RETRY_AFTER_S = 5


def _database(_: Request, exc: Exception) -> JSONResponse:
    """The database is down or the connection dropped: nothing was committed by this
    request, so the caller may send it again."""
    log.warning("database unavailable: %s", type(exc).__name__)
    return error_response(503, "database unavailable; retry shortly",
                          headers={"Retry-After": str(RETRY_AFTER_S)})


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    # Starlette sends this from outside every middleware: the security headers come here.
    return error_response(500, "internal error; see the server log", headers=dict(STATIC))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AlertdeskError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(sa.exc.OperationalError, _database)
    app.add_exception_handler(sa.exc.InterfaceError, _database)
    app.add_exception_handler(Exception, _unexpected)
