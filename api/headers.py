"""Security headers on every response: errors, CSV streams and the docs pages included.

A JSON API needs no browser features, so its policy denies them all: nothing may be
loaded, framed, sniffed or sent as a referrer, and nothing is cached (every answer but
/healthz and the docs is somebody's data). The docs pages (Swagger UI, ReDoc) load their
scripts and styles from the package (fastapi-offline, no CDN) and run one inline script:
their policy allows our own origin and exactly that script (by its SHA-256, computed from
the page as served), and still forbids framing. A header a route sets itself is left as it is."""
from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The docs' Swagger UI and ReDoc come from the package (fastapi-offline): nothing from a CDN.
DOCS_CSP = ("default-src 'none'; script-src {scripts}; worker-src blob:; "
            "style-src 'self' 'unsafe-inline'; font-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
# For responses sent outside the middleware (the 500 handler runs outermost in Starlette).
STATIC = {**HEADERS, "content-security-policy": API_CSP}
# The HTML docs pages, by path: fastapi-offline serves them from routes of its own and sets
# the app's docs_url/redoc_url to None, so they are named here rather than read from the app.
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_csp(html: bytes) -> str:
    """The docs policy for one page: our own scripts plus a hash of each inline one in it."""
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
              for s in INLINE_SCRIPT.findall(html)]
    return DOCS_CSP.format(scripts=" ".join(["'self'", *hashes]))


def with_headers(headers: list[tuple[bytes, bytes]], csp: str) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    extra = [*HEADERS.items(), ("content-security-policy", csp)]
    return headers + [(k.encode(), v.encode()) for k, v in extra if k.encode() not in present]


class SecurityHeadersMiddleware:
    """Pure ASGI. ``docs_paths``: the HTML pages that get the docs policy (their body is
    small and buffered to hash its inline script); every other response streams as it is."""

    def __init__(self, app: Any, docs_paths: tuple[str, ...] = DOCS_PATHS) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope.get("path") in self.docs_paths:
            await self._docs(scope, receive, send)
        else:
            async def send_with_headers(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message = {**message,
                               "headers": with_headers(list(message.get("headers", [])), API_CSP)}
                await send(message)

            await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Any, receive: Any, send: Any) -> None:
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def buffer(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    html = b"".join(body)
                    await send({**start, "headers": with_headers(
                        list(start.get("headers", [])), docs_csp(html))})
                    await send({"type": "http.response.body", "body": html})
                return
            await send(message)

        await self.app(scope, receive, buffer)
