"""JSON values as they arrive from outside (the API, a callback, an agent's arguments), narrowed for the checker.

``json.loads`` and every framework that hands us parsed JSON type it as ``Any``; ``isinstance(x, dict)``
then gives ``dict[Unknown, Unknown]``, and the unknown spreads through every ``.get``. These guards
say what the data is once, at the boundary: an object (string keys) or an array of values that still
have to be looked at. They check exactly what ``isinstance`` checks and nothing more, so a reader of
an answer behaves as before; only the type checker learns more.
"""

from __future__ import annotations

from typing import Any, TypeGuard

__all__ = ["JSONObject", "is_array", "is_object"]

# A JSON object: string keys, values of any JSON type (still to be checked where they are read).
JSONObject = dict[str, Any]


def is_object(value: object) -> TypeGuard[dict[str, Any]]:
    """True for a dict: a JSON object (keys are strings in anything ``json.loads`` returns)."""
    return isinstance(value, dict)


def is_array(value: object) -> TypeGuard[list[Any]]:
    """True for a list: a JSON array whose items are still to be checked one by one."""
    return isinstance(value, list)
