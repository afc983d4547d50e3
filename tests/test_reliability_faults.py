"""Fault matrix: every way the network or RunningHub misbehaves, through the client, LangChain and MCP.

For each fault the emulator injects, and for each surface (the blocking client, a LangChain tool,
the MCP server over an in-memory client, which runs the async twin), this asserts:

* the outcome: success after retry, a typed error, or a pending result carrying the task id that a
  later wait resumes;
* how many submits reached the emulator and how many tasks it created for the one logical submit:
  never more than one, so no generation is ever bought twice; and a submit whose fate is unknown
  is never retried and never reported as "retryable";
* on the tool surfaces: no exception escapes, the result reads as an error or a pending task, and
  the MCP server answers the next call.

``RH_RELIABILITY_DOC=1 pytest tests/test_reliability_faults.py`` also rewrites the outcome table of
``docs/reliability.md`` from what these tests measured.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import ROOT, TEST_KEY

from rh_tools import (
    APIConnectionError,
    RunningHub,
    RunningHubError,
    TaskTimeoutError,
)
from rh_tools import _calls as calls
from rh_tools import _constants as C
from rh_tools import _core as core
from rh_tools.emulator import Emulator

ENDPOINT = "grok_image_to_image"
SUB = "/openapi/v2/rhart-image-g/image-to-image"
QUERY = "/openapi/v2/query"
ARGS = {"prompt": "a red fox", "imageUrl": "https://example.com/fox.png"}
FAST = {"image": 0.05, "video": 0.05, "audio": 0.05, "3d": 0.05, "text": 0.05}
REQUEST_TIMEOUT = 0.3  # the client's per-request timeout; slow answers are held 1 s
WAIT = 5.0  # how long a run may wait for its result (faults that end in "pending" use PENDING_WAIT)
PENDING_WAIT = 0.25
MAY_EXIST = "before submitting again"  # both submit-may-exist hints end so
SURFACES = ("client", "langchain", "mcp")
DOC = ROOT / "docs" / "reliability.md"


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    faults: tuple[tuple[str, dict[str, Any]], ...] = ()
    expect: str = "success"  # success | pending | <error class name>
    submits: int = 1  # submit requests that reached the emulator
    tasks: int = 1  # tasks the emulator created (<= 1 always)
    may_exist: bool = False  # the error must warn that a task may exist and say "not retryable"
    gives_id: bool = False  # the answer named the created task: the error must carry that id
    resume: str | None = None  # after the first outcome: "success" or "pending" when waited on again
    duration: float | None = None  # this case's task duration
    restart: str | None = None  # "polling": restart while a wait polls; "submit": submit while down
    retry_base: float = 0.02  # RETRY_BASE_DELAY for this case (restart cases need the real one)
    min_seconds: float = 0.0


def _f(kind: str, path: str | None = SUB, times: int | None = 1, **params: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"path": path, "times": times, **params}


CASES = [
    # -- the submit (paid) request
    Case(
        "submit-5xx-json",
        "Submit: HTTP 500 burst ×2, JSON body (code 1005)",
        (_f("http_error", times=2),),
        "ServerError",
        tasks=0,
        may_exist=True,  # the same answer can follow a created task (see submit-created-then-busy)
    ),
    Case(
        "submit-busy",
        "Submit: system busy ×2 (code 1011, before any task)",
        (_f("http_error", times=2, code="1011"),),
        submits=3,
    ),
    Case(
        "submit-5xx-html",
        "Submit: HTTP 503 burst ×2, HTML body",
        (_f("http_error", times=2, body="html", status=503),),
        "ServerError",
        tasks=0,
        may_exist=True,
    ),
    Case(
        "submit-html-page",
        "Submit: HTML 502 gateway page",
        (_f("html_error"),),
        "ServerError",
        tasks=0,
        may_exist=True,
    ),
    Case(
        "submit-malformed",
        "Submit: HTTP 200, truncated JSON",
        (_f("malformed_json"),),
        "ResponseFormatError",
        tasks=0,
        may_exist=True,
    ),
    Case(
        "submit-reset-before",
        "Submit: connection reset before the server handled it",
        (_f("reset_before"),),
        "APIConnectionError",
        tasks=0,
        may_exist=True,
    ),
    Case(
        "submit-reset-after",
        "Submit: connection reset after the task was created",
        (_f("reset_after"),),
        "APIConnectionError",
        may_exist=True,
    ),
    Case(
        "submit-read-timeout",
        f"Submit: answer held 1 s > client timeout {REQUEST_TIMEOUT} s",
        (_f("slow_response", seconds=1.0),),
        "APITimeoutError",
        may_exist=True,
    ),
    # the double-billing case: the submit created its task, then the answer was an error
    Case(
        "submit-created-then-busy",
        "Submit: task created, then HTTP 500 + busy code 1005",
        (_f("error_after"),),
        "ServerError",
        may_exist=True,
    ),
    Case(
        "submit-created-then-500",
        "Submit: task created, then HTTP 500 + code 1000",
        (_f("error_after", code="1000"),),
        "ServerError",
        may_exist=True,
    ),
    Case(
        "submit-created-then-html",
        "Submit: task created, then an HTML 502 page",
        (_f("error_after", status=502, body="html"),),
        "ServerError",
        may_exist=True,
    ),
    Case(
        "submit-created-then-error-with-id",
        "Submit: task created, then HTTP 500 + code 1000 naming the task",
        (_f("error_after", code="1000", task_id=True),),
        "ServerError",
        may_exist=True,
        gives_id=True,
    ),
    Case("submit-queue-full", "Submit: 421 queue full ×2", (_f("queue_full", times=2),), submits=3),
    Case(
        "submit-queue-full-persistent",
        "Submit: 421 queue full, every time",
        (_f("queue_full", times=None),),
        "RateLimitError",
        submits=1 + C.DEFAULT_MAX_RETRIES,
        tasks=0,
    ),
    Case(
        "submit-rate-limit",
        "Submit: 1003 / HTTP 429, Retry-After: 1",
        (_f("rate_limit", retry_after=1),),
        submits=2,
        min_seconds=0.95,
    ),
    Case(
        "submit-conn-refused",
        "Submit while the service restarts (connection refused, downtime 0.5 s)",
        restart="submit",
        retry_base=C.RETRY_BASE_DELAY,
    ),
    # -- polling (free, idempotent)
    Case("query-5xx-json", "Query: HTTP 500 burst ×2, JSON body", (_f("http_error", QUERY, 2),)),
    Case(
        "query-5xx-html",
        "Query: HTTP 502 burst ×2, HTML body",
        (_f("http_error", QUERY, 2, body="html", status=502),),
    ),
    Case("query-malformed", "Query: HTTP 200, truncated JSON", (_f("malformed_json", QUERY),)),
    Case("query-reset-before", "Query: connection reset before handling", (_f("reset_before", QUERY),)),
    Case("query-reset-after", "Query: connection reset after handling", (_f("reset_after", QUERY),)),
    Case(
        "query-read-timeout",
        f"Query: answer held 1 s > client timeout {REQUEST_TIMEOUT} s",
        (_f("slow_response", QUERY, seconds=1.0),),
    ),
    Case(
        "query-rate-limit",
        "Query: 1003 / HTTP 429, Retry-After: 0",
        (_f("rate_limit", QUERY, retry_after=0),),
    ),
    Case(
        "query-5xx-persistent",
        "Query: HTTP 500 on every poll (service down for polls)",
        (_f("http_error", QUERY, None),),
        "ServerError",
        resume="success",
    ),
    # -- the task itself
    Case(
        "task-failed",
        "Task ends FAILED (1501 moderation)",
        (("fail_tasks", {"times": 1, "code": "1501"}),),
        "TaskFailedError",
    ),
    Case(
        "task-never-finishes",
        f"Task never finishes (wait {PENDING_WAIT} s)",
        (("never_finish", {"times": 1}),),
        "pending",
        resume="pending",
    ),
    Case(
        "task-outlasts-wait",
        f"Task takes 0.6 s, wait {PENDING_WAIT} s",
        expect="pending",
        resume="success",
        duration=0.6,
    ),
    Case(
        "restart-mid-task",
        "Emulator restarts (0.5 s down) while a wait polls",
        duration=0.7,
        restart="polling",
        retry_base=0.15,
    ),
]


@dataclass
class Outcome:
    """What one surface reported, reduced to comparable facts."""

    kind: str  # success | pending | error
    error: str | None = None  # error class name (LangChain text does not carry it)
    task_id: str | None = None
    retryable: bool | None = None
    text: str = ""
    done_later: str | None = None  # outcome kind of the resume, when there is one


@dataclass
class Measured:
    outcome: Outcome
    submits: int
    tasks: int
    seconds: float
    hits: int  # requests (or tasks) the injected fault hit


RESULTS: dict[tuple[str, str], Measured] = {}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations=FAST, queue_seconds=0) as e:
        yield e


@pytest.fixture
def fresh(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    emu.faults.clear()
    emu.set_config(endpoint_durations={})
    monkeypatch.setenv("RUNNINGHUB_TIMEOUT", str(REQUEST_TIMEOUT))  # the MCP server's clients read it
    yield emu
    emu.faults.clear()
    emu.set_config(endpoint_durations={})


def _arm(emu: Emulator, case: Case) -> list[Any]:
    if case.duration is not None:
        emu.set_config(endpoint_durations={SUB.removeprefix("/openapi/v2/"): case.duration})
    armed = []
    for kind, params in case.faults:
        params = dict(params)
        armed.append(emu.faults.add(kind, params.pop("path", None), params.pop("times", 1), **params))
    return armed


def _refusing(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
        return False
    except OSError:
        return True


def _start_restart(emu: Emulator, case: Case) -> threading.Thread | None:
    """Begin the case's restart; for "submit", return once the port refuses connections."""
    if case.restart is None:
        return None
    delay = 0.0 if case.restart == "submit" else 0.15
    thread = threading.Thread(target=lambda: (time.sleep(delay), emu.restart(downtime=0.5)), daemon=True)
    thread.start()
    if case.restart == "submit":
        assert emu.wait_until(lambda: _refusing(emu.port), timeout=5, interval=0.005)
    return thread


# ------------------------------------------------------------------ the three surfaces


def _client_outcome(err: BaseException) -> Outcome:
    assert isinstance(err, RunningHubError), f"unexpected {type(err).__name__}: {err}"
    if isinstance(err, TaskTimeoutError):
        return Outcome("pending", task_id=err.task_id, text=str(err))
    return Outcome("error", type(err).__name__, err.task_id, err.retryable, str(err))


def run_client(emu: Emulator, case: Case) -> Outcome:
    wait = PENDING_WAIT if case.expect == "pending" else WAIT
    kw = {"api_key": TEST_KEY, "base_url": emu.base_url, "poll_interval": 0.02, "timeout": REQUEST_TIMEOUT}
    with RunningHub(**kw) as rh:
        try:
            result = rh.run(ENDPOINT, ARGS, timeout=wait)
            out = Outcome("success", task_id=result.task_id, text=f"SUCCESS {result.task_id}")
        except Exception as err:  # noqa: BLE001 - asserted to be a RunningHubError
            out = _client_outcome(err)
        if case.resume and out.task_id:
            if case.expect != "pending":
                emu.faults.clear()
            try:
                rh.wait(out.task_id, timeout=PENDING_WAIT if case.resume == "pending" else WAIT)
                out.done_later = "success"
            except TaskTimeoutError as err:
                assert err.task_id == out.task_id
                out.done_later = "pending"
    return out


def _lc_outcome(msg: Any) -> Outcome:
    from langchain_core.messages import ToolMessage

    assert isinstance(msg, ToolMessage)
    text = str(msg.content)
    if msg.status == "error":
        m = re.search(r"task_id: (\S+)", text)
        retry = re.search(r"retryable: (yes|no)", text)
        retryable = retry.group(1) == "yes" if retry else None
        return Outcome("error", None, m.group(1) if m else None, retryable, text)
    data = msg.artifact or {}
    return Outcome("success" if data.get("done") else "pending", task_id=data.get("task_id"), text=text)


def run_langchain(emu: Emulator, case: Case) -> Outcome:
    from rh_tools import AsyncRunningHub
    from rh_tools.langchain import RunningHubTool

    wait = PENDING_WAIT if case.expect == "pending" else WAIT
    kw = {"api_key": TEST_KEY, "base_url": emu.base_url, "poll_interval": 0.02, "timeout": REQUEST_TIMEOUT}
    with RunningHub(**kw) as sync:
        asy = AsyncRunningHub(**kw)  # unused by invoke(); never opens a connection
        tool = RunningHubTool(name=ENDPOINT, client=sync, async_client=asy, wait=wait)
        msg = tool.invoke({"type": "tool_call", "id": "c1", "name": ENDPOINT, "args": dict(ARGS)})
        out = _lc_outcome(msg)
        if case.resume and out.task_id:
            if case.expect != "pending":
                emu.faults.clear()
            waiter = RunningHubTool(
                name="wait_task",
                client=sync,
                async_client=asy,
                wait=PENDING_WAIT if case.resume == "pending" else WAIT,
            )
            later = _lc_outcome(
                waiter.invoke({"type": "tool_call", "id": "c2", "name": "wait_task", "args": {"task_id": out.task_id}})
            )
            assert later.task_id == out.task_id
            out.done_later = later.kind
    return out


def _mcp_outcome(result: Any) -> Outcome:
    import mcp_types as types

    assert isinstance(result, types.CallToolResult)
    text = "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))
    data = result.structured_content or {}
    if result.is_error:
        return Outcome("error", data.get("error"), data.get("task_id"), data.get("retryable"), text)
    return Outcome("success" if data.get("done") else "pending", task_id=data.get("task_id"), text=text)


async def run_mcp(emu: Emulator, case: Case) -> Outcome:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    wait = PENDING_WAIT if case.expect == "pending" else WAIT
    config = ServerConfig(
        api_key=TEST_KEY,
        base_url=emu.base_url,
        poll_interval=0.02,
        heartbeat=0.2,
        tools=[ENDPOINT],
        max_wait=wait,
    )
    async with Client(build_server(config)) as client:
        out = _mcp_outcome(await client.call_tool(ENDPOINT, dict(ARGS)))
        if case.resume and out.task_id:
            if case.expect != "pending":
                emu.faults.clear()
            for _ in range(20 if case.resume == "success" else 1):  # max_wait caps every wait: come back
                later = _mcp_outcome(await client.call_tool("wait_task", {"task_id": out.task_id}))
                assert later.task_id == out.task_id and later.kind != "error", later
                if later.kind == "success":
                    break
            out.done_later = later.kind
        emu.faults.clear()
        after = await client.call_tool("get_account", {})  # the server still answers the next call
        assert not after.is_error, after
    return out


# ------------------------------------------------------------------ the matrix


def _check(case: Case, surface: str, out: Outcome) -> None:
    if case.expect in ("success", "pending"):
        assert out.kind == case.expect, (surface, out)
    else:
        assert out.kind == "error", (surface, out)
        if out.error is not None:  # client and MCP name the class; LangChain's text does not
            assert out.error == case.expect, (surface, out)
        assert "Traceback" not in out.text
    if case.expect in ("pending", "TaskFailedError") or case.resume:
        assert out.task_id, (surface, out)  # the agent always gets the id of a task that exists
    if case.may_exist:
        assert MAY_EXIST in out.text, (surface, out.text)
        assert out.retryable is False, (surface, out)  # "retry" would resubmit and pay twice
    if case.resume:
        assert out.done_later == case.resume, (surface, out)


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_fault(fresh: Emulator, monkeypatch: pytest.MonkeyPatch, case: Case, surface: str) -> None:
    import anyio

    emu = fresh
    monkeypatch.setattr(C, "RETRY_BASE_DELAY", case.retry_base)
    stats = emu.stats
    submits0, tasks0 = stats.requests_by_path.get(SUB, 0), stats.tasks_created
    armed = _arm(emu, case)
    started = time.monotonic()
    restarting = _start_restart(emu, case)
    if surface == "mcp":
        out = await run_mcp(emu, case)
    else:
        run = run_client if surface == "client" else run_langchain
        out = await anyio.to_thread.run_sync(run, emu, case)
    seconds = time.monotonic() - started
    if restarting is not None:
        restarting.join(10)
        assert emu.running
    submits = stats.requests_by_path.get(SUB, 0) - submits0
    tasks = stats.tasks_created - tasks0
    RESULTS[(case.id, surface)] = Measured(out, submits, tasks, seconds, sum(f.fired for f in armed))
    _check(case, surface, out)
    if case.gives_id:  # the id the answer named is the task the emulator created
        assert out.task_id and emu.task(out.task_id) is not None, (surface, out)
    assert tasks <= 1, f"{tasks} tasks for one logical submit"
    assert (submits, tasks) == (case.submits, case.tasks)
    assert seconds >= case.min_seconds  # Retry-After was honoured


# ------------------------------------------------------------------ what httpx reports, and the rule


def test_only_connection_failures_before_sending_count_as_unsent() -> None:
    """reset_before reaches the server as a request (the socket accepted it), so httpx reports a read
    error and the client must treat the submit as sent; only connect failures are provably unsent."""
    import httpx

    call = calls.submit_call("rhart-image-g/image-to-image", {"prompt": "x"})
    req = httpx.Request("POST", "http://127.0.0.1/")
    for exc, sent in [
        (httpx.ConnectError("refused", request=req), False),
        (httpx.ConnectTimeout("slow connect", request=req), False),
        (httpx.PoolTimeout("pool", request=req), False),
        (httpx.RemoteProtocolError("Server disconnected without sending a response.", request=req), True),
        (httpx.ReadError("Connection reset by peer", request=req), True),
        (httpx.WriteError("Broken pipe", request=req), True),
        (httpx.ReadTimeout("timed out", request=req), True),
    ]:
        err = core.transport_error(exc, call)
        assert isinstance(err, APIConnectionError) and err.sent is sent
        assert (core.retry_delay("submit", 0, 3, err) is not None) is (not sent)
        assert err.retryable is (not sent)
        assert (MAY_EXIST in err.hint) is sent


def test_async_twin_does_not_resend_a_lost_submit(emu: Emulator) -> None:
    """The MCP column runs the async twin through the tool layer; this is it bare."""
    import asyncio

    from rh_tools import AsyncRunningHub

    emu.faults.clear()
    emu.faults.add("reset_after", SUB)
    before = emu.stats.tasks_created, emu.stats.requests_by_path.get(SUB, 0)

    async def go() -> APIConnectionError:
        async with AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url) as rh:
            with pytest.raises(APIConnectionError) as exc:
                await rh.run(ENDPOINT, ARGS)
            return exc.value

    err = asyncio.run(go())
    assert err.sent and not err.retryable and MAY_EXIST in str(err)
    assert (emu.stats.tasks_created - before[0], emu.stats.requests_by_path.get(SUB, 0) - before[1]) == (1, 1)


# ------------------------------------------------------------------ one status check, no wait around it

TRANSIENT_QUERY_FAULTS = [c for c in CASES if c.id.startswith("query-") and c.expect == "success"]


@pytest.mark.parametrize("case", TRANSIENT_QUERY_FAULTS, ids=[c.id for c in TRANSIENT_QUERY_FAULTS])
def test_one_status_check_rides_out_the_fault(fresh: Emulator, monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    """The matrix's query cases would pass even if queries were never retried: a wait survives five
    failed polls in a row. A single get_task has no wait around it: the query itself must retry."""
    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.02)
    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url, timeout=REQUEST_TIMEOUT) as rh:
        task = rh.submit(ENDPOINT, ARGS)
        armed = _arm(fresh, case)
        seen = rh.get_task(task.task_id)
    assert seen.task_id == task.task_id
    assert sum(f.fired for f in armed) >= 1  # the fault did hit this very call


# ------------------------------------------------------------------ the double-billing case on the other surfaces

CREATED_THEN_ERROR = [c for c in CASES if c.id.startswith("submit-created-then-")]


@pytest.mark.parametrize("case", CREATED_THEN_ERROR, ids=[c.id for c in CREATED_THEN_ERROR])
async def test_async_twin_never_resubmits_a_created_task(fresh: Emulator, case: Case) -> None:
    """The async twin bare (the MCP column runs it through the tool layer): one submit, one task."""
    from rh_tools import AsyncRunningHub

    submits0, tasks0 = fresh.stats.requests_by_path.get(SUB, 0), fresh.stats.tasks_created
    _arm(fresh, case)
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url, poll_interval=0.02) as rh:
        with pytest.raises(RunningHubError) as exc:
            await rh.run(ENDPOINT, ARGS, timeout=WAIT)
    err = exc.value
    assert type(err).__name__ == case.expect and err.retryable is False and MAY_EXIST in str(err)
    if case.gives_id:
        assert err.task_id and fresh.task(err.task_id) is not None
    assert fresh.stats.requests_by_path.get(SUB, 0) - submits0 == 1
    assert fresh.stats.tasks_created - tasks0 == 1


@pytest.mark.parametrize("case", CREATED_THEN_ERROR, ids=[c.id for c in CREATED_THEN_ERROR])
def test_cli_never_resubmits_a_created_task(
    fresh: Emulator, case: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rh-tools run``: exit 3 (API error), the warning on stderr, the id where the answer had it."""
    from rh_tools.cli import EXIT_API, main

    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.02")
    submits0, tasks0 = fresh.stats.requests_by_path.get(SUB, 0), fresh.stats.tasks_created
    _arm(fresh, case)
    argv = ["--base-url", fresh.base_url, "run", ENDPOINT, "--params", json.dumps(ARGS), "--quiet", "--json"]
    assert main(argv) == EXIT_API
    captured = capsys.readouterr()
    shown = json.loads(captured.out)
    assert MAY_EXIST in captured.err and shown["retryable"] is False and shown["error"] == case.expect
    if case.gives_id:
        assert shown["task_id"] and shown["task_id"] in captured.err and fresh.task(shown["task_id"]) is not None
    assert fresh.stats.requests_by_path.get(SUB, 0) - submits0 == 1
    assert fresh.stats.tasks_created - tasks0 == 1


# ------------------------------------------------------------------ the real stdio server stays up


STDIO_CASES = [
    "submit-reset-after",
    "submit-malformed",
    "submit-read-timeout",
    "query-reset-before",
    "task-failed",
    "task-never-finishes",
]


async def test_stdio_server_survives_the_faults(emu: Emulator) -> None:
    """One rh-mcp process, one session, fault after fault: every call answered, the process alive."""
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    emu.faults.clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update(
        {
            "RUNNINGHUB_API_KEY": TEST_KEY,
            "RUNNINGHUB_BASE_URL": emu.base_url,
            "RUNNINGHUB_POLL_INTERVAL": "0.02",
            "RUNNINGHUB_TIMEOUT": str(REQUEST_TIMEOUT),
        }
    )
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--tools", ENDPOINT, "--max-wait", str(PENDING_WAIT * 2)],
        env=env,
        cwd=str(ROOT),
    )
    by_id = {c.id: c for c in CASES}
    async with Client(params) as client:
        for cid in STDIO_CASES:
            case = by_id[cid]
            emu.faults.clear()
            _arm(emu, case)
            before = emu.stats.tasks_created
            out = _mcp_outcome(await client.call_tool(ENDPOINT, dict(ARGS)))
            want = case.expect if case.expect in ("success", "pending") else "error"
            assert out.kind == want and out.error in (None, case.expect), (cid, out)
            if case.may_exist:
                assert MAY_EXIST in out.text and out.retryable is False
            assert emu.stats.tasks_created - before == case.tasks
        emu.faults.clear()
        assert not (await client.call_tool("get_account", {})).is_error


# ------------------------------------------------------------------ the outcome table for docs/reliability.md


def _client_cell(m: Measured, case: Case) -> str:
    o = m.outcome
    if o.kind == "success":
        retried = m.submits - 1
        how = "after retrying the poll" if case.faults or case.restart else ""
        if retried > 0:
            how = f"after {retried} resubmit{'s' * (retried != 1)}"
        if case.restart == "submit":
            how = "after retrying the refused connection"
        if case.min_seconds:
            how += f", honouring Retry-After (run took {m.seconds:.1f} s)"
        return f"success {how}".strip()
    if o.kind == "pending":
        later = {"pending": "wait again: still pending, same id", "success": "wait again: success"}[o.done_later or ""]
        return f"`TaskTimeoutError` with task_id; {later}"
    bits = [f"`{o.error}`"]
    if o.task_id:
        bits.append("with task_id")
    bits.append(f"retryable={o.retryable}")
    if case.may_exist:
        bits.append("hint: a task may exist, check before resubmitting")
    if o.done_later:
        bits.append(f"wait again: {o.done_later}")
    return ", ".join(bits)


def _tool_cell(m: Measured, surface: str) -> str:
    o = m.outcome
    if o.kind == "success":
        return "result with output URLs"
    if o.kind == "pending":
        return f"pending result with task_id; `wait_task` → {o.done_later}"
    bits = ['`ToolMessage(status="error")`' if surface == "langchain" else "`isError` result"]
    if o.task_id:
        bits.append("with task_id")
    bits.append(f"retryable: {'yes' if o.retryable else 'no'}")
    if o.done_later:
        bits.append(f"`wait_task` → {o.done_later}")
    if surface == "mcp":
        bits.append("next call answered")
    return ", ".join(bits)


def _table() -> str:
    rows = [
        "| Fault | Fault hits | Client outcome | Submits received | Tasks created | LangChain tool | MCP tool |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in CASES:
        ms = [RESULTS.get((case.id, s)) for s in SURFACES]
        if any(m is None for m in ms):
            return ""
        client, lc, mcp = ms  # type: ignore[misc]
        counts = {(m.submits, m.tasks) for m in ms}  # type: ignore[union-attr]
        assert len(counts) == 1, (case.id, counts)
        hits = str(client.hits) if case.faults else "–"
        rows.append(
            f"| {case.label} | {hits} | {_client_cell(client, case)} | {client.submits} "
            f"| {client.tasks} | {_tool_cell(lc, 'langchain')} | {_tool_cell(mcp, 'mcp')} |"
        )
    return "\n".join(rows)


@pytest.fixture(scope="module", autouse=True)
def _write_doc_table() -> Iterator[None]:
    yield
    if not os.environ.get("RH_RELIABILITY_DOC"):
        return
    table = _table()
    if not table:
        print("reliability table not written: run the whole matrix", file=sys.stderr)
        return
    start, end = "<!-- fault-matrix:start -->", "<!-- fault-matrix:end -->"
    text = DOC.read_text(encoding="utf-8")
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    stamp = "<!-- generated by RH_RELIABILITY_DOC=1 pytest tests/test_reliability_faults.py -->"
    DOC.write_text(f"{head}{start}\n{stamp}\n{table}\n{end}{tail}", encoding="utf-8")
