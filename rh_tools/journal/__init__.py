"""The task journal: every paid task survives Ctrl-C, crashes and restarts, and fresh processes
poll like warm ones.

A task is written down the moment its submit answer is read (id, endpoint, site, time, the
parameters without key or file contents), then its status, outputs, cost and local files as they
become known; per-endpoint completion times are kept too, so a new process knows how long an
endpoint takes. ``rh.tasks()``, ``rh-tools tasks``, the ``list_tasks`` tool and the MCP task
resources read it.

Backends implement :class:`TaskStore`; the default is :class:`SQLiteStore` in the user's state
folder (``RUNNINGHUB_STORE`` moves it, ``RUNNINGHUB_STORE=none`` turns it off);
``RUNNINGHUB_STORE=redis://host:port/db`` shares one journal between processes and machines
(:mod:`rh_tools.journal.redis_store`, the ``redis`` extra).
"""

from __future__ import annotations

from ._journal import ENV_LIBRARY, Journal, clean_params, key_fingerprint, resolve_library
from ._location import ENV_STORE, FILE_NAME, StoreSpec, default_location, open_store, redis_url, resolve_store
from ._model import TERMINAL, SpendRow, TaskQuery, TaskRecord, TaskStore, TaskUpdate, group_spend
from .sqlite import SQLiteStore

__all__ = [
    "ENV_LIBRARY",
    "ENV_STORE",
    "FILE_NAME",
    "TERMINAL",
    "Journal",
    "SQLiteStore",
    "SpendRow",
    "StoreSpec",
    "TaskQuery",
    "TaskRecord",
    "TaskStore",
    "TaskUpdate",
    "clean_params",
    "default_location",
    "group_spend",
    "key_fingerprint",
    "open_store",
    "redis_url",
    "resolve_library",
    "resolve_store",
]
