"""The default journal backend: one SQLite file (standard library), safe for many processes at once.

Why SQLite: it is in every Python, needs no server, and its write-ahead log lets any number of
readers run beside one writer while a busy timeout queues writers of other processes; every write
here is one short ``BEGIN IMMEDIATE`` transaction, so a CLI, an MCP server and agent scripts can
share the file. Columns hold what listings filter on; the rest of a record is one JSON document,
so adding a field never needs a migration.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._model import TERMINAL, SpendRow, TaskQuery, TaskRecord, TaskUpdate, group_spend

__all__ = ["DEFAULT_RETENTION_DAYS", "SQLiteStore"]

DEFAULT_RETENTION_DAYS = 90.0  # a quarter of spend history; outputs expire at the service after a day anyway
_MAX_DURATIONS = 64  # per key: DurationHistory reads the last few; older ones only cost space
_SCHEMA_VERSION = 1
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tasks (
        task_id TEXT PRIMARY KEY,
        endpoint TEXT, tool TEXT, kind TEXT NOT NULL, site TEXT NOT NULL, base_url TEXT NOT NULL,
        key_id TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, status TEXT NOT NULL,
        done INTEGER NOT NULL, cost REAL, coins REAL, pid INTEGER NOT NULL, data TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at)",
    "CREATE INDEX IF NOT EXISTS tasks_open ON tasks(done, created_at)",
    "CREATE TABLE IF NOT EXISTS durations (key TEXT NOT NULL, seconds REAL NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS durations_key ON durations(key, at)",
)
_FIELDS = (
    "task_id", "endpoint", "tool", "kind", "site", "base_url", "key_id", "created_at", "updated_at", "status", "done",
    "cost", "coins", "pid", "data",
)  # fmt: skip
_COLUMNS = ", ".join(_FIELDS)
_TRIM_DURATIONS = """DELETE FROM durations WHERE rowid IN (
    SELECT rowid FROM (SELECT rowid, ROW_NUMBER() OVER (PARTITION BY key ORDER BY at DESC, rowid DESC) AS n
                       FROM durations) WHERE n > ?)"""
_INSERT = f"INSERT OR IGNORE INTO tasks ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})"


class SQLiteStore:
    """:class:`~rh_tools.journal.TaskStore` on one SQLite file.

    One connection per process, shared by its threads under a lock (SQLite serialises writes
    anyway); a child process made by ``fork`` opens its own instead of using the parent's.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = 3.0, retention_days: float = DEFAULT_RETENTION_DAYS
    ) -> None:
        self.path = Path(path).expanduser()
        self.busy_timeout = busy_timeout
        self.retention_days = retention_days
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connection ----------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # After fork the inherited connection belongs to the parent: abandon it, never close it
            # (closing would release the parent's locks).
            self._conn = None
            self._conn = self._connect()
            self._pid = os.getpid()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        self._create_private_file()
        conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            try:  # stays "delete" where WAL is impossible (network FS): fine
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:  # read-only file or folder: reading may still work
                pass
            conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; a crash loses no committed row
            if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                with _transaction(conn):
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            if self.retention_days > 0:
                try:
                    self._prune(conn, time.time() - self.retention_days * 86400)
                except sqlite3.OperationalError:  # read-only or busy: pruning can wait for the next process
                    pass
        except BaseException:
            conn.close()
            raise
        return conn

    def _create_private_file(self) -> None:
        """Prompts and output links are private: a new journal is readable by its owner only."""
        if self.path.exists():
            return
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except FileExistsError:  # pragma: no cover - another process won the race
            pass

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db()
            with _transaction(db):
                yield db

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- tasks ---------------------------------------------------------------------------------

    def add(self, record: TaskRecord) -> None:
        with self._write() as db:
            cur = db.execute(
                f"INSERT OR IGNORE INTO tasks ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})", _row(record)
            )
            if cur.rowcount == 0:  # already journalled (another client saw it first): keep it, move it on
                _apply(db, record.task_id, _update_of(record))

    def update(self, task_id: str, change: TaskUpdate) -> bool:
        with self._write() as db:
            return _apply(db, task_id, change)

    def get(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            row = self._db().execute(f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return _record(row) if row else None

    def list(self, query: TaskQuery) -> list[TaskRecord]:
        where, args = _where(query)
        sql = f"SELECT {_COLUMNS} FROM tasks{where} ORDER BY created_at DESC LIMIT ?"
        with self._lock:
            rows = self._db().execute(sql, (*args, max(0, query.limit))).fetchall()
        return [_record(r) for r in rows]

    def spend(self, query: TaskQuery) -> list[SpendRow]:
        where, args = _where(query)
        with self._lock:
            rows = self._db().execute(f"SELECT created_at, endpoint, cost, coins FROM tasks{where}", args).fetchall()
        return group_spend(rows)

    # -- durations -----------------------------------------------------------------------------

    def durations(self, key: str, limit: int) -> list[float]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT seconds FROM durations WHERE key = ? ORDER BY at DESC, rowid DESC LIMIT ?",
                    (key, max(0, limit)),
                )
                .fetchall()
            )
        return [float(r[0]) for r in reversed(rows)]

    def add_duration(self, key: str, seconds: float) -> None:
        # One insert per completion; the per-key cap is applied by prune (on open), off the hot path.
        with self._write() as db:
            db.execute("INSERT INTO durations (key, seconds, at) VALUES (?, ?, ?)", (key, float(seconds), time.time()))

    def remove(self, task_ids: list[str]) -> int:
        """Forget these tasks (a Redis journal's fallback file, once they are copied into Redis)."""
        with self._write() as db:
            return sum(db.execute("DELETE FROM tasks WHERE task_id = ?", (t,)).rowcount for t in task_ids)

    def prune(self, older_than: float) -> int:
        with self._lock:
            return self._prune(self._db(), older_than)

    @staticmethod
    def _prune(db: sqlite3.Connection, older_than: float) -> int:
        with _transaction(db):
            removed = db.execute("DELETE FROM tasks WHERE created_at < ?", (older_than,)).rowcount
            db.execute("DELETE FROM durations WHERE at < ?", (older_than,))
            db.execute(_TRIM_DURATIONS, (_MAX_DURATIONS,))
        return int(removed)


# ---------------------------------------------------------------------- helpers


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One short write transaction; IMMEDIATE takes the write lock up front, so two writers queue on
    the busy timeout instead of deadlocking on a read-to-write upgrade."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:  # pragma: no cover - the failure already ended the transaction
            pass
        raise
    db.execute("COMMIT")


def _row(r: TaskRecord) -> tuple[Any, ...]:
    data = {"params": r.params, "outputs": r.outputs, "usage": r.usage, "files": r.files, "error": r.error}
    return (
        r.task_id,
        r.endpoint,
        r.tool,
        r.kind,
        r.site,
        r.base_url,
        r.key_id,
        r.created_at,
        r.updated_at,
        r.status,
        int(r.done),
        r.cost,
        r.coins,
        r.pid,
        json.dumps(data, ensure_ascii=False, default=str),
    )


def _record(row: tuple[Any, ...]) -> TaskRecord:
    task_id, endpoint, tool, kind, site, base_url, key_id, created, updated, status, _done, cost, coins, pid, data = row
    try:
        extra = json.loads(data) if data else {}
    except ValueError:  # a hand-edited or half-written document: keep the columns
        extra = {}
    extra = extra if isinstance(extra, dict) else {}
    return TaskRecord(
        task_id=task_id,
        endpoint=endpoint,
        tool=tool,
        kind=kind,
        site=site,
        base_url=base_url,
        key_id=key_id,
        created_at=float(created),
        updated_at=float(updated),
        status=status,
        params=extra.get("params") or {},
        outputs=extra.get("outputs") or [],
        usage=extra.get("usage"),
        cost=cost,
        coins=coins,
        files=extra.get("files") or [],
        error=extra.get("error"),
        pid=int(pid or 0),
    )


def _update_of(r: TaskRecord) -> TaskUpdate:
    return TaskUpdate(
        status=r.status,
        outputs=r.outputs or None,
        usage=r.usage,
        cost=r.cost,
        coins=r.coins,
        files=r.files or None,
        error=r.error,
        updated_at=r.updated_at,
    )


def _apply(db: sqlite3.Connection, task_id: str, change: TaskUpdate) -> bool:
    row = db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    if row is None:
        return False
    rec = _record(row)
    # A late answer from another process must not undo an end: terminal states are final.
    if change.status is not None and not (rec.done and change.status not in TERMINAL):
        rec.status = change.status
    for name in ("outputs", "usage", "cost", "coins", "files", "error"):
        value = getattr(change, name)
        if value is not None:
            setattr(rec, name, value)
    rec.updated_at = max(rec.updated_at, change.updated_at)
    db.execute(
        "UPDATE tasks SET status = ?, done = ?, cost = ?, coins = ?, updated_at = ?, data = ? WHERE task_id = ?",
        (rec.status, int(rec.done), rec.cost, rec.coins, rec.updated_at, _row(rec)[-1], task_id),
    )
    return True


def _where(q: TaskQuery) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    args: list[Any] = []
    if q.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(q.statuses))})")
        args.extend(sorted(q.statuses))
    if q.unfinished:
        clauses.append("done = 0")
    if q.endpoint:
        pattern = "%" + q.endpoint.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(endpoint LIKE ? ESCAPE '\\' OR tool LIKE ? ESCAPE '\\')")
        args.extend((pattern, pattern))
    if q.since is not None:
        clauses.append("created_at >= ?")
        args.append(q.since)
    if q.key_id is not None:
        clauses.append("key_id = ?")
        args.append(q.key_id)
    if q.base_url is not None:
        clauses.append("base_url = ?")
        args.append(q.base_url)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)
