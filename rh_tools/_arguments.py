"""Keyword arguments people try on our constructors: the sensible ones accepted, the rest refused by name.

pydantic-based classes (LangChain's ``BaseTool`` ignores unknown keywords) would otherwise drop a
misspelt ``downlaod_dir=`` or an ``api_key=`` silently, and the tools would then run with settings
nobody chose. These helpers are pure: they only look at the names and values they are given.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

__all__ = ["CLIENT_SETTINGS", "pop_client_settings", "refuse_unknown"]

# Client settings a tool or toolkit accepts itself and passes to RunningHub(...); anything else a
# client takes (timeouts, retries, polling, transports) needs client=RunningHub(...).
CLIENT_SETTINGS = ("api_key", "base_url", "site")

# Names people reach for that are not close in spelling to the argument they mean.
_MEANT: dict[str, str] = {
    "key": "api_key",
    "apikey": "api_key",
    "token": "api_key",
    "api_token": "api_key",
    "runninghub_api_key": "api_key",
    "url": "base_url",
    "host": "base_url",
    "endpoint_url": "base_url",
    "model": "tools",
    "models": "tools",
    "endpoints": "tools",
    "tool_names": "tools",
    "category": "categories",
    "output_type": "output_types",
    "output_dir": "download_dir",
    "out_dir": "download_dir",
    "allow_dirs": "allowed_dirs",
    "allow_dir": "allowed_dirs",
}
_TIMEOUT_HINT = (
    "the seconds a tool waits for a result are wait= (and max_wait=); "
    "the HTTP timeout is a client setting: client=RunningHub(timeout=...)"
)


def refuse_unknown(owner: str, given: Iterable[str], known: Iterable[str]) -> None:
    """Raise TypeError, as Python does for a bad keyword, naming the likely intended argument."""
    valid = sorted(set(known))
    unknown = sorted(set(given) - set(valid))
    if not unknown:
        return
    name = unknown[0]
    if name in ("timeout", "wait_timeout"):
        hint = _TIMEOUT_HINT
    else:
        meant = _MEANT.get(name.lower())
        if meant is None or meant not in valid:
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.7)
            meant = close[0] if close else None
        hint = f"did you mean {meant}=?" if meant else f"valid arguments: {', '.join(valid)}"
    more = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
    raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}{more}: {hint}")


def pop_client_settings(owner: str, data: MutableMapping[str, Any]) -> dict[str, Any]:
    """Take api_key/base_url/site out of ``data``; refuse them beside a ready-made client."""
    settings = {k: data.pop(k) for k in CLIENT_SETTINGS if k in data}
    settings = {k: v for k, v in settings.items() if v is not None}
    if settings and _has_client(data):
        raise TypeError(
            f"{owner}(): pass either client=/async_client= or {', '.join(f'{k}=' for k in settings)}, not both "
            "(a client you built already has its key and address)"
        )
    return settings


def _has_client(data: Mapping[str, Any]) -> bool:
    return data.get("client") is not None or data.get("async_client") is not None
