"""Per-key request rate limiting (a token bucket), off unless ``rate_limit`` is set.

Why a bucket: RunningHub documents error 1003 and HTTP 429 but no number, so the emulator needs a
limit a test can dial in and a ``Retry-After`` that is honest about when the next token arrives.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """``check(key, rate, burst)`` spends one token or returns the seconds until one is available."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._clock = clock

    def check(self, key: str, rate: float | None, burst: int | None = None) -> float | None:
        """None if allowed; otherwise the wait in seconds before a retry could pass."""
        if not rate:
            return None
        cap = float(burst) if burst else float(max(1, math.ceil(rate)))
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
