"""Streamable HTTP transport: the SDK's ASGI app, an optional bearer token in front, served by uvicorn."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import sys
from typing import Any

from .config import ServerConfig
from .replicas import WebhookRoute

__all__ = ["BearerAuth", "build_http_app", "is_loopback", "serve_http"]

log = logging.getLogger("mcp_server")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, value = given.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self._token):
                body = json.dumps(
                    {
                        "error": "unauthorized",
                        "message": "Send 'Authorization: Bearer <token>' (the server's --auth-token).",
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="rh-mcp"'),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def build_http_app(server: Any, config: ServerConfig) -> Any:
    # --stateless: no MCP sessions, so a load balancer may send each request to any replica (#15).
    app = server.streamable_http_app(
        streamable_http_path=config.path, host=config.host, stateless_http=config.stateless
    )
    app = BearerAuth(app, config.auth_token) if config.auth_token else app
    receiver = getattr(getattr(server, "rh", None), "webhooks", None)
    return WebhookRoute(app, receiver) if receiver is not None else app


async def serve_http(server: Any, config: ServerConfig) -> None:
    import uvicorn

    if not is_loopback(config.host) and not config.auth_token:
        print(
            f"rh-mcp: WARNING: listening on {config.host} without --auth-token: anyone who can reach this "
            "port can spend the server's RunningHub credits.",
            file=sys.stderr,
        )
    app = build_http_app(server, config)
    uv = uvicorn.Server(
        uvicorn.Config(app, host=config.host, port=config.port, log_level=config.log_level.lower(), access_log=False)
    )
    print(
        f"rh-mcp: streamable HTTP on http://{config.host}:{config.port}{config.path}"
        + (" (bearer token required)" if config.auth_token else ""),
        file=sys.stderr,
        flush=True,
    )
    await uv.serve()
