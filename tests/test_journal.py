"""The task journal: the SQLite store, its location, its failure modes, and the client recording
into it, against the live emulator. CLI, LangChain and MCP surfaces and the multi-process cases
(many writers, SIGKILL, Ctrl-C) are in tests/test_journal_surfaces.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CANARY_KEY, TEST_KEY

from rh_tools import AsyncRunningHub, ConfigurationError, RunningHub
from rh_tools._media import MediaSource
from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID
from rh_tools.journal import (
    FILE_NAME,
    Journal,
    SQLiteStore,
    TaskQuery,
    TaskRecord,
    TaskUpdate,
    clean_params,
    default_location,
    key_fingerprint,
    open_store,
    resolve_store,
)
from rh_tools.journal import _journal as journal_module
from rh_tools.journal import sqlite as sqlite_module

SKETCH = Path(__file__).with_name("data") / "sketch.png"
GROK = "grok_image_to_image"
GROK_PATH = "rhart-image-g/image-to-image"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2, "video": 0.3}) as e:
        yield e


@pytest.fixture
def emulator(emu: Emulator) -> Iterator[Emulator]:
    emu.faults.clear()
    yield emu
    emu.faults.clear()


@pytest.fixture
def store_path() -> Path:
    """The journal file the autouse fixture set for this test (RUNNINGHUB_STORE)."""
    return Path(os.environ["RUNNINGHUB_STORE"])


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    journal_module._warned.clear()  # "warn once" is per process: each test starts unwarned
    yield
    journal_module._warned.clear()


def client(emu: Emulator, **kw: Any) -> RunningHub:
    kw.setdefault("api_key", TEST_KEY)
    kw.setdefault("poll_interval", 0.05)
    return RunningHub(base_url=emu.base_url, **kw)


# ---------------------------------------------------------------- the store


class TestSQLiteStore:
    def test_round_trip_filters_and_spend(self, tmp_path: Path) -> None:
        s = SQLiteStore(tmp_path / "j.sqlite3")
        now = time.time()
        s.add(TaskRecord("1", endpoint="a/b", tool="tool_a", created_at=now - 7200, key_id="k1", params={"p": 1}))
        s.add(TaskRecord("2", endpoint="c/d", created_at=now - 60, key_id="k1", status="RUNNING"))
        s.add(TaskRecord("3", endpoint="a/b", created_at=now, key_id="k2"))
        assert s.update("1", TaskUpdate(status="SUCCESS", cost=0.14, outputs=[{"url": "u"}]))
        assert s.update("3", TaskUpdate(status="FAILED", error={"code": "1501"}))
        assert not s.update("404", TaskUpdate(status="SUCCESS"))

        one = s.get("1")
        assert one is not None and one.done and one.cost == 0.14 and one.outputs == [{"url": "u"}]
        assert one.params == {"p": 1} and one.tool == "tool_a"
        assert [r.task_id for r in s.list(TaskQuery())] == ["3", "2", "1"]  # newest first
        assert [r.task_id for r in s.list(TaskQuery(unfinished=True))] == ["2"]
        assert [r.task_id for r in s.list(TaskQuery(statuses=frozenset({"FAILED"})))] == ["3"]
        assert [r.task_id for r in s.list(TaskQuery(endpoint="tool_a"))] == ["1"]  # tool names match too
        assert [r.task_id for r in s.list(TaskQuery(endpoint="a/b", key_id="k1"))] == ["1"]
        assert [r.task_id for r in s.list(TaskQuery(since=now - 3600))] == ["3", "2"]
        assert [r.task_id for r in s.list(TaskQuery(limit=1))] == ["3"]
        assert [r.task_id for r in s.list(TaskQuery(endpoint="%"))] == []  # LIKE wildcards are literal

        s.update("2", TaskUpdate(status="SUCCESS", cost=0.5, coins=3))
        spend = {(r.endpoint, r.tasks, r.cost, r.coins) for r in s.spend(TaskQuery())}
        assert spend == {("a/b", 2, 0.14, 0.0), ("c/d", 1, 0.5, 3.0)}
        day = time.strftime("%Y-%m-%d", time.localtime(now))
        assert {r.day for r in s.spend(TaskQuery(since=now - 3600))} == {day}

    def test_an_end_is_final_and_a_second_submit_record_keeps_the_first(self, tmp_path: Path) -> None:
        s = SQLiteStore(tmp_path / "j.sqlite3")
        s.add(TaskRecord("1", params={"prompt": "first"}))
        s.update("1", TaskUpdate(status="SUCCESS"))
        s.update("1", TaskUpdate(status="RUNNING"))  # a late answer from a slower process
        s.add(TaskRecord("1", params={"prompt": "second"}, status="RUNNING"))
        rec = s.get("1")
        assert rec is not None and rec.status == "SUCCESS" and rec.params == {"prompt": "first"}

    def test_durations_are_kept_per_key_newest_last_and_bounded(self, tmp_path: Path) -> None:
        s = SQLiteStore(tmp_path / "j.sqlite3")
        for i in range(70):
            s.add_duration("ai:x", float(i))
        s.add_duration("ai:y", 1.5)
        assert s.durations("ai:x", 3) == [67.0, 68.0, 69.0]
        s.prune(0)
        assert len(s.durations("ai:x", 1000)) == sqlite_module._MAX_DURATIONS
        assert s.durations("ai:x", 1000)[-1] == 69.0
        assert s.durations("ai:y", 16) == [1.5] and s.durations("zz", 16) == []

    def test_prune_by_age_and_on_open(self, tmp_path: Path) -> None:
        path = tmp_path / "j.sqlite3"
        s = SQLiteStore(path)
        s.add(TaskRecord("old", created_at=time.time() - 100 * 86400))
        s.add(TaskRecord("new"))
        assert s.prune(time.time() - 86400) == 1 and s.get("old") is None and s.get("new") is not None
        s.add(TaskRecord("old2", created_at=time.time() - 100 * 86400))
        s.close()
        again = SQLiteStore(path, retention_days=90)
        assert again.get("old2") is None and again.get("new") is not None  # pruned when opened

    def test_file_is_private_and_in_wal_mode(self, tmp_path: Path) -> None:
        path = tmp_path / "new" / "j.sqlite3"
        s = SQLiteStore(path)
        s.add(TaskRecord("1"))
        assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_threads_share_one_store(self, tmp_path: Path) -> None:
        s = SQLiteStore(tmp_path / "j.sqlite3")

        async def many() -> None:
            await asyncio.gather(
                *(asyncio.to_thread(s.add, TaskRecord(f"{t}-{i}")) for t in range(8) for i in range(25))
            )

        asyncio.run(many())
        assert len(s.list(TaskQuery(limit=1000))) == 200


# ---------------------------------------------------------------- location


class TestLocation:
    def test_platform_state_folders(self, tmp_path: Path) -> None:
        home = str(tmp_path)
        assert default_location({"HOME": home}, "linux") == tmp_path / ".local/state/rh-tools" / FILE_NAME
        xdg = {"HOME": home, "XDG_STATE_HOME": str(tmp_path / "xdg")}
        assert default_location(xdg, "linux") == tmp_path / "xdg/rh-tools" / FILE_NAME
        assert default_location({"HOME": home, "XDG_STATE_HOME": "relative"}, "linux").is_relative_to(tmp_path)
        assert (
            default_location({"HOME": home}, "darwin") == tmp_path / "Library/Application Support/rh-tools" / FILE_NAME
        )
        win = {"USERPROFILE": home, "LOCALAPPDATA": str(tmp_path / "Local")}
        assert default_location(win, "win32") == tmp_path / "Local/rh-tools" / FILE_NAME

    def test_argument_over_environment_over_default(self, tmp_path: Path) -> None:
        env = {"RUNNINGHUB_STORE": str(tmp_path / "env.sqlite3"), "HOME": str(tmp_path)}
        assert resolve_store(tmp_path / "arg.sqlite3", env) == tmp_path / "arg.sqlite3"
        assert resolve_store(None, env) == tmp_path / "env.sqlite3"
        assert resolve_store(None, {"HOME": str(tmp_path)}) == default_location({"HOME": str(tmp_path)})
        assert resolve_store(str(tmp_path), env) == tmp_path / FILE_NAME  # a folder: the file goes inside
        assert resolve_store(f"file://{tmp_path}/f.sqlite3", env) == tmp_path / "f.sqlite3"
        for off in ("none", "NONE", "off", " none "):
            assert resolve_store(None, {"RUNNINGHUB_STORE": off}) is None
        mine = SQLiteStore(tmp_path / "x.sqlite3")
        assert resolve_store(mine, env) is mine

    def test_redis_gives_the_shared_backend_and_other_schemes_are_refused(self) -> None:
        from rh_tools.journal.redis_store import FailoverStore

        shared = resolve_store(None, {"RUNNINGHUB_STORE": "redis://localhost:6379/0"})  # nothing connects yet
        assert isinstance(shared, FailoverStore) and "localhost:6379/0" in repr(shared)
        assert resolve_store("redis://localhost:6379/0") is shared  # one per URL and process
        with pytest.raises(ConfigurationError, match="'s3'") as err:
            resolve_store("s3://bucket/x")
        assert "store=" in err.value.message and err.value.hint

    def test_one_store_per_file_per_process_and_lazy(self, tmp_path: Path) -> None:
        path = tmp_path / "lazy" / "j.sqlite3"
        a, b = open_store(path), open_store(str(path))
        assert a is b and not path.exists()  # nothing touched the disk yet
        RunningHub(api_key=TEST_KEY, store=path).close()
        assert not path.exists()


# ---------------------------------------------------------------- what is kept


def test_params_lose_key_secrets_and_file_contents(tmp_path: Path) -> None:
    src = MediaSource(name="me.png", size=3, content_type="image/png", path=tmp_path / "private" / "me.png")
    cleaned = clean_params(
        {
            "prompt": f"use key {CANARY_KEY} please",
            "imageUrl": src,
            "images": [src, "https://example.com/a.png"],
            "mask": "data:image/png;base64," + "A" * 5000,
            "raw": b"\x89PNG....",
            "apiKey": CANARY_KEY,
            "webhookUrl": "https://hooks.example/t0ken",
            "nested": {"Authorization": "Bearer x", "n": 1, "path": tmp_path / "f.txt"},
            "long": "x" * 10_000,
        },
        key=CANARY_KEY,
    )
    assert cleaned["prompt"] == "use key **** please"
    assert cleaned["imageUrl"] == {"local_file": "me.png"} and str(tmp_path) not in str(cleaned)
    assert cleaned["images"] == [{"local_file": "me.png"}, "https://example.com/a.png"]
    assert cleaned["mask"].startswith("<data URI") and cleaned["raw"] == "<8 bytes>"
    assert "apiKey" not in cleaned and "webhookUrl" not in cleaned
    assert cleaned["nested"] == {"n": 1, "path": {"local_file": "f.txt"}}
    assert len(cleaned["long"]) < 5000


def test_key_fingerprint_is_stable_short_and_not_the_key() -> None:
    fp = key_fingerprint(CANARY_KEY)
    assert fp == key_fingerprint(CANARY_KEY) != key_fingerprint(TEST_KEY)
    assert fp is not None and len(fp) == 16 and fp not in CANARY_KEY and key_fingerprint(None) is None


# ---------------------------------------------------------------- the client records


def _journal_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_run_records_submit_then_status_outputs_and_cost(emulator: Emulator, store_path: Path) -> None:
    with client(emulator, api_key=CANARY_KEY) as rh:
        result = rh.run(GROK, prompt=f"neon {CANARY_KEY}", imageUrl=str(SKETCH))
        rec = rh.journal.get(result.task_id)
    assert rec is not None and rec.status == "SUCCESS" and rec.endpoint == GROK_PATH and rec.tool == GROK
    assert rec.kind == "model" and rec.site == "custom" and rec.base_url == emulator.base_url
    assert rec.params["imageUrl"] == {"local_file": "sketch.png"} and rec.params["prompt"] == "neon ****"
    assert rec.outputs[0]["url"] == result.outputs[0].url and rec.cost == 0.14
    assert rec.usage == result.usage.model_dump(exclude_none=True, by_alias=True)  # type: ignore[union-attr]
    assert rec.key_id == key_fingerprint(CANARY_KEY) and rec.pid == os.getpid()
    assert CANARY_KEY.encode() not in _journal_bytes(store_path)
    assert str(SKETCH.parent).encode() not in _journal_bytes(store_path)


async def test_async_twin_records_the_same(emulator: Emulator) -> None:
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=emulator.base_url, poll_interval=0.05) as rh:
        result = await rh.run(GROK, prompt="a", imageUrl="https://example.com/a.png")
        task = await rh.submit(GROK, prompt="b", imageUrl="https://example.com/b.png")
        listed = await rh.tasks()
        assert [r.task_id for r in listed] == [task.task_id, result.task_id]
        assert listed[1].status == "SUCCESS" and listed[0].status in ("QUEUED", "RUNNING")
        spend = await rh.spend()
        assert spend[0].endpoint == GROK_PATH and spend[0].tasks == 2


async def test_a_run_cancelled_by_wait_for_leaves_its_task_findable(emulator: Emulator) -> None:
    emulator.faults.add("never_finish", times=1)
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=emulator.base_url, poll_interval=0.05) as rh:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png"), 0.5)
        unfinished = await rh.tasks(unfinished=True)
    assert len(unfinished) == 1 and unfinished[0].tool == GROK


def test_ctrl_c_inside_run_leaves_its_task_findable(emulator: Emulator) -> None:
    def interrupt(task: Any, elapsed: float) -> None:
        raise KeyboardInterrupt

    with client(emulator) as rh:
        with pytest.raises(KeyboardInterrupt):
            rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png", on_status=interrupt)
        [rec] = rh.tasks(unfinished=True)
        assert rh.journal.last is not None and rh.journal.last.task_id == rec.task_id
        assert rh.wait(rec.task_id).status == "SUCCESS"
        assert rh.tasks(unfinished=True) == [] and rh.tasks(status="SUCCESS")[0].task_id == rec.task_id


def test_raw_workflow_and_ai_app_submits_are_recorded(emulator: Emulator) -> None:
    with client(emulator) as rh:
        body = {"model": "g-4.2", "prompt": "raw", "imageUrl": "https://example.com/a.png", "apiKey": "x"}
        raw = rh.submit_raw(GROK_PATH, body)
        wf = rh.run_workflow(SAMPLE_WORKFLOW_ID, [{"nodeId": "6", "fieldName": "text", "fieldValue": "a"}])
        nodes = rh.get_ai_app(SAMPLE_WEBAPP_ID)["nodeInfoList"]
        app = rh.run_ai_app(SAMPLE_WEBAPP_ID, nodes, wait=False)
        recs = {r.task_id: r for r in rh.tasks()}
    assert recs[raw.task_id].kind == "raw" and "apiKey" not in recs[raw.task_id].params
    assert recs[raw.task_id].params == {k: v for k, v in body.items() if k != "apiKey"}
    assert recs[wf.task_id].kind == "workflow" and recs[wf.task_id].status == "SUCCESS"
    assert recs[app.task_id].kind == "ai-app" and recs[app.task_id].params["nodeInfoList"] == nodes
    assert recs[wf.task_id].endpoint == f"workflow:{SAMPLE_WORKFLOW_ID}"


def test_tasks_are_the_keys_own_unless_all_keys(emulator: Emulator) -> None:
    with client(emulator) as a, client(emulator, api_key=CANARY_KEY) as b:
        ta = a.submit(GROK, prompt="a", imageUrl="https://example.com/a.png")
        tb = b.submit(GROK, prompt="b", imageUrl="https://example.com/b.png")
        assert [r.task_id for r in a.tasks()] == [ta.task_id]
        assert [r.task_id for r in b.tasks()] == [tb.task_id]
        assert {r.task_id for r in a.tasks(all_keys=True)} == {ta.task_id, tb.task_id}
    keyless = RunningHub(base_url=emulator.base_url)
    assert len(keyless.tasks()) == 2  # the local user's own file: no key, no filter
    with pytest.raises(ConfigurationError):
        keyless.tasks(require_key=True)


def test_bad_filters_fail_clearly(emulator: Emulator) -> None:
    with client(emulator) as rh:
        with pytest.raises(Exception, match="unknown task status"):
            rh.tasks(status="DONE")
        with pytest.raises(Exception, match="limit must be"):
            rh.tasks(limit=0)
        assert rh.tasks(status=["success", "unfinished"]) == []


def test_journal_off(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, store_path: Path) -> None:
    monkeypatch.setenv("RUNNINGHUB_STORE", "none")
    with client(emulator) as rh:
        task = rh.submit(GROK, prompt="x", imageUrl="https://example.com/a.png")
        assert rh.journal.location is None and rh.journal.last is not None
        assert rh.journal.last.task_id == task.task_id  # the CLI still knows what to print on Ctrl-C
        with pytest.raises(ConfigurationError, match="turned off"):
            rh.tasks()
    assert not store_path.exists()


# ---------------------------------------------------------------- failures never fail a run


def _read_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the journal read-only the way a read-only disk does: SQLite itself refuses writes.

    File modes alone do not stop root (CI containers), so connections also open with mode=ro.
    """
    os.chmod(path, 0o444)
    real = sqlite3.connect

    def connect(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real(f"file:{database}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite_module.sqlite3, "connect", connect)


def test_read_only_store_warns_once_runs_go_on_and_listing_still_works(
    emulator: Emulator, store_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with client(emulator) as rh:
        first = rh.run(GROK, prompt="before", imageUrl="https://example.com/a.png")
    open_store(store_path).close()  # the process-wide store reopens read-only on its next use
    _read_only(store_path, monkeypatch)
    caplog.set_level(logging.WARNING, "rh_tools")
    try:
        with client(emulator) as rh:
            results = [rh.run(GROK, prompt=f"r{i}", imageUrl="https://example.com/a.png") for i in range(3)]
            assert all(r.status == "SUCCESS" for r in results)
            rh.journal._paused_until = 0  # pretend the pause ran out: the next write fails and stays quiet
            rh.run(GROK, prompt="again", imageUrl="https://example.com/a.png")
            assert [r.task_id for r in rh.tasks()] == [first.task_id]  # reads work; nothing new was written
    finally:
        os.chmod(store_path, 0o644)
    warnings = [r for r in caplog.records if "journal" in r.getMessage()]
    assert len(warnings) == 1 and "readonly" in warnings[0].getMessage()
    assert "RUNNINGHUB_STORE=none" in warnings[0].getMessage()


def test_corrupt_store_warns_runs_go_on_and_listing_says_what_to_do(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    caplog.set_level(logging.WARNING, "rh_tools")
    with client(emulator, store=bad) as rh:
        assert rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png").status == "SUCCESS"
        with pytest.raises(ConfigurationError, match="cannot be read") as err:
            rh.tasks()
    assert "RUNNINGHUB_STORE" in (err.value.hint or "")
    assert sum("journal" in r.getMessage() for r in caplog.records) == 1
    assert bad.read_bytes().startswith(b"this is not a database")  # the user's file is left alone


def test_locked_store_loses_nothing_once_it_is_free(emulator: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    store = SQLiteStore(path, busy_timeout=0.05)
    store.add(TaskRecord("warm-up"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with client(emulator, store=store) as rh:
        task = rh.submit(GROK, prompt="x", imageUrl="https://example.com/a.png")
        blocker.execute("ROLLBACK")
        blocker.close()
        assert store.get(task.task_id) is None  # not written yet: it waits in memory
        rh.journal._paused_until = 0
        rh.wait(task.task_id)  # the next write replays the submit first
        rec = store.get(task.task_id)
    assert rec is not None and rec.status == "SUCCESS" and rec.params["prompt"] == "x"


# ---------------------------------------------------------------- fresh processes that know


def test_a_new_client_starts_with_the_learnt_durations(emulator: Emulator) -> None:
    with client(emulator) as rh:
        for i in range(3):
            rh.run(GROK, prompt=f"learn {i}", imageUrl="https://example.com/a.png")
        learnt = rh._history.expect(GROK_PATH)
    assert learnt is not None
    with client(emulator) as fresh:
        assert fresh._history.expect(GROK_PATH) == learnt  # loaded from the journal, before any task
        assert fresh.journal.durations(GROK_PATH, 16) and fresh._history.expect("other/endpoint") is None
    other_site = Journal(os.environ["RUNNINGHUB_STORE"], site="ai")
    assert other_site.durations(GROK_PATH, 16) == []  # the emulator's timings are not the real service's


def test_wait_on_an_old_task_uses_its_submit_time_and_looks_at_once(emulator: Emulator, store_path: Path) -> None:
    with client(emulator) as rh:
        task = rh.submit(GROK, prompt="x", imageUrl="https://example.com/a.png")
        assert emulator.wait_until(lambda: emulator.task_status(task.task_id) == "SUCCESS")
    with sqlite3.connect(store_path) as db:  # as if submitted 100 s ago, by an earlier process
        db.execute("UPDATE tasks SET created_at = created_at - 100, updated_at = updated_at - 100")
    with client(emulator, poll_interval=5.0) as later:
        w, _, look_now = later._resume(task.task_id, None, None, None, False)
        assert look_now and 99 < w.age() < 110 and w.history_key == GROK_PATH
        before = emulator.stats.requests_by_path.get("/openapi/v2/query", 0)
        result = later.wait(task.task_id)  # a 5-s first poll by default, yet one immediate query
        assert result.polls == 1 and emulator.stats.requests_by_path["/openapi/v2/query"] == before + 1
        assert later.journal.durations(GROK_PATH, 16) == []  # a task found done teaches no duration


def test_wait_on_a_young_task_keeps_polling_from_its_submit(emulator: Emulator) -> None:
    with client(emulator) as rh:
        task = rh.submit(GROK, prompt="x", imageUrl="https://example.com/a.png")
        w, _, look_now = rh._resume(task.task_id, None, None, None, False)
        assert not look_now and w.age() < 5
        unknown, _, look = rh._resume("1234567890123456789", None, None, None, False)
        assert not look and unknown.age() < 1


# ---------------------------------------------------------------- downloads and the library


def test_download_records_files_and_library_keeps_outputs(emulator: Emulator, tmp_path: Path) -> None:
    with client(emulator) as rh:
        result = rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png")
        with pytest.raises(Exception, match="no folder"):
            rh.download(result.task_id)
        paths = rh.download(result.task_id, tmp_path / "out")
        assert paths and paths[0].read_bytes()[:4] == b"\x89PNG"
        rec = rh.journal.get(result.task_id)
        assert rec is not None and rec.files == [str(paths[0].resolve())]
        pending = rh.submit(GROK, prompt="y", imageUrl="https://example.com/a.png")
        with pytest.raises(Exception, match="no outputs to download"):
            rh.download(pending)
    with client(emulator, library=tmp_path / "lib") as rh:
        kept = rh.run(GROK, prompt="z", imageUrl="https://example.com/a.png")
        day = time.strftime("%Y-%m-%d")
        assert kept.files and Path(kept.files[0]).parent == (tmp_path / "lib" / day).resolve()
        assert rh.journal.get(kept.task_id).files == kept.files  # type: ignore[union-attr]


def test_a_library_that_cannot_be_written_never_fails_the_run(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "lib"
    blocked.write_text("a file where the folder should be")
    caplog.set_level(logging.WARNING, "rh_tools")
    with client(emulator, library=blocked) as rh:
        result = rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png")
    assert result.status == "SUCCESS" and result.files == []
    assert any("not saved to the library" in r.getMessage() for r in caplog.records)


async def test_async_library(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNINGHUB_LIBRARY", str(tmp_path / "lib"))
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=emulator.base_url, poll_interval=0.05) as rh:
        result = await rh.run(GROK, prompt="x", imageUrl="https://example.com/a.png")
        again = await rh.download(result.task_id, tmp_path / "again")
    assert result.files and Path(result.files[0]).is_file() and again[0].is_file()
