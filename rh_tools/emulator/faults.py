"""Fault injection: make the next matching requests (or tasks) misbehave the way networks and
services do, so a client's retry, idempotency and timeout logic can be tested for real.

Why an outermost ASGI middleware: dropping a connection must happen on the socket, before or after
the application ran. Uvicorn hands the application the ``send`` method of its per-request cycle
object, which holds the connection's asyncio transport; wrapping the whole Starlette app lets this
middleware see that raw ``send``. ``reset_*`` sets SO_LINGER to 0 and aborts the transport, so the
peer gets a TCP RST (httpx raises ``RemoteProtocolError``/``ReadError``) with no HTTP answer.

Kinds (parameters with defaults):

=================  ========================================================================
latency            wait ``seconds`` (1.0) before handling the request
slow_response      handle the request (a submit creates its task), then hold the answer
                   ``seconds`` (10.0) — longer than a client's read timeout
http_error         answer HTTP ``status`` (500) with a ``body`` of "json", "html", "text", "empty";
                   a JSON body carries ``code`` (None: 1005 on v2 routes, 500 on legacy ones)
html_error         answer an HTML error page with HTTP ``status`` (502), like a gateway does
malformed_json     answer HTTP ``status`` (200) with a truncated JSON body
reset_before       drop the connection before handling (nothing is created)
reset_after        handle the request (a submit creates its task), then drop the connection
error_after        handle the request (a submit creates its task), then answer an error instead:
                   HTTP ``status`` (500), ``body`` "json" (with ``code`` "1005"), "html", "text" or
                   "empty"; ``task_id`` (False) puts the created task's id in the JSON error body.
                   The double-billing case: a client that resubmits pays twice
queue_full         answer 421 TASK_QUEUE_MAXED in the path's response family, create nothing
rate_limit         answer 1003 with HTTP ``status`` (429); ``Retry-After: retry_after`` only if set
                   (None: no header; RunningHub documents none, so it is opt-in)
fail_tasks         the next created tasks end FAILED with ``code`` ("1501") [, ``message``, ``reason``]
never_finish       the next created tasks stay RUNNING forever
content_refused    moderation (1501): the submit answer is already FAILED, nothing is charged
real_person_refused  the real-person policy (1505): likewise FAILED at once
model_timeout      the model times out (1504) after running
model_error        the task fails with any model-API ``code`` ("1015") [, ``message``]: the 15xx
                   codes beyond 1501/1504/1505 are not published, so tests pass their own
empty_outputs      the next created tasks succeed with no output (v2 results [], outputs data [])
node_errors        a workflow/AI-app create answers code 0 with ``promptTips`` listing node_errors and
                   ``taskId`` 0 (INFERRED: no public answer shows this case)
=================  ========================================================================

``path`` filters by request path: exact, or a glob (``"/openapi/v2/*"``). Without a path, request
faults hit API calls only (``/openapi``, ``/task``, ``/api``, ``/uc``), not file downloads.
``times`` is how many requests (or tasks) the fault hits; ``None`` means until removed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._guards import is_object
from .codes import legacy_msg, v2_message
from .shapes import family_of, json_response, v2_error_body
from .stats import Stats

__all__ = ["FAULT_KINDS", "TASK_FAULTS", "Fault", "FaultMiddleware", "Faults", "abort_connection"]

_DEFAULTS: dict[str, dict[str, Any]] = {
    "latency": {"seconds": 1.0},
    "slow_response": {"seconds": 10.0},
    "http_error": {"status": 500, "body": "json", "code": None},
    "html_error": {"status": 502},
    "malformed_json": {"status": 200},
    "reset_before": {},
    "reset_after": {},
    "error_after": {"status": 500, "body": "json", "code": "1005", "task_id": False},
    "queue_full": {},
    "rate_limit": {"retry_after": None, "status": 429},
    "fail_tasks": {"code": "1501", "message": None, "reason": None},
    "never_finish": {},
    "content_refused": {"message": None},
    "real_person_refused": {"message": None},
    "model_timeout": {"message": None},
    "model_error": {"code": "1015", "message": None},
    "empty_outputs": {},
    "node_errors": {},
}
_ALIASES = {"timeout": "slow_response", "delay": "latency", "http_5xx": "http_error", "5xx": "http_error"}
FAULT_KINDS = frozenset(_DEFAULTS)
TASK_FAULTS = frozenset(
    {
        "fail_tasks",
        "never_finish",
        "content_refused",
        "real_person_refused",
        "model_timeout",
        "model_error",
        "empty_outputs",
        "node_errors",
    }
)
_API_PREFIXES = ("/openapi/", "/task/", "/api/", "/uc/")
_ids = itertools.count(1)


@dataclass
class Fault:
    """One armed fault. ``remaining`` None = unlimited; ``fired`` counts hits so far."""

    kind: str
    path: str | None = None
    remaining: int | None = 1
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict[str, Any])
    fired: int = 0
    id: int = field(default_factory=lambda: next(_ids))

    def matches(self, path: str, method: str | None) -> bool:
        if self.method and method and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return self.kind in TASK_FAULTS or path.startswith(_API_PREFIXES)
        if any(ch in self.path for ch in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        return path == self.path or path == "/" + self.path.lstrip("/")


class Faults:
    """The armed faults of one emulator; safe to change from any thread while it serves."""

    def __init__(self, stats: Stats | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stats = stats

    def add(
        self,
        kind: str,
        path: str | None = None,
        times: int | None = 1,
        *,
        method: str | None = None,
        **params: Any,
    ) -> Fault:
        """Arm a fault; returns it (``remove()`` it, or read ``fired``)."""
        kind = _ALIASES.get(kind, kind)
        if kind not in _DEFAULTS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        unknown = set(params) - set(_DEFAULTS[kind])
        if unknown:
            raise TypeError(f"fault {kind!r} takes {sorted(_DEFAULTS[kind]) or 'no parameters'}, not {sorted(unknown)}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for unlimited)")
        fault = Fault(kind, path, times, method, {**_DEFAULTS[kind], **params})
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, kind: str, path: str, method: str | None = None) -> Fault | None:
        """Consume one hit of the first armed ``kind`` fault matching this request, if any."""
        with self._lock:
            for f in self._faults:
                if f.kind == kind and f.matches(path, method):
                    f.fired += 1
                    if f.remaining is not None:
                        f.remaining -= 1
                        if f.remaining <= 0:
                            self._faults.remove(f)
                    break
            else:
                return None
        if self._stats is not None:
            self._stats.count_fault(kind)
        return f

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def __repr__(self) -> str:
        return f"Faults({[f.kind for f in self]})"


def abort_connection(send: Send) -> None:
    """Reset the TCP connection behind uvicorn's ``send`` (no HTTP answer reaches the client)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # not uvicorn's raw send: the middleware must wrap the app uvicorn runs
        raise RuntimeError("cannot reach the connection's transport to reset it")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:  # linger 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
    if cycle is not None and hasattr(cycle, "disconnected"):
        cycle.disconnected = True  # keeps uvicorn from writing a 500 into the dead connection


_HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def _canned(kind: str, fault: Fault, path: str) -> Response:
    p = fault.params
    family = family_of(path)
    if kind == "html_error" or (kind == "http_error" and p["body"] == "html"):
        status = int(p["status"])
        return HTMLResponse(_HTML_PAGE.format(status=status, reason=_REASONS.get(status, "Error")), status_code=status)
    if kind == "http_error":
        status = int(p["status"])
        if p["body"] == "text":
            return Response(_REASONS.get(status, "Error"), status_code=status, media_type="text/plain")
        if p["body"] == "empty":
            return Response(b"", status_code=status)
        code = p.get("code")
        if family == "v2":
            return json_response(v2_error_body(str(code or "1005")), status)
        if family == "upload":
            n = str(code or "1005")
            return json_response({"code": int(n), "message": v2_message(n), "data": None}, status)
        n = int(code or 500)
        return json_response({"code": n, "msg": legacy_msg(n), "data": None}, status)
    if kind == "malformed_json":
        return Response(b'{"taskId":"20135087861107302', status_code=int(p["status"]), media_type="application/json")
    if kind == "queue_full":
        if family == "v2":
            return json_response(v2_error_body("421"))
        if family == "upload":
            return json_response({"code": 421, "message": legacy_msg(421), "data": None})
        return json_response({"code": 421, "msg": legacy_msg(421), "data": None})
    if kind == "rate_limit":
        headers = {"Retry-After": _fmt_seconds(p["retry_after"])} if p["retry_after"] is not None else None
        status = int(p["status"])
        if family == "v2":
            return json_response(v2_error_body("1003"), status, headers)
        if family == "upload":
            return json_response({"code": 1003, "message": v2_message("1003"), "data": None}, status, headers)
        return json_response({"code": 1003, "msg": legacy_msg(1003), "data": None}, status, headers)
    raise AssertionError(kind)


def _created_task_id(messages: list[Message]) -> str | None:
    """The task id in the answer the application gave (v2 task object or legacy envelope), if any."""
    body = b"".join(m.get("body", b"") for m in messages if m.get("type") == "http.response.body")
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not is_object(parsed):
        return None
    data = parsed.get("data")
    found = parsed.get("taskId") or (data.get("taskId") if is_object(data) else None)
    return str(found) if found else None


def _error_after(fault: Fault, path: str, task_id: str | None) -> Response:
    """The error answer sent in place of a successful one (``error_after``)."""
    p = fault.params
    status, code = int(p["status"]), str(p["code"])
    if p["body"] != "json":
        return _canned("http_error", Fault("http_error", params={"status": status, "body": p["body"]}), path)
    family = family_of(path)
    with_id = task_id if p["task_id"] else None
    if family == "v2":
        return json_response({**v2_error_body(code), "taskId": with_id or ""}, status)
    data = {"taskId": with_id} if with_id else None
    if family == "upload":
        return json_response({"code": int(code), "message": v2_message(code), "data": data}, status)
    return json_response({"code": int(code), "msg": legacy_msg(int(code)), "data": data}, status)


def _fmt_seconds(s: float) -> str:
    return str(max(0, int(-(-float(s) // 1))))  # Retry-After takes whole seconds; round up


class FaultMiddleware:
    """Outermost ASGI layer: counts requests and applies request-level faults."""

    def __init__(self, app: ASGIApp, faults: Faults, stats: Stats) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        self.stats.count_request(path)
        take = self.faults.take

        lat = take("latency", path, method)
        if lat:
            await asyncio.sleep(float(lat.params["seconds"]))
        if take("reset_before", path, method):
            abort_connection(send)
            return
        for kind in ("http_error", "html_error", "malformed_json", "queue_full", "rate_limit"):
            f = take(kind, path, method)
            if f:
                await _canned(kind, f, path)(scope, receive, send)
                return

        slow = take("slow_response", path, method)
        reset_after = take("reset_after", path, method)
        if reset_after:
            await self.app(scope, receive, _swallow)
            abort_connection(send)
            return
        error_after = take("error_after", path, method)
        if error_after:
            answered: list[Message] = []

            async def keep(message: Message) -> None:
                answered.append(message)

            await self.app(scope, receive, keep)  # the request is handled: a submit creates its task
            await _error_after(error_after, path, _created_task_id(answered))(scope, receive, send)
            return
        if slow:
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await asyncio.sleep(float(slow.params["seconds"]))
            for message in held:
                await send(message)
            return
        await self.app(scope, receive, send)


async def _swallow(message: Message) -> None:
    return None
