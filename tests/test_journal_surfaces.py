"""The task journal across processes and surfaces: many writers at once, a run killed with SIGKILL,
Ctrl-C and SIGTERM in every CLI output mode (real subprocesses), and the journal through the CLI,
LangChain tools and the MCP server.

Tasks are held in the emulator's queue with a per-key concurrency of 0 (its config, no sleeps), so
an interrupted or killed process is interrupted while its task is certainly still unfinished;
raising the limit lets them run and finish.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TEST_KEY
from langchain_core.messages import ToolMessage
from redis_support import free_port
from test_mcp_server import connect

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools.cli import EXIT_INTERRUPTED, EXIT_OK, main
from rh_tools.emulator import Emulator
from rh_tools.journal import SQLiteStore, TaskQuery, TaskRecord
from rh_tools.langchain import RunningHubToolkit

HELD_KEY = "abcdef0123456789abcdef0123456789"  # its tasks wait in the queue until released
SKETCH = Path(__file__).with_name("data") / "sketch.png"
GROK = "grok_image_to_image"
GROK_PATH = "rhart-image-g/image-to-image"
HOLD = {HELD_KEY: {"concurrency": 0, "queue_limit": 100}}
RELEASE = {HELD_KEY: {"concurrency": 100, "queue_limit": 100}}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2}, key_overrides=HOLD) as e:
        yield e


@pytest.fixture
def held(emu: Emulator) -> Iterator[Emulator]:
    emu.set_config(key_overrides=HOLD)
    yield emu
    emu.set_config(key_overrides=RELEASE)


@pytest.fixture
def store_path() -> Path:
    return Path(os.environ["RUNNINGHUB_STORE"])


def child_env(emu: Emulator, key: str = HELD_KEY) -> dict[str, str]:
    return {
        **os.environ,
        "RUNNINGHUB_API_KEY": key,
        "RUNNINGHUB_BASE_URL": emu.base_url,
        "RUNNINGHUB_POLL_INTERVAL": "0.05",
        "PYTHONUNBUFFERED": "1",
    }


def until(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    """Wait for another process to get somewhere; generous, since the machine may be busy."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def journalled(path: Path, pids: set[int]) -> Callable[[], bool]:
    def check() -> bool:
        if not path.exists():
            return False
        return pids <= {r.pid for r in SQLiteStore(path).list(TaskQuery(limit=1000))}

    return check


def cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rh_tools.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


# ---------------------------------------------------------------- many processes


WRITER = """
import sys, time
from rh_tools.journal import SQLiteStore, TaskRecord, TaskUpdate
path, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = SQLiteStore(path)
for i in range(n):
    store.add(TaskRecord(f"{me}-{i}", endpoint=f"ep/{me}", params={"i": i}))
    store.add_duration(f"ai:ep/{me}", float(i))
    store.update(f"{me}-{i}", TaskUpdate(status="SUCCESS", cost=0.01))
    store.list(__import__("rh_tools.journal", fromlist=["TaskQuery"]).TaskQuery(limit=5))
"""


def test_many_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"p{k}", "60"], stderr=subprocess.PIPE, text=True)
        for k in range(5)
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, errors
    store = SQLiteStore(path)
    records = store.list(TaskQuery(limit=10_000))
    assert len(records) == 300 and all(r.status == "SUCCESS" and r.cost == 0.01 for r in records)
    assert {r.params["i"] for r in records if r.endpoint == "ep/p3"} == set(range(60))
    assert store.durations("ai:ep/p0", 100) == [float(i) for i in range(60)]
    assert sum(r.tasks for r in store.spend(TaskQuery())) == 300


# ---------------------------------------------------------------- crashes and interrupts


KILLED_RUN = """
from rh_tools import RunningHub
RunningHub().run("grok_image_to_image", prompt="killed mid-run", imageUrl=__import__("sys").argv[1], timeout=600)
"""


def test_sigkill_mid_run_then_a_new_process_lists_and_collects(held: Emulator, store_path: Path) -> None:
    env = child_env(held)
    victim = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(SKETCH)], env=env, stderr=subprocess.PIPE)
    try:
        until(journalled(store_path, {victim.pid}), "the submit to be journalled")
    finally:
        victim.kill()
        victim.wait(30)
    assert victim.returncode == -signal.SIGKILL

    listed = subprocess.run(
        [sys.executable, "-m", "rh_tools.cli", "tasks", "--unfinished", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert listed.returncode == EXIT_OK, listed.stderr
    [task] = json.loads(listed.stdout)
    assert (
        task["status"] == "QUEUED"
        and task["tool"] == GROK
        and task["params"]["imageUrl"] == {"local_file": "sketch.png"}
    )

    held.set_config(key_overrides=RELEASE)
    resumed = subprocess.run(
        [sys.executable, "-m", "rh_tools.cli", "resume", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert resumed.returncode == EXIT_OK, resumed.stderr
    [collected] = json.loads(resumed.stdout)
    assert collected["task_id"] == task["task_id"] and collected["status"] == "SUCCESS" and collected["collected"]
    rec = SQLiteStore(store_path).get(task["task_id"])
    assert rec is not None and rec.status == "SUCCESS" and rec.outputs


MODES = {"default": [], "quiet": ["--quiet"], "json": ["--json"]}


def test_ctrl_c_and_sigterm_in_every_output_mode_print_the_task_and_exit_130(
    held: Emulator, store_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = child_env(held)
    cases = [(mode, sig) for mode in MODES for sig in (signal.SIGINT, signal.SIGTERM)]
    procs = [cli("run", GROK, "--prompt", f"{mode} {sig.name}", "--image", str(SKETCH), *MODES[mode], env=env)
             for mode, sig in cases]  # fmt: skip
    try:
        until(journalled(store_path, {p.pid for p in procs}), "every submit to be journalled")
        for p, (_, sig) in zip(procs, cases, strict=True):
            p.send_signal(sig)
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    by_pid = {r.pid: r for r in SQLiteStore(store_path).list(TaskQuery(limit=100))}
    for p, (mode, sig), (out, err) in zip(procs, cases, outputs, strict=True):
        task_id = by_pid[p.pid].task_id
        assert p.returncode == EXIT_INTERRUPTED, (mode, sig, err)
        assert f"Task {task_id} keeps running" in err and f"rh-tools wait {task_id}" in err, (mode, sig, err)
        assert ("SIGTERM" if sig == signal.SIGTERM else "Ctrl-C") in err and "Traceback" not in err
        if mode == "json":
            answer = json.loads(out.strip().splitlines()[-1])
            assert answer == {"interrupted": True, "task_id": task_id, "resume": f"rh-tools wait {task_id}"}
        else:
            assert out == ""

    # All six are still in the journal; `rh-tools resume` collects them once they may run.
    held.set_config(key_overrides=RELEASE)
    for name, value in child_env(held).items():
        if name.startswith("RUNNINGHUB_"):
            monkeypatch.setenv(name, value)
    assert main(["resume", "--json"]) == EXIT_OK
    collected = json.loads(capsys.readouterr().out)
    assert {c["task_id"] for c in collected} == {r.task_id for r in by_pid.values()}
    assert all(c["status"] == "SUCCESS" for c in collected)
    assert main(["resume"]) == EXIT_OK and "Nothing to resume" in capsys.readouterr().out


def test_interrupted_wait_names_the_task(held: Emulator) -> None:
    with RunningHub(api_key=HELD_KEY, base_url=held.base_url) as rh:
        task = rh.submit(GROK, prompt="x", imageUrl="https://example.com/a.png")
    polls = held.stats.requests_by_path.get("/openapi/v2/query", 0)
    proc = cli("wait", task.task_id, "--json", env=child_env(held))
    until(lambda: held.stats.requests_by_path.get("/openapi/v2/query", 0) > polls, "the first poll")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED and json.loads(out)["task_id"] == task.task_id
    assert f"rh-tools wait {task.task_id}" in err


def test_interrupt_before_the_submit_answer_says_no_id_was_received(held: Emulator) -> None:
    fault = held.faults.add("latency", path=f"/openapi/v2/{GROK_PATH}", seconds=20)
    try:
        proc = cli("run", GROK, "--prompt", "x", "--image", "https://example.com/a.png", "--json", env=child_env(held))
        until(lambda: fault.fired > 0, "the submit to reach the emulator")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        held.faults.clear()
    assert proc.returncode == EXIT_INTERRUPTED and "before a task id was received" in err
    assert json.loads(out) == {"interrupted": True, "task_id": None, "resume": None}


# ---------------------------------------------------------------- the CLI, in process


@pytest.fixture
def cli_env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", emu.base_url)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.05")
    return emu


def test_cli_tasks_filters_spend_and_download(cli_env: Emulator, tmp_path: Path, capsys: Any) -> None:
    assert main(["run", GROK, "--prompt", "one", "--image", str(SKETCH), "--quiet", "--download", str(tmp_path)]) == 0
    assert main(["run", GROK, "--prompt", "two", "--image", str(SKETCH), "--no-wait", "--json"]) == 0
    capsys.readouterr()

    assert main(["tasks"]) == EXIT_OK
    text = capsys.readouterr().out
    assert text.count(GROK) == 2 and "SUCCESS" in text and "0.14" in text and "rh-tools resume" in text
    assert main(["tasks", "--json", "--status", "SUCCESS"]) == EXIT_OK
    [done] = json.loads(capsys.readouterr().out)
    assert done["params"]["prompt"] == "one" and done["files"] and Path(done["files"][0]).parent == tmp_path
    assert main(["tasks", "--json", "--unfinished", "--since", "1h", "--model", "grok"]) == EXIT_OK
    [pending] = json.loads(capsys.readouterr().out)
    assert pending["params"]["prompt"] == "two" and not pending["done"]
    assert main(["tasks", "--json", "--model", "kling"]) == EXIT_OK and json.loads(capsys.readouterr().out) == []
    assert main(["tasks", "--json", "--spend"]) == EXIT_OK
    spend = json.loads(capsys.readouterr().out)
    assert spend["total"]["tasks"] == 2 and spend["by_endpoint"][GROK_PATH]["cost"] == 0.14
    assert main(["tasks", "--spend"]) == EXIT_OK and "Per endpoint" in capsys.readouterr().out

    assert main(["wait", pending["task_id"], "--json"]) == EXIT_OK
    capsys.readouterr()
    out = tmp_path / "dl"
    assert main(["download", pending["task_id"], "--dir", str(out), "--json"]) == EXIT_OK
    files = json.loads(capsys.readouterr().out)["files"]
    assert files and Path(files[0]).read_bytes()[:4] == b"\x89PNG"
    assert SQLiteStore(os.environ["RUNNINGHUB_STORE"]).get(pending["task_id"]).files == files  # type: ignore[union-attr]


def test_cli_journal_errors_exit_2_with_what_to_do(
    cli_env: Emulator, monkeypatch: Any, capsys: Any, caplog: Any
) -> None:
    monkeypatch.setenv("RUNNINGHUB_STORE", "none")
    assert main(["tasks"]) == 2 and "RUNNINGHUB_STORE" in capsys.readouterr().err
    monkeypatch.setenv("RUNNINGHUB_STORE", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    with caplog.at_level(logging.WARNING, logger="rh_tools"):
        assert main(["tasks"]) == 0  # Redis down: the local fallback journal is listed, with one warning
    assert "fallback" in capsys.readouterr().out and "is unreachable" in caplog.text
    assert main(["tasks", "--since", "yesterday"]) == 2 and "not a duration" in capsys.readouterr().err


# ---------------------------------------------------------------- LangChain and MCP


def test_langchain_list_tasks_sees_what_run_model_paid_for(emu: Emulator) -> None:
    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05)
    tools = {t.name: t for t in RunningHubToolkit(client=sync).get_tools()}
    ran = tools["run_model"].invoke(
        {"type": "tool_call", "id": "1", "name": "run_model",
         "args": {"name": GROK, "params": {"prompt": "a fox", "imageUrl": "https://example.com/a.png"}}}
    )  # fmt: skip
    assert isinstance(ran, ToolMessage) and ran.status == "success"
    listed = tools["list_tasks"].invoke(
        {"type": "tool_call", "id": "2", "name": "list_tasks", "args": {"name": "grok"}}
    )
    assert isinstance(listed, ToolMessage) and listed.status == "success"
    assert listed.artifact["tasks"][0]["task_id"] == ran.artifact["task_id"]
    assert 'prompt "a fox"' in listed.content and "SUCCESS" in listed.content
    sync.close()


async def test_langchain_async_list_tasks_filters(emu: Emulator) -> None:
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05)
    tools = {t.name: t for t in RunningHubToolkit(async_client=asy).get_tools()}
    task = await asy.submit(GROK, prompt="later", imageUrl="https://example.com/a.png")
    out = await tools["list_tasks"].ainvoke({"unfinished": True})
    assert task.task_id in out and "wait_task" in out
    bad = await tools["list_tasks"].ainvoke({"type": "tool_call", "id": "3", "name": "list_tasks",
                                             "args": {"status": "DONE"}})  # fmt: skip
    assert bad.status == "error" and "status" in bad.content
    await asy.aclose()


async def test_mcp_list_tasks_and_task_resources(emu: Emulator) -> None:
    async with connect(emu, tools=[GROK]) as client:
        ran = await client.call_tool(GROK, {"prompt": "mcp fox", "imageUrl": "https://example.com/a.png"})
        task_id = ran.structured_content["task_id"]
        listed = await client.call_tool("list_tasks", {"name": "grok"})
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        one = await client.read_resource(f"runninghub://tasks/{task_id}")
        every = await client.read_resource("runninghub://tasks")
    assert not listed.is_error and listed.structured_content["tasks"][0]["task_id"] == task_id
    uris = [str(r.uri) for r in resources.resources]
    assert f"runninghub://tasks/{task_id}" in uris and "runninghub://tasks" in uris
    assert "runninghub://tasks/{task_id}" in [t.uri_template for t in templates.resource_templates]
    record = json.loads(one.contents[0].text)
    assert record["status"] == "SUCCESS" and record["params"]["prompt"] == "mcp fox" and record["outputs"]
    assert json.loads(every.contents[0].text)["tasks"][0]["task_id"] == task_id


async def test_a_new_mcp_server_finds_what_an_earlier_one_paid_for(held: Emulator) -> None:
    """A chat's server ends before its task does; the next chat's server lists the task and collects it."""
    async with connect(held, api_key=HELD_KEY, tools=[GROK], max_wait=0) as first:
        ran = await first.call_tool(GROK, {"prompt": "earlier chat", "imageUrl": "https://example.com/a.png"})
    task_id = ran.structured_content["task_id"]
    held.set_config(key_overrides=RELEASE)
    async with connect(held, api_key=HELD_KEY) as second:
        listed = await second.call_tool("list_tasks", {"unfinished": True})
        assert [t["task_id"] for t in listed.structured_content["tasks"]] == [task_id]
        collected = await second.call_tool("wait_task", {"task_id": task_id, "wait_seconds": 60})
    assert not collected.is_error and collected.structured_content["status"] == "SUCCESS"


async def test_a_shared_http_server_lists_tasks_only_for_a_caller_with_a_key(emu: Emulator, store_path: Path) -> None:
    SQLiteStore(store_path).add(TaskRecord("1111", endpoint=GROK_PATH, key_id="someone-else"))
    async with connect(emu, api_key=None, transport="http") as client:
        listed = await client.call_tool("list_tasks", {})
        resources = await client.list_resources()
    assert listed.is_error and "header" in listed.structured_content["hint"]
    assert "1111" not in json.dumps([str(r.uri) for r in resources.resources])
