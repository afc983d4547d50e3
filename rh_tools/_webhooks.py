"""Receive RunningHub's TASK_END callbacks so a wait ends the moment a task does.

Polling can only learn of a finished task at the next query; a webhook says so at once. Give a
client a :class:`WebhookReceiver` and every ``run``/``submit`` asks RunningHub to call it; the
wait loop then sleeps *until the next poll or the callback, whichever comes first*, and answers
the callback with one confirming query (the callback itself is unauthenticated, so it only
ever triggers a poll: a forged POST cannot inject a result). Polling stays the fallback when a
callback is late, lost, or cannot reach this machine.

RunningHub must be able to reach the URL: on a laptop, pass ``public_url`` of a tunnel. The path
carries a random secret so only RunningHub (told the URL) can trigger polls. The secret is checked
before any body is read; bodies over 1 MiB are refused unread, and a sender that stalls for
``read_timeout`` seconds (10) on a read is dropped. No Host check: behind a tunnel the Host header
is the tunnel's, and the secret path, not the name, is what authorises a callback.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["WebhookReceiver"]

_MAX_BODY = 1024 * 1024  # a TASK_END payload is a few KB (ids, URLs, usage); anything bigger is not one
_READ_TIMEOUT = 10.0  # seconds a sender may take per socket read (headers, body)
_REMEMBER = 10_000  # finished task ids kept, for waits that start after their callback arrived


class _Server(ThreadingHTTPServer):
    # The stdlib default backlog of 5 drops bursts of callbacks (each dropped SYN costs a 1 s retry).
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out or hung up is not worth a traceback on stderr


class WebhookReceiver:
    """A small HTTP endpoint for TASK_END callbacks, shared by any number of waits (sync or async)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_url: str | None = None,
        fallback_poll: float = 5.0,
        secret: str | None = None,
        serve: bool = True,
        read_timeout: float = _READ_TIMEOUT,
    ) -> None:
        # ``secret``: the same on every replica behind one public URL (any of them may get the call);
        # ``serve=False``: another HTTP front end (rh-mcp's app) takes the POSTs and calls deliver_bytes.
        self.host = host
        self.read_timeout = read_timeout
        self.fallback_poll = fallback_poll  # seconds between polls while waiting for a callback
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self._secret = secret or secrets.token_urlsafe(16)
        self.serve = serve
        # Called with each accepted TASK_END payload (the Redis fan-in relays it to other processes).
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._lock = threading.Lock()
        self._done: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._waiters: dict[str, list[Callable[[], None]]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.received = 0

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self) -> WebhookReceiver:
        if self._server is not None or not self.serve:
            return self
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = receiver.read_timeout  # per socket read: a sender that stalls is dropped

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                # The secret path is the only credential: judge it before reading a byte of the body,
                # so a stranger cannot make us read (or wait for) anything.
                if not hmac.compare_digest(self.path.rstrip("/"), f"/rh-webhook/{receiver._secret}"):
                    return self._reply(404)
                raw = self.headers.get("content-length") or ""
                if not raw.isdigit() or int(raw) == 0:
                    return self._reply(411)  # chunked or empty: not a RunningHub callback
                if int(raw) > _MAX_BODY:
                    return self._reply(413)
                body = self.rfile.read(int(raw))
                # Answer fast and always 2xx for a callback: RunningHub retries slow/failed deliveries.
                self._reply(200 if receiver.deliver_bytes(body) else 400)

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                if status != 200:
                    self.send_header("connection", "close")
                    self.close_connection = True
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # never log request lines (they hold the secret)
                pass

        self._server = _Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="rh-webhooks", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        """The secret path callbacks are POSTed to (what a front end other than ours must route)."""
        return f"/rh-webhook/{self._secret}"

    @property
    def url(self) -> str:
        """The webhookUrl to give RunningHub (starts the server if needed)."""
        self.start()
        base = self._public_url or f"http://{self.host}:{self.port}"
        return f"{base}/rh-webhook/{self._secret}"

    def __repr__(self) -> str:
        return f"WebhookReceiver(host={self.host!r}, port={self.port}, received={self.received})"

    # ---- delivery (any HTTP front end may call these) -------------------------------------------
    def deliver_bytes(self, body: bytes) -> bool:
        try:
            payload = json.loads(body)
        except ValueError:
            return False
        return self.deliver(payload) if isinstance(payload, dict) else False

    def deliver(self, payload: dict[str, Any]) -> bool:
        """Record a TASK_END payload and wake whoever waits for that task."""
        if payload.get("event") not in (None, "TASK_END") or not payload.get("taskId"):
            return False
        task_id = str(payload["taskId"])
        with self._lock:
            self.received += 1
            self._done[task_id] = payload
            self._done.move_to_end(task_id)
            while len(self._done) > _REMEMBER:
                self._done.popitem(last=False)
            wakers = self._waiters.pop(task_id, [])
        for wake in wakers:
            wake()
        for listener in list(self.listeners):
            try:
                listener(payload)
            except Exception:  # a relay that fails must not fail the callback's answer
                pass
        return True

    def forget(self, task_id: str) -> None:
        """Drop a callback that did not hold up (the task was not done), so the next one counts."""
        with self._lock:
            self._done.pop(task_id, None)

    def has_ended(self, task_id: str) -> bool:
        with self._lock:
            return task_id in self._done

    # ---- waiting -------------------------------------------------------------------------------
    def sleep(self, task_id: str, seconds: float) -> bool:
        """Block up to ``seconds``; True as soon as the task's callback has arrived."""
        event = threading.Event()
        if not self._register(task_id, event.set):
            return True
        try:
            return event.wait(seconds)
        finally:
            self._unregister(task_id, event.set)

    async def asleep(self, task_id: str, seconds: float) -> bool:
        """Awaitable :meth:`sleep`: no thread is held while waiting."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(None))

        if not self._register(task_id, wake):
            return True
        try:
            await asyncio.wait_for(asyncio.shield(fut), seconds)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._unregister(task_id, wake)

    def _register(self, task_id: str, wake: Callable[[], None]) -> bool:
        with self._lock:
            if task_id in self._done:
                return False
            self._waiters.setdefault(task_id, []).append(wake)
            return True

    def _unregister(self, task_id: str, wake: Callable[[], None]) -> None:
        with self._lock:
            wakers = self._waiters.get(task_id)
            if wakers and wake in wakers:
                wakers.remove(wake)
                if not wakers:
                    del self._waiters[task_id]
