"""When to ask RunningHub about a task again: pure decisions, no sleeping.

RunningHub offers no push channel for Standard Model tasks except webhooks, so a finished result
reaches the caller one poll after it is ready. Fixed intervals waste either time (the official
client's 5 s) or queries (1 s). Real task times are heavy-tailed (queues: an endpoint whose tasks
usually take 8 s also takes 3 s or 30 s), so:

* cold (nothing learnt about the endpoint): poll every ``initial`` (1 s) until ``cold_ratio``
  (15 %) of the task's age is longer, then every 15 % of the age: no more queries than a
  once-a-second poller, and a lag of at most 15 % of the task time past the first seconds;
* warm (durations of the endpoint learnt by :class:`DurationHistory`: a log-normal fitted
  robustly): sleep to the window where the task is likely to finish, poll every ``lag_ratio``
  (8 %) of the age inside it, or sparser where that would cost more queries than one per
  ``initial`` of task time (:meth:`PollPolicy.chance`), and back off past it.

benchmarks/RESULTS.md has the measured trade-off; benchmarks/sim_polling.py replays this code on a
simulated clock, on uniform and log-normal durations, next to fixed and geometric pollers and the
lower bound of any schedule."""

from __future__ import annotations

import bisect
import math
import statistics
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


_NORMAL = statistics.NormalDist()


@dataclass(frozen=True)
class Expectation:
    """Where a task is expected to finish, in seconds after submit.

    ``low``/``high``: a low and a high quantile of the learnt durations (the window worth polling
    densely). ``median``/``sigma``: the log-normal fitted to them (``sigma`` the spread of the log
    durations), when known: it tells how likely a task still running at some age is to finish soon.
    """

    low: float
    high: float
    median: float | None = None
    sigma: float | None = None

    @property
    def mean(self) -> float:
        """The mean duration (of the fitted log-normal; else the window's middle)."""
        if self.median is None or self.sigma is None:
            return (self.low + self.high) / 2
        return self.median * math.exp(self.sigma**2 / 2)

    def quantile(self, p: float) -> float:
        """The duration a share ``p`` of tasks finish within (``low`` without a fitted distribution)."""
        if self.median is None or not self.sigma:
            return self.low
        return self.median * math.exp(self.sigma * _NORMAL.inv_cdf(min(max(p, 1e-9), 1 - 1e-9)))

    def gap_for(self, age: float, chance: float) -> float:
        """Seconds after ``age`` within which a task still running at ``age`` finishes with ``chance``.

        0 without a fitted distribution; large (1e9) far in a tail where that chance is not reached.
        """
        if self.median is None or not self.sigma or chance <= 0:
            return 0.0
        z = math.log(max(age, 1e-9) / self.median) / self.sigma
        left = _NORMAL.cdf(-z) * (1 - chance)  # the share of all tasks that would still be running
        if left <= 1e-12:
            return 1e9
        return self.median * math.exp(self.sigma * -_NORMAL.inv_cdf(left)) - age


@dataclass(frozen=True)
class PollPolicy:
    #: The pace of polling: the first poll of a task of an endpoint not seen before, the gaps of
    #: cold polls until ``cold_ratio`` x age is longer, and the query budget of warm polls (about
    #: one query per ``initial`` seconds of task time). A caller's ``poll_interval``.
    initial: float = C.POLL_INITIAL
    max_interval: float = C.POLL_MAX_INTERVAL
    #: The shortest sleep of a warm poll (or ``initial``, when that is set lower).
    min_interval: float = 0.30
    #: Inside the learnt window, poll at least every ``lag_ratio`` x age: the lag is uniform within
    #: a step, so its median is about half of it.
    lag_ratio: float = 0.08
    #: Cold gaps grow to this fraction of the task's age (the worst-case lag of a cold task).
    cold_ratio: float = 0.15
    #: Past the learnt window, and where the budget allows sparser polls, gaps are at most this
    #: fraction of the age (the slow outliers of a heavy tail are still looked at).
    tail_ratio: float = 0.20
    #: The first warm poll comes where this fraction of :meth:`chance` of tasks is done (and not
    #: before the window's low quantile): below 1, a little before the budget alone would put it.
    first_odds: float = 0.75
    #: A poll at an age that at least this many recent tasks of the endpoint were already seen
    #: running past, none of them seen done by then, is skipped (see :meth:`skips`). 0: never.
    peer_evidence: int = 50

    @property
    def floor(self) -> float:
        """The shortest sleep; a caller who asked for a faster first poll gets that pace too."""
        return min(self.min_interval, self.initial)

    def chance(self, expected: Expectation) -> float:
        """The chance of finding a running task done that a warm poll should have, at least.

        Polling whenever a task still running has this chance of having finished since the last
        look costs about 1 / chance = mean duration / ``initial`` queries per task: what polling
        every ``initial`` seconds costs, whatever the shape of the durations.
        """
        return min(1.0, self.initial / max(expected.mean, 1e-9))

    def step(self, age: float, expected: Expectation | None = None) -> float:
        """The poll interval at ``age`` inside the expected window.

        ``lag_ratio`` x age for a small lag, unless polls that dense would cost more than the
        budget: then the gap in which a running task finishes with :meth:`chance` (short tasks of
        a heavy-tailed endpoint, where no schedule has both; see benchmarks/RESULTS.md), but never
        more than ``initial`` or ``tail_ratio`` x age.
        """
        gap = max(self.floor, self.lag_ratio * age)
        if expected is not None:
            sparse = min(expected.gap_for(age, self.chance(expected)), max(self.initial, self.tail_ratio * age))
            gap = max(gap, sparse)
        return min(gap, self.max_interval)

    def skips(self, age: float, survivors: int, finished: int) -> bool:
        """Whether a poll at task age ``age`` can be skipped, given what other tasks showed.

        ``survivors``: recent tasks of the endpoint seen still running at ``age`` or later;
        ``finished``: those seen done by ``age``. If none of n tasks finished by an age, a task
        finishing before it is a ~1/n event (at most 3/n, 95 % confident); a poll is skipped when
        that bound, (finished + 3) / n, is at most 3 / ``peer_evidence`` (6 %: 50 tasks, none
        done). This keeps a thousand tasks of one endpoint, submitted together, from all polling
        through the seconds none of them can have finished (benchmarks/bench_concurrency.py); a
        handful of tasks at once never skip.
        """
        seen = survivors + finished
        return self.peer_evidence > 0 and seen > 0 and (finished + 3) / seen <= 3 / self.peer_evidence

    def next_delay(self, age: float, previous: float | None, expected: Expectation | None = None) -> float:
        """Seconds to sleep before the next poll, given the task's age (seconds since its creation).

        ``previous`` is the last sleep (None before the first poll); ``expected`` what was learnt.
        """
        if self.initial <= 0:  # tests and replays: no sleeping at all
            return 0.0
        if expected is None:
            if previous is None:
                return self.initial
            return min(max(self.initial, self.cold_ratio * age), self.max_interval)
        # The first poll worth making: at the window's low quantile, or later where a poll there
        # would be a poor bet (short tasks, where the budget binds). Get there in as few hops as
        # max_interval allows (the hops still catch early failures), then poll every step.
        first = max(expected.low, expected.quantile(min(0.5, self.first_odds * self.chance(expected))))
        if age < first - self.floor:
            gap = first - age
            return max(self.floor, gap / math.ceil(gap / self.max_interval))
        if age > expected.high:  # slower than most seen: back off with the age
            return min(max(self.step(age, expected), self.tail_ratio * age), self.max_interval)
        return self.step(age, expected)


class DurationHistory:
    """Recent completion times per endpoint, to predict when the next task of it finishes.

    A completion is only known to lie between the last poll that saw it running and the poll that
    saw it done; the waiter records the middle of that bracket (after a jump into a learnt window,
    of its last two poll steps: see ``Waiter.observe``), so predictions err early (one extra poll)
    rather than late (lag).

    Real durations are heavy-tailed, so the window is not the min/max of what was seen (from 16
    samples of a log-normal those land anywhere between its 3rd and 97th percentile): it is a pair
    of quantiles of a log-normal fitted robustly (median and mean absolute deviation of the log
    durations), its spread shrunk towards a prior while samples are few and widened by the
    uncertainty of the median itself.
    """

    #: Quantiles of the window: the first poll worth making, and where the tail begins.
    low_q: float = 0.10
    high_q: float = 0.90
    #: Log-spread assumed before samples say otherwise (0.3: tasks 1.35x slower or faster than the
    #: median are common), and its weight in samples.
    prior_sigma: float = 0.3
    prior_weight: float = 4.0
    #: The narrowest spread trusted: a recorded duration is itself only known to ~5 %.
    min_sigma: float = 0.05

    def __init__(self, size: int = 32, min_samples: int = 2, store: DurationStore | None = None) -> None:
        self._size = size
        self._min = min_samples
        self._data: dict[str, deque[float]] = {}
        self._census: dict[str, _Census] = {}
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

    def seen_running(self, key: str, task_id: str, age: float) -> None:
        """Note that a task of ``key`` was still running at ``age`` seconds (evidence for its peers).

        Kept in this process only, for the most recent tasks of each key (see ``PollPolicy.skips``).
        """
        with self._lock:
            self._census.setdefault(key, _Census()).note(task_id, age, done=False)

    def seen_done(self, key: str, task_id: str, age: float) -> None:
        """Note that a task of ``key`` was seen finished (in any state) at ``age`` seconds."""
        with self._lock:
            self._census.setdefault(key, _Census()).note(task_id, age, done=True)

    def census(self, key: str, age: float) -> tuple[int, int]:
        """(recent tasks of ``key`` seen running at ``age`` or later, those seen done by ``age``)."""
        with self._lock:
            census = self._census.get(key)
            return census.count(age) if census else (0, 0)

    def expect(self, key: str) -> Expectation | None:
        with self._lock:
            seen = self._seen(key)
            if not seen or len(seen) < self._min:
                return None
            samples = list(seen)
        return fit_window(samples, self.low_q, self.high_q, self.prior_sigma, self.prior_weight, self.min_sigma)


def fit_window(
    samples: list[float], low_q: float, high_q: float, prior_sigma: float, prior_weight: float, min_sigma: float
) -> Expectation:
    """The ``low_q``..``high_q`` window of a log-normal fitted robustly to ``samples`` (seconds)."""
    logs = sorted(math.log(max(s, 0.01)) for s in samples)
    n = len(logs)
    mu = statistics.median(logs)
    if n >= 3:
        # The mean absolute deviation from the median (x 1.2533 for a normal): nearly as precise as
        # the standard deviation from few samples. Each deviation is capped at 3 x the median one's
        # scale, so a task stuck in a queue for an hour moves the window as little as a slow one.
        deviations = [abs(x - mu) for x in logs]
        cap = 3 * 1.4826 * statistics.median(deviations) or math.inf
        observed = 1.2533 * statistics.fmean(min(d, cap) for d in deviations)
        sigma = math.sqrt((prior_weight * prior_sigma**2 + n * observed**2) / (prior_weight + n))
    else:
        sigma = prior_sigma
    # The median of n samples is itself off by ~1.25 sigma / sqrt(n): widen the window by that.
    spread = max(sigma, min_sigma) * math.sqrt(1 + 1.57 / n)
    return Expectation(
        low=math.exp(mu + _NORMAL.inv_cdf(low_q) * spread),
        high=math.exp(mu + _NORMAL.inv_cdf(high_q) * spread),
        median=math.exp(mu),
        sigma=spread,
    )


class _Census:
    """What the last ``size`` tasks of one key showed: the highest age each was seen running at, and
    the age each finished one was seen done at, kept sorted for counting."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._tasks: dict[str, tuple[float | None, float | None]] = {}  # least recently seen first
        self._running: list[float] = []
        self._done: list[float] = []

    def note(self, task_id: str, age: float, *, done: bool) -> None:
        running, finished = self._forget(task_id)
        if done:
            finished = age if finished is None else min(finished, age)
        else:
            running = age if running is None else max(running, age)
        if len(self._tasks) >= self._size:
            self._forget(next(iter(self._tasks)))
        self._tasks[task_id] = (running, finished)
        if running is not None:
            bisect.insort(self._running, running)
        if finished is not None:
            bisect.insort(self._done, finished)

    def _forget(self, task_id: str) -> tuple[float | None, float | None]:
        running, finished = self._tasks.pop(task_id, (None, None))
        if running is not None:
            del self._running[bisect.bisect_left(self._running, running)]
        if finished is not None:
            del self._done[bisect.bisect_left(self._done, finished)]
        return running, finished

    def count(self, age: float) -> tuple[int, int]:
        return len(self._running) - bisect.bisect_left(self._running, age), bisect.bisect_right(self._done, age)
