"""Values from outside (API answers, callbacks, agents' arguments, callers' files), narrowed for the checker.

``json.loads`` and every framework that hands us parsed JSON type it as ``Any``; ``isinstance(x, dict)``
then gives ``dict[Unknown, Unknown]``, and the unknown spreads through every ``.get``. These guards
say what the data is once, at the boundary: an object (string keys), an array of values that still
have to be looked at, bytes, a path. Each checks exactly what its ``isinstance`` checks and nothing
more, so the code that uses them behaves as before; only the type checker learns more.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeGuard

__all__ = [
    "body_message",
    "int_or_none",
    "is_array",
    "is_bytes_like",
    "is_list_or_tuple",
    "is_mapping",
    "is_object",
    "is_path_like",
]


def is_object(value: object) -> TypeGuard[dict[str, Any]]:
    """True for a dict: a JSON object (keys are strings in anything ``json.loads`` returns)."""
    return isinstance(value, dict)


def is_array(value: object) -> TypeGuard[list[Any]]:
    """True for a list: a JSON array whose items are still to be checked one by one."""
    return isinstance(value, list)


def is_list_or_tuple(value: object) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    """True for a list or a tuple: a sequence of values a caller passed, each still to be checked."""
    return isinstance(value, (list, tuple))


def is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """True for any ``Mapping`` (a dict or another mapping a caller passed); keys and values still to be checked."""
    return isinstance(value, Mapping)


def is_bytes_like(value: object) -> TypeGuard[bytes | bytearray | memoryview]:
    """True for the byte buffers callers hand us as file contents (``bytes(value)`` copies any of them)."""
    return isinstance(value, (bytes, bytearray, memoryview))


def is_path_like(value: object) -> TypeGuard[os.PathLike[str]]:
    """True for an ``os.PathLike`` (``pathlib.Path`` and friends). Typed as a text path, which is what
    callers pass; a bytes path still goes on to the same code as before."""
    return isinstance(value, os.PathLike)


# ---- readers shared by the answer decoders (_core, _calls)


def body_message(body: Any) -> str | None:
    """The error text of an answer, whichever key its route spells it with."""
    if is_object(body):
        for k in ("errorMessage", "msg", "message", "error"):
            if isinstance(body.get(k), str) and body[k]:
                return str(body[k])
    return None


def int_or_none(code: Any) -> int | None:
    """An error code as a number (codes come as 805 and "805"), or None when it is not one."""
    try:
        return int(code)
    except (TypeError, ValueError):
        return None
