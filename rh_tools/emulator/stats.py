"""Counters tests and benchmarks read to see what actually reached the "server".

Why: reliability tests need to tell "the client retried a submit and created two tasks" from
"the client retried a lost answer and created one"; benchmarks need requests per path. Every
read returns a copy, so assertions never race the server thread.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["Stats"]


def _bucket(path: str) -> str:
    """Collapse per-file download paths so the per-path table stays small."""
    for prefix in ("/media/", "/lora/"):
        if path.startswith(prefix):
            return prefix + "*"
    return path


class Stats:
    """Thread-safe counters of one emulator instance; ``reset()`` zeroes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tasks_by_key: Counter[str] = Counter()
            self._tasks_by_endpoint: Counter[str] = Counter()
            self._requests_by_path: Counter[str] = Counter()
            self._responses_by_code: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._unknown_keys: dict[str, Counter[str]] = {}
            self._uploads = 0
            self._upload_bytes = 0
            self._downloads = 0
            self._webhooks_sent = 0
            self._webhooks_delivered = 0
            self._webhooks_failed = 0
            self._peak_in_flight: Counter[str] = Counter()

    # ---- writers (server side) ----------------------------------------------------------------
    def count_request(self, path: str) -> None:
        with self._lock:
            self._requests_by_path[_bucket(path)] += 1

    def count_task(self, key: str, endpoint: str) -> None:
        with self._lock:
            self._tasks_by_key[key] += 1
            self._tasks_by_endpoint[endpoint] += 1

    def count_code(self, code: str | int) -> None:
        with self._lock:
            self._responses_by_code[str(code)] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def note_in_flight(self, key: str, tasks: int) -> None:
        """Tasks of ``key`` admitted and not yet ended, right after an admission (keeps the peak)."""
        with self._lock:
            self._peak_in_flight[key] = max(self._peak_in_flight[key], tasks)

    def count_unknown_keys(self, endpoint: str, keys: list[str] | tuple[str, ...]) -> None:
        if not keys:
            return
        with self._lock:
            self._unknown_keys.setdefault(endpoint, Counter()).update(keys)

    def count_upload(self, size: int) -> None:
        with self._lock:
            self._uploads += 1
            self._upload_bytes += size

    def count_download(self) -> None:
        with self._lock:
            self._downloads += 1

    def count_webhook(self, *, delivered: bool | None) -> None:
        """One POST attempt (delivered None); then the outcome once (True/False)."""
        with self._lock:
            if delivered is None:
                self._webhooks_sent += 1
            elif delivered:
                self._webhooks_delivered += 1
            else:
                self._webhooks_failed += 1

    # ---- readers (test side) ------------------------------------------------------------------
    @property
    def tasks_created(self) -> int:
        with self._lock:
            return sum(self._tasks_by_key.values())

    @property
    def tasks_by_key(self) -> dict[str, int]:
        with self._lock:
            return dict(self._tasks_by_key)

    @property
    def tasks_by_endpoint(self) -> dict[str, int]:
        with self._lock:
            return dict(self._tasks_by_endpoint)

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(self._requests_by_path.values())

    @property
    def requests_by_path(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests_by_path)

    @property
    def error_codes(self) -> dict[str, int]:
        """Non-zero codes answered (v2 errorCode or legacy code), by code."""
        with self._lock:
            return dict(self._responses_by_code)

    @property
    def faults_fired(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    @property
    def unknown_keys(self) -> dict[str, dict[str, int]]:
        """Body keys the catalogue does not list, per endpoint (tolerated, but worth knowing)."""
        with self._lock:
            return {ep: dict(c) for ep, c in self._unknown_keys.items()}

    @property
    def peak_in_flight(self) -> dict[str, int]:
        """Most tasks of each key in flight at once (running or queued at the service): what a
        shared concurrency limit must keep at or under N."""
        with self._lock:
            return dict(self._peak_in_flight)

    @property
    def uploads(self) -> int:
        with self._lock:
            return self._uploads

    @property
    def upload_bytes(self) -> int:
        with self._lock:
            return self._upload_bytes

    @property
    def downloads(self) -> int:
        with self._lock:
            return self._downloads

    @property
    def webhooks_sent(self) -> int:
        with self._lock:
            return self._webhooks_sent

    @property
    def webhooks_delivered(self) -> int:
        with self._lock:
            return self._webhooks_delivered

    @property
    def webhooks_failed(self) -> int:
        with self._lock:
            return self._webhooks_failed

    def snapshot(self) -> dict[str, Any]:
        """Everything at once, as plain data (for benchmark reports)."""
        return {
            "tasks_created": self.tasks_created,
            "tasks_by_key": {_mask(k): v for k, v in self.tasks_by_key.items()},
            "tasks_by_endpoint": self.tasks_by_endpoint,
            "requests": self.requests,
            "requests_by_path": self.requests_by_path,
            "error_codes": self.error_codes,
            "faults_fired": self.faults_fired,
            "unknown_keys": self.unknown_keys,
            "uploads": self.uploads,
            "upload_bytes": self.upload_bytes,
            "downloads": self.downloads,
            "webhooks_sent": self.webhooks_sent,
            "webhooks_delivered": self.webhooks_delivered,
            "webhooks_failed": self.webhooks_failed,
            "peak_in_flight": {_mask(k): v for k, v in self.peak_in_flight.items()},
        }

    def __repr__(self) -> str:
        return f"Stats(tasks_created={self.tasks_created}, requests={self.requests}, uploads={self.uploads})"


def _mask(key: str) -> str:
    """Keys never leave the process whole (snapshots end up in benchmark reports)."""
    return f"{key[:4]}…{key[-4:]}" if len(key) > 8 else "…"
