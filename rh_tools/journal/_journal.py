"""The client's side of the journal: what to record, when, and how a broken journal is survived.

Rules (issue #12): the task is written the moment its submit answer is read; status, outputs, cost
and local files follow as they become known; parameters are kept without the key or file contents;
and a journal that cannot be written (read-only disk, locked or corrupt file) never fails a run: the
first failure is logged once, the journal pauses for a while and retries, and writes that failed
meanwhile are replayed when it works again (so a briefly locked file loses nothing).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .._constants import ENV_PREFIX
from .._exceptions import ConfigurationError
from ._location import ENV_STORE, StoreSpec, open_store, resolve_store
from ._model import SpendRow, TaskQuery, TaskRecord, TaskStore, TaskUpdate

__all__ = ["ENV_LIBRARY", "Journal", "clean_params", "key_fingerprint", "resolve_library"]

log = logging.getLogger("rh_tools")
T = TypeVar("T")

ENV_LIBRARY = ENV_PREFIX + "LIBRARY"
PAUSE_AFTER_FAILURE = 30.0  # seconds without trying the store after it failed (a locked file costs its busy timeout)
_MAX_PENDING = 1000
_MAX_TEXT = 4000  # characters of one parameter value kept (prompts are rarely longer)
_MAX_OUTPUT_TEXT = 20000
_MAX_ITEMS = 100
_MAX_DAY_TASKS = 100_000  # tasks of one key read for a day's spend (far beyond any real day's count)
_SECRET_NAME = re.compile(r"api_?key|token|secret|passw|authori[sz]ation|webhook|signature|cookie", re.I)
_warned: set[str] = set()
_warned_lock = threading.Lock()


def key_fingerprint(key: str | None) -> str | None:
    """A one-way id of the API key, so listings can show a key's own tasks without storing the key."""
    if not key:
        return None
    return hashlib.sha256(b"rh-tools journal\0" + key.encode()).hexdigest()[:16]


def resolve_library(library: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The opt-in output library: argument > ``RUNNINGHUB_LIBRARY`` > off."""
    env = os.environ if env is None else env
    raw = os.fspath(library) if library is not None else env.get(ENV_LIBRARY, "")
    raw = raw.strip()
    if not raw or raw.lower() in ("none", "off"):
        return None
    return Path(raw).expanduser()


def clean_params(value: Any, key: str | None = None) -> Any:
    """``value`` as the journal may keep it: no key, no secrets by name, no file contents.

    Local files (``MediaSource``) become ``{"local_file": name}``; bytes and data URIs become a
    size note; long strings are cut; fields named like secrets (``apiKey``, ``webhookUrl``…) go.
    """
    from .._media import MediaSource  # the journal is imported by the client, which imports _media anyway

    def clean(v: Any, depth: int) -> Any:
        if depth > 8:
            return "…"
        if isinstance(v, MediaSource):
            return {"local_file": v.name}
        if isinstance(v, (bytes, bytearray, memoryview)):
            return f"<{len(v)} bytes>"
        if isinstance(v, str):
            if v[:5].lower() == "data:":
                return f"<data URI, {len(v)} characters>"
            if key and key in v:
                v = v.replace(key, "****")
            return v if len(v) <= _MAX_TEXT else v[:_MAX_TEXT] + "…"
        if isinstance(v, Mapping):
            return {str(k): clean(x, depth + 1) for k, x in v.items() if not _SECRET_NAME.search(str(k))}
        if isinstance(v, (list, tuple)):
            return [clean(x, depth + 1) for x in list(v)[:_MAX_ITEMS]]
        if v is None or isinstance(v, (bool, int, float)):
            return v
        if isinstance(v, os.PathLike):
            return {"local_file": Path(v).name}
        return f"<{type(v).__name__}>"

    return clean(value, 0)


def _money(*values: str | None) -> float | None:
    total, seen = 0.0, False
    for v in values:
        try:
            total += float(v) if v not in (None, "") else 0.0
            seen = seen or v not in (None, "")
        except (TypeError, ValueError):
            continue
    return round(total, 6) if seen else None


def _task_fields(task: Any) -> dict[str, Any]:
    """Status, outputs, usage, cost and error of a ``types.Task`` in journal form."""
    outputs = []
    for o in task.outputs:
        item = o.model_dump(exclude_none=True)
        if isinstance(item.get("text"), str) and len(item["text"]) > _MAX_OUTPUT_TEXT:
            item["text"] = item["text"][:_MAX_OUTPUT_TEXT] + "…"
        outputs.append(item)
    usage = task.usage.model_dump(exclude_none=True, by_alias=True) if task.usage is not None else None
    cost = coins = None
    if task.usage is not None:
        cost = _money(task.usage.third_party_consume_money, task.usage.consume_money)
        coins = _money(task.usage.consume_coins)
    error = {"code": task.error_code, "message": task.error_message} if task.error_code or task.error_message else None
    return {"status": task.status or "QUEUED", "outputs": outputs, "usage": usage, "cost": cost, "coins": coins,
            "error": error}  # fmt: skip


class Journal:
    """One client's view of the task journal. Recording methods never raise.

    ``store``: a path, ``"none"``, a :class:`TaskStore`, or None for ``RUNNINGHUB_STORE`` / the default.
    The location is decided here (a bad setting fails at client construction, before any request);
    the file is opened on first use.
    """

    def __init__(
        self,
        store: StoreSpec = None,
        *,
        base_url: str = "",
        site: str = "ai",
        key: str | None = None,
        library: str | os.PathLike[str] | None = None,
    ) -> None:
        resolved = resolve_store(store)  # raises ConfigurationError for unsupported settings
        self._spec: StoreSpec = store
        self._where = str(resolved) if isinstance(resolved, Path) else repr(resolved)
        self.enabled = resolved is not None
        self._backend: TaskStore | None = None
        self.base_url = base_url
        self.site = site
        self.key_id = key_fingerprint(key)
        self._key = key
        self.library = resolve_library(library)
        self.last: TaskRecord | None = None  # the last task this client submitted (kept even with the journal off)
        self._status: OrderedDict[str, str] = OrderedDict()  # last status written per task: skip repeats
        self._pending: deque[Callable[[TaskStore], Any]] = deque(maxlen=_MAX_PENDING)
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({self._where if self.enabled else 'off'})"

    @property
    def location(self) -> str | None:
        """Where the journal is (a file path, or the backend's repr), None when it is turned off."""
        return self._where if self.enabled else None

    # -- plumbing --------------------------------------------------------------------------------

    def _store(self) -> TaskStore | None:
        if not self.enabled:
            return None
        if self._backend is None:
            self._backend = open_store(self._spec)
        return self._backend

    def _failed(self, exc: BaseException, doing: str) -> None:
        self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE
        with _warned_lock:
            first = self._where not in _warned
            _warned.add(self._where)
        if first:
            log.warning(
                "rh-tools task journal at %s is not usable while %s (%s: %s); runs go on without it. "
                "Fix the file or its folder's permissions, point %s at another file, or set %s=none.",
                self._where,
                doing,
                type(exc).__name__,
                exc,
                ENV_STORE,
                ENV_STORE,
            )
        else:
            log.debug("task journal failure while %s", doing, exc_info=True)

    def _write(self, doing: str, op: Callable[[TaskStore], Any]) -> None:
        store = self._store()
        if store is None:
            return
        with self._lock:
            self._pending.append(op)
            if time.monotonic() < self._paused_until:
                return
            try:
                while self._pending:
                    self._pending[0](store)
                    self._pending.popleft()
            except Exception as exc:  # any backend error: the run must go on
                self._failed(exc, doing)

    def _read(self, doing: str, op: Callable[[TaskStore], T], default: T) -> T:
        store = self._store()
        if store is None or time.monotonic() < self._paused_until:
            return default
        try:
            return op(store)
        except Exception as exc:
            self._failed(exc, doing)
            return default

    def _remember(self, task_id: str, status: str) -> None:
        self._status[task_id] = status
        self._status.move_to_end(task_id)
        while len(self._status) > 10_000:
            self._status.popitem(last=False)

    # -- recording (never raises) ------------------------------------------------------------------

    def submitted(
        self, task: Any, *, endpoint: str | None, kind: str, params: Any = None, tool: str | None = None
    ) -> TaskRecord:
        """Record a submit answer (``types.Task``); call it before anything else can interrupt."""
        fields = _task_fields(task)
        record = TaskRecord(
            task_id=task.task_id,
            endpoint=endpoint or task.endpoint,
            tool=tool,
            kind=kind,
            site=self.site,
            base_url=self.base_url,
            key_id=self.key_id,
            params=clean_params(params if params is not None else {}, self._key),
            pid=os.getpid(),
            **fields,
        )
        self.last = record
        self._remember(record.task_id, record.status)
        self._write("recording a submit", lambda s: s.add(record))
        return record

    def seen(self, task: Any) -> None:
        """Record a status answer; repeats of the status already written cost nothing."""
        if not getattr(task, "task_id", None) or self._status.get(task.task_id) == task.status:
            return
        fields = _task_fields(task)
        change = TaskUpdate(**fields)
        self._remember(task.task_id, task.status)
        self._write("recording a status", lambda s: s.update(task.task_id, change))

    def files(self, task_id: str, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Record where a task's outputs were saved."""
        change = TaskUpdate(files=[str(Path(p).resolve()) for p in paths])
        self._write("recording downloaded files", lambda s: s.update(task_id, change))

    # -- durations, for _polling.DurationHistory (never raise) ------------------------------------

    def durations(self, key: str, limit: int) -> list[float]:
        # Per site: the emulator's (custom) and the real service's timings must not mix.
        return self._read("reading durations", lambda s: s.durations(f"{self.site}:{key}", limit), [])

    def add_duration(self, key: str, seconds: float) -> None:
        self._write("recording a duration", lambda s: s.add_duration(f"{self.site}:{key}", seconds))

    # -- reading ----------------------------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord | None:
        """The journal's record of a task, or None (unknown, journal off or unreadable)."""
        return self._read("reading a task", lambda s: s.get(task_id), None)

    def _strict(self) -> TaskStore:
        store = self._store()
        if store is None:
            raise ConfigurationError(
                f"The task journal is turned off ({ENV_STORE}=none)",
                hint=f"Unset {ENV_STORE} (or point it at a file) to record tasks from now on.",
            )
        return store

    def list(self, query: TaskQuery) -> list[TaskRecord]:
        """Tasks matching ``query``. Unlike recording, a broken journal raises here: asked to list,
        answering "no tasks" would mislead."""
        try:
            return self._strict().list(query)
        except ConfigurationError:
            raise
        except Exception as exc:
            raise _unreadable(self._where, exc) from None

    def costs_since(self, since: float) -> dict[str, float] | None:
        """The reported cost of each task of this key on this service created since ``since`` (wall
        clock), by task id: the day's spend of every process sharing the journal, for a per-day
        spending limit (``Budget.spent_since``). Tasks whose cost is not reported yet are left out.

        None when the journal is off or cannot be read (warned once, like a failed write): the limit
        then counts this process's own calls. Only :class:`TaskStore` methods are used, so any backend
        serves it. Filtered by service as well as key: money of rh.ai (USD) and rh.cn (CNY) do not add up.
        """
        query = TaskQuery(since=since, key_id=self.key_id, base_url=self.base_url or None, limit=_MAX_DAY_TASKS)

        def read(store: TaskStore) -> dict[str, float] | None:
            return {r.task_id: float(r.cost) for r in store.list(query) if r.cost is not None}

        return self._read("reading the day's spend", read, None)

    def spend(self, query: TaskQuery) -> list[SpendRow]:
        try:
            return self._strict().spend(query)
        except ConfigurationError:
            raise
        except Exception as exc:
            raise _unreadable(self._where, exc) from None


def _unreadable(where: str, exc: Exception) -> ConfigurationError:
    return ConfigurationError(
        f"The task journal at {where} cannot be read ({type(exc).__name__}: {exc})",
        hint=f"Check the file and its folder's permissions, or point {ENV_STORE} at another file.",
    )
