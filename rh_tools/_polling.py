"""When to ask RunningHub about a task again: pure decisions, no sleeping.

RunningHub offers no push channel for Standard Model tasks except webhooks, so a finished result
reaches the caller one poll after it is ready. Fixed intervals waste either time (the official
client's 5 s) or queries (1 s). We poll fast at first, back off geometrically, and, once this
client has seen tasks of the same endpoint finish, sleep straight to the window where this one is
likely to finish and poll densely inside it (interval ≈ ``lag_ratio`` × elapsed, so the expected
lag stays near half of that). See benchmarks/RESULTS.md for the measured trade-off.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from . import _constants as C

__all__ = ["DurationHistory", "Expectation", "PollPolicy"]


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
    min_interval: float = 0.25
    lag_ratio: float = 0.2

    def next_delay(self, elapsed: float, previous: float | None, expected: Expectation | None = None) -> float:
        """Seconds to sleep before the next poll, given time since submit and the last sleep."""
        if self.initial <= 0:  # tests and replays: no sleeping at all
            return 0.0
        if expected is not None:
            if elapsed < expected.low:
                return max(self.min_interval, min(expected.low - elapsed, self.max_interval))
            if elapsed <= expected.high:
                return max(self.min_interval, min(self.lag_ratio * elapsed, self.max_interval))
        if previous is None:
            return self.initial
        return max(self.min_interval, min(previous * self.factor, self.max_interval))


class DurationHistory:
    """Recent completion times per endpoint, to predict when the next task of it finishes.

    A completion is only known to lie between the last poll that saw it running and the poll that
    saw it done; we record that bracket's lower edge, so predictions err early (one extra poll)
    rather than late (lag).
    """

    def __init__(self, size: int = 16, min_samples: int = 2) -> None:
        self._size = size
        self._min = min_samples
        self._data: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def record(self, key: str, seconds: float) -> None:
        with self._lock:
            self._data.setdefault(key, deque(maxlen=self._size)).append(seconds)

    def expect(self, key: str) -> Expectation | None:
        with self._lock:
            seen = self._data.get(key)
            if not seen or len(seen) < self._min:
                return None
            ordered = sorted(seen)
        # The fastest recent run bounds how early this one can finish; allow a margin either side.
        return Expectation(low=ordered[0] * 0.9, high=ordered[-1] * 1.25)
