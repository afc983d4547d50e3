"""Hostile servers on loopback for the attack tests: raw HTTP, written byte by byte as a test says.

:class:`RawServer` answers each request with whatever its route yields (status line, headers and
body as raw bytes, possibly slowly, possibly forever), so a test can play a gzip bomb, an endless
drip, a redirect loop, a 307 to a foreign origin, a cookie setter or an API that quotes the key
back. :class:`FakeAPI` builds on it: a RunningHub look-alike whose submit creates a task and whose
query reports it finished with output URLs the test chooses.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeAPI", "RawServer", "Request", "gzip_bomb", "response"]

TASK_ID = "2013508786110730241"  # the shape of a real RunningHub id (19 digits)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[Request], Iterable[bytes]]


def response(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> list[bytes]:
    head = [f"HTTP/1.1 {status} X"]
    hdrs = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    head += [f"{k}: {v}" for k, v in hdrs.items()]
    return [("\r\n".join(head) + "\r\n\r\n").encode("latin-1"), body]


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> list[bytes]:
    return response(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(decoded_bytes: int) -> bytes:
    """A gzip body of ``decoded_bytes`` zeros (256 MiB: about 1.1 MB at level 1), built once per size."""
    if decoded_bytes not in _BOMBS:
        comp = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        block = bytes(1 << 20)
        parts = [comp.compress(block) for _ in range(decoded_bytes >> 20)]
        parts.append(comp.flush())
        _BOMBS[decoded_bytes] = b"".join(parts)
    return _BOMBS[decoded_bytes]


class RawServer:
    """A threaded raw HTTP server on 127.0.0.1; routes match by path prefix, longest first."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    outer._serve(self.rfile, self.connection)
                except OSError:
                    pass  # the client hung up mid-answer: that is what several tests do

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, rfile: Any, conn: socket.socket) -> None:
        line = rfile.readline(65536).decode("latin-1").strip()
        if not line:
            return
        method, path, _ = (line.split(" ", 2) + ["", ""])[:3]
        headers: dict[str, str] = {}
        while (h := rfile.readline(65536).decode("latin-1").strip()) != "":
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = rfile.read(int(headers.get("content-length") or 0))
        req = Request(method, path, headers, body)
        self.requests.append(req)
        route = next((self.routes[p] for p in sorted(self.routes, key=len, reverse=True) if path.startswith(p)), None)
        self.hits[path.split("?")[0]] += 1
        chunks = route(req) if route else response(404)
        for chunk in chunks:
            if self.stopping.is_set():
                return
            conn.sendall(chunk)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def drip(status: int = 200, every: float = 0.05, length: int = 10_000_000) -> Route:
    """Headers at once, then one byte every ``every`` seconds, never finishing (until the server stops)."""

    def route(req: Request) -> Iterator[bytes]:
        yield f"HTTP/1.1 {status} X\r\nContent-Length: {length}\r\nContent-Type: image/png\r\n\r\n".encode()
        for _ in range(int(120 / every)):
            yield b"x"
            time.sleep(every)

    return route


def endless(chunk: int = 64 * 1024) -> Route:
    """A chunked body that never ends, as fast as the client reads."""

    def route(req: Request) -> Iterator[bytes]:
        yield b"HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\nContent-Type: video/mp4\r\n\r\n"
        block = f"{chunk:x}\r\n".encode() + bytes(chunk) + b"\r\n"
        for _ in range(1_000_000):
            yield block

    return route


def hang(seconds: float = 60.0) -> Route:
    """Read the request, then answer nothing for ``seconds``."""

    def route(req: Request) -> Iterator[bytes]:
        time.sleep(seconds)
        yield from response(200, b"{}")

    return route


def redirect(location: str, status: int = 302) -> Route:
    return lambda req: response(status, b"", {"Location": location})


@dataclass
class FakeAPI:
    """A RunningHub look-alike: submits create task ``TASK_ID``; queries report it SUCCESS with ``outputs``.

    ``outputs`` are absolute URLs or paths on this server; ``submit_route`` / ``query_route``
    replace the default answers (to hang, drip, redirect, quote the key ...).
    """

    outputs: list[str] = field(default_factory=list)
    submit_route: Route | None = None
    query_route: Route | None = None
    files: dict[str, Route] = field(default_factory=dict)
    server: RawServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = RawServer(
            {
                "/openapi/v2/query": self._query,
                "/openapi/v2/": self._submit,
                "/task/openapi/": self._submit,
                **self.files,
            }
        )

    @property
    def base_url(self) -> str:
        return self.server.origin

    def url(self, path: str) -> str:
        return path if "://" in path else self.server.origin + path

    def task(self, status: str = "SUCCESS") -> dict[str, Any]:
        results = [{"url": self.url(p), "outputType": p.rsplit(".", 1)[-1][:4]} for p in self.outputs]
        return {
            "taskId": TASK_ID,
            "status": status,
            "errorCode": "",
            "errorMessage": "",
            "results": results if status == "SUCCESS" else None,
            "usage": {"consumeMoney": "0.1"} if status == "SUCCESS" else None,
        }

    def _submit(self, req: Request) -> Iterable[bytes]:
        if self.submit_route is not None:
            return self.submit_route(req)
        if req.path.startswith("/task/openapi/"):
            return json_response({"code": 0, "msg": "success", "data": {"taskId": TASK_ID, "taskStatus": "QUEUED"}})
        return json_response(self.task("QUEUED"))

    def _query(self, req: Request) -> Iterable[bytes]:
        if self.query_route is not None:
            return self.query_route(req)
        return json_response(self.task("SUCCESS"))

    def submits(self) -> int:
        return sum(
            n
            for p, n in self.server.hits.items()
            if p.startswith(("/openapi/v2/", "/task/openapi/")) and p != "/openapi/v2/query"
        )

    def __enter__(self) -> FakeAPI:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)
