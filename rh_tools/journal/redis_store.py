"""The shared journal backend: tasks in Redis, so every replica and worker lists and collects them.

``RUNNINGHUB_STORE=redis://host:port/db``. A task is one hash (each field a JSON value), indexed
by three sorted sets on creation time: all tasks, unfinished ones, and each key's own (listings
filter by key). Writes are one Lua script each, so the journal's rules hold across processes
exactly as in SQLite: an existing task is kept and moved on, and a terminal status is final.

Redis down: :class:`FailoverStore` writes to a local SQLite file instead (one warning, from the
link) and copies what it wrote there into Redis when Redis answers again, in this process or the
next one that uses the same fallback file. No task id is lost either way.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from ..coordination._redis import PREFIX, RedisLink, RedisUnavailable, link_for
from ._model import SpendRow, TaskQuery, TaskRecord, TaskUpdate, group_spend
from .sqlite import DEFAULT_RETENTION_DAYS, SQLiteStore

__all__ = ["FailoverStore", "RedisStore"]

log = logging.getLogger("rh_tools")
T = TypeVar("T")

_NS = PREFIX + "journal:"
_MAX_DURATIONS = 64
_PAGE = 200
_TEXT_FIELDS = ("task_id", "endpoint", "tool", "kind", "site", "base_url", "key_id", "created_at", "pid")
_UPDATE_FIELDS = ("outputs", "usage", "cost", "coins", "files", "error")

# KEYS: task hash, all-tasks index, unfinished index, the key's own index
# ARGV: mode ("add" | "update"), task id, ttl seconds, status (JSON or ""), updated_at,
#       n = number of field/value pairs that also apply to an existing task, then the pairs
#       (the first n move an existing task on; the rest only fill a new one)
_UPSERT = """
local key, all, open, mine = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, id, ttl, status, updated = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local n = tonumber(ARGV[6])
local terminal = {['"SUCCESS"'] = true, ['"FAILED"'] = true, ['"CANCEL"'] = true}
if redis.call('EXISTS', key) == 0 then
  if mode == 'update' then return 0 end
  redis.call('HSET', key, 'status', status, 'updated_at', updated, unpack(ARGV, 7))
  local created = tonumber(redis.call('HGET', key, 'created_at'))
  redis.call('ZADD', all, created, id)
  redis.call('ZADD', mine, created, id)
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
else
  local current = redis.call('HGET', key, 'status')
  if status ~= '' and not (terminal[current] and not terminal[status]) then
    redis.call('HSET', key, 'status', status)
  end
  if n > 0 then redis.call('HSET', key, unpack(ARGV, 7, 6 + 2 * n)) end
  local old = tonumber(redis.call('HGET', key, 'updated_at') or '0')
  if tonumber(updated) > old then redis.call('HSET', key, 'updated_at', updated) end
end
local created = tonumber(redis.call('HGET', key, 'created_at'))
if terminal[redis.call('HGET', key, 'status')] then
  redis.call('ZREM', open, id)
else
  redis.call('ZADD', open, created, id)
end
return 1
"""


def _encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _decode(raw: dict[str, str]) -> TaskRecord | None:
    try:
        data = {k: json.loads(v) for k, v in raw.items()}
        return TaskRecord(
            task_id=str(data["task_id"]),
            endpoint=data.get("endpoint"),
            tool=data.get("tool"),
            kind=data.get("kind") or "model",
            site=data.get("site") or "ai",
            base_url=data.get("base_url") or "",
            key_id=data.get("key_id"),
            created_at=float(data["created_at"]),
            updated_at=float(data.get("updated_at") or data["created_at"]),
            status=data.get("status") or "QUEUED",
            params=data.get("params") or {},
            outputs=data.get("outputs") or [],
            usage=data.get("usage"),
            cost=data.get("cost"),
            coins=data.get("coins"),
            files=data.get("files") or [],
            error=data.get("error"),
            pid=int(data.get("pid") or 0),
        )
    except (KeyError, TypeError, ValueError):  # half-written or foreign: skip it rather than fail a listing
        return None


class RedisStore:
    """:class:`~rh_tools.journal.TaskStore` in Redis. Raises ``RedisUnavailable`` when it cannot
    reach the server (wrap it in :class:`FailoverStore` to survive that)."""

    def __init__(self, link: RedisLink | str, *, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.link = link_for(link) if isinstance(link, str) else link
        self.retention_days = retention_days
        self._script: Any = None
        self._pruned = False

    def __repr__(self) -> str:
        return f"RedisStore({self.link.where!r})"

    def _call(self, doing: str, op: Callable[[Any], T]) -> T:
        if not self._pruned and self.retention_days > 0:
            self._pruned = True  # once per process, like SQLite's prune on open
            self.prune(time.time() - self.retention_days * 86400)
        return self.link.call(doing, op)

    def _upsert(self, r: Any, mode: str, task_id: str, status: str | None, updated: float, pairs: list[str],
                n: int, key_id: str | None) -> int:  # fmt: skip
        if self._script is None:
            self._script = self.link.client().register_script(_UPSERT)
        keys = [_NS + "task:" + task_id, _NS + "all", _NS + "open", _NS + "key:" + (key_id or "-")]
        ttl = int(self.retention_days * 86400)
        args = [mode, task_id, ttl, _encode(status) if status else "", repr(float(updated)), n, *pairs]
        return int(self._script(keys=keys, args=args, client=r))

    @staticmethod
    def _pairs(values: dict[str, Any]) -> list[str]:
        return [item for name, value in values.items() for item in (name, _encode(value))]

    # -- tasks ---------------------------------------------------------------------------------

    def add(self, record: TaskRecord) -> None:
        moving = {name: getattr(record, name) for name in _UPDATE_FIELDS if getattr(record, name) not in (None, [])}
        filling = {name: getattr(record, name) for name in _TEXT_FIELDS}
        filling["params"] = record.params
        for name in _UPDATE_FIELDS:
            filling.setdefault(name, getattr(record, name))
        pairs = self._pairs(moving) + self._pairs({k: v for k, v in filling.items() if k not in moving})
        self._call(
            "recording a submit",
            lambda r: self._upsert(
                r, "add", record.task_id, record.status, record.updated_at, pairs, len(moving), record.key_id
            ),  # fmt: skip
        )

    def update(self, task_id: str, change: TaskUpdate) -> bool:
        moving = {name: getattr(change, name) for name in _UPDATE_FIELDS if getattr(change, name) is not None}
        pairs = self._pairs(moving)
        done = self._call(
            "recording a status",
            lambda r: self._upsert(r, "update", task_id, change.status, change.updated_at, pairs, len(moving), None),
        )
        return bool(done)

    def get(self, task_id: str) -> TaskRecord | None:
        raw = self._call("reading a task", lambda r: r.hgetall(_NS + "task:" + task_id))
        return _decode(raw) if raw else None

    def _index(self, q: TaskQuery) -> str:
        if q.unfinished:
            return _NS + "open"
        return _NS + "key:" + q.key_id if q.key_id else _NS + "all"

    def _page(self, index: str, low: Any, offset: int) -> list[tuple[str, dict[str, str]]]:
        """Up to ``_PAGE`` (id, hash) of ``index``, newest first from ``offset`` (two round trips)."""
        ids: list[str] = self._call(
            "listing tasks", lambda r: r.zrevrangebyscore(index, "+inf", low, start=offset, num=_PAGE)
        )
        if not ids:
            return []

        def load(r: Any) -> list[dict[str, str]]:
            pipe = r.pipeline(transaction=False)
            for task_id in ids:
                pipe.hgetall(_NS + "task:" + task_id)
            return list(pipe.execute())

        return list(zip(ids, self._call("listing tasks", load), strict=True))

    def _scan(self, q: TaskQuery) -> Iterator[TaskRecord]:
        """Records of ``q``'s best index, newest first, filtered by ``q``; tidies entries of expired tasks."""
        index, low, offset = self._index(q), (q.since if q.since is not None else "-inf"), 0
        while page := self._page(index, low, offset):
            gone = []
            for task_id, raw in page:
                record = _decode(raw) if raw else None
                if record is None:
                    gone.append(task_id)  # expired (retention) or removed
                elif q.matches(record):
                    yield record
            if gone:
                self._call("tidying the task index", partial(_remove_from, index, gone))
            offset += len(page) - len(gone)

    def list(self, query: TaskQuery) -> list[TaskRecord]:
        out: list[TaskRecord] = []
        if query.limit <= 0:
            return out
        for record in self._scan(query):
            out.append(record)
            if len(out) >= query.limit:
                break
        return out

    def spend(self, query: TaskQuery) -> list[SpendRow]:
        return group_spend((r.created_at, r.endpoint, r.cost, r.coins) for r in self._scan(query))

    # -- durations -----------------------------------------------------------------------------

    def durations(self, key: str, limit: int) -> list[float]:
        raw = self._call("reading durations", lambda r: r.lrange(_NS + "dur:" + key, 0, max(0, limit) - 1))
        return [float(v) for v in reversed(raw)] if limit > 0 else []

    def add_duration(self, key: str, seconds: float) -> None:
        def write(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.lpush(_NS + "dur:" + key, repr(float(seconds)))
            pipe.ltrim(_NS + "dur:" + key, 0, _MAX_DURATIONS - 1)
            if self.retention_days > 0:
                pipe.expire(_NS + "dur:" + key, int(self.retention_days * 86400))
            pipe.execute()

        self._call("recording a duration", write)

    def prune(self, older_than: float) -> int:
        def prune(r: Any) -> int:
            old = r.zrangebyscore(_NS + "all", "-inf", older_than)
            if not old:
                return 0
            pipe = r.pipeline(transaction=False)
            for task_id in old:
                pipe.delete(_NS + "task:" + task_id)
            pipe.zrem(_NS + "all", *old)
            pipe.zrem(_NS + "open", *old)  # each key's own index is tidied when it is listed
            pipe.execute()
            return len(old)

        return self.link.call("pruning the journal", prune)

    def close(self) -> None:
        pass  # the link's connections belong to the process


class FailoverStore:
    """Redis first; a local SQLite file while Redis is unreachable, copied into Redis when it is back.

    Reads while Redis is down come from the fallback file (this machine's tasks of the outage only);
    listing then says so in the log. Copying back happens on the first operation after Redis
    answers again, also in a later process that finds the fallback file not empty.
    """

    def __init__(self, primary: RedisStore, fallback: SQLiteStore) -> None:
        self.primary = primary
        self.fallback = fallback
        self.link = primary.link
        self._dirty: bool | None = None  # unknown until the fallback file is first looked at
        self._lock = threading.Lock()
        self.replayed = 0
        self.link.on_recovered(self._replay)
        atexit.register(self._at_exit)

    def __repr__(self) -> str:
        return f"{self.link.where} (fallback {self.fallback.path})"

    def _has_backlog(self) -> bool:
        if self._dirty is None:
            try:
                self._dirty = self.fallback.path.exists() and bool(self.fallback.list(TaskQuery(limit=1)))
            except Exception:  # an unreadable fallback holds nothing we could copy
                self._dirty = False
        return self._dirty

    def _replay(self) -> None:
        """Copy every task of the fallback file into Redis, then drop it from the file.

        Also run by the link when Redis comes back, possibly from inside a copy already under way
        (its first successful call is what tells the link): that nested call returns at once."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if not self._has_backlog():
                return
            while True:
                batch = self.fallback.list(TaskQuery(limit=500))
                if not batch:
                    break
                for record in batch:
                    if not self.primary.update(record.task_id, _moves(record)):
                        self.primary.add(record)
                self.fallback.remove([r.task_id for r in batch])
                self.replayed += len(batch)
            self._dirty = False
        finally:
            self._lock.release()
        log.warning("rh-tools: copied the tasks journalled locally during the Redis outage into %s", self.link.where)

    def _at_exit(self) -> None:
        """A process that wrote locally during an outage tries once more to copy that into Redis
        before it exits (else the next process using the same fallback file does)."""
        if self._dirty and self.link.probe():
            try:
                self._replay()
            except Exception:  # still down, or gone again: the file keeps everything
                log.debug("copying the fallback journal into Redis at exit failed", exc_info=True)

    def _primary(self, op: Callable[[Any], T]) -> T:
        if self._has_backlog():
            self._replay()  # first, so what Redis answers includes the outage's tasks
        return op(self.primary)

    def _either(self, op: Callable[[Any], T], *, write: bool) -> T:
        if self.link.up:
            try:
                return self._primary(op)
            except RedisUnavailable:
                pass
        if write:
            self._dirty = True
        return op(self.fallback)

    # -- TaskStore -------------------------------------------------------------------------------

    def add(self, record: TaskRecord) -> None:
        self._either(lambda s: s.add(record), write=True)

    def update(self, task_id: str, change: TaskUpdate) -> bool:
        if self.link.up:
            try:
                return bool(self._primary(lambda s: s.update(task_id, change)))
            except RedisUnavailable:
                pass
        self._dirty = True
        if not self.fallback.update(task_id, change):
            # Submitted before the outage (the record is in Redis): keep the change as a partial
            # record; copying back applies it to the full one.
            self.fallback.add(_partial(task_id, change))
        return True

    def get(self, task_id: str) -> TaskRecord | None:
        return self._either(lambda s: s.get(task_id), write=False)

    def list(self, query: TaskQuery) -> list[TaskRecord]:
        return self._either(lambda s: s.list(query), write=False)

    def spend(self, query: TaskQuery) -> list[SpendRow]:
        return self._either(lambda s: s.spend(query), write=False)

    def durations(self, key: str, limit: int) -> list[float]:
        return self._either(lambda s: s.durations(key, limit), write=False)

    def add_duration(self, key: str, seconds: float) -> None:
        # Learnt durations only tune polling: during an outage they stay in the fallback file.
        self._either(lambda s: s.add_duration(key, seconds), write=False)

    def prune(self, older_than: float) -> int:
        return self._either(lambda s: s.prune(older_than), write=False)

    def close(self) -> None:
        self.fallback.close()


def _remove_from(index: str, ids: list[str], r: Any) -> None:
    r.zrem(index, *ids)


def _moves(record: TaskRecord) -> TaskUpdate:
    """What a fallback record changes in the Redis copy of the same task."""
    return TaskUpdate(
        status=record.status,
        outputs=record.outputs or None,
        usage=record.usage,
        cost=record.cost,
        coins=record.coins,
        files=record.files or None,
        error=record.error,
        updated_at=record.updated_at,
    )


def _partial(task_id: str, change: TaskUpdate) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        kind="unknown",
        status=change.status or "QUEUED",
        outputs=change.outputs or [],
        usage=change.usage,
        cost=change.cost,
        coins=change.coins,
        files=change.files or [],
        error=change.error,
        created_at=change.updated_at,
    )
