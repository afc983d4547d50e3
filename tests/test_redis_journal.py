"""The shared task journal on a real ``redis-server``: the same rules as the SQLite journal, and no
task lost while Redis is down (local fallback file, copied back when Redis returns)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TEST_KEY
from redis_support import RedisServer, child_env

from rh_tools import RunningHub
from rh_tools.coordination._redis import RedisLink, RedisUnavailable
from rh_tools.emulator import Emulator
from rh_tools.journal import SQLiteStore, TaskQuery, TaskRecord, TaskUpdate, resolve_store
from rh_tools.journal._location import fallback_location
from rh_tools.journal.redis_store import FailoverStore, RedisStore

GROK = "grok_image_to_image"
GROK_ARGS = {"prompt": "x", "imageUrl": "https://example.com/a.png"}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def url(redis_server: RedisServer) -> str:
    redis_server.client().flushdb()
    return redis_server.url


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2}) as e:
        yield e


def rec(task_id: str, **kw: object) -> TaskRecord:
    return TaskRecord(task_id=task_id, endpoint=kw.pop("endpoint", "a/b"), **kw)  # type: ignore[arg-type]


class TestRedisStore:
    def test_add_update_and_terminal_status_is_final(self, url: str) -> None:
        store = RedisStore(RedisLink(url))
        store.add(rec("1", params={"prompt": "fox"}, key_id="k1"))
        assert store.update("1", TaskUpdate(status="RUNNING"))
        assert store.update("1", TaskUpdate(status="SUCCESS", outputs=[{"url": "u"}], cost=0.5))
        assert store.update("1", TaskUpdate(status="RUNNING"))  # a late answer from another process
        got = store.get("1")
        assert got is not None and got.status == "SUCCESS" and got.outputs == [{"url": "u"}] and got.cost == 0.5
        assert got.params == {"prompt": "fox"} and got.key_id == "k1" and got.done
        assert not store.update("2", TaskUpdate(status="RUNNING"))  # unknown: False, nothing made up
        assert store.get("2") is None
        store.add(rec("1", status="QUEUED", cost=None))  # seen again by another client: kept, not reset
        assert store.get("1").status == "SUCCESS"  # type: ignore[union-attr]

    def test_list_filters_newest_first_and_spend(self, url: str) -> None:
        store = RedisStore(RedisLink(url))
        now = time.time()
        for i in range(1, 8):
            done = i % 2 == 0
            store.add(
                rec(
                    str(i),
                    endpoint="kling/video" if i < 4 else "grok/image",
                    tool="kling_video" if i < 4 else GROK,
                    created_at=now - 100 + i,
                    status="SUCCESS" if done else "RUNNING",
                    cost=1.0 if done else None,
                    key_id="mine" if i != 7 else "theirs",
                )
            )
        ids = lambda q: [r.task_id for r in store.list(q)]  # noqa: E731
        assert ids(TaskQuery()) == ["7", "6", "5", "4", "3", "2", "1"]
        assert ids(TaskQuery(unfinished=True)) == ["7", "5", "3", "1"]
        assert ids(TaskQuery(key_id="mine", limit=2)) == ["6", "5"]
        assert ids(TaskQuery(endpoint="KLING")) == ["3", "2", "1"]  # case-blind, path or tool
        assert ids(TaskQuery(statuses=frozenset({"SUCCESS"}), since=now - 97)) == ["6", "4"]
        assert ids(TaskQuery(unfinished=True, key_id="mine")) == ["5", "3", "1"]
        spend = store.spend(TaskQuery())
        assert {(r.endpoint, r.tasks, r.cost) for r in spend} == {("kling/video", 3, 1.0), ("grok/image", 4, 2.0)}

    def test_durations_and_prune(self, url: str) -> None:
        store = RedisStore(RedisLink(url))
        for s in range(70):
            store.add_duration("ai:x", float(s))
        assert store.durations("ai:x", 3) == [67.0, 68.0, 69.0]  # oldest first, like SQLite
        assert len(store.durations("ai:x", 100)) == 64  # capped per key
        store.add(rec("old", created_at=time.time() - 10_000))
        store.add(rec("new"))
        assert store.prune(time.time() - 5_000) == 1
        assert [r.task_id for r in store.list(TaskQuery())] == ["new"]

    def test_an_expired_task_drops_out_of_listings(self, url: str, redis_server: RedisServer) -> None:
        store = RedisStore(RedisLink(url))
        store.add(rec("1", key_id="k"))
        store.add(rec("2", key_id="k"))
        redis_server.client().delete("rh-tools:journal:task:1")  # what the retention TTL does
        assert [r.task_id for r in store.list(TaskQuery(key_id="k"))] == ["2"]
        assert redis_server.client().zrange("rh-tools:journal:key:k", 0, -1) == ["2"]  # index tidied


class TestFailover:
    def test_outage_writes_locally_then_copies_into_redis(
        self, redis_server: RedisServer, url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        link = RedisLink(url, retry_after=0.2)
        store = FailoverStore(RedisStore(link), SQLiteStore(tmp_path / "fallback.sqlite3"))
        store.add(rec("1"))  # before the outage: in Redis
        redis_server.stop()
        try:
            with caplog.at_level(logging.WARNING, logger="rh_tools"):
                store.add(rec("2"))  # during: the fallback file
                assert store.update("1", TaskUpdate(status="SUCCESS", cost=2.0))  # known only to Redis
                store.add(rec("3"))
                assert {r.task_id for r in store.list(TaskQuery())} == {"1", "2", "3"}  # local view
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
            assert "****" not in url and url.split("//")[1] in warnings[0].getMessage()
        finally:
            redis_server.start()
        time.sleep(0.25)  # the link's retry_after
        listed = {r.task_id: r for r in store.list(TaskQuery())}  # first call after: copies back first
        assert set(listed) == {"1", "2", "3"} and listed["1"].status == "SUCCESS" and listed["1"].cost == 2.0
        assert listed["1"].endpoint == "a/b"  # the partial change landed on the full record
        assert store.fallback.list(TaskQuery()) == [] and store.replayed == 3
        assert {r.task_id for r in RedisStore(RedisLink(url)).list(TaskQuery())} == {"1", "2", "3"}

    def test_a_later_process_copies_what_a_dead_one_left(
        self, redis_server: RedisServer, url: str, tmp_path: Path
    ) -> None:
        fallback = tmp_path / "fallback.sqlite3"
        SQLiteStore(fallback).add(rec("41", status="RUNNING"))  # journalled by a process that died in an outage
        code = (
            "from rh_tools.journal import resolve_store, TaskQuery\n"
            f"print([r.task_id for r in resolve_store({url!r}).list(TaskQuery())])\n"
        )
        env = child_env(RUNNINGHUB_STORE_FALLBACK=str(fallback))
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )  # noqa: E501
        assert out.stdout.strip() == "['41']", out.stderr
        assert SQLiteStore(fallback).list(TaskQuery()) == []

    def test_fallback_location_is_per_url_and_overridable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RUNNINGHUB_STORE_FALLBACK", raising=False)
        a, b = fallback_location("redis://a:6379/0"), fallback_location("redis://b:6379/0")
        assert a != b and a.parent == b.parent and a.name.startswith("redis-fallback-")
        monkeypatch.setenv("RUNNINGHUB_STORE_FALLBACK", "/tmp/x.sqlite3")
        assert fallback_location("redis://a:6379/0") == Path("/tmp/x.sqlite3")


class TestClientOnRedis:
    def test_two_processes_share_tasks_and_durations(self, url: str, emu: Emulator) -> None:
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, store=url, poll_interval=0.05) as rh:
            for _ in range(2):
                rh.run(GROK, **GROK_ARGS)
            submitted = rh.submit(GROK, **GROK_ARGS)
        code = (
            "import json, sys\n"
            "from rh_tools import RunningHub\n"
            f"rh = RunningHub(api_key={TEST_KEY!r}, base_url={emu.base_url!r})\n"
            "tasks = rh.tasks(limit=10)\n"
            f"result = rh.wait({submitted.task_id!r}, timeout=30)\n"
            "print(json.dumps({'tasks': [t.task_id for t in tasks], 'warm': rh._history.expect("
            "'rhart-image-g/image-to-image') is not None, 'status': result.status}))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=child_env(RUNNINGHUB_STORE=url),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        import json

        seen = json.loads(out.stdout)
        assert len(seen["tasks"]) == 3 and seen["tasks"][0] == submitted.task_id
        assert seen["warm"] and seen["status"] == "SUCCESS"  # learnt in the other process
        assert resolve_store(url).get(submitted.task_id).status == "SUCCESS"  # type: ignore[union-attr]

    def test_the_key_never_reaches_redis(self, url: str, emu: Emulator, redis_server: RedisServer) -> None:
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, store=url, poll_interval=0.05) as rh:
            rh.run(GROK, **GROK_ARGS)
        r = redis_server.client()
        dump = "".join(str(r.dump(k)) + k for k in r.keys("*"))
        assert TEST_KEY not in dump and TEST_KEY[:16] not in dump

    def test_redis_down_at_start_still_runs_and_journals(
        self, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from redis_support import free_port

        dead = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
        monkeypatch.setenv("RUNNINGHUB_STORE_FALLBACK", str(tmp_path / "fb.sqlite3"))
        with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, store=dead, poll_interval=0.05) as rh:
            result = rh.run(GROK, **GROK_ARGS)
            assert [t.task_id for t in rh.tasks()] == [result.task_id]
        assert [r.task_id for r in SQLiteStore(tmp_path / "fb.sqlite3").list(TaskQuery())] == [result.task_id]


def test_unavailable_is_raised_not_hidden_by_the_bare_store(tmp_path: Path) -> None:
    from redis_support import free_port

    store = RedisStore(RedisLink(f"redis://127.0.0.1:{free_port()}/0"))
    with pytest.raises(RedisUnavailable, match="unreachable"):
        store.add(rec("1"))
    with pytest.raises(RedisUnavailable, match="down"):  # no second connect while the outage is waited out
        store.get("1")
    assert os.environ["RUNNINGHUB_STORE"].endswith(".sqlite3")  # the test's own journal is untouched
