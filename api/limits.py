"""Refuse request bodies over 1 MiB with 413, before anything is parsed or written.
Webhook receivers take up to 10 MiB: an Alertmanager group of thousands of alerts arrives
as one request, and refusing it would lose the notification (the batch limit in
core/ingest/batch.py still caps the alerts per request)."""
from __future__ import annotations

import json
from typing import Any

MAX_BODY = 1024 * 1024
MAX_WEBHOOK_BODY = 10 * 1024 * 1024
WEBHOOK_PREFIX = "/api/v1/webhooks/"


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Pure ASGI middleware: checks Content-Length, then counts streamed bytes."""

    def __init__(self, app: Any, max_body: int = MAX_BODY,
                 max_webhook_body: int = MAX_WEBHOOK_BODY) -> None:
        self.app = app
        self.max_body = max_body
        self.max_webhook_body = max_webhook_body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (self.max_webhook_body if scope.get("path", "").startswith(WEBHOOK_PREFIX)
                 else self.max_body)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send, limit)

    async def _reject(self, send: Any, limit: int) -> None:
        body = json.dumps({"error": f"request body is larger than {limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
