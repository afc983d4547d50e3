"""Tasks, per-key accounts and the clock that moves tasks along, computed lazily from timestamps.

Why lazy: thousands of concurrent tasks must cost no threads and no timers. A task stores when it
starts running and when it ends; its status at any moment follows from those two numbers. Only
ends matter for scheduling (an end frees a slot for the next queued task of the same key), so ends
sit in one heap and ``advance(now)`` replays them in time order. Handlers call ``advance`` before
reading; a ticker on the server loop calls it too, so webhooks fire even if nobody polls.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TERMINAL",
    "Account",
    "Output",
    "Task",
    "TaskStore",
    "new_task_id",
]

TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCEL"})

# Snowflake-style ids: (ms since the Twitter epoch) << 22 | sequence gives 19 digits, like RunningHub's.
_EPOCH_MS = 1288834974657
_seq = itertools.count()
_id_lock = threading.Lock()
_last_id = 0


def new_task_id() -> str:
    """A fresh, strictly increasing 19-digit id (tasks, webhooks)."""
    global _last_id
    with _id_lock:
        candidate = ((int(time.time() * 1000) - _EPOCH_MS) << 22) | (next(_seq) & 0x3FFFFF)
        _last_id = max(candidate, _last_id + 1)
        return str(_last_id)


@dataclass(slots=True)
class Output:
    """One planned result: a file of extension ``ext`` (or a text), optionally from a workflow node."""

    ext: str
    text: str | None = None
    node_id: str | None = None


@dataclass(slots=True, eq=False)
class Task:
    """One task, whatever API created it."""

    task_id: str
    key: str
    family: str  # "standard" | "workflow" | "ai-app"
    endpoint: str  # catalogue path, or the workflow / app id
    output_type: str
    client_id: str
    duration: float
    origin: str  # base URL the result links point at
    outputs: list[Output]
    price: float = 0.0
    webhook_url: str | None = None
    unknown_keys: tuple[str, ...] = ()
    fail: tuple[str, str, Any] | None = None  # (code, bilingual message, failedReason)
    never_finish: bool = False
    created: float = 0.0  # monotonic
    created_wall: float = 0.0
    run_at: float | None = None  # None while waiting for a slot
    end_at: float | None = None
    final: str | None = None  # SUCCESS | FAILED | CANCEL once terminal
    finished_at: float | None = None
    has_slot: bool = False
    meta: dict[str, Any] = field(default_factory=dict[str, Any])

    def status(self, now: float) -> str:
        if self.final:
            return self.final
        if self.run_at is None or now < self.run_at:
            return "QUEUED"
        return "RUNNING"

    def wall(self, mono: float) -> float:
        """Wall-clock time of a monotonic instant of this task."""
        return self.created_wall + (mono - self.created)

    def cost_seconds(self) -> float:
        if self.run_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else self.run_at
        return max(0.0, end - self.run_at)


@dataclass(slots=True)
class Account:
    """What the service tracks per API key."""

    balance: float
    running: int = 0  # tasks holding a concurrency slot
    waiting: deque[Task] = field(default_factory=deque[Task])
    spent: float = 0.0


class TaskStore:
    """All tasks and accounts of one emulator; every method is thread-safe."""

    def __init__(
        self,
        *,
        limits: Callable[[str], tuple[int, int]],
        opening_balance: Callable[[str], float],
        on_end: Callable[[Task], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_tasks: Callable[[], int] = lambda: 100_000,
    ) -> None:
        self._lock = threading.RLock()
        self._tasks: dict[str, Task] = {}
        self._accounts: dict[str, Account] = {}
        self._ends: list[tuple[float, int, Task]] = []
        self._tie = itertools.count()
        self._waiting_keys: set[str] = set()
        self._terminal_order: deque[str] = deque()
        self._ended: deque[Task] = deque()
        self._limits = limits
        self._opening_balance = opening_balance
        self._on_end = on_end
        self._max_tasks = max_tasks
        self.clock = clock

    # ---- accounts ---------------------------------------------------------------------------
    def account(self, key: str) -> Account:
        with self._lock:
            acct = self._accounts.get(key)
            if acct is None:
                acct = self._accounts[key] = Account(balance=float(self._opening_balance(key)))
            return acct

    def set_balance(self, key: str, balance: float) -> None:
        with self._lock:
            self.account(key).balance = float(balance)

    # ---- admission --------------------------------------------------------------------------
    def admit(self, task: Task, *, queue_seconds: float) -> bool:
        """Start ``task`` if its key has a free slot, queue it if the queue has room, else refuse."""
        with self._lock:
            now = self.clock()
            self._advance_locked(now)
            task.created = now
            task.created_wall = time.time()
            concurrency, queue_limit = self._limits(task.key)
            acct = self.account(task.key)
            if acct.running < concurrency:
                self._start(task, acct, now + max(0.0, queue_seconds))
            elif len(acct.waiting) < queue_limit:
                acct.waiting.append(task)
                self._waiting_keys.add(task.key)
            else:
                return False
            self._tasks[task.task_id] = task
            return True

    def add_finished(self, task: Task, final: str = "SUCCESS") -> None:
        """Record a task that was terminal at submit (the API sometimes answers SUCCESS at once)."""
        with self._lock:
            now = self.clock()
            task.created = now
            task.created_wall = time.time()
            task.run_at = now
            task.end_at = now
            self._tasks[task.task_id] = task
            self._finish(task, final, now)

    def _start(self, task: Task, acct: Account, run_at: float) -> None:
        acct.running += 1
        task.has_slot = True
        task.run_at = run_at
        if task.never_finish:
            task.end_at = math.inf
            return
        task.end_at = run_at + task.duration
        heapq.heappush(self._ends, (task.end_at, next(self._tie), task))

    # ---- the clock --------------------------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        """Bring every task up to ``now`` (default: the clock)."""
        with self._lock:
            self._advance_locked(self.clock() if now is None else now)

    def _advance_locked(self, now: float) -> None:
        # Limits may have been raised at runtime: fill any newly free slots first.
        for key in list(self._waiting_keys):
            self._promote(key, now)
        while self._ends and self._ends[0][0] <= now:
            end, _, task = heapq.heappop(self._ends)
            if task.final or task.end_at != end:
                continue  # cancelled, or rescheduled
            self._finish(task, "FAILED" if task.fail else "SUCCESS", end)
            self._promote(task.key, end)

    def _promote(self, key: str, at: float) -> None:
        acct = self._accounts.get(key)
        if acct is None:
            return
        concurrency, _ = self._limits(key)
        while acct.waiting and acct.running < concurrency:
            nxt = acct.waiting.popleft()
            if nxt.final:
                continue
            self._start(nxt, acct, at)
        if not acct.waiting:
            self._waiting_keys.discard(key)

    def _finish(self, task: Task, final: str, at: float) -> None:
        task.final = final
        task.finished_at = at
        if task.has_slot:
            task.has_slot = False
            acct = self._accounts.get(task.key)
            if acct is not None:
                acct.running -= 1
        if self._on_end is not None:
            self._on_end(task)
        self._ended.append(task)
        self._terminal_order.append(task.task_id)
        self._evict()

    def _evict(self) -> None:
        limit = max(1, self._max_tasks())
        while len(self._tasks) > limit and self._terminal_order:
            self._tasks.pop(self._terminal_order.popleft(), None)

    # ---- reads and changes ------------------------------------------------------------------
    def get(self, task_id: str) -> Task | None:
        with self._lock:
            self._advance_locked(self.clock())
            return self._tasks.get(str(task_id))

    def cancel(self, task_id: str) -> Task | None:
        """Cancel a queued or running task (terminal tasks are left as they are)."""
        with self._lock:
            now = self.clock()
            self._advance_locked(now)
            task = self._tasks.get(str(task_id))
            if task is None or task.final:
                return task
            acct = self.account(task.key)
            if task in acct.waiting:
                acct.waiting.remove(task)
            self._finish(task, "CANCEL", now)
            self._promote(task.key, now)
            return task

    def drain_ended(self) -> list[Task]:
        """Tasks that became terminal since the last call (for webhook delivery)."""
        with self._lock:
            out = list(self._ended)
            self._ended.clear()
            return out

    def counts(self, key: str) -> tuple[int, int]:
        """(tasks holding a slot, tasks waiting) for ``key``, as of now."""
        with self._lock:
            self._advance_locked(self.clock())
            acct = self._accounts.get(key)
            return (acct.running, len(acct.waiting)) if acct else (0, 0)

    def next_event_in(self) -> float | None:
        """Seconds until the next task ends (None if none is scheduled)."""
        with self._lock:
            while self._ends and (self._ends[0][2].final or self._ends[0][2].end_at != self._ends[0][0]):
                heapq.heappop(self._ends)
            return max(0.0, self._ends[0][0] - self.clock()) if self._ends else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        with self._lock:
            return iter(list(self._tasks.values()))
