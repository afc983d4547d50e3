"""When to ask RunningHub about a task again: pure decisions, no sleeping.

RunningHub offers no push channel for Standard Model tasks except webhooks, so a finished result
reaches the caller one poll after it is ready. Fixed intervals waste either time (the official
client's 5 s) or queries (1 s). We poll fast at first and back off geometrically; once this client
has seen tasks of the same endpoint finish, we sleep straight to one step inside the window where
this one is likely to finish and poll every ``lag_ratio`` x elapsed there (the lag is uniform
within a step, so its median is about half of it). benchmarks/RESULTS.md has the measured
trade-off and benchmarks/sim_polling.py replays this code on a simulated clock."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from . import _constants as C

__all__ = ["DurationHistory", "DurationStore", "Expectation", "PollPolicy"]


class DurationStore(Protocol):
    """Where durations outlive the process (``rh_tools.journal.Journal``); must never raise."""

    def durations(self, key: str, limit: int) -> list[float]: ...

    def add_duration(self, key: str, seconds: float) -> None: ...


@dataclass(frozen=True)
class Expectation:
    """Where a task is expected to finish, in seconds after submit."""

    low: float
    high: float


@dataclass(frozen=True)
class PollPolicy:
    initial: float = C.POLL_INITIAL
    factor: float = C.POLL_FACTOR
    max_interval: float = C.POLL_MAX_INTERVAL
    #: The shortest sleep between polls (or ``initial``, when that is set lower): 0.35 s keeps the
    #: lag on short tasks near 0.2 s while a 2-s task costs fewer queries than polling every second.
    min_interval: float = 0.35
    #: Inside the expected window, poll every ``lag_ratio`` x elapsed: the lag is uniform between 0
    #: and that step, so its median is about half of it (5 % of the task time at 0.10; the
    #: margin to 10 % absorbs windows learnt from few samples).
    lag_ratio: float = 0.10

    @property
    def floor(self) -> float:
        """The shortest sleep; a caller who asked for a faster first poll gets that pace too."""
        return min(self.min_interval, self.initial)

    def step(self, elapsed: float) -> float:
        """The poll interval inside the expected window."""
        return max(self.floor, min(self.lag_ratio * elapsed, self.max_interval))

    def next_delay(self, elapsed: float, previous: float | None, expected: Expectation | None = None) -> float:
        """Seconds to sleep before the next poll, given time since submit and the last sleep."""
        if self.initial <= 0:  # tests and replays: no sleeping at all
            return 0.0
        if expected is not None:
            if elapsed > expected.high:  # slower than ever seen: back off from the step, not the jump
                return max(self.floor, min(self.step(elapsed) * self.factor, self.max_interval))
            # The first poll worth making is one step *into* the window: a poll at its very start
            # almost never finds the task done. Get there in as few hops as max_interval allows
            # (the hops still catch early failures), then poll every step until the window ends.
            first = expected.low + self.step(expected.low)
            if elapsed < first - self.floor:
                gap = first - elapsed
                return max(self.floor, gap / math.ceil(gap / self.max_interval))
            return self.step(elapsed)
        if previous is None:
            return self.initial
        return max(self.floor, min(previous * self.factor, self.max_interval))


class DurationHistory:
    """Recent completion times per endpoint, to predict when the next task of it finishes.

    A completion is only known to lie between the last poll that saw it running and the poll that
    saw it done; the waiter records the middle of that bracket (after a jump into a learnt window,
    of its last two poll steps: see ``Waiter.observe``), so predictions err early (one extra poll)
    rather than late (lag).
    """

    def __init__(self, size: int = 16, min_samples: int = 2, store: DurationStore | None = None) -> None:
        self._size = size
        self._min = min_samples
        self._data: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        # With a store (the task journal), what earlier processes learnt is loaded on first use of
        # a key and every new sample is written through: a fresh process polls like a warm one.
        self._store = store

    def _seen(self, key: str) -> deque[float]:
        """The key's samples, loaded from the store the first time (call with the lock held)."""
        seen = self._data.get(key)
        if seen is None:
            loaded = self._store.durations(key, self._size) if self._store is not None else []
            seen = self._data[key] = deque(loaded, maxlen=self._size)
        return seen

    def record(self, key: str, seconds: float) -> None:
        with self._lock:
            self._seen(key).append(seconds)
        if self._store is not None:
            self._store.add_duration(key, seconds)

    def expect(self, key: str) -> Expectation | None:
        with self._lock:
            seen = self._seen(key)
            if not seen or len(seen) < self._min:
                return None
            ordered = sorted(seen)
        # n samples of a spread-out duration: the next one falls below the fastest (or above the
        # slowest) seen by about range / (n - 1). Widen by that, and by at least 5 %, so a window
        # learnt from two samples is not trusted like one learnt from sixteen.
        lo, hi = ordered[0], ordered[-1]
        margin = (hi - lo) / (len(ordered) - 1) if len(ordered) > 1 else 0.0
        return Expectation(low=min(lo * 0.95, lo - margin), high=max(hi * 1.05, hi + margin))
