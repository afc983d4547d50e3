"""One Redis server as this process sees it: a lazy client, outage detection with one warning, and a
subscriber thread for pushed messages.

Why one object per server: the journal, the limiter and the webhook fan-in share a Redis, so they
should agree on whether it is up (one warning for an outage, not three) and share its connections.
Every call goes through :meth:`RedisLink.call`, which turns connection failures into
:class:`RedisUnavailable` and then refuses further calls for ``retry_after`` seconds, so a dead
server costs each caller one connect timeout per interval instead of one per request.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from .._exceptions import ConfigurationError

__all__ = ["PREFIX", "RedisLink", "RedisUnavailable", "link_for", "process_id", "redacted_url"]

log = logging.getLogger("rh_tools")
T = TypeVar("T")

PREFIX = "rh-tools:"  # every key and channel rh-tools uses starts with this
RETRY_AFTER = 3.0  # seconds without trying a Redis that just failed
_SOCKET_TIMEOUT = 3.0  # a Redis call is a sub-millisecond round trip; seconds mean trouble
_CONNECT_TIMEOUT = 1.0
_links: dict[tuple[int, str], RedisLink] = {}
_links_lock = threading.Lock()
_proc: tuple[int, str] | None = None


class RedisUnavailable(Exception):
    """Redis could not be reached (or is refusing writes); callers fall back to local behaviour."""


def process_id() -> str:
    """A name for this process that no other process on any machine shares (new after a fork)."""
    global _proc
    if _proc is None or _proc[0] != os.getpid():
        _proc = (os.getpid(), f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
    return _proc[1]


def redacted_url(url: str) -> str:
    """The URL with any password replaced, for logs and error messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1****@", url)


def _redis_module() -> Any:
    try:
        import redis
    except ImportError:  # pragma: no cover - the test extra installs it
        raise ConfigurationError(
            "RUNNINGHUB_STORE names a Redis server, but the redis package is not installed",
            hint='pip install "rh-tools[redis]" (the redis client), or use a file path for a local journal.',
        ) from None
    return redis


class RedisLink:
    """A Redis URL, its client (made on first use) and whether it is believed up."""

    def __init__(self, url: str, *, retry_after: float = RETRY_AFTER) -> None:
        self.url = url
        self.retry_after = retry_after
        self._client: Any = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._recovered: list[Callable[[], None]] = []
        self._subscriber: _Subscriber | None = None
        self.calls = 0  # round trips made (benchmarks read it)

    def __repr__(self) -> str:
        return f"RedisLink({redacted_url(self.url)!r})"

    @property
    def where(self) -> str:
        return redacted_url(self.url)

    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    redis = _redis_module()
                    self._client = redis.Redis.from_url(
                        self.url,
                        socket_timeout=_SOCKET_TIMEOUT,
                        socket_connect_timeout=_CONNECT_TIMEOUT,
                        health_check_interval=30,
                        decode_responses=True,
                    )
        return self._client

    @property
    def up(self) -> bool:
        """False while an outage is being waited out (calls would fail at once)."""
        return not self._down or time.monotonic() >= self._down_until

    def on_recovered(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (in the calling thread) after the first successful call that ends an outage."""
        with self._lock:
            self._recovered.append(callback)

    def call(self, doing: str, op: Callable[[Any], T], *, round_trips: int = 1) -> T:
        """``op(client)``; a connection failure marks Redis down and raises :class:`RedisUnavailable`."""
        if not self.up:
            raise RedisUnavailable(f"Redis at {self.where} is down (retrying every {self.retry_after:g} s)")
        redis = _redis_module()
        try:
            result = op(self.client())
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError) as exc:
            self._failed(doing, exc)
            raise RedisUnavailable(f"Redis at {self.where} is unreachable while {doing}: {exc}") from None
        except redis.ResponseError as exc:
            if "READONLY" in str(exc) or "MISCONF" in str(exc):  # a replica or a full disk: treat as down
                self._failed(doing, exc)
                raise RedisUnavailable(f"Redis at {self.where} refuses writes while {doing}: {exc}") from None
            raise
        self.calls += round_trips
        if self._down:
            self._back()
        return result

    def probe(self) -> bool:
        """Ask Redis now, even while an outage is being waited out (a process about to exit)."""
        with self._lock:
            self._down_until = 0.0
        try:
            self.call("checking whether Redis is back", lambda r: r.ping())
            return True
        except RedisUnavailable:
            return False

    def _failed(self, doing: str, exc: BaseException) -> None:
        with self._lock:
            first = not self._down
            self._down = True
            self._down_until = time.monotonic() + self.retry_after
        if first:
            log.warning(
                "rh-tools: Redis at %s is unreachable while %s (%s: %s). Falling back to local behaviour "
                "(journal in a local SQLite file, a per-process task limit) and retrying every %g s; "
                "nothing is lost, local records are copied to Redis when it is back.",
                self.where,
                doing,
                type(exc).__name__,
                exc,
                self.retry_after,
            )

    def _back(self) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
            callbacks = list(self._recovered)
        log.warning("rh-tools: Redis at %s is reachable again; shared behaviour resumes.", self.where)
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a recovery step that fails is retried at the next outage's end
                log.debug("Redis recovery step failed", exc_info=True)

    def subscribe(self, channel: str, handler: Callable[[str], None]) -> None:
        """Call ``handler(message)`` for every message published on ``channel`` (from a daemon thread)."""
        with self._lock:
            if self._subscriber is None:
                self._subscriber = _Subscriber(self)
            sub = self._subscriber
        sub.add(channel, handler)

    @property
    def subscribed(self) -> bool:
        """True while the subscriber thread holds a live subscription (pushed messages arrive)."""
        return self._subscriber is not None and self._subscriber.live.is_set()

    @property
    def epoch(self) -> int:
        """Grows with every (re)subscription: a waiter that saw the same epoch, subscribed, before and
        after waiting cannot have missed a message; otherwise it asks Redis again."""
        return self._subscriber.epoch if self._subscriber is not None else 0


class _Subscriber:
    """A daemon thread holding one pub/sub connection; it resubscribes after Redis comes back.

    Messages published while the connection is down are lost (pub/sub keeps nothing): every user of
    it also checks by itself now and then (the limiter re-asks for its slot, waits keep polling).
    """

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.handlers: dict[str, list[Callable[[str], None]]] = {}
        self.lock = threading.Lock()
        self.live = threading.Event()
        self._active: set[str] = set()  # channels the live connection is subscribed to
        self.epoch = 0
        self.thread = threading.Thread(target=self._run, name="rh-redis-subscriber", daemon=True)
        self.thread.start()

    def add(self, channel: str, handler: Callable[[str], None]) -> None:
        with self.lock:
            self.handlers.setdefault(channel, []).append(handler)
        # The caller may publish to this channel next: make sure the subscription is in place first
        # (a grant published before it would be missed and only found by the slower re-check).
        deadline = time.monotonic() + (2.0 if self.link.up else 0.0)
        while time.monotonic() < deadline and not self._has(channel):
            time.sleep(0.005)

    def _has(self, channel: str) -> bool:
        with self.lock:
            return channel in self._active

    def _run(self) -> None:
        redis = _redis_module()
        while True:
            pubsub = None
            asked: set[str] = set()
            try:
                pubsub = self.link.client().pubsub()
                while True:
                    with self.lock:
                        wanted = set(self.handlers)
                    new = wanted - self._active - asked
                    if new:
                        pubsub.subscribe(*sorted(new))
                        asked |= new
                    message = pubsub.get_message(timeout=0.02 if asked - self._active else 0.2)
                    if message is None:
                        continue
                    if message.get("type") == "subscribe":  # confirmed: from now on nothing published is missed
                        with self.lock:
                            self._active = self._active | {str(message["channel"])}
                            self.epoch += 1
                        self.live.set()
                    elif message.get("type") == "message":
                        self._dispatch(str(message["channel"]), str(message["data"]))
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                log.debug("Redis subscriber connection lost; reconnecting", exc_info=True)
            except Exception:  # never let the thread die: waits fall back to polling meanwhile
                log.debug("Redis subscriber failed; reconnecting", exc_info=True)
            self.live.clear()
            with self.lock:
                self._active = set()
                self.epoch += 1
            if pubsub is not None:
                try:
                    pubsub.close()
                except Exception:
                    pass
            time.sleep(0.5)

    def _dispatch(self, channel: str, data: str) -> None:
        with self.lock:
            handlers = list(self.handlers.get(channel, ()))
        for handler in handlers:
            try:
                handler(data)
            except Exception:
                log.debug("Redis message handler failed", exc_info=True)


def link_for(url: str) -> RedisLink:
    """The process's one :class:`RedisLink` for ``url`` (a forked child gets its own)."""
    key = (os.getpid(), url)
    with _links_lock:
        found = _links.get(key)
        if found is None:
            found = _links[key] = RedisLink(url)
        return found
