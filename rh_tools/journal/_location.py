"""Where the journal lives: argument > ``RUNNINGHUB_STORE`` > the platform's state folder.

``RUNNINGHUB_STORE`` takes a file path, a folder (the file goes inside), ``none`` to turn the
journal off, or a Redis URL (``redis://host:port/db``, ``rediss://``, ``unix://``) for a journal that
several processes and machines share (:mod:`rh_tools.journal.redis_store`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from .._constants import ENV_PREFIX
from .._exceptions import ConfigurationError
from ._model import TaskStore
from .sqlite import SQLiteStore

__all__ = [
    "FILE_NAME",
    "StoreSpec",
    "default_location",
    "fallback_location",
    "open_store",
    "redis_url",
    "resolve_store",
]

FILE_NAME = "journal.sqlite3"
ENV_STORE = ENV_PREFIX + "STORE"
_OFF = frozenset({"none", "off", "false", "0", "no", "disabled"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)

#: What a caller may pass as ``store=``: a path, "none", a ready backend, or None (environment/default).
StoreSpec = str | os.PathLike[str] | TaskStore | None

_REDIS_SCHEMES = ("redis", "rediss", "unix")
_open: dict[tuple[int, str], SQLiteStore] = {}
_open_redis: dict[tuple[int, str], TaskStore] = {}
_open_lock = threading.Lock()


def redis_url(store: StoreSpec = None, env: Mapping[str, str] | None = None) -> str | None:
    """The Redis URL ``store`` (or ``RUNNINGHUB_STORE``) names, None for a file, off, or an object."""
    if store is not None and not isinstance(store, (str, os.PathLike)):
        return None
    env = os.environ if env is None else env
    value = (os.fspath(store) if store is not None else env.get(ENV_STORE, "")).strip()
    scheme = _SCHEME.match(value)
    return value if scheme and scheme.group(1).lower() in _REDIS_SCHEMES else None


def fallback_location(url: str) -> Path:
    """The local SQLite file a Redis journal falls back to: ``RUNNINGHUB_STORE_FALLBACK``, else one
    per Redis URL in the user's state folder (two Redis servers never share a fallback)."""
    explicit = os.environ.get(ENV_STORE + "_FALLBACK", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    return default_location().with_name(f"redis-fallback-{digest}.sqlite3")


def _redis_store(url: str) -> TaskStore:
    """One failover Redis journal per URL and process (its fallback file is opened like any journal)."""
    from .redis_store import FailoverStore, RedisStore  # the redis package loads only for a Redis journal

    key = (os.getpid(), url)
    with _open_lock:
        found = _open_redis.get(key)
        if found is None:
            found = _open_redis[key] = FailoverStore(RedisStore(url), SQLiteStore(fallback_location(url)))
        return found


def default_location(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The per-user state folder's journal file, by platform convention.

    Linux and other Unixes: ``$XDG_STATE_HOME/rh-tools`` (default ``~/.local/state/rh-tools``);
    macOS: ``~/Library/Application Support/rh-tools``; Windows: ``%LOCALAPPDATA%\\rh-tools``.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        base = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_STATE_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "state"
    return base / "rh-tools" / FILE_NAME


def resolve_store(store: StoreSpec = None, env: Mapping[str, str] | None = None) -> TaskStore | Path | None:
    """Decide without touching the disk: a backend object, a SQLite file path, or None (journal off).

    A Redis URL gives the shared backend object (nothing connects until the first use).

    Raises:
        ConfigurationError: an unsupported URL scheme, or a Redis URL without the redis package.
    """
    if store is not None and not isinstance(store, (str, os.PathLike)):
        return store  # a ready TaskStore
    env = os.environ if env is None else env
    source = "store=" if store is not None else ENV_STORE
    raw = os.fspath(store) if store is not None else env.get(ENV_STORE, "")
    value = raw.strip()
    if not value:
        return default_location(env)
    if value.lower() in _OFF:
        return None
    scheme = _SCHEME.match(value)
    if scheme:
        name = scheme.group(1).lower()
        if name in _REDIS_SCHEMES:
            _require_redis(source)
            return _redis_store(value)
        if name != "file":
            raise ConfigurationError(
                f"{source}: unsupported journal location scheme {name!r}",
                hint="Give a file or folder path, or none to turn the journal off.",
            )
        value = value[len("file://") :]
    path = Path(value).expanduser()
    if path.is_dir() or value.endswith(("/", os.sep)):
        path = path / FILE_NAME
    return path


def _require_redis(source: str) -> None:
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            f"{source} names a Redis server, but the redis package is not installed",
            hint='pip install "rh-tools[redis]", or give a file path for a local journal (or none).',
        ) from None


def open_store(store: StoreSpec = None, env: Mapping[str, str] | None = None) -> TaskStore | None:
    """The journal backend for ``store`` (see :func:`resolve_store`), or None when turned off.

    A SQLite file is opened once per process and shared by every client that names it, so an MCP
    server making one client per caller still holds one connection. Opening is lazy: this does not
    touch the disk until the first read or write.
    """
    where = resolve_store(store, env)
    if where is None or not isinstance(where, Path):
        return where
    key = (os.getpid(), str(where.absolute()))
    with _open_lock:
        found = _open.get(key)
        if found is None:
            found = _open[key] = SQLiteStore(where)
        return found
