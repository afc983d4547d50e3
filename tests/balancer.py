"""A round-robin HTTP load balancer for the replica tests: each request goes to the next backend.

Per request, not per connection (what nginx or a cloud balancer does with several upstreams and
no stickiness): one MCP client's initialize, tools/list and tools/call land on different rh-mcp
replicas. Responses are streamed through as they come (SSE progress included).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import httpx
import uvicorn
from redis_support import free_port

_HOP = {b"host", b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"upgrade"}


class RoundRobin:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.sent: list[int] = []  # backend index of each request, in order
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        index = next(self._next)
        self.sent.append(index)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=120)
        target = (
            self.backends[index]
            + scope["path"]
            + (("?" + scope["query_string"].decode()) if scope["query_string"] else "")
        )
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k.lower() not in _HOP]
        request = self._client.build_request(scope["method"], target, headers=headers, content=body)
        response = await self._client.send(request, stream=True)
        try:
            out = [
                (k.encode(), v.encode()) for k, v in response.headers.multi_items() if k.encode().lower() not in _HOP
            ]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    def __enter__(self) -> RoundRobin:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
