"""What the journal stores and the small interface every backend implements.

Kept free of SQL and of the client so a second backend (Redis, for several machines) can implement
:class:`TaskStore` without touching the client: the client only ever calls these methods.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["TERMINAL", "SpendRow", "TaskQuery", "TaskRecord", "TaskStore", "TaskUpdate", "group_spend"]

TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCEL"})


@dataclass
class TaskRecord:
    """One paid task as the journal knows it.

    ``created_at``/``updated_at`` are wall-clock seconds (``time.time()``): they must mean the same in
    another process or after a reboot. ``params`` never holds the key or file contents (local files
    appear by name only); ``key_id`` is a one-way fingerprint of the key, so a listing can show a
    key's own tasks without the journal ever holding the key.
    """

    task_id: str
    endpoint: str | None = None  # catalogue path, "workflow:<id>" or "ai-app:<id>"
    tool: str | None = None  # the catalogue tool name, when submitted by name
    kind: str = "model"  # "model" | "raw" | "workflow" | "ai-app"
    site: str = "ai"  # "ai" | "cn" | "custom"
    base_url: str = ""
    key_id: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    status: str = "QUEUED"
    params: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    cost: float | None = None  # money (third-party API + runtime), in the account's currency
    coins: float | None = None
    files: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    pid: int = 0  # the process that submitted it

    def __post_init__(self) -> None:
        if not self.updated_at:
            self.updated_at = self.created_at

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def age(self, now: float | None = None) -> float:
        """Seconds since the submit (never negative, even if the wall clock stepped back)."""
        return max(0.0, (time.time() if now is None else now) - self.created_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TaskUpdate:
    """What became known about a task; ``None`` leaves a field as it was (``files`` replaces)."""

    status: str | None = None
    outputs: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    cost: float | None = None
    coins: float | None = None
    files: list[str] | None = None
    error: dict[str, Any] | None = None
    updated_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class TaskQuery:
    """Filters of :meth:`TaskStore.list` (all optional; newest first)."""

    statuses: frozenset[str] | None = None
    unfinished: bool = False
    endpoint: str | None = None  # substring of the endpoint path or tool name
    since: float | None = None  # wall-clock seconds
    key_id: str | None = None
    base_url: str | None = None
    limit: int = 50

    def matches(self, r: TaskRecord) -> bool:
        """Whether ``r`` passes every filter (the limit aside): for backends that filter in Python.
        Means what SQLiteStore's SQL means (the endpoint filter is a case-blind substring)."""
        if self.statuses and r.status not in self.statuses:
            return False
        if self.unfinished and r.done:
            return False
        if self.endpoint:
            needle = self.endpoint.casefold()
            if needle not in (r.endpoint or "").casefold() and needle not in (r.tool or "").casefold():
                return False
        if self.since is not None and r.created_at < self.since:
            return False
        if self.key_id is not None and r.key_id != self.key_id:
            return False
        return self.base_url is None or r.base_url == self.base_url


@dataclass(frozen=True)
class SpendRow:
    """Cost of one endpoint on one local calendar day."""

    day: str  # YYYY-MM-DD, local time
    endpoint: str
    tasks: int
    cost: float
    coins: float


@runtime_checkable
class TaskStore(Protocol):
    """A backend of the task journal. Every method may raise (the client's ``Journal`` absorbs it).

    Writes must be atomic per call and safe from many threads and processes at once.
    """

    def add(self, record: TaskRecord) -> None:
        """Record a submit. If the id is already there, keep it and apply the newer status."""
        ...

    def update(self, task_id: str, change: TaskUpdate) -> bool:
        """Apply ``change``; False if the task is not in the journal."""
        ...

    def get(self, task_id: str) -> TaskRecord | None: ...

    def list(self, query: TaskQuery) -> list[TaskRecord]:
        """Tasks matching ``query``, newest first, at most ``query.limit``."""
        ...

    def spend(self, query: TaskQuery) -> list[SpendRow]:
        """Cost per local day and endpoint of the tasks matching ``query`` (its limit ignored)."""
        ...

    def durations(self, key: str, limit: int) -> list[float]:
        """The last ``limit`` completion times recorded under ``key``, oldest first."""
        ...

    def add_duration(self, key: str, seconds: float) -> None: ...

    def prune(self, older_than: float) -> int:
        """Forget tasks and durations recorded before ``older_than`` (wall clock); returns tasks removed."""
        ...

    def close(self) -> None: ...


def group_spend(items: Iterable[tuple[float, str | None, float | None, float | None]]) -> list[SpendRow]:
    """(created_at, endpoint, cost, coins) rows -> one :class:`SpendRow` per local day and endpoint.

    Shared by backends so "a day" means the same everywhere: the caller's local calendar day.
    """
    acc: dict[tuple[str, str], list[float]] = {}
    for created_at, endpoint, cost, coins in items:
        day = time.strftime("%Y-%m-%d", time.localtime(created_at))
        row = acc.setdefault((day, endpoint or "?"), [0, 0.0, 0.0])
        row[0] += 1
        row[1] += cost or 0.0
        row[2] += coins or 0.0
    by_endpoint = sorted(acc.items(), key=lambda kv: kv[0][1])
    newest_first = sorted(by_endpoint, key=lambda kv: kv[0][0], reverse=True)  # stable: endpoints stay sorted
    return [SpendRow(day, ep, int(n), round(cost, 6), round(coins, 6)) for (day, ep), (n, cost, coins) in newest_first]
