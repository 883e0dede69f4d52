"""A lean HTTP/1.1 keep-alive client for load generation: one socket, a request written in
one ``sendall``, the response read by its Content-Length.

Why not httpx: the load generator shares the machine's two cores with the API server and
PostgreSQL. httpx spends ~0.5 ms of CPU per request (its models, header handling, the
h11 state machine); at several hundred requests a second that is a core taken from the
server under test. This client spends tens of microseconds, so the figures measure the
server. It speaks only what the bench needs: JSON in, a status and a body out, no
chunked responses (uvicorn sends Content-Length for JSON), reconnecting when the server
closes the connection.
"""
from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import orjson


class Wire:
    def __init__(self, base: str, headers: dict[str, str], timeout: float = 30) -> None:
        parts = urlsplit(base)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.timeout = timeout
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.head = f"Host: {self.address[0]}:{self.address[1]}\r\n{extra}"
        self.sock: socket.socket | None = None
        self.buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer = b""

    def post(self, path: str, payload: Any) -> tuple[int, bytes]:
        body = orjson.dumps(payload)
        request = (f"POST {path} HTTP/1.1\r\n{self.head}Content-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        return self.send(request)

    def get(self, path: str) -> tuple[int, bytes]:
        return self.send(f"GET {path} HTTP/1.1\r\n{self.head}\r\n".encode())

    def send(self, request: bytes) -> tuple[int, bytes]:
        """One request and its response; on a connection the server closed, one retry on a
        fresh connection (only when nothing of the response had arrived)."""
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection(self.address, self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(request)
                return self._response()
            except (ConnectionError, _Closed):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(rest) < length:
            chunk = self._recv()
            rest += chunk
        self.buffer = rest[length:]
        body = rest[:length]
        if close:
            self.close()
        return status, body

    def _read(self) -> None:
        self.buffer += self._recv()

    def _recv(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed
        return chunk


class _Closed(Exception):
    """The server closed the connection before a whole response arrived."""
