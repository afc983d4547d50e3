"""Webhook fan-in: a TASK_END heard by any process wakes the wait for that task wherever it runs.

Behind a load balancer, RunningHub's callback for a task lands on whichever replica the balancer
picks, usually not the one waiting. Every process on the same Redis subscribes to one channel;
a process that hears of an end (a callback, or a poll that saw a task end) publishes it there, and
every other process wakes its local waits for that task and gives back the task's slot if it
holds it. A wake only triggers one confirming poll (as with a local callback), so a lost, late or
forged message costs at most a query; polling stays the fallback.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from .._webhooks import WebhookReceiver
from ._redis import PREFIX, RedisLink, RedisUnavailable, process_id

__all__ = ["ENDED_CHANNEL", "TaskEvents"]

log = logging.getLogger("rh_tools")

ENDED_CHANNEL = PREFIX + "ended"


class TaskEvents:
    """Relays task ends between processes through ``link`` and wakes local waits on ``board``.

    ``board`` is the process's :class:`~rh_tools.WebhookReceiver` (its ``sleep``/``asleep`` are what
    waits block on): one the caller runs for callbacks, or a private one that only Redis feeds.
    """

    def __init__(self, link: RedisLink, board: WebhookReceiver, local: Callable[[str], bool] | None = None) -> None:
        self.link = link
        self.board = board
        # ``local(task_id)``: the task's wait and slot are in this process, so a callback needs no relay.
        self._local = local
        self._on_end: list[Callable[[str], Any]] = []
        self._relaying = threading.local()
        # Relaying needs no subscription: a replica that only receives callbacks (and never waited
        # itself) must pass them on all the same. Nothing touches Redis until a callback arrives.
        board.listeners.append(self._delivered)
        self._started = False
        self._lock = threading.Lock()
        self.relayed = 0  # ends published (benchmarks read it)
        self.heard = 0  # ends heard from other processes

    def __repr__(self) -> str:
        return f"TaskEvents({self.link.where})"

    def start(self) -> TaskEvents:
        """Subscribe (once), to hear the ends other processes publish."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        self.link.subscribe(ENDED_CHANNEL, self._heard)
        return self

    def on_end(self, callback: Callable[[str], Any]) -> None:
        """Also call ``callback(task_id)`` when another process reports an end (slot give-back)."""
        self._on_end.append(callback)

    # -- out ---------------------------------------------------------------------------------------

    def _delivered(self, payload: dict[str, Any]) -> None:
        """The board accepted a callback: tell the other processes (unless it came from them)."""
        task_id = str(payload.get("taskId"))
        if getattr(self._relaying, "active", False) or (self._local is not None and self._local(task_id)):
            return
        self.announce(task_id)

    def announce(self, task_id: str) -> None:
        """Publish that ``task_id`` ended (never raises: a lost message only costs the others a poll)."""
        message = json.dumps({"event": "TASK_END", "taskId": task_id, "from": process_id()})
        try:
            self.link.call("publishing a task end", lambda r: r.publish(ENDED_CHANNEL, message))
            self.relayed += 1
        except RedisUnavailable:
            pass

    # -- in ----------------------------------------------------------------------------------------

    def _heard(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("from") == process_id() or not message.get("taskId"):
            return
        task_id = str(message["taskId"])
        self.heard += 1
        self._relaying.active = True
        try:
            self.board.deliver({"event": "TASK_END", "taskId": task_id})
        finally:
            self._relaying.active = False
        for callback in self._on_end:
            try:
                callback(task_id)
            except Exception:
                log.debug("task end callback failed", exc_info=True)
