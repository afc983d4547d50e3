"""rh-mcp behind a load balancer: RunningHub's task-end callbacks on the server's own HTTP app.

With ``--webhook-url https://mcp.example.com`` every submit asks RunningHub to POST the task's end
to ``https://mcp.example.com/rh-webhook/<secret>``. The balancer hands that POST to any replica;
this route gives it to the replica's :class:`~rh_tools.WebhookReceiver`, and with a Redis store
the fan-in (``rh_tools.coordination.fanin``) wakes the wait wherever it runs. The secret in the
path (``RH_MCP_WEBHOOK_SECRET``, the same on every replica) is the only credential RunningHub can
send; a callback only ever triggers one confirming poll, so a forged one cannot inject a result.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from rh_tools._webhooks import WebhookReceiver

from .config import ServerConfig

__all__ = ["WebhookRoute", "replica_webhooks"]

log = logging.getLogger("mcp_server")
_MAX_BODY = 1024 * 1024  # a TASK_END payload is a few kilobytes


def replica_webhooks(config: ServerConfig) -> WebhookReceiver | None:
    """The receiver for ``--webhook-url`` (HTTP only; it serves nothing itself: :class:`WebhookRoute` does)."""
    if not config.webhook_url or config.transport != "http":
        return None
    secret = config.webhook_secret
    if not secret:
        secret = secrets.token_urlsafe(16)
        log.warning(
            "--webhook-url without RH_MCP_WEBHOOK_SECRET: this replica made up its own secret, so callbacks "
            "reach it only if the balancer sends them here. Give every replica the same RH_MCP_WEBHOOK_SECRET."
        )
    return WebhookReceiver(public_url=config.webhook_url, secret=secret, serve=False, fallback_poll=config.webhook_poll)


class WebhookRoute:
    """ASGI: ``POST <receiver.path>`` goes to the receiver, everything else to ``app``.

    Outside any bearer check on purpose: RunningHub cannot send the server's token.
    """

    def __init__(self, app: Any, receiver: WebhookReceiver) -> None:
        self.app = app
        self.receiver = receiver

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "").rstrip("/") if scope["type"] == "http" else ""
        if not path.startswith("/rh-webhook/"):
            await self.app(scope, receive, send)
            return
        # As the receiver's own server does (rh_tools._webhooks): judge the secret path before reading
        # a byte, want a declared length, and say nothing beyond the status.
        status = 404
        if hmac.compare_digest(path, self.receiver.path) and scope.get("method") == "POST":
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            if not length.isdigit() or int(length) == 0:
                status = 411
            elif int(length) > _MAX_BODY:
                status = 413
            else:
                body, more = b"", True
                while more and len(body) <= _MAX_BODY:
                    message = await receive()
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                status = 200 if self.receiver.deliver_bytes(body[: int(length)]) else 400
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
