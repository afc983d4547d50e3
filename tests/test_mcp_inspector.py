"""The official MCP Inspector CLI (TypeScript SDK) against rh-mcp over stdio and HTTP, on the emulator.

The Inspector is pinned and fetched by npx (CI warms its cache first: see docs/mcp.md); if node/npx
is missing, or the Inspector cannot be installed or run, the tests fail, they are not skipped: an
MCP server no real client was checked against is not "tested". Deselect them on purpose with
``-m "not node"``. Inspector 2.x declares node >= 22.19 but its CLI works on node 20 (npm only warns).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TEST_KEY
from test_mcp_server import http_server

from rh_tools.emulator import Emulator
from rh_tools.toolspecs import GENERIC_TOOL_NAMES

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"

pytestmark = [pytest.mark.node]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    if shutil.which("npx") is None:
        pytest.fail(
            "node/npx is not installed: the MCP Inspector tests need Node.js >= 20 with npx "
            "(e.g. apt-get install nodejs npm). To leave them out on purpose: pytest -m 'not node'.",
            pytrace=False,
        )
    with Emulator(port=0, durations={"image": 0.2, "video": 0.5}) as e:
        yield e


def inspector(*args: str, tool_error: bool = False, timeout: float = 300) -> dict[str, Any]:
    """Run the Inspector CLI; its JSON answer, or a failed test with everything it printed.

    The CLI exits 5 ("tool_is_error") when a tool answers isError: expected with ``tool_error``.
    """
    cmd = ["npx", "--yes", INSPECTOR, "--cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)
    out = proc.stdout
    expected = (5,) if tool_error else (0,)
    assert proc.returncode in expected and "{" in out, (
        f"MCP Inspector failed (exit {proc.returncode}): {' '.join(cmd)}\nstdout:\n{out}\nstderr:\n{proc.stderr}"
    )
    return json.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def stdio_target(emu: Emulator, *server_args: str) -> list[str]:
    env = [
        f"RUNNINGHUB_API_KEY={TEST_KEY}",
        f"RUNNINGHUB_BASE_URL={emu.base_url}",
        "RUNNINGHUB_POLL_INTERVAL=0.05",
        # The inspector starts the server with a minimal environment: name the test's journal.
        f"RUNNINGHUB_STORE={os.environ['RUNNINGHUB_STORE']}",
    ]
    return [
        *(x for e in env for x in ("-e", e)),
        "--cwd",
        str(ROOT),
        "--",
        sys.executable,
        "-m",
        "mcp_server",
        *server_args,
    ]


def test_tools_list_over_stdio(emu: Emulator) -> None:
    answer = inspector("--method", "tools/list", *stdio_target(emu))
    tools = {t["name"]: t for t in answer["tools"]}
    assert len(tools) == len(GENERIC_TOOL_NAMES) and "run_model" in tools and "search_models" in tools
    run = tools["run_model"]
    # Only hints that differ from MCP's defaults are sent: run_model writes (readOnlyHint default false)
    # but only adds (destructiveHint false), in an open world (openWorldHint default true).
    assert run["annotations"] == {"destructiveHint": False}
    assert tools["search_models"]["annotations"] == {"readOnlyHint": True}
    assert run["inputSchema"]["required"] == ["name"] and "outputSchema" in run


def test_every_tool_schema_passes_the_inspectors_strict_lint(emu: Emulator) -> None:
    """Inspector 2.12's --strict reports tool-schema portability problems (type arrays, untyped or boolean
    schemas, remote $refs) on stderr and exits 6 on errors: every tool (--all-tools) gives none, not even
    a warning."""
    cmd = ["npx", "--yes", INSPECTOR, "--cli", "--method", "tools/list", "--strict", *stdio_target(emu, "--all-tools")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Warning:" not in proc.stderr and "Error:" not in proc.stderr and "portability" not in proc.stderr, (
        proc.stderr[-3000:]
    )
    tools = json.loads(proc.stdout[proc.stdout.index("{") :])["tools"]
    assert len(tools) > 300 and all("outputSchema" in t for t in tools if t["name"] == "run_model")


def test_tools_call_over_stdio(emu: Emulator) -> None:
    params = json.dumps({"prompt": "a red fox", "imageUrl": "https://example.com/fox.png"})
    ok = inspector(
        "--method", "tools/call", "--tool-name", "run_model",
        "--tool-arg", "name=grok_image_to_image", "--tool-arg", f"params={params}",
        *stdio_target(emu),
    )  # fmt: skip
    assert ok["isError"] is False
    assert [c["type"] for c in ok["content"]] == ["text", "resource_link"]
    assert ok["structuredContent"]["status"] == "SUCCESS"

    bad = inspector(
        "--method", "tools/call", "--tool-name", "grok_image_to_image",
        "--tool-arg", "prompt=x", "--tool-arg", "model=g-99",
        *stdio_target(emu, "--tools", "grok_image_to_image"),
        tool_error=True,
    )  # fmt: skip
    assert bad["isError"] is True
    assert "model" in bad["content"][0]["text"] and "g-4.2" in bad["content"][0]["text"]


def test_tools_call_and_resources_over_http(emu: Emulator, tmp_path: Path) -> None:
    with http_server(emu, tmp_path, "--tools", "grok_image_to_image", RH_MCP_TOKEN="t0ken") as url:
        target = [
            "--transport", "http", "--server-url", url,
            "--header", "Authorization: Bearer t0ken", "--header", f"X-RunningHub-Api-Key: {TEST_KEY}",
        ]  # fmt: skip
        ok = inspector(
            "--method", "tools/call", "--tool-name", "grok_image_to_image",
            "--tool-arg", "prompt=a red fox", "--tool-arg", "imageUrl=https://example.com/fox.png",
            *target,
        )  # fmt: skip
        model = inspector("--method", "resources/read", "--uri", "runninghub://models/grok_image_to_image", *target)
    assert ok["isError"] is False and any(c["type"] == "resource_link" for c in ok["content"])
    schema = json.loads(model["contents"][0]["text"])["input_schema"]
    assert schema["properties"]["model"]["enum"][-1] == "g-4.2"
