"""The ASGI application: all routes, wrapped by the fault-injection layer.

Why the fault layer is outside Starlette: it must receive uvicorn's own ``send`` to be able to
reset the TCP connection (see ``faults.abort_connection``); inside Starlette, ``send`` is wrapped.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .core import Core
from .faults import FaultMiddleware
from .routes_files import file_routes
from .routes_legacy import legacy_routes
from .routes_v2 import v2_routes
from .shapes import legacy_error

__all__ = ["AccessLog", "build_app", "build_files_app"]


async def _unknown_legacy(request: Request) -> Response:
    # INFERRED: a misspelt legacy path answers 412 TOKEN_INVALID, which the error table describes
    # as "wrong API path"; the HTTP status for it is undocumented, so 200 like other envelopes.
    return legacy_error(412)


async def _not_found(request: Request) -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def build_app(core: Core, *, access_log: logging.Logger | None = None) -> ASGIApp:
    """A fresh ASGI app over ``core`` (a restart builds a new one over the same core)."""
    routes = [
        *v2_routes(core),
        *legacy_routes(core),
        *file_routes(core),
        Route("/task/{rest:path}", _unknown_legacy, methods=["GET", "POST"]),
        Route("/api/{rest:path}", _unknown_legacy, methods=["GET", "POST"]),
        Route("/uc/{rest:path}", _unknown_legacy, methods=["GET", "POST"]),
        Route("/{rest:path}", _not_found, methods=["GET", "POST", "PUT", "DELETE", "HEAD"]),
    ]
    inner: ASGIApp = Starlette(routes=routes)
    if access_log is not None:
        inner = AccessLog(inner, access_log)
    return FaultMiddleware(inner, core.faults, core.stats)


def build_files_app(core: Core) -> ASGIApp:
    """The storage ("CDN") listener: result and upload files only, on a host of their own."""
    routes = [*file_routes(core), Route("/{rest:path}", _not_found, methods=["GET", "HEAD", "POST", "PUT"])]
    return FaultMiddleware(Starlette(routes=routes), core.faults, core.stats)


class AccessLog:
    """Logs method, path (never the query string, which may hold a key) and status."""

    def __init__(self, app: ASGIApp, logger: logging.Logger) -> None:
        self.app = app
        self.log = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [0]

        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, spy)
        finally:
            self.log.info("%s %s %s", scope["method"], scope["path"], status[0] or "-")
