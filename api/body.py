"""The batch intake's request body as JSON, parsed by orjson.

FastAPI parses a ``Body`` with the standard library, which was ~7 % of the API's CPU per
Alertmanager batch. What orjson refuses but the standard library accepts (a lone
surrogate escape, NaN, integers beyond 64 bits, UTF-16 bodies) still parses as before,
so the validation that follows names the field exactly as it did; malformed JSON is the
same 400 as FastAPI's own."""
from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError


async def json_payload(request: Request) -> Any:
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except ValueError as err:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",),
                                       "msg": "JSON decode error",
                                       "ctx": {"error": str(err)}}]) from None


Payload = Depends(json_payload)
# The body as OpenAPI shows it (a dependency reading the raw body documents none).
PAYLOAD_DOC = {"requestBody": {"required": True, "description": "The source's JSON payload",
                               "content": {"application/json": {"schema": {}}}}}
