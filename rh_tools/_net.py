"""The sockets under our httpx clients: whole-call deadlines, no private addresses, no cookies.

httpx bounds each socket operation (connect, one read, one write) but not a whole request, let alone
a whole ``run()``: a server that drips one byte every few seconds, or a poll that hangs, could hold
a call far past its ``timeout``. So our transports wrap httpcore's network backend:

* **Deadlines.** :func:`deadline` sets, for the current thread or asyncio task (a ``ContextVar``),
  the moment by which every socket operation must be done; each connect, read and write gets at
  most the time left, and none starts after it. The sync and async clients use the same wrapper.
* **Address guard** (output downloads and previews only). Output URLs come from the service's
  answer, i.e. from outside; fetching them must not reach this machine or its network. The guard
  resolves the host itself, refuses loopback, private, link-local and other non-global addresses
  (also IPv4-mapped ones), and connects to the address it checked, so DNS cannot answer
  differently between the check and the connection. The API's own host is trusted (the emulator
  runs on loopback and serves its files from a second port).
* **No cookie jar.** One connection pool may serve several API keys (the MCP server over HTTP);
  a cookie set for one must never travel with another, so the clients store none.

With an HTTP(S) proxy from the environment, httpx routes through its own proxy transport and the
guard cannot pin addresses; :func:`check_url` still refuses URLs whose host resolves to a private
address before any request is made.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = [
    "BlockedAddressError",
    "AddressGuard",
    "deadline",
    "make_async_client",
    "make_client",
    "origin_of",
    "remaining",
]

_DEADLINE: ContextVar[float | None] = ContextVar("rh_tools_deadline", default=None)


@contextlib.contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Bound every socket operation in this block to end by ``at`` (``time.monotonic()``); nests to the earlier."""
    outer = _DEADLINE.get()
    effective = at if outer is None else outer if at is None else min(at, outer)
    token = _DEADLINE.set(effective)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (may be negative), or None without one."""
    at = _DEADLINE.get()
    return None if at is None else at - time.monotonic()


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise exc("the call's time limit ran out")
    return left if timeout is None else min(timeout, left)


class BlockedAddressError(httpcore.ConnectError):
    """An output URL's host is, or resolves to, an address we do not fetch from."""


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of ``url``, with the default port filled in; None if it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        return None
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return not ip.is_global or ip.is_multicast


class AddressGuard:
    """Refuses hosts that are, or resolve to, non-public addresses, except the trusted host names.

    Trust is by host, any port: the API's own host serves its files from another port (the
    emulator does; a proxy in front of RunningHub may). The user chose that host as the API.
    """

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self.trusted = frozenset(h.lower().strip("[]") for h in trusted)

    def is_trusted(self, host: str, port: int) -> bool:
        return host.lower().strip("[]") in self.trusted

    def vet(self, host: str, port: int, infos: list[Any]) -> str:
        """The address to connect to, from ``getaddrinfo`` results; raises if any is not public."""
        addresses = [info[4][0] for info in infos]
        if not addresses:
            raise BlockedAddressError(f"{host} did not resolve to any address")
        for raw in addresses:
            ip = ipaddress.ip_address(raw.split("%", 1)[0])
            if _not_public(ip):
                shown = host if host == raw else f"{host} ({raw})"
                raise BlockedAddressError(f"refused to fetch from {shown}: a loopback, private or link-local address")
        return str(addresses[0])

    def check_url(self, url: str) -> None:
        """Refuse ``url`` before any request if its host is or resolves to a non-public address."""
        origin = origin_of(url)
        if origin is None:
            raise BlockedAddressError(f"not an http(s) URL: {url[:80]!r}")
        _, host, port = origin
        if self.is_trusted(host, port):
            return
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            return  # unresolvable here: the connection fails the same way (or a proxy resolves it)
        self.vet(host, port, infos)


# ------------------------------------------------------------------ sync backend


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, guard: AddressGuard | None) -> None:
        self._inner = httpcore.SyncBackend()
        self._guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        target = host
        if self._guard is not None and not self._guard.is_trusted(host, port):
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
            target = self._guard.vet(host, port, infos)
        stream = self._inner.connect_tcp(target, port, timeout, local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - we never build unix-socket clients
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# ------------------------------------------------------------------ async backend


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, guard: AddressGuard | None) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        import anyio

        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        target = host
        if self._guard is not None and not self._guard.is_trusted(host, port):
            try:
                with anyio.fail_after(timeout):
                    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, TimeoutError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
            target = self._guard.vet(host, port, list(infos))
        stream = await self._inner.connect_tcp(target, port, timeout, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - we never build unix-socket clients
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# ------------------------------------------------------------------ clients


def _no_cookies(client: httpx.Client | httpx.AsyncClient) -> None:
    # A policy that accepts no cookie from any domain and returns none: the jar stays empty.
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))


def _pool_kwargs(transport: Any, limits: httpx.Limits) -> dict[str, Any]:
    # httpx builds its pool without a way to pass a network backend; rebuild it with ours, reusing
    # the SSL context httpx made (certifi, SSLKEYLOGFILE and friends handled there).
    return {
        "ssl_context": transport._pool._ssl_context,
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
    }


def make_client(
    *,
    timeout: httpx.Timeout,
    limits: httpx.Limits | None = None,
    guard: AddressGuard | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A blocking client on our backend: deadlines honoured, ``guard`` applied, no cookies, no redirects.

    An injected ``transport`` (tests, custom networking) replaces our backend: it then gets only
    per-request timeouts.
    """
    limits = limits or httpx.Limits()
    if transport is None:
        ours = httpx.HTTPTransport(limits=limits)
        ours._pool = httpcore.ConnectionPool(network_backend=_Backend(guard), **_pool_kwargs(ours, limits))
        transport = ours
    client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
    _no_cookies(client)
    return client


def make_async_client(
    *,
    timeout: httpx.Timeout,
    limits: httpx.Limits | None = None,
    guard: AddressGuard | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The awaitable twin of :func:`make_client`."""
    limits = limits or httpx.Limits()
    if transport is None:
        ours = httpx.AsyncHTTPTransport(limits=limits)
        ours._pool = httpcore.AsyncConnectionPool(network_backend=_AsyncBackend(guard), **_pool_kwargs(ours, limits))
        transport = ours
    client = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False, limits=limits)
    _no_cookies(client)
    return client
