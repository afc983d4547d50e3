"""Streamable HTTP transport: the SDK's session manager behind our guards, served by uvicorn.

What stands between the network and the MCP handlers, outermost first:

0. With ``--webhook-url`` only: ``POST /rh-webhook/<secret>`` (RunningHub's task-end callbacks) is
   answered before the guards below, which RunningHub could not pass (``mcp_server.replicas``).

1. **Host and Origin** (:class:`HostGuard`), on every bind address and every path: a request must
   name this server in ``Host`` (the bind address, loopback names on a loopback bind, and any
   ``--allowed-host``), and a browser ``Origin`` must be one of those too. A web page that rebinds
   its own DNS name to 127.0.0.1 therefore cannot drive the server.
2. ``/.well-known/*`` answers 404: this server has no OAuth, and clients that see a 401 there start
   an OAuth dance instead of asking for the token.
3. The bearer token (:class:`BearerAuth`), when one is set. A non-loopback bind without one refuses
   to start unless ``--allow-unauthenticated`` says so.
4. Sessions (``GuardedSessionManager``): idle sessions expire, the number open is capped, at
   the cap the least recently used idle session of the client holding most sessions is closed, and
   no client (remote address + API-key header) holds more than half, so one client flooding
   sessions cannot lock the others out.
5. A JSON-RPC body the SDK cannot parse (lone surrogates, deep nesting) is repaired into one it
   can (:class:`RepairBody`, ``edge.repair``), so every ``tools/call`` with an id gets an answer.
6. Slow clients (:func:`guarded_protocol`): a connection must deliver a request's headers and body
   within ``--read-timeout``, and when too many are still sending, the oldest of those is closed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import sys
from collections import Counter
from contextvars import ContextVar
from typing import Any

from rh_tools._exceptions import ConfigurationError

from .config import API_KEY_HEADER, ServerConfig
from .replicas import WebhookRoute

__all__ = [
    "BearerAuth",
    "HostGuard",
    "allowed_hosts",
    "build_http_app",
    "guarded_protocol",
    "is_loopback",
    "serve_http",
]

log = logging.getLogger("mcp_server")

MAX_PENDING = 256  # connections still sending their request; beyond this the oldest is closed
MAX_BODY = 4 * 1024 * 1024  # the SDK's own request body limit
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bare(host: str) -> str:
    """``[::1]`` -> ``::1`` (what sockets and uvicorn take)."""
    return host.strip("[]")


def _as_header_host(host: str) -> str:
    """How a host appears in a Host header: IPv6 literals in brackets, names lower-case."""
    host = _bare(host).lower()
    return f"[{host}]" if ":" in host else host


def _host_port(value: str) -> tuple[str, int | None]:
    """'name', 'name:80', '[::1]:8000', '::1' -> (host, port or None)."""
    v = value.strip().lower()
    if v.startswith("["):
        host, _, rest = v[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif v.count(":") == 1:
        host, _, port = v.partition(":")
    else:  # a name, an IPv4 address, or an IPv6 address without brackets
        host, port = v, ""
    return host, int(port) if port.isdigit() else None


def allowed_hosts(config: ServerConfig) -> frozenset[str]:
    """Every ``Host`` header value this server answers (with and without the port where it is implied)."""
    names = set()
    bind = _as_header_host(config.host)
    wildcard = bind in ("0.0.0.0", "[::]")
    if not wildcard:
        names.add(bind)
    if is_loopback(config.host) or wildcard:
        names.update(_LOOPBACK_NAMES)  # a wildcard bind includes loopback
    pairs = {(name, config.port) for name in names}
    for extra in config.allowed_hosts:
        host, port = _host_port(extra)
        if host:
            pairs.add((_as_header_host(host), port or config.port))
    values = {f"{name}:{port}" for name, port in pairs}
    values |= {name for name, port in pairs if port == 80}  # a client may leave the default port out
    return frozenset(values)


async def _answer(send: Any, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HostGuard:
    """ASGI middleware: Host/Origin checks on every request, and 404 for ``/.well-known/*``."""

    def __init__(self, app: Any, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = frozenset(f"{scheme}://{h}" for h in hosts for scheme in ("http", "https"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            log.warning("refused a request for Host %r (not this server's name)", host[:100])
            await _answer(
                send,
                421,
                {"error": "misdirected_request", "message": "Unknown Host header; start rh-mcp with --allowed-host."},
            )
            return
        origin = headers.get(b"origin")
        if origin is not None and origin.decode("latin-1").lower() not in self.origins:
            log.warning("refused a request from Origin %r", origin[:100])
            await _answer(send, 403, {"error": "forbidden_origin", "message": "This Origin may not use rh-mcp."})
            return
        if scope.get("path", "").startswith("/.well-known/"):
            # No OAuth here: a 404 (not a 401) tells clients not to start an authorization flow.
            await _answer(send, 404, {"error": "not_found"})
            return
        await self.app(scope, receive, send)


class RepairBody:
    """ASGI middleware: a POSTed JSON-RPC body the SDK cannot parse is :func:`edge.repair`-ed first,
    so a request with an id is answered (as a tool error) instead of refused with a parse error."""

    def __init__(self, app: Any, path: str, limit: int = MAX_BODY) -> None:
        self.app, self.path, self.limit = app, path, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if not length.isdigit() or int(length) > self.limit:
            await self.app(scope, receive, send)  # chunked or too big: the SDK answers as it does
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        from .edge import repair

        fixed = repair(body)
        if fixed is not None:
            body = fixed.encode()
            scope = {
                **scope,
                "headers": [(k, v) for k, v in scope["headers"] if k != b"content-length"]
                + [(b"content-length", str(len(body)).encode())],
            }
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Any], receive: Any) -> Any:
    queue = list(messages)

    async def replayed() -> Any:
        return queue.pop(0) if queue else await receive()

    return replayed


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
                await _answer(
                    send,
                    401,
                    {
                        "error": "unauthorized",
                        "message": "Send 'Authorization: Bearer <token>' (the server's --auth-token).",
                    },
                    [(b"www-authenticate", b'Bearer realm="rh-mcp"')],
                )
                return
        await self.app(scope, receive, send)


# ------------------------------------------------------------------ sessions

_OWNER: ContextVar[str] = ContextVar("rh_mcp_session_owner", default="")


def _owner(scope: Any) -> str:
    """Who opens a session, for fair shares: the remote address, and which API key it sends (hashed)."""
    client = scope.get("client") or ("?", 0)
    key = dict(scope.get("headers") or []).get(API_KEY_HEADER.lower().encode(), b"")
    return f"{client[0]}/{hashlib.sha256(key).hexdigest()[:12] if key else '-'}"


def _session_manager_class() -> type[Any]:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    class GuardedSessionManager(StreamableHTTPSessionManager):
        """The SDK's session manager with fair shares at the session cap.

        The SDK answers 503 once ``max_sessions`` are open until some expire, so one client that
        opens sessions in a loop locks everyone out for the idle timeout. Here a new session first
        evicts an idle one: the client's own oldest when it already holds half the cap, else the
        oldest of whichever client holds most. Sessions with a request in flight are never evicted.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._owner_of: dict[str, str] = {}

        async def _handle_stateful_request(self, scope: Any, receive: Any, send: Any) -> None:
            token = _OWNER.set(_owner(scope))
            try:
                await super()._handle_stateful_request(scope, receive, send)
            finally:
                _OWNER.reset(token)

        def _admit_session(self, requestor: Any) -> Any:
            owner = _OWNER.get()
            for sid in [s for s in self._owner_of if s not in self._server_instances]:
                del self._owner_of[sid]  # ended or expired meanwhile
            cap = self.max_sessions
            if cap is not None:
                mine = [s for s, o in self._owner_of.items() if o == owner]
                if len(mine) >= max(1, cap // 2):
                    if not self._evict_idle(mine):
                        return None
                elif len(self._server_instances) >= cap:
                    counts = Counter(self._owner_of.values())
                    for biggest, _ in counts.most_common():
                        if self._evict_idle([s for s, o in self._owner_of.items() if o == biggest]):
                            break
                    else:
                        return None
            transport = super()._admit_session(requestor)
            if transport is not None:
                self._owner_of[transport.mcp_session_id] = owner
            return transport

        def _evict_idle(self, session_ids: list[str]) -> bool:
            idle = []
            for sid in session_ids:
                t = self._server_instances.get(sid)
                scope = getattr(t, "idle_scope", None)
                if scope is not None and scope.deadline != float("inf") and not scope.cancel_called:
                    idle.append((scope.deadline, sid))  # earliest deadline = least recently used
            if not idle:
                return False
            _, sid = min(idle)
            transport = self._server_instances.pop(sid)
            self._session_owners.pop(sid, None)
            self._owner_of.pop(sid, None)
            transport.idle_scope.cancel()  # its server task ends and terminates the transport
            log.info("closed idle session %s to admit a new one (session cap %s)", sid[:8], self.max_sessions)
            return True

    return GuardedSessionManager


def __getattr__(name: str) -> Any:  # GuardedSessionManager without importing the SDK at module import
    if name == "GuardedSessionManager":
        return _session_manager_class()
    raise AttributeError(name)


def build_http_app(server: Any, config: ServerConfig) -> Any:
    """The ASGI app: guards (Host/Origin, .well-known, token) around the SDK's streamable HTTP endpoint."""
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
    from mcp.server.transport_security import TransportSecuritySettings
    from starlette.applications import Starlette
    from starlette.routing import Route

    manager = _session_manager_class()(
        app=server,
        # Host/Origin are checked by HostGuard for every path; the SDK's own check would only repeat it.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        session_idle_timeout=config.session_idle_timeout,
        max_sessions=config.max_sessions,
        # --stateless: no MCP sessions, so a load balancer may send each request to any replica (#15).
        stateless=config.stateless,
    )
    server._session_manager = manager  # what Server.session_manager reports, as streamable_http_app does
    app: Any = Starlette(
        routes=[Route(config.path, endpoint=StreamableHTTPASGIApp(manager))],
        lifespan=lambda _app: manager.run(),
    )
    app = RepairBody(app, config.path)
    if config.auth_token:
        app = BearerAuth(app, config.auth_token)
    app = HostGuard(app, allowed_hosts(config))
    # RunningHub's task-end callbacks (--webhook-url): outside the guards, as RunningHub can send
    # neither our token nor our Host name; the secret path is their credential (mcp_server.replicas).
    receiver = getattr(getattr(server, "rh", None), "webhooks", None)
    return WebhookRoute(app, receiver) if receiver is not None else app


# ------------------------------------------------------------------ slow clients


def guarded_protocol(read_timeout: float, max_pending: int = MAX_PENDING) -> type[Any]:
    """uvicorn's h11 protocol with a request read timeout and a cap on connections still sending.

    uvicorn closes idle keep-alive connections, but a connection that sends half a request line and
    then nothing (slowloris) is kept forever. Here every request must arrive whole within
    ``read_timeout``; and when ``max_pending`` connections are still sending, the oldest of them is
    closed for a new one, so slow connections cannot crowd out clients that send promptly.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    pending: dict[Any, None] = {}  # insertion-ordered: oldest first

    class GuardedH11Protocol(H11Protocol):
        _read_timer: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._read_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the first bytes of the next request on a kept-alive connection
            super().data_received(data)
            cycle = self.cycle
            if self._read_timer is not None and cycle is not None and not cycle.response_complete:
                if not cycle.more_body:
                    self._disarm()  # headers and body are in

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            while len(pending) >= max_pending:
                oldest = next(iter(pending))
                oldest._drop()
            pending[self] = None
            self._read_timer = self.loop.call_later(read_timeout, self._drop)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None
            pending.pop(self, None)

        def _drop(self) -> None:
            self._disarm()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


async def serve_http(server: Any, config: ServerConfig) -> None:
    """Serve until interrupted.

    Raises:
        ConfigurationError: a non-loopback bind without a token and without ``allow_unauthenticated``.
    """
    import uvicorn

    loopback = is_loopback(config.host)
    if not loopback and not config.auth_token:
        if not config.allow_unauthenticated:
            raise ConfigurationError(
                f"refusing to listen on {config.host} without a token: anyone who can reach this port could "
                "spend the server's RunningHub credits",
                hint="Set RH_MCP_TOKEN (or --auth-token), bind 127.0.0.1, or pass --allow-unauthenticated "
                "if the network in front of rh-mcp authenticates clients itself.",
            )
        print(
            f"rh-mcp: WARNING: listening on {config.host} without --auth-token (--allow-unauthenticated): anyone "
            "who can reach this port can spend the server's RunningHub credits.",
            file=sys.stderr,
        )
    app = build_http_app(server, config)
    uv = uvicorn.Server(
        uvicorn.Config(
            app,
            host=_bare(config.host),
            port=config.port,
            log_level=config.log_level.lower(),
            access_log=False,
            http=guarded_protocol(config.read_timeout),
        )
    )
    shown = _as_header_host(config.host)
    print(
        f"rh-mcp: streamable HTTP on http://{shown}:{config.port}{config.path}"
        + (" (bearer token required)" if config.auth_token else ""),
        file=sys.stderr,
        flush=True,
    )
    await uv.serve()
