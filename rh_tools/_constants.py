"""Defaults in one place, so every knob has a name and a reason."""

from __future__ import annotations

__all__ = [
    "BASE_URLS",
    "DEADLINE_GRACE",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DOWNLOAD_TIMEOUT",
    "DEFAULT_MAX_DOWNLOAD_MB",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_SITE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "ENV_PREFIX",
    "POLL_INITIAL",
    "POLL_MAX_INTERVAL",
    "RETRY_BASE_DELAY",
    "RETRY_MAX_DELAY",
    "RETRY_AFTER_CAP",
    "MAX_IN_FLIGHT",
    "MAX_POLL_FAILURES",
]

ENV_PREFIX = "RUNNINGHUB_"

# Keys belong to one site; the international site is the default of the English docs.
BASE_URLS = {"ai": "https://www.runninghub.ai", "cn": "https://www.runninghub.cn"}
DEFAULT_SITE = "ai"

# Per HTTP request. Uploads of large files get no total limit, only these per-operation ones.
DEFAULT_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0

# A run's or wait's ``timeout`` bounds the whole call (submit, uploads, every poll, however slowly
# a server answers); the request in flight when it passes gets this much longer to finish, so a
# final poll at the deadline can still return the result.
DEADLINE_GRACE = 2.0

# Output downloads: per file, the largest accepted and the longest its whole download may take.
DEFAULT_MAX_DOWNLOAD_MB = 2048.0
DEFAULT_DOWNLOAD_TIMEOUT = 600.0

DEFAULT_MAX_RETRIES = 3
RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
# A server asking us to wait longer than this is treated as "not now": we give up and report.
RETRY_AFTER_CAP = 60.0

# One overall deadline for waiting on a task (images take seconds, videos minutes).
DEFAULT_WAIT_TIMEOUT = 900.0
# Cold polls come every second (no more queries than a once-a-second poller), then every 15 % of the
# task's age up to a cap (a ten-minute video should not cost hundreds of queries); learnt durations
# do better. See _polling.PollPolicy.
POLL_INITIAL = 1.0
POLL_MAX_INTERVAL = 10.0
# The official client tolerates 5 consecutive failed polls before giving up; so do we.
MAX_POLL_FAILURES = 5

# Requests one AsyncRunningHub has on the wire at once. httpx's pool rescans every queued request on
# each pool event, so handing it a thousand at once costs CPU quadratically (benchmarks/RESULTS.md,
# goal 4); a semaphore in front keeps the queue in asyncio, where waiting is cheap.
MAX_IN_FLIGHT = 20
