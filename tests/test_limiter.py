"""Task slots per account (``RUNNINGHUB_MAX_CONCURRENCY``): in one process, and shared by processes
through a real ``redis-server``: first come first served, leases that return a dead process's
slots, a local fallback while Redis is down, and give-back by whichever process sees a task end."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TEST_KEY, tasks_held
from redis_support import RedisServer, child_env

from rh_tools import AsyncRunningHub, ConfigurationError, RunningHub, SlotTimeoutError
from rh_tools.coordination import LocalLimiter, RedisLimiter, resolve_max_concurrency
from rh_tools.coordination._redis import RedisLink
from rh_tools.emulator import Emulator

GROK = "grok_image_to_image"
GROK_ARGS = {"prompt": "x", "imageUrl": "https://example.com/a.png"}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def url(redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    redis_server.client().flushdb()
    monkeypatch.setenv("RUNNINGHUB_STORE_FALLBACK", str(tmp_path / "fallback.sqlite3"))
    return redis_server.url


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2}, concurrency=2, queue_limit=0) as e:
        yield e


def in_order(take: Callable[[], object], queued: Callable[[], int], n: int, start: Callable[[], object]) -> list[int]:
    """Start ``n`` takers one after another, each only once the one before is queued (``queued()``
    counts them, however slow the machine), then ``start()``; returns the order they got slots in."""
    got: list[int] = []
    threads = []
    for i in range(n):
        t = threading.Thread(target=lambda i=i: (take(), got.append(i)))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 30
        while queued() < i + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    start()
    for t in threads:
        t.join(30)
    return got


class TestSettings:
    def test_values(self) -> None:
        assert resolve_max_concurrency(None, {}) is None
        assert resolve_max_concurrency(None, {"RUNNINGHUB_MAX_CONCURRENCY": " 5 "}) == 5
        assert resolve_max_concurrency(3, {"RUNNINGHUB_MAX_CONCURRENCY": "5"}) == 3  # argument first
        assert resolve_max_concurrency(None, {"RUNNINGHUB_MAX_CONCURRENCY": "AUTO"}) == "auto"
        assert resolve_max_concurrency("off", {}) is None
        for bad in ("-1", "five", "2.5"):
            with pytest.raises(ConfigurationError, match="whole number") as err:
                resolve_max_concurrency(None, {"RUNNINGHUB_MAX_CONCURRENCY": bad})
            assert "RUNNINGHUB_MAX_CONCURRENCY" in err.value.message and err.value.hint

    def test_a_bad_setting_fails_at_construction(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RUNNINGHUB_MAX_CONCURRENCY", "many")
        with pytest.raises(ConfigurationError, match="RUNNINGHUB_MAX_CONCURRENCY"):
            RunningHub(api_key=TEST_KEY)


class TestLocal:
    def test_first_come_first_served_and_timeout_leaves_the_queue(self) -> None:
        lim = LocalLimiter(1)
        first = lim.acquire(time.monotonic() + 1)
        with pytest.raises(SlotTimeoutError, match="All 1 task slots") as err:
            lim.acquire(time.monotonic() + 0.05)
        assert err.value.retryable and "Nothing was submitted" in err.value.hint
        take = lambda: lim.release(lim.acquire(time.monotonic() + 30))  # noqa: E731
        order = in_order(take, lambda: len(lim._queue), 4, lambda: lim.release(first))
        assert order == [0, 1, 2, 3] and lim.in_use == 0

    async def test_async_waiters_and_threads_share_one_queue(self) -> None:
        lim = LocalLimiter(2)
        held = [lim.acquire(time.monotonic() + 1) for _ in range(2)]
        got: list[str] = []

        async def waiter(name: str) -> None:
            slot = await lim.aacquire(time.monotonic() + 30)
            got.append(name)
            lim.bind(slot, name)

        tasks = [asyncio.create_task(waiter(n)) for n in ("a", "b")]
        while len(lim._queue) < 2:  # both queued, in this order
            await asyncio.sleep(0)
        lim.release(held[0])
        await asyncio.wait_for(tasks[0], 5)
        assert got == ["a"] and lim.task_ended("a") and not lim.task_ended("a")  # given back once
        await asyncio.wait_for(tasks[1], 5)
        assert got == ["a", "b"]

    def test_client_threads_never_exceed_the_limit(self, emu: Emulator) -> None:
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, max_concurrency=2, poll_interval=0.05) as rh:
            threads = [threading.Thread(target=rh.run, args=(GROK,), kwargs=GROK_ARGS) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        assert emu.stats.tasks_created == 6 and emu.stats.error_codes.get("421", 0) == 0
        assert emu.stats.peak_in_flight[TEST_KEY] == 2

    def test_without_a_limit_the_same_load_is_refused(self, emu: Emulator) -> None:
        # The control: the emulator's account really refuses a third task (and the client retries).
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05, max_retries=0) as rh:
            with tasks_held(emu):
                emu.set_config(concurrency=2, queue_limit=0)
                rh.submit(GROK, **GROK_ARGS)
                rh.submit(GROK, **GROK_ARGS)
                with pytest.raises(Exception, match="(?i)queue|concurren"):
                    rh.submit(GROK, **GROK_ARGS)
        assert emu.stats.error_codes.get("421") == 1

    async def test_slot_timeout_sends_nothing(self, emu: Emulator) -> None:
        async with AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, max_concurrency=1) as rh:
            with tasks_held(emu):
                first = await rh.submit(GROK, **GROK_ARGS)  # holds the only slot while it stays queued
                with pytest.raises(SlotTimeoutError) as err:
                    await rh.run(GROK, **GROK_ARGS, timeout=0.2)
                assert emu.stats.tasks_created == 1 and err.value.task_id is None
            result = await rh.wait(first.task_id, timeout=30)  # seen ending: its slot comes back
            assert result.status == "SUCCESS"
            assert (await rh.run(GROK, **GROK_ARGS, timeout=30)).status == "SUCCESS"

    def test_auto_reads_the_accounts_limit_once(self, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RUNNINGHUB_MAX_CONCURRENCY", "auto")
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as rh:
            rh.run(GROK, **GROK_ARGS)
            rh.run(GROK, **GROK_ARGS)
            assert rh._coord.limit == 2  # the emulator's concurrentLimit
        assert emu.stats.requests_by_path.get("/openapi/v2/queue/status") == 1


class TestRedis:
    def test_fifo_across_limiters_and_counts(self, url: str) -> None:
        a, b = (RedisLimiter(RedisLink(url), "acct", 1) for _ in range(2))  # as two processes would
        first = a.acquire(time.monotonic() + 5)
        assert a.in_use() == (1, 0)
        limiters = [b, a, b, a]
        takers = [lambda lim=lim: lim.release(lim.acquire(time.monotonic() + 30)) for lim in limiters]
        got: list[int] = []
        threads = []
        for i, take in enumerate(takers):
            t = threading.Thread(target=lambda i=i, take=take: (take(), got.append(i)))
            t.start()
            threads.append(t)
            deadline = time.monotonic() + 5
            while a.in_use()[1] < i + 1 and time.monotonic() < deadline:  # queued in Redis, in this order
                time.sleep(0.01)
        a.release(first)
        for t in threads:
            t.join(30)
        assert got == [0, 1, 2, 3] and a.in_use() == (0, 0)
        assert a.round_trips + b.round_trips <= 2 * 5 + 2  # one to take, one to give back (+ a rare recheck)

    def test_a_killed_process_gives_its_slots_back_after_its_lease(self, url: str) -> None:
        code = (
            "import time, sys\n"
            "from rh_tools.coordination import RedisLimiter\n"
            "from rh_tools.coordination._redis import RedisLink\n"
            f"lim = RedisLimiter(RedisLink({url!r}), 'acct', 2, lease=2.0)\n"
            "lim.acquire(time.monotonic() + 5); lim.acquire(time.monotonic() + 5)\n"
            "print('held', flush=True); time.sleep(600)\n"
        )
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=child_env())
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "held"
            mine = RedisLimiter(RedisLink(url), "acct", 2, lease=1.0)
            with pytest.raises(SlotTimeoutError):
                mine.acquire(time.monotonic() + 0.3)  # both slots are the child's, and it is alive
            child.kill()
            child.wait(10)
            # Its lease (2 s) runs out and a renewal of this process clears it: well before the 1-h hold.
            slots = [mine.acquire(time.monotonic() + 30) for _ in range(2)]
            assert all(s.shared for s in slots)
        finally:
            child.kill()
            if child.stdout is not None:
                child.stdout.close()

    def test_redis_down_falls_back_to_local_slots_and_recovers(
        self, redis_server: RedisServer, url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        lim = RedisLimiter(RedisLink(url, retry_after=0.2), "acct", 2)
        held = lim.acquire(time.monotonic() + 5)
        assert held.shared
        redis_server.stop()
        try:
            with caplog.at_level(logging.WARNING, logger="rh_tools"):
                lim.release(held)  # cannot reach Redis: given back when it returns
                local = [lim.acquire(time.monotonic() + 5) for _ in range(2)]
                with pytest.raises(SlotTimeoutError, match="this process"):
                    lim.acquire(time.monotonic() + 0.1)  # the same N, locally
            assert not any(s.shared for s in local)
            assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1
        finally:
            redis_server.start()
        time.sleep(0.25)
        back = lim.acquire(time.monotonic() + 5)  # shared again; the release above was replayed
        assert back.shared and lim.in_use() == (1, 0)

    def test_a_task_seen_ending_elsewhere_gives_back_its_slot(self, url: str) -> None:
        # A child process submits (holding a slot) and leaves the task to others, like an MCP run
        # whose wait gave up; this process sees the task end: the child gives the slot back.
        with Emulator(port=0, durations={"image": 0.2}) as emu:
            code = (
                "import json, time\n"
                "from rh_tools import RunningHub\n"
                f"rh = RunningHub(api_key={TEST_KEY!r}, base_url={emu.base_url!r}, max_concurrency=3)\n"
                f"print(json.dumps(rh.submit({GROK!r}, prompt='x', imageUrl='https://example.com/a.png').task_id),"
                " flush=True)\n"
                "time.sleep(600)\n"
            )
            env = child_env(RUNNINGHUB_STORE=url)
            child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
            try:
                assert child.stdout is not None
                task_id = json.loads(child.stdout.readline())
                with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, store=url, max_concurrency=3) as rh:
                    limiter = rh._coord.limiter
                    assert isinstance(limiter, RedisLimiter) and limiter.in_use() == (1, 0)
                    assert rh.wait(task_id, timeout=30).status == "SUCCESS"
                    deadline = time.monotonic() + 10
                    while limiter.in_use() != (0, 0) and time.monotonic() < deadline:
                        time.sleep(0.02)
                    assert limiter.in_use() == (0, 0)
            finally:
                child.kill()
                child.wait(10)
                if child.stdout is not None:
                    child.stdout.close()
