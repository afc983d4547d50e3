"""The protocol edge: every ``tools/call`` gets an answer, however broken its arguments.

The MCP SDK drops a message it cannot parse (a lone UTF-16 surrogate such as ``"\\ud800"``, JSON
nested deeper than its parser allows) and answers a malformed ``tools/call`` (``arguments`` that
is a list or a string) with a JSON-RPC protocol error. A client then waits forever or sees an
error it cannot show the model. Two pieces fix that:

* :func:`repair` looks at a raw message the SDK would fail to parse and, when it is a request
  with an id, rewrites it into a well-formed one carrying the problem in ``_meta`` (the
  transports call it: stdio per line, HTTP per POST body). Messages that parse are untouched.
* :class:`EdgeMiddleware` (an SDK ``ServerMiddleware``, which sees raw params before validation)
  turns that mark, non-object arguments, unpaired surrogates and excessive nesting into an
  ``isError`` tool result the model can read, and the same problems on other requests into
  ``INVALID_PARAMS`` errors that carry the request id.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import mcp_types as types
import pydantic_core
from mcp.shared.exceptions import MCPError

from rh_tools import _render as R
from rh_tools._exceptions import InvalidInputError

__all__ = ["MARK", "MAX_DEPTH", "EdgeMiddleware", "RepairedLines", "repair", "stdio_transport"]

MARK = "io.rh-tools/unreadable"  # _meta key of a request rewritten by repair()
MAX_DEPTH = 64  # no tool argument is nested nearly this deep; JSON encoders and validators recurse
_INVALID_PARAMS = -32602


# ------------------------------------------------------------------ raw messages


def repair(raw: str | bytes) -> str | None:
    """A well-formed replacement for a request the SDK cannot parse, or None to pass ``raw`` on as is."""
    try:
        pydantic_core.from_json(raw)
        return None  # the SDK parses it; EdgeMiddleware judges what is inside
    except ValueError:
        pass
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        message = json.loads(text)  # Python's parser accepts lone surrogates; pydantic's does not
        reason = _problem(message) or "the request could not be read"
    except RecursionError:
        message, reason = _head(text), f"the arguments are nested more than {MAX_DEPTH} levels deep"
    except ValueError:
        message, reason = _head(text), "the request is not valid JSON"
    if not isinstance(message, dict) or not _valid_id(message.get("id")) or not isinstance(message.get("method"), str):
        return None  # a notification or garbage: nothing to answer
    method = message["method"]
    params: dict[str, Any] = {"_meta": {MARK: reason}}
    if method == "tools/call":
        name = (message.get("params") or {}).get("name") if isinstance(message.get("params"), dict) else None
        params.update(name=name if isinstance(name, str) and _clean(name) else "(unreadable)", arguments={})
    out = {"jsonrpc": "2.0", "id": message["id"], "method": method, "params": params}
    return json.dumps(out)


def _valid_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and _clean(value))


def _clean(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _head(text: str) -> dict[str, Any]:
    """The top-level ``id`` and ``method`` of a JSON object too broken or too deep to parse.

    A small scanner: it tracks strings and nesting depth, and reads scalar values of keys at depth
    1. Enough to answer the request; nothing else is trusted from such a message.
    """
    found: dict[str, Any] = {}
    depth, i, n, key, expect_value = 0, 0, len(text), None, False
    while i < n and len(found) < 2:
        c = text[i]
        if c == '"':
            end = _string_end(text, i)
            if end < 0:
                break
            token = text[i : end + 1]
            if depth == 1 and expect_value and key in ("id", "method"):
                found[key] = _scalar(token)
                expect_value = False
            elif depth == 1 and not expect_value:
                key = _scalar(token)
            i = end + 1
            continue
        if c in "{[":
            depth += 1
            expect_value = False
        elif c in "}]":
            depth -= 1
        elif c == ":" and depth == 1:
            expect_value = True
        elif c == "," and depth == 1:
            expect_value, key = False, None
        elif depth == 1 and expect_value and key == "id" and (c == "-" or c.isdigit()):
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            found["id"] = int(text[i:j]) if text[i:j].lstrip("-") else None
            expect_value, i = False, j
            continue
        i += 1
    return found


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def _scalar(token: str) -> Any:
    try:
        return json.loads(token)
    except ValueError:
        return None


def _problem(message: Any) -> str | None:
    """Why a request that Python can parse would trip the SDK or the tools, naming where (the
    argument's path, as the model wrote it); None if nothing is wrong."""
    stack: list[tuple[Any, int, str]] = [(message, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return f"the arguments are nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, str):
            if not _clean(value):
                return f"{_shown(where)} contains an unpaired UTF-16 surrogate (invalid Unicode)"
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and not _clean(k):
                    return f"a key in {_shown(where)} contains an unpaired UTF-16 surrogate (invalid Unicode)"
                stack.append((v, depth + 1, f"{where}.{k}" if where else str(k)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value))
    return None


def _shown(where: str) -> str:
    """An argument path for the model: without the JSON-RPC envelope, and never an invalid string."""
    for prefix in ("params.arguments.", "params.", "arguments."):
        if where.startswith(prefix):
            where = where[len(prefix) :]
            break
    where = where.encode("utf-8", "replace").decode("utf-8")[:120]
    return where or "a string"


@contextlib.asynccontextmanager
async def stdio_transport() -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's stdio transport, reading stdin through :class:`RepairedLines`.

    Passing our own stdin skips the SDK's diversion of file descriptor 0 to /dev/null (it guards
    child processes reading the protocol stream); rh-mcp starts no child processes.
    """
    import io
    import sys

    import anyio
    from mcp.server.stdio import stdio_server

    text = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    lines = RepairedLines(anyio.wrap_file(text))
    async with stdio_server(stdin=cast(Any, lines)) as streams:
        yield streams


class RepairedLines:
    """Wraps stdio's line stream so each line the SDK cannot parse is :func:`repair`-ed first."""

    def __init__(self, lines: Any) -> None:
        self._lines = lines

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str]:
        async for line in self._lines:
            fixed = repair(line) if line.strip() else None
            yield line if fixed is None else fixed + "\n"


# ------------------------------------------------------------------ parsed messages


def _tool_error(message: str) -> types.CallToolResult:
    err = InvalidInputError(message, hint="Send the arguments as one JSON object of valid text, then call again.")
    # No task exists at the edge: no task_id key (the tools' output schema types it as a string).
    data = {k: v for k, v in R.error_data(err).items() if k != "task_id"}
    return types.CallToolResult(
        content=[types.TextContent(text=R.error_text(err))], structured_content=data, is_error=True
    )


def check_call(params: Any) -> str | None:
    """What is wrong with a ``tools/call``'s raw params, in words for the model; None if nothing."""
    if not isinstance(params, Mapping):
        return "tools/call needs params with a tool name and an arguments object"
    meta = params.get("_meta")
    if isinstance(meta, Mapping) and isinstance(meta.get(MARK), str):
        return f"The request could not be read: {meta[MARK]}"
    if not isinstance(params.get("name"), str):
        return "tools/call needs the tool name as a string"
    arguments = params.get("arguments")
    if arguments is not None and not isinstance(arguments, Mapping):
        return f"arguments must be a JSON object of named arguments, not {_json_type(arguments)}"
    problem = _problem(params)
    return f"The arguments were refused: {problem}" if problem else None


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


class EdgeMiddleware:
    """``Server.middleware`` entry: broken requests become answers, never silence or protocol errors."""

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if ctx.request_id is None:  # a notification: nothing to answer
            return await call_next(ctx)
        if ctx.method == "tools/call":
            problem = check_call(ctx.params)
            if problem is not None:
                return _tool_error(problem)
        elif isinstance(ctx.params, Mapping):
            meta = ctx.params.get("_meta")
            if isinstance(meta, Mapping) and isinstance(meta.get(MARK), str):
                raise MCPError(code=_INVALID_PARAMS, message=f"Invalid request: {meta[MARK]}")
            problem = _problem(ctx.params)
            if problem is not None and ctx.method != "initialize":
                raise MCPError(code=_INVALID_PARAMS, message=f"Invalid request: {problem}")
        return await call_next(ctx)
