"""TASK_END webhook delivery, with the retries and the delivery record the API exposes.

Why async on the emulator's own loop: the service calls back after a task ends whether or not
anyone polls, retries on failure (three times, per its delivery records), and lets a user inspect
and replay deliveries (getWebhookDetail / retryWebhook). A slow receiver must never stall the API.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .state import new_task_id
from .stats import Stats

__all__ = ["WebhookRecord", "Webhooks"]


def _ts(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(wall))


def _mask(key: str) -> str:
    return f"{key[:4]}{'*' * 8}{key[-4:]}" if len(key) > 8 else "****"


@dataclass
class WebhookRecord:
    """One webhook of one task, as getWebhookDetail reports it."""

    task_id: str
    key: str
    webhook_url: str
    payload: dict[str, Any]
    event_data: str  # the eventData as a JSON string (the detail endpoint always shows a string)
    id: str = field(default_factory=new_task_id)
    event: str = "TASK_END"
    callback_status: str = "PENDING"
    callback_response: str = ""
    retry_count: int = 0
    attempts: int = 0
    create_time: float = field(default_factory=time.time)
    update_time: float = field(default_factory=time.time)

    def detail(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userApiKey": _mask(self.key),
            "taskId": self.task_id,
            "webhookUrl": self.webhook_url,
            "event": self.event,
            "eventData": self.event_data,
            "callbackStatus": self.callback_status,
            "callbackResponse": self.callback_response,
            "retryCount": self.retry_count,
            "createTime": _ts(self.create_time),
            "updateTime": _ts(self.update_time),
        }


class Webhooks:
    """Records and delivers webhooks; ``dispatch`` must be called on the emulator's loop."""

    def __init__(self, stats: Stats, settings: Callable[[], tuple[float, tuple[float, ...]]]) -> None:
        self._stats = stats
        self._settings = settings  # () -> (timeout, retry delays)
        self._lock = threading.Lock()
        self._by_id: dict[str, WebhookRecord] = {}
        self._by_task: dict[str, WebhookRecord] = {}
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def dispatch(self, record: WebhookRecord, url: str | None = None) -> None:
        with self._lock:
            self._by_id[record.id] = record
            self._by_task[record.task_id] = record
        job = asyncio.get_running_loop().create_task(self._deliver(record, url or record.webhook_url))
        self._pending.add(job)
        job.add_done_callback(self._pending.discard)

    def for_task(self, task_id: str) -> WebhookRecord | None:
        with self._lock:
            return self._by_task.get(str(task_id))

    def get(self, webhook_id: str) -> WebhookRecord | None:
        with self._lock:
            return self._by_id.get(str(webhook_id))

    @property
    def records(self) -> list[WebhookRecord]:
        with self._lock:
            return list(self._by_id.values())

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def _deliver(self, rec: WebhookRecord, url: str) -> None:
        timeout, delays = self._settings()
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
        rec.callback_status = "PENDING"
        rec.retry_count = 0
        for attempt in range(len(delays) + 1):
            if attempt:
                await asyncio.sleep(delays[attempt - 1])
                rec.retry_count = attempt
            rec.attempts += 1
            self._stats.count_webhook(delivered=None)
            try:
                resp = await self._client.post(url, json=rec.payload, timeout=timeout)
                ok = 200 <= resp.status_code < 300
                rec.callback_response = resp.text[:500] if ok else f"HTTP {resp.status_code}: {resp.text[:200]}"
            except httpx.HTTPError as exc:
                ok = False
                rec.callback_response = f'I/O error on POST request for "{url}": {type(exc).__name__}: {exc}'[:500]
            rec.update_time = time.time()
            if ok:
                rec.callback_status = "SUCCESS"
                self._stats.count_webhook(delivered=True)
                return
        rec.callback_status = "FAILED"
        self._stats.count_webhook(delivered=False)

    async def aclose(self) -> None:
        for job in list(self._pending):
            job.cancel()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
