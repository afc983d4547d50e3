"""rh-mcp behind a load balancer: RunningHub's task-end callbacks on the server's own HTTP app.

With ``--webhook-url https://mcp.example.com`` every submit asks RunningHub to POST the task's end
to ``https://mcp.example.com/rh-webhook/<secret>``. The balancer hands that POST to any replica;
this route gives it to the replica's :class:`~rh_tools.WebhookReceiver`, and with a Redis store
the fan-in (``rh_tools.coordination.fanin``) wakes the wait wherever it runs. The secret in the
path (``RH_MCP_WEBHOOK_SECRET``, the same on every replica) is the only credential RunningHub can
send; a callback only ever triggers one confirming poll, so a forged one cannot inject a result.
"""

from __future__ import annotations

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
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") != self.receiver.path:
            await self.app(scope, receive, send)
            return
        ok = False
        if scope.get("method") == "POST":
            body, more = b"", True
            while more and len(body) <= _MAX_BODY:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            ok = len(body) <= _MAX_BODY and self.receiver.deliver_bytes(body)
        # 200 for an accepted callback (RunningHub retries others); nothing else is said.
        head = {"type": "http.response.start", "status": 200 if ok else 404, "headers": [(b"content-length", b"0")]}
        await send(head)
        await send({"type": "http.response.body", "body": b""})
