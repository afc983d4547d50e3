"""Per-account task slots: at most N tasks in flight, handed out first come, first served.

RunningHub refuses a submit over the account's concurrency (421 TASK_QUEUE_MAXED on shared keys),
and a client that retries those refusals lives on back-off: a task waits seconds after a slot came
free. Here a task takes a slot *before* its submit and gives it back when it is seen ending, and
the next waiter gets it at once. :class:`LocalLimiter` does that inside one process;
:class:`RedisLimiter` does it for every process and machine on the same Redis, with the same order
(one queue in Redis) and leases, so a process that dies gives its slots back.

Redis round trips per task: one script to take a slot (queue up if none is free; the grant then
arrives pushed over pub/sub, no polling) and one to give it back (which hands it to the next
waiter in the same script). A heartbeat per *process* (not per task) keeps its leases alive.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._exceptions import SlotTimeoutError
from ._redis import PREFIX, RedisLink, RedisUnavailable, process_id
from ._signals import Signal

__all__ = ["DEFAULT_HOLD", "DEFAULT_LEASE", "Limiter", "LocalLimiter", "RedisLimiter", "Slot"]

log = logging.getLogger("rh_tools")

#: Longest a slot stays taken without anyone seeing its task end (a run whose wait gave up, a
#: ``submit`` never collected): then it returns by itself. Longer than any task should run.
DEFAULT_HOLD = 3600.0
#: A process that stops renewing (killed, frozen, cut off) loses its slots this many seconds later.
DEFAULT_LEASE = 15.0
#: A waiter looks this often whether its subscription dropped (then a pushed grant may be lost, and
#: it asks Redis again).
RECHECK = 2.0
_tickets = itertools.count(1)


@dataclass(eq=False)
class Slot:
    """One task's place among the account's N. ``shared``: held in Redis (else in this process)."""

    ticket: str
    shared: bool
    task_id: str | None = None
    released: bool = False
    waited: float = 0.0  # seconds spent queueing for it
    epoch: int = -1  # the subscription epoch when Redis was last asked (RedisLimiter)


class Limiter(Protocol):
    limit: int

    def acquire(self, deadline: float) -> Slot: ...

    async def aacquire(self, deadline: float) -> Slot: ...

    def bind(self, slot: Slot, task_id: str) -> None: ...

    def release(self, slot: Slot) -> None: ...

    def task_ended(self, task_id: str) -> bool: ...


def _timeout(limit: int, waited: float, where: str) -> SlotTimeoutError:
    return SlotTimeoutError(
        f"All {limit} task slots of this account stayed in use for {waited:.0f}s ({where}); nothing was submitted",
        code="SLOTS_BUSY",
    )


def _new_ticket() -> str:
    return f"{process_id()}:{next(_tickets)}"


class _Holdings:
    """Which slots this process holds, by ticket and by task id (shared by both limiters)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_task: dict[str, Slot] = {}

    def bind(self, slot: Slot, task_id: str) -> None:
        with self.lock:
            slot.task_id = task_id
            if not slot.released:
                self.by_task[task_id] = slot

    def take(self, task_id: str) -> Slot | None:
        with self.lock:
            return self.by_task.pop(task_id, None)

    def forget(self, slot: Slot) -> bool:
        """Mark ``slot`` released; False if it already was (release is idempotent)."""
        with self.lock:
            if slot.released:
                return False
            slot.released = True
            if slot.task_id is not None and self.by_task.get(slot.task_id) is slot:
                del self.by_task[slot.task_id]
            return True


class LocalLimiter:
    """N slots shared by the threads and event loops of one process, in arrival order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._held: set[str] = set()
        self._queue: deque[tuple[str, Signal]] = deque()
        self._holdings = _Holdings()

    def __repr__(self) -> str:
        return f"LocalLimiter(limit={self.limit}, held={len(self._held)}, waiting={len(self._queue)})"

    @property
    def in_use(self) -> int:
        return len(self._held)

    def _enter(self) -> tuple[Slot, Signal | None]:
        ticket = _new_ticket()
        with self._lock:
            if len(self._held) < self.limit and not self._queue:
                self._held.add(ticket)
                return Slot(ticket, shared=False), None
            signal = Signal()
            self._queue.append((ticket, signal))
            return Slot(ticket, shared=False), signal

    def _gave_up(self, slot: Slot, signal: Signal, started: float) -> Slot:
        with self._lock:
            if signal.fired:  # granted while timing out: keep it
                return slot
            self._queue.remove((slot.ticket, signal))
        raise _timeout(self.limit, time.monotonic() - started, "this process")

    def acquire(self, deadline: float) -> Slot:
        started = time.monotonic()
        slot, signal = self._enter()
        if signal is not None and not signal.wait(deadline - time.monotonic()):
            slot = self._gave_up(slot, signal, started)
        slot.waited = time.monotonic() - started
        return slot

    async def aacquire(self, deadline: float) -> Slot:
        started = time.monotonic()
        slot, signal = self._enter()
        if signal is not None and not await signal.await_(deadline - time.monotonic()):
            slot = self._gave_up(slot, signal, started)
        slot.waited = time.monotonic() - started
        return slot

    def bind(self, slot: Slot, task_id: str) -> None:
        self._holdings.bind(slot, task_id)

    def release(self, slot: Slot) -> None:
        if not self._holdings.forget(slot):
            return
        wake: list[Signal] = []
        with self._lock:
            self._held.discard(slot.ticket)
            while self._queue and len(self._held) < self.limit:
                ticket, signal = self._queue.popleft()
                self._held.add(ticket)
                wake.append(signal)
        for signal in wake:
            signal.fire()

    def task_ended(self, task_id: str) -> bool:
        slot = self._holdings.take(task_id)
        if slot is None:
            return False
        self.release(slot)
        return True


# ---------------------------------------------------------------------------------------- Redis

# Shared by the scripts: who is alive, and handing free slots to the head of the queue.
# KEYS: slots (zset ticket -> hold deadline ms), queue (zset ticket -> arrival number),
#       owner (hash ticket -> "<process> <hold ms>"), seq (arrival counter)
# ARGV (common head): now ms, limit, lease ms, process, process-key prefix, grant-channel prefix
_LUA_COMMON = """
local slots, queue, owner, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local me, pp, gp = ARGV[4], ARGV[5], ARGV[6]
redis.call('SET', pp .. me, '1', 'PX', lease)
local function who(t)
  local v = redis.call('HGET', owner, t)
  if not v then return nil, 0 end
  local p, h = string.match(v, '^(%S+) (%S+)$')
  return p, tonumber(h)
end
local function alive(t)
  local p = who(t)
  return p ~= nil and redis.call('EXISTS', pp .. p) == 1
end
local function drop(key, t)
  redis.call('ZREM', key, t)
  redis.call('HDEL', owner, t)
end
local function clean()
  local held = redis.call('ZRANGE', slots, 0, -1, 'WITHSCORES')
  for i = 1, #held, 2 do
    if tonumber(held[i + 1]) < now or not alive(held[i]) then drop(slots, held[i]) end
  end
end
local function serve(quiet)
  local granted = 0
  while redis.call('ZCARD', slots) < limit do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then break end
    redis.call('ZREM', queue, head)
    local p, h = who(head)
    if p ~= nil and redis.call('EXISTS', pp .. p) == 1 then
      redis.call('ZADD', slots, now + h, head)
      granted = granted + 1
      if head ~= quiet then redis.call('PUBLISH', gp .. p, head) end
    else
      redis.call('HDEL', owner, head)
    end
  end
  return granted
end
"""

# ARGV: common head, ticket, hold ms. Returns 1 when the ticket holds a slot, else 0 (queued).
_LUA_ACQUIRE = (
    _LUA_COMMON
    + """
local ticket, hold = ARGV[7], ARGV[8]
clean()
if redis.call('ZSCORE', slots, ticket) then return 1 end
if not redis.call('ZSCORE', queue, ticket) then
  redis.call('HSET', owner, ticket, me .. ' ' .. hold)
  redis.call('ZADD', queue, redis.call('INCR', seq), ticket)
end
serve(ticket)
if redis.call('ZSCORE', slots, ticket) then return 1 end
return 0
"""
)

# ARGV: common head, then tickets to give back (held or still queued). Returns slots handed on.
_LUA_RELEASE = (
    _LUA_COMMON
    + """
for i = 7, #ARGV do
  drop(slots, ARGV[i])
  drop(queue, ARGV[i])
end
clean()
return serve(nil)
"""
)

# ARGV: common head, ticket. Leave the queue; 1 if a slot was granted meanwhile (then it is kept).
_LUA_LEAVE = (
    _LUA_COMMON
    + """
local ticket = ARGV[7]
if redis.call('ZSCORE', slots, ticket) then return 1 end
drop(queue, ticket)
return 0
"""
)


@dataclass
class _Pending:
    """Work for Redis that an outage interrupted, done when it is back."""

    release: set[str] = field(default_factory=set)


class RedisLimiter:
    """N slots per account shared through Redis by every process that names the same server.

    ``account`` names the account (a fingerprint of key and site, never the key). While Redis is
    unreachable, new tasks take slots of a :class:`LocalLimiter` of the same size (one warning, from
    the link); slots taken in Redis before the outage are given back there when it returns.
    """

    def __init__(
        self,
        link: RedisLink,
        account: str,
        limit: int,
        *,
        hold: float = DEFAULT_HOLD,
        lease: float = DEFAULT_LEASE,
        recheck: float = RECHECK,
    ) -> None:
        self.link = link
        self.account = account
        self.limit = limit
        self.hold = hold
        self.lease = lease
        self.recheck = recheck
        self.local = LocalLimiter(limit)
        self._holdings = _Holdings()
        self._signals: dict[str, Signal] = {}
        self._lock = threading.Lock()
        self._mine: set[str] = set()  # tickets held or queued in Redis by this process
        self._pending = _Pending()
        self._scripts: dict[str, Any] = {}
        base = f"{PREFIX}limit:{account}:"
        self._keys = [base + "slots", base + "queue", base + "owner", base + "seq"]
        self._grants = f"{PREFIX}grant:"
        self._subscribed = False
        self._heartbeat: threading.Thread | None = None
        self.round_trips = 0  # Redis calls made for slots, lease renewals included (benchmarks read it)
        self.renewals = 0  # of which lease renewals: per process, not per task
        link.on_recovered(self._recovered)

    def __repr__(self) -> str:
        return f"RedisLimiter({self.link.where}, limit={self.limit})"

    # -- Redis plumbing ---------------------------------------------------------------------------

    def _script(self, name: str, source: str) -> Any:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self.link.client().register_script(source)
        return script

    def _run(self, doing: str, name: str, source: str, *args: Any) -> int:
        head = [int(time.time() * 1000), self.limit, int(self.lease * 1000), process_id(), PREFIX + "proc:"]
        argv = [*head, self._grants, *args]
        self.round_trips += 1
        return int(self.link.call(doing, lambda r: self._script(name, source)(keys=self._keys, args=argv, client=r)))

    def _on_grant(self, ticket: str) -> None:
        with self._lock:
            signal = self._signals.get(ticket)
        if signal is not None:
            signal.fire()

    def _subscribe(self) -> None:
        if not self._subscribed:
            self._subscribed = True
            self.link.subscribe(self._grants + process_id(), self._on_grant)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or not self._heartbeat.is_alive():
            self._heartbeat = threading.Thread(target=self._beat, name="rh-slot-lease", daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        """Renew this process's lease while it holds or awaits slots: one call per process every
        lease/3, whatever the number of tasks. While some of its tasks wait, that call is the
        release script with nothing to give back: it also clears out holders whose lease ran out
        (a dead process) and hands their slots on, so waiters never need to poll for that."""
        key = PREFIX + "proc:" + process_id()
        while True:
            time.sleep(self.lease / 3)
            with self._lock:
                busy, waiting = bool(self._mine), bool(self._signals)
            if not busy or not self.link.up:
                continue
            self.renewals += 1
            try:
                if waiting:
                    self._run("renewing task slot leases", "release", _LUA_RELEASE)
                else:
                    self.round_trips += 1
                    self.link.call("renewing task slot leases", lambda r: r.set(key, "1", px=int(self.lease * 1000)))
            except RedisUnavailable:
                pass

    def _recovered(self) -> None:
        """Redis is back: give back slots whose release the outage interrupted."""
        with self._lock:
            tickets = sorted(self._pending.release)
            self._pending.release.clear()
        if tickets:
            try:
                self._run("giving back task slots after an outage", "release", _LUA_RELEASE, *tickets)
            except RedisUnavailable:
                with self._lock:
                    self._pending.release.update(tickets)

    # -- taking a slot ----------------------------------------------------------------------------

    def _enter(self) -> tuple[Slot | None, Signal | None]:
        """Ask for a slot: (slot, None) granted, (slot, signal) queued, (None, None) Redis down."""
        if not self.link.up:
            return None, None
        ticket = _new_ticket()
        signal = Signal()
        with self._lock:
            self._signals[ticket] = signal
            self._mine.add(ticket)
        try:
            self._subscribe()
            self._start_heartbeat()
            epoch = self.link.epoch if self.link.subscribed else -1
            granted = self._run("taking a task slot", "acquire", _LUA_ACQUIRE, ticket, int(self.hold * 1000))
        except RedisUnavailable:
            self._done_waiting(ticket, holding=False)
            return None, None
        slot = Slot(ticket, shared=True, epoch=epoch)
        return (slot, None) if granted else (slot, signal)

    def _done_waiting(self, ticket: str, *, holding: bool) -> None:
        with self._lock:
            self._signals.pop(ticket, None)
            if not holding:
                self._mine.discard(ticket)

    def _check(self, slot: Slot, fired: bool, deadline: float, started: float) -> bool:
        """After a wait: True when the slot is ours. Leaves the queue at the deadline; asks Redis
        again only if a pushed grant may have been missed (the subscription dropped meanwhile)."""
        if fired:
            return True
        try:
            if time.monotonic() >= deadline:
                if self._run("leaving the task slot queue", "leave", _LUA_LEAVE, slot.ticket):
                    return True
                self._done_waiting(slot.ticket, holding=False)
                raise _timeout(self.limit, time.monotonic() - started, f"shared through {self.link.where}")
            if self.link.subscribed and self.link.epoch == slot.epoch:
                return False  # nothing can have been missed: keep waiting for the push
            slot.epoch = self.link.epoch if self.link.subscribed else -1
            return bool(self._run("taking a task slot", "acquire", _LUA_ACQUIRE, slot.ticket, int(self.hold * 1000)))
        except RedisUnavailable:
            # Still queued in Redis: leave when it is back; meanwhile wait locally.
            with self._lock:
                self._pending.release.add(slot.ticket)
            self._done_waiting(slot.ticket, holding=False)
            raise

    def _pause(self, deadline: float) -> float:
        """How long to wait for a pushed grant before looking at the subscription again (no Redis call)."""
        return max(0.0, min(self.recheck, deadline - time.monotonic()))

    def acquire(self, deadline: float) -> Slot:
        started = time.monotonic()
        slot, signal = self._enter()
        try:
            while slot is not None and signal is not None:
                if self._check(slot, signal.wait(self._pause(deadline)), deadline, started):
                    break
        except RedisUnavailable:
            slot = None
        if slot is None:
            return self.local.acquire(deadline)
        self._done_waiting(slot.ticket, holding=True)
        slot.waited = time.monotonic() - started
        return slot

    async def aacquire(self, deadline: float) -> Slot:
        started = time.monotonic()
        slot, signal = self._enter()
        try:
            while slot is not None and signal is not None:
                if self._check(slot, await signal.await_(self._pause(deadline)), deadline, started):
                    break
        except RedisUnavailable:
            slot = None
        if slot is None:
            return await self.local.aacquire(deadline)
        self._done_waiting(slot.ticket, holding=True)
        slot.waited = time.monotonic() - started
        return slot

    # -- giving it back ---------------------------------------------------------------------------

    def bind(self, slot: Slot, task_id: str) -> None:
        (self._holdings if slot.shared else self.local._holdings).bind(slot, task_id)

    def release(self, slot: Slot) -> None:
        if not slot.shared:
            self.local.release(slot)
            return
        if not self._holdings.forget(slot):
            return
        with self._lock:
            self._mine.discard(slot.ticket)
        try:
            self._run("giving back a task slot", "release", _LUA_RELEASE, slot.ticket)
        except RedisUnavailable:
            with self._lock:
                self._pending.release.add(slot.ticket)

    def task_ended(self, task_id: str) -> bool:
        slot = self._holdings.take(task_id)
        if slot is not None:
            self.release(slot)
            return True
        return self.local.task_ended(task_id)

    # -- inspection (tests, benchmarks, rh-tools status) ------------------------------------------

    def in_use(self) -> tuple[int, int]:
        """(slots taken, tasks queued) for this account across all processes."""

        def read(r: Any) -> tuple[int, int]:
            pipe = r.pipeline(transaction=False)
            pipe.zcard(self._keys[0])
            pipe.zcard(self._keys[1])
            held, queued = pipe.execute()
            return int(held), int(queued)

        return self.link.call("reading task slots", read, round_trips=0)
