"""Progress heartbeats while a tool waits on a RunningHub task.

MCP clients commonly give up on a tool call after ~60 s unless ``notifications/progress`` keeps
arriving (and only if they sent a progress token). The client library reports every status it
polls through ``on_status``; polls slow down to one every 15 s on long tasks, so a timer also
sends a beat every ``interval`` seconds in between. Sending never fails the call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from rh_tools.types import Task

__all__ = ["Heartbeat"]

log = logging.getLogger("mcp_server")
T = TypeVar("T")
Report = Callable[[float, "float | None", "str | None"], Awaitable[None]]


class Heartbeat:
    """Sends progress for one tool call; feed it statuses through :meth:`on_status`."""

    def __init__(self, report: Report | None, interval: float) -> None:
        self._report = report
        self.interval = interval
        self.started = time.monotonic()
        self.task_id: str | None = None
        self.status: str | None = None
        self.sent = 0
        self._last_progress = 0.0
        self._changed = anyio.Event()

    @property
    def done(self) -> bool:
        return self.status in ("SUCCESS", "FAILED", "CANCEL")

    def on_status(self, task: Task, elapsed: float) -> None:
        """``ToolContext.on_status``: called (synchronously, in the event loop) at every status seen."""
        changed = task.status != self.status or task.task_id != self.task_id
        self.task_id, self.status = task.task_id, task.status
        if changed:
            self._changed.set()

    def message(self) -> str:
        elapsed = time.monotonic() - self.started
        if self.task_id is None:
            return f"submitting ({elapsed:.0f}s)"
        return f"task {self.task_id} {self.status or 'RUNNING'}, {elapsed:.0f}s elapsed"

    async def beat(self) -> None:
        if self._report is None:
            return
        # Progress must increase with every notification: seconds elapsed, nudged if equal.
        progress = max(round(time.monotonic() - self.started, 1), round(self._last_progress + 0.1, 1))
        self._last_progress = progress
        try:
            await self._report(progress, None, self.message())
            self.sent += 1
        except Exception:  # the client went away or cannot take progress: stop trying, keep the call
            log.debug("progress notification failed; heartbeat stopped", exc_info=True)
            self._report = None

    async def _loop(self) -> None:
        while self._report is not None:
            with anyio.move_on_after(self.interval):
                await self._changed.wait()
            self._changed = anyio.Event()
            await self.beat()

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` while beating; its exceptions come out as they are (not grouped)."""
        if self._report is None:
            return await fn()
        outcome: Any = None
        error: BaseException | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._loop)
            try:
                outcome = await fn()
            except Exception as exc:
                error = exc
            finally:
                tg.cancel_scope.cancel()
        if error is not None:
            raise error
        return outcome
