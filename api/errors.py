"""Every error leaves as {"error": "..."} (plus "field" for bad input), with the status the
contract names: 400 malformed, 401, 403, 404, 409, 413, 422; 429 with ``Retry-After`` for
sign-ins throttled after failures; 503 with ``Retry-After`` while
the database cannot be reached (the processes reconnect by themselves when it is back).

``POST /v2/enqueue`` (PagerDuty Events API v2) answers in PagerDuty's own shape instead,
which its senders parse: ``{"status": "invalid event", "message": "Event object is
invalid", "errors": ["'payload.summary' is missing or blank"]}``, 400 for any bad input."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.headers import STATIC
from core.errors import (
    AlertdeskError,
    AuthError,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Throttled,
    Unavailable,
)

log = logging.getLogger("alertdesk.api")

STATUS = [(FieldError, 422), (NotFound, 404), (Conflict, 409), (AuthError, 401), (Forbidden, 403),
          (Throttled, 429), (Unavailable, 503)]


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


EVENTS_V2_PATH = "/v2/enqueue"
EVENTS_V2_STATUS = {400: "invalid event", 401: "unauthorized", 403: "forbidden",
                    413: "invalid event", 429: "throttled"}


def events_v2_error(status: int, message: str, field: str | None = None,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    """An error as PagerDuty's Events API v2 words it; bad input is a 400 there."""
    status = 400 if status == 422 else status
    if status == 400:
        if field:  # a FieldError's text is "field: message"
            message = f"'{field}' {message.removeprefix(f'{field}: ')}"
        detail, message = message, "Event object is invalid"
    else:
        detail = message
    body = {"status": EVENTS_V2_STATUS.get(status, "error"), "message": message,
            "errors": [detail]}
    return JSONResponse(body, status_code=status, headers=headers)


def _reply(request: Request, status: int, message: str, field: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    shape = events_v2_error if request.url.path == EVENTS_V2_PATH else error_response
    return shape(status, message, field, headers)


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AlertdeskError)
    status = next((code for cls, code in STATUS if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, Throttled):
        headers = {"Retry-After": str(exc.retry_after)}
    return _reply(request, status, str(exc), getattr(exc, "field", None), headers)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx") or {}
        return _reply(request, 400, "malformed JSON body: " + str(ctx.get("error", "")))
    loc = [str(p) for p in first.get("loc", ()) if not _is_tag(p)]
    field = ".".join(loc) or "body"
    return _reply(request, 422, f"{field}: {first.get('msg', 'invalid')}", field)


def _is_tag(part: object) -> bool:
    """Location parts that are not field names: the body/query marker, union member tags."""
    text = str(part)
    return text in ("body", "query", "path") or "[" in text or text[:1].isupper()


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _reply(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


RETRY_AFTER_S = 5


def _database(request: Request, exc: Exception) -> JSONResponse:
    """The database is down or the connection dropped: nothing was committed by this
    request, so the caller may send it again."""
    log.warning("database unavailable: %s", type(exc).__name__)
    return _reply(request, 503, "database unavailable; retry shortly",
                          headers={"Retry-After": str(RETRY_AFTER_S)})


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    # Starlette sends this from outside every middleware: the security headers come here.
    return _reply(request, 500, "internal error; see the server log", headers=dict(STATIC))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AlertdeskError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(sa.exc.OperationalError, _database)
    app.add_exception_handler(sa.exc.InterfaceError, _database)
    app.add_exception_handler(Exception, _unexpected)
