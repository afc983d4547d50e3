"""The one polling loop's state and decisions; the twins sleep where it says and poll.

Deadline, schedule and failure tolerance live here once (see :class:`Waiter`); ``_polling`` holds
the pure interval policy and the duration history it learns from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _constants as C
from ._exceptions import RunningHubError, TaskFailedError, TaskTimeoutError
from ._polling import DurationHistory, PollPolicy
from .types import Task, TaskResult

__all__ = ["PollNotDue", "Waiter"]

_TERMINAL = ("SUCCESS", "FAILED", "CANCEL")

log = logging.getLogger("rh_tools")


class PollNotDue(Exception):
    """Raised by a twin's ``_send`` when :meth:`Waiter.sending` says the poll is not worth sending."""


@dataclass
class Waiter:
    """The one polling loop's state and decisions; the twins call it and sleep where it says.

    Deadline semantics: one overall deadline for the wait; the last poll happens at the deadline, so
    a task finishing just before it is still returned rather than reported as timed out.
    """

    task_id: str
    deadline: float
    policy: PollPolicy
    history: DurationHistory | None = None
    history_key: str | None = None
    started: float = field(default_factory=time.monotonic)
    # Polls are scheduled (and durations learnt) from when the task was created, not from when the
    # call began: under load a submit can wait for a connection slot for seconds, and counting that
    # wait would put every poll early. None: the same as ``started``.
    anchor: float | None = None
    clock: Callable[[], float] = time.monotonic
    on_status: Callable[[Task, float], Any] | None = None
    polls: int = 0
    failures: int = 0
    last: Task | None = None
    last_not_done_at: float = 0.0
    _prev_delay: float | None = None
    _final_poll_done: bool = False
    _warm: bool = False  # the last sleep aimed at a learnt window
    _skipped: bool = False  # polls were skipped since the last one (other tasks showed them too early)
    _target: float = 0.0  # task age the next cold poll aims at
    _sent_age: float | None = None  # task age the last poll left at (see sending)

    def elapsed(self) -> float:
        """Seconds since the call began (what callers and results report)."""
        return self.clock() - self.started

    def age(self) -> float:
        """Seconds since the task was created (what polling decisions use)."""
        return self.clock() - (self.started if self.anchor is None else self.anchor)

    def next_delay(self) -> float | None:
        """Sleep this long, then poll; None means the deadline has passed (raise :meth:`timeout`)."""
        now = self.clock()
        remaining = self.deadline - now
        if remaining <= 0:
            if self._final_poll_done:
                return None
            self._final_poll_done = True  # one last look at the deadline (timeout=0 means "check once")
            return 0.0
        history, key = self.history, self.history_key
        expected = history.expect(key) if history and key else None
        self._warm = expected is not None
        age = self.age()
        if expected is None:
            # Cold polls run on a fixed timetable of task ages (1, 2, 3 … s, then +15 %): a poll that
            # was itself late (a busy event loop, a queue for connections) does not push the later
            # ones back, and the next is the first of the timetable at least ``floor`` after it.
            target = self._target  # the age the last cold poll aimed at (0 before the first)
            delay = self.policy.next_delay(target, self._prev_delay, None)
            if delay <= 0:
                self._prev_delay = delay
                return 0.0
            target += delay
            while target < age + self.policy.floor:
                target += self.policy.next_delay(target, delay, None)
        else:
            delay = self.policy.next_delay(age, self._prev_delay, expected)
            target = age + delay
        if history and key and delay > 0:
            # Skip the ages other tasks of the endpoint have already shown to be too early.
            while self.policy.skips(target, *history.census(key, target)):
                target += self.policy.next_delay(target, delay, expected)
                self._skipped = True
        self._target = target
        delay = target - age
        self._prev_delay = delay
        if delay >= remaining:
            self._final_poll_done = True
            return remaining
        return delay

    def sending(self, *, check: bool = True) -> bool:
        """The poll is about to go on the wire: False if it is no longer worth sending.

        Asked after the sleep, and by the async client once a connection slot is free: under load a
        poll may wait there for seconds, while other tasks of the endpoint are seen running past
        this one's age (``PollPolicy.skips``); then the poll would tell nothing new, and the twin
        asks :meth:`next_delay` again. ``check=False`` (a webhook woke the wait): always send. Also
        notes the age the poll leaves at: what its answer tells the endpoint's other tasks.
        """
        age = self.age()
        history, key = self.history, self.history_key
        if check and not self._final_poll_done and self.policy.initial > 0 and history and key:
            if self.policy.skips(age, *history.census(key, age)):
                self._skipped = True
                return False
        self._sent_age = age
        return True

    def observe(self, task: Task, *, polled: bool = True) -> TaskResult | None:
        """Record one status; return the result when done, raise on failure, None to keep polling."""
        try:
            return self._observe(task, polled)
        finally:
            self._sent_age = None  # what sending() noted belongs to this answer only

    def _observe(self, task: Task, polled: bool) -> TaskResult | None:
        self.failures = 0
        self.polls += polled
        self.last = task
        if self.on_status is not None:
            try:
                self.on_status(task, self.elapsed())
            except Exception:  # a progress callback must never lose the task
                log.exception("status callback failed")
        if polled and self.history and self.history_key and (task.status in _TERMINAL or task.error_code):
            # Evidence for the endpoint's other tasks: this one was done by the age its poll left at
            # (counting it done early makes them skip less, never more).
            self.history.seen_done(self.history_key, self.task_id, self._evidence_age())
        if task.status == "SUCCESS":
            elapsed = self.elapsed()
            if self.history and self.history_key:
                # The task ended in (lo, hi]; learn the middle. After a jump straight into a learnt
                # window the bracket reaches back to the submit and says little: count at most two
                # poll steps of it, so what is learnt errs early (an extra poll next time) rather
                # than late (lag), and tasks that got faster still pull the window down.
                # hi: the age the poll left at, not the answer's (that may have queued for a slot).
                lo = self.last_not_done_at
                hi = max(lo, self.age() if self._sent_age is None else self._sent_age)
                if self._warm or self._skipped:  # (skipped polls widen the bracket the same way)
                    lo = max(lo, hi - 2 * self.policy.step(hi))
                self.history.record(self.history_key, (lo + hi) / 2)
            # SUCCESS with no results is passed on as an empty result (official behaviour unverified).
            return TaskResult(**task.model_dump(), elapsed=elapsed, polls=self.polls)
        if task.status in ("FAILED", "CANCEL") or task.error_code or task.error_message:
            # The official client treats any errorCode on a poll as failure, whatever the status.
            raise _task_failed(task)
        self.last_not_done_at = self.age()
        self._skipped = False
        if polled and self.history and self.history_key:
            # Evidence for the endpoint's other tasks: this one was still running at the age its poll
            # left at (at least), however late the answer came back.
            self.history.seen_running(self.history_key, self.task_id, self._evidence_age())
        return None

    def _evidence_age(self) -> float:
        """The age this poll left at (or, if the twin did not say, the lowest age it may have)."""
        if self._sent_age is not None:
            return self._sent_age
        return min(self._target, self.age())

    def poll_failed(self, error: RunningHubError) -> None:
        """A poll itself failed (after the transport retries): give up if it cannot get better."""
        self.failures += 1
        if error.task_id is None:
            error.task_id = self.task_id
        if isinstance(error, TaskFailedError):  # the answer says the task ended: final, whatever retryable says
            raise error
        if not error.retryable or self.failures >= C.MAX_POLL_FAILURES:
            if not error.hint.endswith("later."):
                error.hint = (error.hint + " " if error.hint else "") + (
                    f"The task may still finish: call wait_task/get_task with task_id={self.task_id} later."
                )
            raise error

    def timeout(self) -> TaskTimeoutError:
        return TaskTimeoutError(self.task_id, self.elapsed(), self.last.status if self.last else None)


def _task_failed(task: Task) -> TaskFailedError:
    """The error an ended task raises; its text names the failing node and exception (trimmed), which
    is what an agent needs to fix its inputs (see ``TaskFailedError.from_task``)."""
    return TaskFailedError.from_task(
        task.task_id, task.status or "FAILED", task.error_code, task.error_message, task.failed_reason
    )
