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

__all__ = ["Waiter"]

log = logging.getLogger("rh_tools")


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
    _target: float = 0.0  # task age the next cold poll aims at

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
        expected = self.history.expect(self.history_key) if self.history and self.history_key else None
        self._warm = expected is not None
        age = self.age()
        delay = self.policy.next_delay(age, self._prev_delay, expected)
        self._prev_delay = delay
        if expected is None and delay > 0:
            # Cold back-off runs on a fixed timetable of task ages (0.5, 1.25, 2.4 … s): a poll that
            # was itself late (a busy event loop, queued connections) does not push the later ones back.
            self._target = max(self._target + delay, age + min(delay, self.policy.floor))
            delay = self._target - age
        if delay >= remaining:
            self._final_poll_done = True
            return remaining
        return delay

    def observe(self, task: Task, *, polled: bool = True) -> TaskResult | None:
        """Record one status; return the result when done, raise on failure, None to keep polling."""
        self.failures = 0
        self.polls += polled
        self.last = task
        if self.on_status is not None:
            try:
                self.on_status(task, self.elapsed())
            except Exception:  # a progress callback must never lose the task
                log.exception("status callback failed")
        if task.status == "SUCCESS":
            elapsed = self.elapsed()
            if self.history and self.history_key:
                # The task ended in (lo, hi]; learn the middle. After a jump straight into a learnt
                # window the bracket reaches back to the submit and says little: count at most two
                # poll steps of it, so what is learnt errs early (an extra poll next time) rather
                # than late (lag), and tasks that got faster still pull the window down.
                lo, hi = self.last_not_done_at, self.age()
                if self._warm:
                    lo = max(lo, hi - 2 * self.policy.step(hi))
                self.history.record(self.history_key, (lo + hi) / 2)
            # SUCCESS with no results is passed on as an empty result (official behaviour unverified).
            return TaskResult(**task.model_dump(), elapsed=elapsed, polls=self.polls)
        if task.status in ("FAILED", "CANCEL") or task.error_code or task.error_message:
            # The official client treats any errorCode on a poll as failure, whatever the status.
            raise _task_failed(task)
        self.last_not_done_at = self.age()
        return None

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
