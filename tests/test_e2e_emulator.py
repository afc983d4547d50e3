"""The client end to end against the live emulator server: real HTTP on loopback, both twins."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KEY, tasks_held

from rh_tools import (
    AsyncRunningHub,
    NotFoundError,
    RunningHub,
    TaskFailedError,
    TaskTimeoutError,
    catalogue,
)
from rh_tools.catalogue._examples import example_params
from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2, "video": 0.4, "audio": 0.2, "3d": 0.3, "text": 0.1}) as e:
        yield e


@pytest.fixture
def rh(emu: Emulator) -> Iterator[RunningHub]:
    emu.faults.clear()
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as client:
        yield client


def _one_per_output_type() -> list[str]:
    picked: dict[str, str] = {}
    for ep in catalogue.all():
        if not ep.open_params and not ep.deprecated:
            picked.setdefault(ep.output_type, ep.tool_name)
    return sorted(picked.values())


@pytest.mark.parametrize("name", _one_per_output_type())
def test_every_output_type_round_trips(rh: RunningHub, name: str) -> None:
    ep = catalogue.get(name)
    result = rh.run(name, example_params(ep, required_only=False))
    assert result.succeeded and result.outputs
    assert {o.kind for o in result.outputs} == {ep.output_type}


async def test_async_many_at_once(emu: Emulator) -> None:
    before = emu.stats.tasks_created
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as rh:
        results = await asyncio.gather(*(rh.run("grok_image_to_image", prompt=f"fox {i}") for i in range(40)))
    assert len({r.task_id for r in results}) == 40 and all(r.succeeded for r in results)
    assert emu.stats.tasks_created - before == 40  # exactly one task per run


def test_upload_streams_and_round_trips_bytes(rh: RunningHub, emu: Emulator, tmp_path: Path) -> None:
    blob = tmp_path / "clip.mp4"
    data = (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20_000)[: 5 * 1024 * 1024]
    blob.write_bytes(data)
    reads: list[int] = []

    class Recording(io.FileIO):
        """The caller's file, noting how much the client asks for at a time."""

        def read(self, size: int = -1) -> bytes:
            chunk = super().read(size)
            reads.append(len(chunk) if size is None or size < 0 else size)
            return chunk

    with Recording(blob, "rb") as fh:
        up = rh.upload(fh)
    assert up.download_url and up.file_name.endswith(".mp4")
    # streamed: the 5 MB file was read piece by piece (at most 1 MiB at a time) while it was sent;
    # tests/test_mutation_audit.py checks the memory of an 80 MB upload in a fresh process.
    assert len(reads) >= 5 and max(reads) <= 1024 * 1024, reads
    import httpx

    got = httpx.get(up.download_url).content
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()


def test_timeout_then_resume(rh: RunningHub, emu: Emulator) -> None:
    with tasks_held(emu), pytest.raises(TaskTimeoutError) as exc:  # unfinished when the wait ends, on any machine
        rh.run("grok_image_to_image", prompt="slow", timeout=0.2)
    assert emu.task_status(exc.value.task_id) in ("QUEUED", "RUNNING")
    assert rh.wait(exc.value.task_id, timeout=10).succeeded


def test_instant_success_needs_no_poll(rh: RunningHub, emu: Emulator) -> None:
    emu.set_config(instant_success=True)
    try:
        before = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
        result = rh.run("grok_image_to_image", prompt="now")
        assert result.succeeded and result.polls == 0
        assert emu.stats.requests_by_path.get("/openapi/v2/query", 0) == before
    finally:
        emu.set_config(instant_success=False)


def test_failed_task_and_unknown_task(rh: RunningHub, emu: Emulator) -> None:
    emu.faults.add("fail_tasks", code="1505", times=1)
    with pytest.raises(TaskFailedError) as exc:
        rh.run("grok_image_to_image", prompt="x")
    assert exc.value.code == 1505 and "realPersonMode" in exc.value.hint
    with pytest.raises(NotFoundError):
        rh.get_task("1234567890123456789")


def test_workflow_ai_app_account_queue_price(rh: RunningHub) -> None:
    assert rh.run_workflow(SAMPLE_WORKFLOW_ID, [{"nodeId": "6", "fieldName": "text", "fieldValue": "owl"}]).succeeded
    nodes = rh.get_ai_app(SAMPLE_WEBAPP_ID)["nodeInfoList"]
    assert rh.run_ai_app(SAMPLE_WEBAPP_ID, nodes, legacy_status=True).succeeded  # via /task/openapi/outputs
    acct = rh.account()
    assert acct.currency and acct.remain_money is not None
    q = rh.queue_status()
    assert q.concurrent_limit is not None and q.concurrent_limit > 0
    price = rh.price_preview("grok_image_to_image", prompt="x")
    assert price.estimated_price is not None and price.estimated_price > 0


class _Receiver(BaseHTTPRequestHandler):
    events: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["content-length"]))
        _Receiver.events.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhook_is_delivered_and_inspectable(rh: RunningHub, emu: Emulator) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        result = rh.run("grok_image_to_image", prompt="x", webhook_url=url)
        assert emu.wait_until(lambda: any(e.get("taskId") == result.task_id for e in _Receiver.events))
        event = next(e for e in _Receiver.events if e["taskId"] == result.task_id)
        assert event["event"] == "TASK_END"
        detail = rh.webhook_detail(result.task_id)
        assert detail.webhook_url == url and detail.task_id == result.task_id
    finally:
        server.shutdown()


def test_lora_upload(rh: RunningHub, tmp_path: Path) -> None:
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"\x00" * 4096)
    name = rh.upload_lora(lora)
    assert name.endswith(".safetensors")


def test_webhook_receiver_ends_the_wait_with_one_query(emu: Emulator) -> None:
    from rh_tools import WebhookReceiver

    emu.set_config(endpoint_durations={"rhart-image-g/image-to-image": 0.8})
    try:
        with (
            WebhookReceiver() as rx,
            RunningHub(api_key=TEST_KEY, base_url=emu.base_url, webhook_receiver=rx) as rh,
        ):
            before = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
            result = rh.run("grok_image_to_image", prompt="x")
            # the fallback poll is 5 s away: only the callback can have ended this wait
            assert result.succeeded and result.elapsed < 4.0
            assert emu.stats.requests_by_path.get("/openapi/v2/query", 0) - before == 1
            assert rx.received >= 1 and rx.has_ended(result.task_id)
    finally:
        emu.set_config(endpoint_durations={})


async def test_forged_callback_only_triggers_a_poll(emu: Emulator) -> None:
    import httpx

    from rh_tools import WebhookReceiver

    emu.set_config(endpoint_durations={"rhart-image-g/image-to-image": 0.6})
    try:
        with WebhookReceiver() as rx:
            async with AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, webhook_receiver=rx) as rh:
                task = await rh.submit("grok_image_to_image", prompt="x")
                fake = {
                    "event": "TASK_END",
                    "taskId": task.task_id,
                    "eventData": {"status": "SUCCESS", "results": [{"url": "https://evil.example/x.png"}]},
                }
                wrong_path = rx.url.rsplit("/", 1)[0] + "/guess"
                async with httpx.AsyncClient() as http:
                    assert (await http.post(wrong_path, json=fake)).status_code == 404
                rx.deliver(fake)  # right secret, forged content: it may only wake the wait early
                before = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
                result = await rh.wait(task.task_id, timeout=10)
                polls = emu.stats.requests_by_path.get("/openapi/v2/query", 0) - before
        assert result.succeeded and all("evil" not in u for u in result.urls)
        # One poll answers the forged callback (still running); the real one ends the wait with one
        # more. The fallback poll is 5 s away, so more polls would mean the early callback kept
        # waking the wait (a tight loop of queries until the task ended).
        assert polls <= 3, polls
    finally:
        emu.set_config(endpoint_durations={})
