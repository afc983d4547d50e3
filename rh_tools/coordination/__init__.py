"""Several processes, one account: task slots and task ends shared through Redis.

What a client needs from here is one :class:`Coordination`: take a slot before a submit
(``acquire``), tie it to the task id the submit returned (``bind``), and say when a task is seen
ending (``ended``), which gives the slot back here or, through the fan-in, in the process that
holds it. Without Redis the same calls run on an in-process limiter, and with no limit set they
cost nothing.

Settings: ``RUNNINGHUB_MAX_CONCURRENCY=N`` (or ``auto``: the account's own limit, read once from
the queue-status call) turns the limiter on; ``RUNNINGHUB_STORE=redis://...`` (the journal's
setting) makes limiter, fan-in and journal shared by every process on that Redis.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from .._constants import ENV_PREFIX
from .._exceptions import ConfigurationError
from .._webhooks import WebhookReceiver
from ._redis import RedisLink, RedisUnavailable, link_for, process_id
from .fanin import TaskEvents
from .limiter import DEFAULT_HOLD, DEFAULT_LEASE, Limiter, LocalLimiter, RedisLimiter, Slot

__all__ = [
    "ENV_MAX_CONCURRENCY",
    "Coordination",
    "Limiter",
    "LocalLimiter",
    "RedisLimiter",
    "RedisLink",
    "RedisUnavailable",
    "Slot",
    "TaskEvents",
    "link_for",
    "process_id",
    "resolve_max_concurrency",
]

ENV_MAX_CONCURRENCY = ENV_PREFIX + "MAX_CONCURRENCY"
AUTO = "auto"

_lock = threading.Lock()
_limiters: dict[tuple[int, str, str, int], Limiter] = {}
_boards: dict[tuple[int, str], WebhookReceiver] = {}
_events: dict[tuple[int, str, int], TaskEvents] = {}
# Tasks this process submitted and has not yet seen end: a callback for one of them needs no relay
# (its wait, if any, is here), which keeps the fan-in at zero Redis calls per task in that case.
_here: OrderedDict[str, None] = OrderedDict()
_HERE_MAX = 100_000


def _note_here(task_id: str, present: bool) -> None:
    with _lock:
        if present:
            _here[task_id] = None
            while len(_here) > _HERE_MAX:
                _here.popitem(last=False)
        else:
            _here.pop(task_id, None)


def submitted_here(task_id: str) -> bool:
    """Whether this process submitted ``task_id`` and has not seen it end."""
    with _lock:
        return task_id in _here


def resolve_max_concurrency(value: int | str | None, env: Mapping[str, str] | None = None) -> int | str | None:
    """Argument > ``RUNNINGHUB_MAX_CONCURRENCY`` > off. An int >= 1, ``"auto"``, or None (no limit)."""
    env = os.environ if env is None else env
    source = "max_concurrency" if value is not None else ENV_MAX_CONCURRENCY
    raw = value if value is not None else env.get(ENV_MAX_CONCURRENCY, "").strip()
    if raw in ("", None) or (isinstance(raw, str) and raw.lower() in ("none", "off", "0")):
        return None
    if isinstance(raw, str) and raw.lower() == AUTO:
        return AUTO
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if limit < 1 or isinstance(raw, bool):
        raise ConfigurationError(
            f"{source} must be a whole number of tasks >= 1, 'auto' or 'off', not {raw!r}",
            hint="Set it to the account's concurrency (the queue-status call reports it), e.g. "
            f"{ENV_MAX_CONCURRENCY}=5, or auto to read it from the account once.",
        )
    return limit


def _account(key_id: str | None, base_url: str) -> str:
    """Slots belong to a key on a site; the name is a fingerprint (the key never reaches Redis)."""
    return hashlib.sha256(f"{key_id or '-'}\0{base_url}".encode()).hexdigest()[:16]


@dataclass
class Coordination:
    """One client's view: its account's limiter (if any), and where its waits sleep."""

    redis: RedisLink | None
    account: str
    board: WebhookReceiver | None  # what waits sleep on (wakes on callbacks and fan-in); None: plain sleep
    events: TaskEvents | None
    limit: int | str | None
    limiter: Limiter | None = None
    hold: float = DEFAULT_HOLD
    lease: float = DEFAULT_LEASE

    @classmethod
    def for_client(
        cls,
        *,
        redis_url: str | None,
        max_concurrency: int | str | None,
        key_id: str | None,
        base_url: str,
        receiver: WebhookReceiver | None,
    ) -> Coordination:
        """No I/O: Redis is reached on first use. ``redis_url`` None: this process only."""
        link = link_for(redis_url) if redis_url else None
        board, events = receiver, None
        if link is not None:
            pid = os.getpid()
            with _lock:
                if board is None:
                    board = _boards.get((pid, link.url))
                    if board is None:
                        board = _boards[(pid, link.url)] = WebhookReceiver(serve=False)
                events = _events.get((pid, link.url, id(board)))
                if events is None:
                    events = _events[(pid, link.url, id(board))] = TaskEvents(link, board, local=submitted_here)
                    events.on_end(lambda task_id, url=link.url: _slot_ended(url, task_id))
        coord = cls(link, _account(key_id, base_url), board, events, max_concurrency)
        if isinstance(max_concurrency, int):
            coord.set_limit(max_concurrency)
        return coord

    @property
    def needs_limit(self) -> bool:
        """True while the limit is ``auto`` and not yet read from the account."""
        return self.limit == AUTO and self.limiter is None

    def set_limit(self, limit: int | None) -> None:
        """Use ``limit`` slots (None: no limiter). Processes of one account share one limiter object."""
        if limit is None:
            self.limit = None
            return
        url = self.redis.url if self.redis is not None else ""
        key = (os.getpid(), url, self.account, limit)
        with _lock:
            found = _limiters.get(key)
            if found is None:
                if self.redis is not None:
                    found = RedisLimiter(self.redis, self.account, limit, hold=self.hold, lease=self.lease)
                else:
                    found = LocalLimiter(limit)
                _limiters[key] = found
        self.limit, self.limiter = limit, found

    def start(self) -> None:
        """Listen for task ends from other processes (first wait or submit; a no-op without Redis)."""
        if self.events is not None:
            self.events.start()

    def acquire(self, deadline: float) -> Slot | None:
        if self.limiter is None:
            return None
        self.start()
        return self.limiter.acquire(deadline)

    async def aacquire(self, deadline: float) -> Slot | None:
        if self.limiter is None:
            return None
        self.start()
        return await self.limiter.aacquire(deadline)

    def bind(self, slot: Slot | None, task_id: str, done: bool) -> None:
        """The submit returned ``task_id``: the slot is now that task's (given back at once if it
        already ended)."""
        if self.events is not None and not done:
            _note_here(task_id, True)
        if slot is None or self.limiter is None:
            return
        if done:
            self.limiter.release(slot)
        else:
            self.limiter.bind(slot, task_id)

    def drop(self, slot: Slot | None) -> None:
        """The submit failed: give the slot back. (A submit whose answer was lost may still have made
        a task; its slot is given back anyway, so a lost answer cannot hold a slot for an hour.)"""
        if slot is not None and self.limiter is not None:
            self.limiter.release(slot)

    def ended(self, task_id: str) -> None:
        """A task was seen ending: give back its slot here, or tell the process that holds it."""
        if self.events is not None:
            _note_here(task_id, False)
        if self.limiter is not None and self.limiter.task_ended(task_id):
            return
        if _slot_ended(self.redis.url if self.redis else "", task_id):
            return
        if self.events is not None and self.limit is not None:  # the slot may be another process's
            self.events.announce(task_id)


def _slot_ended(url: str, task_id: str) -> bool:
    """Give back the slot of ``task_id`` if any limiter of this process (on ``url``) holds it."""
    pid = os.getpid()
    with _lock:
        limiters = [lim for (p, u, _, _), lim in _limiters.items() if p == pid and u == url]
    return any(lim.task_ended(task_id) for lim in limiters)
