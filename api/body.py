"""The batch intake's request body as JSON, parsed by orjson.

FastAPI parses a ``Body`` with the standard library, which was ~7 % of the API's CPU per
Alertmanager batch. What orjson refuses but the standard library accepts (a lone
surrogate escape, NaN, integers beyond 64 bits, UTF-16 bodies) still parses as before,
so the validation that follows names the field exactly as it did; malformed JSON is the
same 400 as FastAPI's own."""
from __future__ import annotations

import json
import re
from typing import Any

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from core.errors import FieldError

# What JSON can carry but PostgreSQL text and jsonb cannot hold: NUL, and UTF-16 surrogates
# (valid in pairs, refused alone). Only a body that has one of these escapes is walked.
SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


async def json_payload(request: Request) -> Any:
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _stdlib(body)


def _stdlib(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:   # RecursionError: nested too deeply
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": "JSON decode error",
                                       "ctx": {"error": reason}}]) from None


Payload = Depends(json_payload)
# The body as OpenAPI shows it (a dependency reading the raw body documents none).
PAYLOAD_DOC = {"requestBody": {"required": True, "description": "The source's JSON payload",
                               "content": {"application/json": {"schema": {}}}}}


async def reject_unstorable_body(request: Request) -> None:
    """App-wide: a JSON body (as FastAPI parsed it for the route's model) that holds text
    PostgreSQL cannot store is refused naming the field, before any route code runs. The
    raw payloads (``json_payload``: webhooks) are checked by the intake, which names the
    field of the alert it makes (``alerts[0].summary``)."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and route.body_field is not None:
        body = await request.body()
        if body and SUSPECT.search(body):
            try:   # parsed already and cached by Starlette, unless it was not sent as JSON
                payload = await request.json()
            except (ValueError, RecursionError):
                return                           # not JSON: FastAPI's own 400/422
            check_storable(body, payload)


def check_storable(body: bytes, payload: Any) -> None:
    """FieldError naming the first string (or key) with a NUL or a lone surrogate."""
    if not SUSPECT.search(body):
        return
    stack: list[tuple[str, Any]] = [("", payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                check_text(where, key)
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, str):
            check_text(path or "body", value)


def check_text(where: str, value: str) -> None:
    """FieldError(where) for text PostgreSQL cannot store: a NUL or a lone surrogate."""
    if "\x00" in value:
        raise FieldError(where.replace("\x00", "\\x00"), "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(where, "must be valid Unicode text (a lone surrogate was sent)") from None
