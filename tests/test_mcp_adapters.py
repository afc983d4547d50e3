"""langchain-mcp-adapters (an mcp<2 client) loads rh-mcp's tools over stdio and runs one on the emulator.

The adapters cannot share this environment (they pin mcp<2; the server needs mcp 2), so they live
in ``.venv-adapters`` at the repository root, created here on first use from
``tests/requirements-adapters.txt`` (CI creates it up front). A failed install fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TEST_KEY

from rh_tools.emulator import Emulator
from rh_tools.toolspecs import GENERIC_TOOL_NAMES

VENV = ROOT / ".venv-adapters"
REQUIREMENTS = ROOT / "tests" / "requirements-adapters.txt"
SCRIPT = ROOT / "tests" / "mcp_adapters_client.py"
_CHECK = "import langchain_mcp_adapters, mcp.types as t; assert not hasattr(t, 'InputRequiredResult')"


def _clean_env(**extra: str) -> dict[str, str]:
    drop = ("RUNNINGHUB_", "RH_MCP_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, **extra}


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_clean_env(), cwd=ROOT)


@pytest.fixture(scope="module")
def adapters_python() -> Path:
    python = VENV / "bin" / "python"
    if python.exists() and _run([str(python), "-c", _CHECK], 60).returncode == 0:
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
        [str(python), "-c", _CHECK],
    ]
    for step in steps:
        proc = _run(step, 900)
        assert proc.returncode == 0, f"setting up {VENV} failed: {' '.join(step)}\n{proc.stdout}\n{proc.stderr}"
    return python


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2}) as e:
        yield e


def test_langchain_adapters_load_and_run_rh_mcp_tools(adapters_python: Path, emu: Emulator) -> None:
    server = [sys.executable, "-m", "mcp_server", "--tools", "grok_image_to_image"]
    env = _clean_env(RUNNINGHUB_API_KEY=TEST_KEY, RUNNINGHUB_BASE_URL=emu.base_url, RUNNINGHUB_POLL_INTERVAL="0.05")
    proc = subprocess.run(
        [str(adapters_python), str(SCRIPT), json.dumps(server)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"adapters client failed:\n{proc.stdout}\n{proc.stderr}"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (
        "run_model" in got["tools"]
        and "grok_image_to_image" in got["tools"]
        and len(got["tools"]) == len(GENERIC_TOOL_NAMES) + 1
    )
    assert got["schema_properties"] == ["imageUrl", "model", "prompt"]
    assert "SUCCESS" in got["text"] and "Cost:" in got["text"]
    assert got["structured"]["status"] == "SUCCESS" and got["structured"]["outputs"][0]["kind"] == "image"
    assert got["bad_status"] == "error" and "g-4.2" in got["bad_text"]
    assert TEST_KEY not in proc.stdout + proc.stderr
