"""Several real ``rh-mcp --transport http`` replicas and worker processes on one account, through a
real ``redis-server`` and the emulator (issue #15).

The account runs N tasks at once and queues none beyond (a further submit is refused with 421, as
on RunningHub's shared API). Checked: every task finishes, no 421 is ever answered, the emulator
never sees more than N in flight, any request lands on any replica (a round-robin balancer),
a callback heard by one replica ends the wait on another, a replica killed mid-run loses nothing
(another lists and collects its task), and a Redis restart mid-run loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from balancer import RoundRobin
from conftest import ROOT, tasks_held
from mcp.client import Client
from redis_support import RedisServer, free_port

from rh_tools.emulator import Emulator
from rh_tools.journal import SQLiteStore, TaskQuery, resolve_store

N = 3  # the account's concurrency
SECRET = "replica-test-webhook-secret-0123"
GROK = {"prompt": "a fox", "imageUrl": "https://example.com/a.png"}
WORKER = ROOT / "benchmarks" / "bench_shared_account.py"


def key(n: int) -> str:
    """A fresh account per test (slots are per key): leftovers of one test cannot slow another."""
    return f"{n:032x}"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:  # appendonly: data survives a restart
        yield server


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.4}, concurrency=N, queue_limit=0) as e:
        yield e


def _env(emu: Emulator, api_key: str, tmp: Path, name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_", "PYTEST_"))}
    env.update(
        {
            "RUNNINGHUB_API_KEY": api_key,
            "RUNNINGHUB_BASE_URL": emu.base_url,
            "RUNNINGHUB_STORE_FALLBACK": str(tmp / f"fallback-{name}.sqlite3"),
            "RH_MCP_WEBHOOK_SECRET": SECRET,
            **extra,
        }
    )
    return env


class Replicas:
    """``count`` rh-mcp HTTP replicas on one Redis; every callback URL points at replica 0."""

    def __init__(self, emu: Emulator, redis_url: str, api_key: str, tmp: Path, count: int = 3) -> None:
        self.ports = [free_port() for _ in range(count)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = [tmp / f"replica-{i}.log" for i in range(count)]
        for i, port in enumerate(self.ports):
            args = [
                sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port),
                "--stateless", "--store", redis_url, "--max-concurrency", str(N),
                "--webhook-url", f"http://127.0.0.1:{self.ports[0]}", "--webhook-poll", "60", "--max-wait", "45",
            ]  # fmt: skip
            with open(self.logs[i], "wb") as log:
                env = _env(emu, api_key, tmp, f"replica{i}", RUNNINGHUB_POLL_INTERVAL="0.1")
                self.procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log))
        for i, port in enumerate(self.ports):
            _wait_port(port, self.procs[i], self.logs[i])

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def kill(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait(10)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"rh-mcp replica did not start: {log.read_text()}")
            time.sleep(0.05)


@contextmanager
def replicas(emu: Emulator, redis_url: str, api_key: str, tmp: Path, count: int = 3) -> Iterator[Replicas]:
    group = Replicas(emu, redis_url, api_key, tmp, count)
    try:
        yield group
    finally:
        group.close()
        for log in group.logs:
            assert api_key not in log.read_text()  # the key never reaches a log


def mcp(url: str, mode: str = "auto", headers: dict[str, str] | None = None) -> Client:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(timeout=60, headers=headers)
    return Client(streamable_http_client(url + "/mcp", http_client=http), mode=mode)


def data(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, [b.text for b in result.content if isinstance(b, types.TextContent)]
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def workers(emu: Emulator, redis_url: str, api_key: str, tmp: Path, n: int, tasks: int) -> list[subprocess.Popen[str]]:
    go_at = time.time() + 2.0
    procs = []
    for i in range(n):
        args = [sys.executable, str(WORKER), "worker", "--base-url", emu.base_url, "--key", api_key, "--store",
                redis_url, "--limit", str(N), "--tasks", str(tasks), "--poll", "0.1", "--name", f"w{i}",
                "--go-at", str(go_at), "--timeout", "120"]  # fmt: skip
        if i == 0:
            args += ["--sync-threads", "2"]  # the blocking twin shares the same slots
        procs.append(
            subprocess.Popen(
                args,
                env=_env(emu, api_key, tmp, f"worker{i}"),
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    return procs


def results(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out.append({**json.loads(stdout.strip().splitlines()[-1]), "log": stderr})
    return out


async def test_replicas_and_workers_share_the_account(emu: Emulator, redis_server: RedisServer, tmp_path: Path) -> None:
    api_key = key(1)
    with (
        replicas(emu, redis_server.url, api_key, tmp_path) as group,
        RoundRobin([group.url(i) for i in range(3)]) as balancer,
    ):
        procs = workers(emu, redis_server.url, api_key, tmp_path, n=2, tasks=6)
        await asyncio.sleep(1.5)  # the workers start at their common moment; the agents join them

        async def agent(i: int) -> tuple[dict[str, Any], float]:
            t0 = time.monotonic()
            # Old (session) and new (stateless) MCP clients alike, every request to the next replica.
            async with mcp(balancer.url, mode="legacy" if i % 2 else "auto") as client:
                await client.list_tools()
                got = data(await client.call_tool("run_model", {"name": "grok_image_to_image", "params": GROK}))
            return got, time.monotonic() - t0

        calls = await asyncio.gather(*(agent(i) for i in range(6)))
        ran = results(procs)
        async with mcp(group.url(2)) as client:  # any replica lists what every one submitted
            listed = data(await client.call_tool("list_tasks", {}))

    ids = {c["task_id"] for c, _ in calls} | {t for r in ran for t in r["task_ids"]}
    assert all(c["status"] == "SUCCESS" for c, _ in calls)
    assert all(r["done"] == 6 + (2 if r["name"] == "w0" else 0) and not r["failed"] for r in ran), ran
    assert len(ids) == 6 + 14 == emu.stats.tasks_created
    assert emu.stats.error_codes.get("421", 0) == 0 and all(r["refused"] == 0 for r in ran)  # no queue-full at all
    assert emu.stats.peak_in_flight[api_key] <= N
    assert len(set(balancer.sent)) == 3  # every replica served requests
    # Callbacks all went to replica 0, yet every call ended long before its first poll (60 s; the
    # wait's last look at 45 s would have found the task done too): waits on 1 and 2 were woken
    # through Redis.
    assert all(elapsed < 25 for _, elapsed in calls), [round(e, 1) for _, e in calls]
    assert {w.webhook_url for w in emu.webhooks} == {f"{group.url(0)}/rh-webhook/{SECRET}"}
    assert {t["task_id"] for t in listed["tasks"]} == ids  # its newest 20: all of them
    journal = {r.task_id for r in resolve_store(redis_server.url).list(TaskQuery(limit=100))}
    assert ids <= journal, ids - journal


async def test_a_callback_on_one_replica_ends_the_wait_on_another(
    emu: Emulator, redis_server: RedisServer, tmp_path: Path
) -> None:
    api_key = key(2)
    emu.set_config(durations={"image": 1.0})
    with replicas(emu, redis_server.url, api_key, tmp_path, count=2) as group:
        async with mcp(group.url(1)) as client:
            t0 = time.monotonic()
            got = data(await client.call_tool("run_model", {"name": "grok_image_to_image", "params": GROK}))
            elapsed = time.monotonic() - t0
    assert got["status"] == "SUCCESS"
    # Replica 1 polls every 60 s while it expects a callback (its wait's last look is at 45 s);
    # the callback went to replica 0.
    assert elapsed < 25, elapsed
    assert emu.stats.webhooks_delivered == 1
    assert emu.stats.requests_by_path.get("/openapi/v2/query", 0) <= 2  # woken, one confirming query


async def test_a_killed_replica_loses_nothing(emu: Emulator, redis_server: RedisServer, tmp_path: Path) -> None:
    api_key = key(3)
    redis_server.client().flushdb()
    with replicas(emu, redis_server.url, api_key, tmp_path, count=2) as group:
        with tasks_held(emu):  # the task certainly runs when its replica dies

            async def doomed() -> None:
                async with mcp(group.url(1)) as client:
                    await client.call_tool("run_model", {"name": "grok_image_to_image", "params": GROK})

            call = asyncio.create_task(doomed())
            journal = resolve_store(redis_server.url)
            for _ in range(1000):  # submitted and journalled: the replica knew the id when it died
                if journal.list(TaskQuery(limit=1)):
                    break
                await asyncio.sleep(0.02)
            group.kill(1)
            lost = await asyncio.gather(call, return_exceptions=True)
        assert isinstance(lost[0], BaseException)  # its caller saw the replica die
        async with mcp(group.url(0)) as client:
            listed = data(await client.call_tool("list_tasks", {"unfinished": True}))
            (task,) = listed["tasks"]
            collected = data(await client.call_tool("wait_task", {"task_id": task["task_id"]}))
    assert emu.stats.tasks_created == 1 and collected["status"] == "SUCCESS"
    assert collected["task_id"] == task["task_id"]


def test_a_redis_restart_mid_run_loses_nothing(emu: Emulator, redis_server: RedisServer, tmp_path: Path) -> None:
    api_key = key(4)
    redis_server.client().flushdb()
    emu.set_config(queue_limit=100)  # during the outage each process keeps to N on its own
    procs = workers(emu, redis_server.url, api_key, tmp_path, n=2, tasks=8)
    while emu.stats.tasks_created < 3:  # mid-run
        time.sleep(0.02)
    redis_server.restart(down_for=1.0)
    ran = results(procs)
    logs = "".join(r["log"] for r in ran)
    assert "is unreachable" in logs and "reachable again" in logs  # the outage hit the run, and ended
    ids = {t for r in ran for t in r["task_ids"]}
    assert len(ids) == 16 + 2 == emu.stats.tasks_created and all(not r["failed"] for r in ran)
    journal = resolve_store(redis_server.url)
    listed = {r.task_id: r.status for r in journal.list(TaskQuery(limit=100))}
    assert ids <= set(listed) and all(listed[t] == "SUCCESS" for t in ids), (ids - set(listed), logs)
    for i in range(2):  # what the workers journalled locally during the outage was copied into Redis
        fallback = tmp_path / f"fallback-worker{i}.sqlite3"
        assert not fallback.exists() or not SQLiteStore(fallback).list(TaskQuery())


async def test_the_webhook_route_checks_before_it_reads() -> None:
    from mcp_server.config import ServerConfig
    from mcp_server.replicas import WebhookRoute, replica_webhooks

    passed: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed.append(scope["path"])

    receiver = replica_webhooks(ServerConfig(transport="http", webhook_url="https://lb.example", webhook_secret="s3"))
    assert receiver is not None and receiver.url == "https://lb.example/rh-webhook/s3" and receiver._server is None
    route = WebhookRoute(app, receiver)

    async def post(path: str, body: bytes, length: str | None = None) -> int:
        sent: list[dict[str, Any]] = []
        headers = [] if length == "" else [(b"content-length", (length or str(len(body))).encode())]
        scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await route(scope, receive, send)
        return int(sent[0]["status"]) if sent else 0

    good = json.dumps({"event": "TASK_END", "taskId": "1234567890123456789"}).encode()
    assert await post("/rh-webhook/wrong", good) == 404
    assert await post("/rh-webhook/s3", good, length="") == 411
    assert await post("/rh-webhook/s3", good, length=str(2 * 1024 * 1024)) == 413
    assert await post("/rh-webhook/s3", b"not json") == 400
    assert not receiver.has_ended("1234567890123456789")
    assert await post("/rh-webhook/s3", good) == 200 and receiver.has_ended("1234567890123456789")
    assert await post("/mcp", b"{}") == 0 and passed == ["/mcp"]  # everything else goes to the app
    assert replica_webhooks(ServerConfig(transport="stdio", webhook_url="https://lb.example")) is None
