"""Bad input at the protocol edge (issue #11): every ``tools/call`` gets an answer, as a tool error.

Raw JSON-RPC to a real ``rh-mcp`` over stdio (one process, one session) and over HTTP: lone
surrogates in values, keys and tool names, JSON nested thousands of levels deep, arguments that are
an array, a string, a number, oversized ids (JSON-RPC ids and task ids). Each must come back as an
``isError`` tool result with the request's id: never silence, never a protocol error, never
"internal error". The in-memory client adds deep Python structures, which skip JSON parsing.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from attack_log import record
from conftest import ROOT, TEST_KEY
from test_hostile_http import ACCEPT, INIT, rh_mcp

from mcp_server.server import TASK_OUTPUT_SCHEMA
from rh_tools.emulator import Emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.05}, queue_seconds=0) as e:
        yield e


def _call(rid: Any, name: str, arguments_json: str) -> str:
    head = f'{{"jsonrpc":"2.0","id":{json.dumps(rid)},"method":"tools/call"'
    return head + f',"params":{{"name":{name},"arguments":{arguments_json}}}}}'


def _objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


DEEP = 5000
CASES: list[tuple[str, str]] = [
    ("lone surrogate in a value", _call(1, '"get_task"', '{"task_id":"\\ud800abc"}')),
    ("lone surrogate in a key", _call(2, '"get_task"', '{"\\udc00":"x"}')),
    ("lone surrogate in the tool name", _call(3, '"get_\\ud800"', "{}")),
    ("lone surrogate deep in params", _call(4, '"run_model"', '{"name":"x","params":{"prompt":"\\udfff"}}')),
    ("object nested 5000 deep", _call(5, '"run_model"', '{"name":"x","params":' + _objects(DEEP) + "}")),
    ("array nested 3000 deep", _call(6, '"run_workflow"', '{"workflow_id":"1","node_info_list":' + "[" * 3000 + "]" * 3000 + "}")),  # noqa: E501
    ("object nested 100 deep", _call(7, '"run_model"', '{"name":"x","params":' + _objects(100) + "}")),
    ("arguments is an array", _call(8, '"get_task"', "[1,2]")),
    ("arguments is a string", _call(9, '"get_task"', '"abc"')),
    ("arguments is a number", _call(10, '"get_task"', "5")),
    ("arguments is true", _call(11, '"get_task"', "true")),
    ("oversized task id", _call(12, '"get_task"', '{"task_id":"' + "1" * 100_000 + '"}')),
    ("oversized string JSON-RPC id", _call("x" * 100_000, '"get_task"', '{"task_id":"123"}')),
    ("oversized integer JSON-RPC id", _call(10**30, '"get_task"', '{"task_id":"123"}')),
    ("tool name is a number", _call(13, "42", "{}")),
    ("surrogates and an array together", _call(14, '"get_task"', '["\\ud800"]')),
]  # fmt: skip


def _rid(raw: str) -> Any:
    """The id a case was sent with (parsing only the start: the rest may be unparseable on purpose)."""
    head = raw[: raw.index(',"method"')] + "}"
    return json.loads(head)["id"]


def _check(case: str, raw: str, answer: dict[str, Any] | None) -> None:
    assert answer is not None, f"{case}: no answer"
    assert answer.get("id") == _rid(raw), (case, str(answer)[:200])
    assert "error" not in answer, (case, answer.get("error"))  # a tool error, not a protocol error
    result = answer["result"]
    text = " ".join(c.get("text", "") for c in result["content"])
    assert result["isError"] is True, (case, text[:300])
    assert "internal error" not in text.lower() and "Traceback" not in text, (case, text[:300])
    assert len(text) < 2000, (case, len(text))  # an oversized input is not echoed in full
    # Clients may validate error results against the tool's output schema too (get_task declares one).
    jsonschema.validate(result.get("structuredContent", {}), TASK_OUTPUT_SCHEMA)


def test_every_malformed_tools_call_is_answered_over_stdio(emu: Emulator) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update({"RUNNINGHUB_API_KEY": TEST_KEY, "RUNNINGHUB_BASE_URL": emu.base_url})
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def send(line: str) -> None:
        proc.stdin.write(line.encode() + b"\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    def receive(timeout: float = 30) -> dict[str, Any] | None:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        return json.loads(proc.stdout.readline()) if ready else None  # type: ignore[union-attr]

    try:
        send(json.dumps(INIT))
        assert receive()["id"] == 1  # type: ignore[index]
        send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        for case, raw in CASES:
            send(raw)
            _check(case, raw, receive())
        send(json.dumps({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "get_account"}}))
        assert receive()["id"] == 99  # type: ignore[index]  # the session is still alive
    finally:
        proc.terminate()
        proc.wait(10)
    record("protocol", "malformed tools/call over stdio", tried=len(CASES), held=len(CASES))


def test_every_malformed_tools_call_is_answered_over_http(emu: Emulator, tmp_path: Path) -> None:
    with rh_mcp(emu, tmp_path) as port:
        url, host = f"http://127.0.0.1:{port}/mcp", f"127.0.0.1:{port}"
        with httpx.Client(timeout=60, headers={**ACCEPT, "Host": host}) as http:
            first = http.post(url, json=INIT)
            sid = first.headers["mcp-session-id"]
            headers = {"mcp-session-id": sid, "mcp-protocol-version": "2025-06-18"}
            http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
            for case, raw in CASES:
                r = http.post(url, content=raw.encode("utf-8", "surrogatepass"), headers=headers)
                assert r.status_code == 200, (case, r.status_code, r.text[:200])
                body = r.text
                data = next(
                    (json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")), None
                ) or json.loads(body)
                _check(case, raw, data)
    record("protocol", "malformed tools/call over HTTP", tried=len(CASES), held=len(CASES))


def test_deep_python_arguments_in_memory() -> None:
    """The in-memory transport hands Python objects over unparsed: depth must still be refused."""
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    deep: Any = 1
    for _ in range(150):  # beyond MAX_DEPTH (64); the client itself cannot serialize much deeper
        deep = {"a": deep}

    async def go() -> list[Any]:
        async with Client(build_server(ServerConfig(api_key=TEST_KEY, base_url="http://127.0.0.1:9"))) as client:
            return [
                await client.call_tool("run_model", {"name": "grok_image_to_image", "params": deep}),
                await client.call_tool("run_workflow", {"workflow_id": "1", "node_info_list": [deep]}),
                await client.call_tool("get_task", {"task_id": "\ud800"}),
            ]

    results = asyncio.run(go())
    texts = [" ".join(getattr(c, "text", "") for c in r.content) for r in results]
    assert all(r.is_error for r in results) and not any("internal error" in t.lower() for t in texts), texts
    record("protocol", "deep / surrogate Python arguments in memory", tried=3, held=3)


def test_repair_leaves_good_messages_alone_and_answers_what_has_an_id() -> None:
    from mcp_server.edge import MARK, repair

    good = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "arguments": {}}})
    assert repair(good) is None
    notification = '{"jsonrpc":"2.0","method":"notifications/x","params":{"a":"\\ud800"}}'
    assert repair(notification) is None  # nothing to answer
    assert repair("not json at all") is None
    fixed = json.loads(repair(_call(7, '"get_task"', '{"task_id":"\\ud800"}')) or "")
    assert fixed["id"] == 7 and fixed["params"]["name"] == "get_task" and MARK in fixed["params"]["_meta"]
    deep = json.loads(repair(_call("abc", '"run_model"', _objects(10_000))) or "")
    assert deep["id"] == "abc" and "nested" in deep["params"]["_meta"][MARK]
    truncated = json.loads(repair('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"a","argu') or "")
    assert truncated["id"] == 5 and "not valid JSON" in truncated["params"]["_meta"][MARK]
    # An id that is itself broken cannot be answered: left to the SDK.
    assert repair('{"jsonrpc":"2.0","id":"\\ud800","method":"tools/call","params":{}}') is None
