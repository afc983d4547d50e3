"""Where the journal lives: argument > ``RUNNINGHUB_STORE`` > the platform's state folder.

``RUNNINGHUB_STORE`` takes a file path, a folder (the file goes inside), or ``none`` to turn the
journal off. URL schemes are reserved for shared backends (``redis://`` is planned, not built).
"""

from __future__ import annotations

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

__all__ = ["FILE_NAME", "StoreSpec", "default_location", "open_store", "resolve_store"]

FILE_NAME = "journal.sqlite3"
ENV_STORE = ENV_PREFIX + "STORE"
_OFF = frozenset({"none", "off", "false", "0", "no", "disabled"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)

#: What a caller may pass as ``store=``: a path, "none", a ready backend, or None (environment/default).
StoreSpec = str | os.PathLike[str] | TaskStore | None

_open: dict[tuple[int, str], SQLiteStore] = {}
_open_lock = threading.Lock()


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

    Raises:
        ConfigurationError: an unsupported URL scheme (``redis://`` is not available yet).
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
        if name in ("redis", "rediss", "unix"):
            raise ConfigurationError(
                f"{source}: the Redis journal backend is not available yet",
                hint="Use a file path (the default SQLite journal), or none to turn the journal off.",
            )
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
