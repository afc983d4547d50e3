"""Behaviour a mutation audit found unguarded: each test fails when its bug is planted (issue #16).

Single realistic bugs, planted one at a time in the modules that decide money, data and secrets,
passed the whole suite. Each test here names the bug it catches and checks what the user, the agent
or the service would see, not how the code is written. ``scripts/mutation.py`` re-runs the audit;
``tests/MUTATION.md`` has its latest table.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import math
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from conftest import ROOT, TEST_KEY

from rh_tools import (
    AsyncRunningHub,
    InsufficientBalanceError,
    InvalidInputError,
    RunningHub,
    RunningHubError,
    WebhookReceiver,
)
from rh_tools import _constants as C
from rh_tools.emulator import Emulator

QUERY = "/openapi/v2/query"
UPLOAD = "/openapi/v2/media/upload/binary"
CANCEL = "/task/openapi/cancel"
GROK = "grok_image_to_image"
ARGS = {"prompt": "a red fox", "imageUrl": "https://example.com/fox.png"}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.1, "video": 0.1}, queue_seconds=0) as e:
        yield e


@pytest.fixture
def fresh(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The module's emulator without faults; retries back off in milliseconds, not seconds."""
    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.01)
    emu.faults.clear()
    emu.set_config(endpoint_durations={})
    yield emu
    emu.faults.clear()
    emu.set_config(endpoint_durations={})


def _count(emu: Emulator, path: str) -> int:
    return emu.stats.requests_by_path.get(path, 0)


# ------------------------------------------------------------------ status queries retry (bug: 502 not retried)


def test_a_status_check_rides_out_a_gateway_502(fresh: Emulator) -> None:
    """get_task is free and idempotent: a 502 gateway page on the query is retried, not reported."""
    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url) as rh:
        task = rh.submit(GROK, ARGS)
        fresh.faults.add("html_error", QUERY, 2, status=502)
        before = _count(fresh, QUERY)
        seen = rh.get_task(task.task_id)
    assert seen.task_id == task.task_id and seen.status in ("QUEUED", "RUNNING", "SUCCESS")
    assert _count(fresh, QUERY) - before == 3  # two gateway pages, then the answer


async def test_the_async_status_check_rides_out_a_gateway_502(fresh: Emulator) -> None:
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url) as rh:
        task = await rh.submit(GROK, ARGS)
        fresh.faults.add("http_error", QUERY, 2, status=502, body="html")
        seen = await rh.get_task(task.task_id)
    assert seen.task_id == task.task_id


# ------------------------------------------------------------------ uploads (bugs: read whole; not rewound)


def test_upload_memory_does_not_grow_with_the_file(fresh: Emulator, tmp_path: Path) -> None:
    """The README promises streamed uploads: an 80 MB file must not be held in the client's memory.

    Measured in a fresh process (peak RSS before and after the upload), so the emulator's own
    buffering in this process does not count."""
    big = tmp_path / "big.mp4"
    with open(big, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        fh.truncate(80 * 1024 * 1024)
    small = tmp_path / "small.png"
    small.write_bytes(PNG + b"0" * 64)
    code = (
        "import resource, sys\n"
        "from rh_tools import RunningHub\n"
        "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"with RunningHub(api_key={TEST_KEY!r}, base_url={fresh.base_url!r}) as rh:\n"
        f"    rh.upload({str(small)!r})\n"  # imports, TLS-free connection pool, first buffers: all warm
        "    before = rss()\n"
        f"    up = rh.upload({str(big)!r})\n"
        "    print(rss() - before, up.file_name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    grown_kib, name = proc.stdout.split()
    assert name.endswith(".mp4")
    assert int(grown_kib) < 32 * 1024, f"uploading 80 MB grew the client by {int(grown_kib) // 1024} MB"


def test_a_retried_upload_sends_the_whole_file_again(fresh: Emulator, tmp_path: Path) -> None:
    """A file object the first attempt read to its end is rewound: the retry sends every byte."""
    data = PNG + bytes(range(256)) * 12_000  # ~3 MB: several chunks
    path = tmp_path / "in.png"
    path.write_bytes(data)
    fresh.faults.add("http_error", UPLOAD, 1, status=500)
    uploads = fresh.stats.uploads
    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url) as rh, open(path, "rb") as fh:
        up = rh.upload(fh)
    assert fresh.stats.uploads - uploads == 1 and _count(fresh, UPLOAD) >= 2
    got = httpx.get(up.download_url).content
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()


async def test_a_retried_async_upload_of_a_file_object_from_its_middle(fresh: Emulator) -> None:
    """A file object handed over mid-way is uploaded from where it stood, on the retry too."""
    data = PNG + b"x" * 2_500_000
    fh = io.BytesIO(b"HEADER-NOT-SENT" + data)
    fh.seek(len(b"HEADER-NOT-SENT"))
    fresh.faults.add("reset_before", UPLOAD, 1)
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url) as rh:
        up = await rh.upload(fh, name="mid.png")
    got = httpx.get(up.download_url).content
    assert got == data


# ------------------------------------------------------------------ secrets in transport errors (bug: not redacted)


def test_transport_error_text_never_carries_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Some transports (proxies, custom ones) put the request line or headers in their errors."""
    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.01)  # the unsent requests are retried: in milliseconds

    def leaky(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f"cannot reach {request.url} (Authorization: {request.headers.get('authorization')})", request=request
        )

    with RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(leaky)) as rh:
        for call in (lambda: rh.get_ai_app("77"), lambda: rh.get_task("2013508786110730241"), lambda: rh.account()):
            with pytest.raises(RunningHubError) as exc:
                call()
            shown = str(exc.value) + json.dumps(exc.value.to_dict()) + repr(exc.value)
            assert TEST_KEY not in shown, shown
            assert "cannot reach" in shown  # the useful part of the message stays


# ------------------------------------------------------------------ Retry-After and HTTP status mapping


def test_retry_after_as_an_http_date_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 9110 allows Retry-After as a date; the resubmit waits until then (here 3 s ahead)."""
    answers = [
        httpx.Response(
            429,
            json={"taskId": "", "errorCode": "1003", "errorMessage": "slow down"},
            headers={"Retry-After": email.utils.formatdate(time.time() + 3, usegmt=True)},
        ),
        httpx.Response(200, json={"taskId": "7", "status": "QUEUED", "errorCode": "", "errorMessage": ""}),
    ]
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)  # record the client's back-off instead of sleeping
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    with RunningHub(api_key=TEST_KEY, transport=transport) as rh:
        task = rh.submit(GROK, ARGS)
    assert task.task_id == "7" and len(slept) == 1
    assert 1.5 <= slept[0] <= 3.0, slept  # the date has whole seconds: between 2 and 3 s from now


@pytest.mark.parametrize(
    "body", [b"", b"Payment Required", b'{"message": "insufficient balance"}'], ids=["empty", "text", "json"]
)
def test_a_bare_http_402_is_a_balance_error(body: bytes) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(402, content=body)

    with RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(answer)) as rh:
        with pytest.raises(InsufficientBalanceError) as exc:
            rh.submit(GROK, ARGS)
    assert len(sent) == 1 and exc.value.retryable is False and "Top up" in exc.value.hint


# ------------------------------------------------------------------ unsendable numbers (bug: NaN sent)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": "x", "seed": math.nan}, "seed"),
        ({"prompt": "x", "scale": math.inf}, "scale"),
        ({"prompt": "x", "steps": [1, -math.inf]}, "steps.1"),
        ({"prompt": "x", "extra": {"weight": math.nan}}, "extra.weight"),
    ],
)
def test_nan_and_infinity_are_refused_before_sending(body: dict[str, Any], field: str) -> None:
    """submit_raw skips validation, but JSON cannot carry NaN/Infinity: refused, naming the field."""
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200, json={"taskId": "1"}))
    with RunningHub(api_key=TEST_KEY, transport=transport) as rh:
        with pytest.raises(InvalidInputError) as exc:
            rh.submit_raw("rhart-image-g/image-to-image", body)
        with pytest.raises(InvalidInputError):
            rh.run_workflow("1", [{"nodeId": "3", "fieldName": "cfg", "fieldValue": math.inf}])
    assert not sent
    assert field in str(exc.value) and "finite" in str(exc.value)


# ------------------------------------------------------------------ polling tolerance (bug: failures never reset)


def test_a_successful_poll_resets_the_failure_count() -> None:
    """Five failed polls *in a row* end a wait; failures separated by good answers never do."""
    answers = ["fail", "RUNNING"] * (C.MAX_POLL_FAILURES + 2) + ["SUCCESS"]
    polls: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path != QUERY:
            return httpx.Response(200, json={"taskId": "9", "status": "QUEUED", "errorCode": "", "errorMessage": ""})
        status = answers.pop(0)
        polls.append(status)
        if status == "fail":
            return httpx.Response(500, json={"taskId": "", "errorCode": "1005", "errorMessage": "busy"})
        results = [{"url": "https://cdn.example/o.png", "outputType": "png"}] if status == "SUCCESS" else None
        return httpx.Response(200, json={"taskId": "9", "status": status, "errorCode": "", "results": results})

    with RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(api), poll_interval=0, max_retries=0) as rh:
        result = rh.run(GROK, ARGS, timeout=60)
    assert result.succeeded and polls.count("fail") > C.MAX_POLL_FAILURES


# ------------------------------------------------------------------ webhooks (bugs: constant secret, any event)


def test_each_receiver_has_its_own_unguessable_path() -> None:
    with WebhookReceiver() as a, WebhookReceiver() as b:
        secret_a, secret_b = a.url.rsplit("/", 1)[1], b.url.rsplit("/", 1)[1]
        assert secret_a != secret_b and len(secret_a) >= 16
        event = {"event": "TASK_END", "taskId": "5"}
        # b's path on a's server is a guess: refused, and no wait is woken
        guessed = a.url.rsplit("/", 1)[0] + "/" + secret_b
        assert httpx.post(guessed, json=event).status_code == 404
        assert not a.has_ended("5") and a.received == 0
        assert httpx.post(a.url, json=event).status_code == 200 and a.has_ended("5")


@pytest.mark.parametrize("event", ["TASK_START", "TASK_PROGRESS", "task_end", ""])
def test_only_task_end_events_end_a_wait(event: str) -> None:
    with WebhookReceiver() as rx:
        assert httpx.post(rx.url, json={"event": event, "taskId": "5"}).status_code in (400, 404)
        assert rx.deliver({"event": event, "taskId": "5"}) is False
        assert not rx.has_ended("5") and rx.received == 0
        assert rx.sleep("5", 0.05) is False  # a waiter sleeps its full interval


# ------------------------------------------------------------------ MCP progress and cancel-on-abort


async def test_a_failing_progress_notification_does_not_fail_the_call() -> None:
    from mcp_server.progress import Heartbeat

    calls = 0

    async def broken_report(progress: float, total: float | None, message: str | None) -> None:
        nonlocal calls
        calls += 1
        raise anyio.BrokenResourceError("client went away")

    beat = Heartbeat(broken_report, interval=0.01)

    async def work() -> str:
        await anyio.sleep(0.2)
        return "the paid result"

    assert await beat.run(work) == "the paid result"
    assert calls == 1 and beat.sent == 0  # tried once, then stopped trying


async def test_cancel_on_abort_leaves_a_finished_task_alone(fresh: Emulator, tmp_path: Path) -> None:
    """The client gives up while the server saves a finished task's outputs: nothing is cancelled."""
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    fresh.faults.add("latency", "/media/*", None, seconds=3.0)  # saving the output takes a while
    config = ServerConfig(
        api_key=TEST_KEY,
        base_url=fresh.base_url,
        poll_interval=0.02,
        heartbeat=0.05,
        tools=[GROK],
        cancel_on_abort=True,
        output_dir=tmp_path / "out",
    )
    cancels = _count(fresh, CANCEL)
    finished: list[str] = []
    async with Client(build_server(config)) as client:
        with anyio.CancelScope() as scope:

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                if message and "SUCCESS" in message:
                    finished.append(message.split()[1])
                    scope.cancel()

            await client.call_tool(GROK, dict(ARGS), progress_callback=on_progress)
        assert finished, "the task should have finished before the call was abandoned"
        await anyio.sleep(0.5)  # let the cancellation reach the server
    fresh.faults.clear()
    assert fresh.task_status(finished[0]) == "SUCCESS"
    assert _count(fresh, CANCEL) == cancels


# ------------------------------------------------------------------ saving outputs (bug: OSError escapes the tool)


def _unwritable_folder(tmp_path: Path) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return blocker / "out"  # creating it fails with NotADirectoryError, an OSError


def test_langchain_tool_delivers_a_result_it_cannot_save(fresh: Emulator, tmp_path: Path) -> None:
    from rh_tools.langchain import RunningHubTool

    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url, poll_interval=0.02) as sync:
        asy = AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url)
        tool = RunningHubTool(name=GROK, client=sync, async_client=asy, download_dir=_unwritable_folder(tmp_path))
        msg = tool.invoke({"type": "tool_call", "id": "c1", "name": GROK, "args": dict(ARGS)})
    assert msg.status == "success", msg.content
    assert msg.artifact["done"] and msg.artifact["outputs"][0]["url"]
    assert "Not saved" in msg.content and msg.artifact["download_error"]


async def test_async_langchain_tool_delivers_a_result_it_cannot_save(fresh: Emulator, tmp_path: Path) -> None:
    from rh_tools.langchain import RunningHubTool

    async with AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url, poll_interval=0.02) as asy:
        sync = RunningHub(api_key=TEST_KEY, base_url=fresh.base_url)
        tool = RunningHubTool(name=GROK, client=sync, async_client=asy, download_dir=_unwritable_folder(tmp_path))
        msg = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": GROK, "args": dict(ARGS)})
    assert msg.status == "success", msg.content
    assert msg.artifact["outputs"][0]["url"] and "Not saved" in msg.content


# ------------------------------------------------------------------ allowed folders (bug: string-prefix check)


@pytest.fixture
def sibling(tmp_path: Path) -> dict[str, Path]:
    allowed = tmp_path / "allowed"
    evil = tmp_path / "allowed-evil"
    for d in (allowed, evil):
        d.mkdir()
        (d / "in.png").write_bytes(PNG + b"0" * 32)
    return {"allowed": allowed, "evil": evil}


def test_mcp_policy_refuses_a_sibling_folder_sharing_the_prefix(sibling: dict[str, Path]) -> None:
    from mcp_server.paths import FilePolicy

    policy = FilePolicy([sibling["allowed"]])
    assert policy.check_path(sibling["allowed"] / "in.png", policy.roots) == (sibling["allowed"] / "in.png").resolve()
    with pytest.raises(InvalidInputError, match="outside the allowed folders"):
        policy.check_path(sibling["evil"] / "in.png", policy.roots)


def test_langchain_allowed_dirs_refuse_a_sibling_folder_sharing_the_prefix(
    fresh: Emulator, sibling: dict[str, Path]
) -> None:
    from rh_tools.langchain import RunningHubTool

    uploads = fresh.stats.uploads
    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url) as sync:
        asy = AsyncRunningHub(api_key=TEST_KEY, base_url=fresh.base_url)
        tool = RunningHubTool(name="upload_file", client=sync, async_client=asy, allowed_dirs=[sibling["allowed"]])

        def upload(path: Path) -> Any:
            return tool.invoke({"type": "tool_call", "id": "c", "name": "upload_file", "args": {"path": str(path)}})

        ok, evil = upload(sibling["allowed"] / "in.png"), upload(sibling["evil"] / "in.png")
    assert ok.status == "success", ok.content
    assert evil.status == "error" and "outside the allowed folders" in str(evil.content)
    assert fresh.stats.uploads - uploads == 1


# ================================================================== survivors of the baseline run
# Mutants of scripts/mutation.py's first run (tests/MUTATION.md) that no test noticed, killed here
# by checking what callers and the service see.

# ------------------------------------------------------------------ _core: reading answers


def _decode(call: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    from rh_tools import _core as core

    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return core.decode_response(call, status, headers or {}, content)


def _raised(call: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> RunningHubError:
    with pytest.raises(RunningHubError) as exc:
        _decode(call, status, body, headers)
    return exc.value


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    [
        # an error status with a RunningHub code: the code decides the class, and is kept
        (
            429,
            {"taskId": "", "errorCode": "1003", "errorMessage": "slow down|慢一点"},
            "RateLimitError",
            1003,
            "slow down",
        ),
        (400, {"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}, "AuthenticationError", 802, None),
        (500, {"taskId": "", "errorCode": "1501", "errorMessage": "moderation"}, "ContentPolicyError", 1501, None),
        # code 0/"0"/200/"" means "no code": the HTTP status decides, and the body's message is shown
        (502, {"errorCode": 0, "errorMessage": "gateway trouble"}, "ServerError", None, "gateway trouble"),
        (503, {"errorCode": "0", "code": "0", "msg": "maintenance"}, "ServerError", None, "maintenance"),
        (
            403,
            {"errorCode": "", "code": 200, "message": "forbidden here"},
            "AuthenticationError",
            None,
            "forbidden here",
        ),
        (400, {"code": "200", "error": "bad request"}, "InvalidRequestError", None, "bad request"),
        (404, {"errorMessage": "", "msg": "no such task"}, "NotFoundError", None, "no such task"),
        (401, {"detail": "nope"}, "AuthenticationError", None, "HTTP 401"),
        (400, {}, "InvalidRequestError", None, "HTTP 400"),  # exactly 400 is an error status
        (500, {"code": 0, "msg": "busy"}, "ServerError", None, "busy"),
    ],
)
def test_an_error_answer_maps_by_its_code_else_its_status(
    status: int, body: dict[str, Any], cls: str, code: int | None, message: str | None
) -> None:
    from rh_tools import _calls as calls

    err = _raised(calls.query_call("77"), status, body)
    assert type(err).__name__ == cls and err.code == code and err.status_code == status
    assert err.task_id == "77"  # a query's error names the task it was about
    if message is not None:
        assert err.message == message


def test_the_first_message_field_present_is_shown() -> None:
    from rh_tools import _calls as calls

    body = {"msg": "from msg", "message": "from message", "error": "from error"}
    assert _raised(calls.query_call("1"), 418, body).message == "from msg"
    assert _raised(calls.query_call("1"), 418, {"message": "m", "error": "e"}).message == "m"
    assert _raised(calls.query_call("1"), 418, {"errorMessage": "em", "msg": "x"}).message == "em"
    assert _raised(calls.query_call("1"), 418, {"msg": 5, "error": "text only"}).message == "text only"


def test_non_json_answers_say_what_came_back() -> None:
    from rh_tools import _calls as calls

    page = _raised(calls.query_call("5"), 502, b"<html>Bad Gateway</html>", {"retry-after": "7"})
    assert type(page).__name__ == "ServerError" and page.message == "HTTP 502 with a non-JSON body"
    assert page.retry_after == 7.0 and page.status_code == 502 and page.task_id == "5"
    exact = _raised(calls.query_call("5"), 400, b"<html>Bad Request</html>")
    assert type(exact).__name__ == "InvalidRequestError"  # 400 itself is an error status
    garbled = _raised(calls.query_call("5"), 200, b"  \xff<html>" + b"x" * 200)
    assert type(garbled).__name__ == "ResponseFormatError" and garbled.status_code == 200
    assert garbled.message.startswith("RunningHub answered HTTP 200 with non-JSON: '\ufffd<html>xxx")
    assert garbled.message.endswith("x'") and garbled.message.count("x") == 80 - 9  # the first 80 bytes
    empty = _raised(calls.query_call("5"), 200, b"")
    assert type(empty).__name__ == "ResponseFormatError" and "non-JSON" not in empty.message


def test_an_unexpected_shape_names_the_route_and_status() -> None:
    from rh_tools import _calls as calls

    # an account answer whose fields have the wrong type
    err = _raised(calls.account_call(), 200, {"code": 0, "msg": "", "data": {"remainMoney": []}})
    assert type(err).__name__ == "ResponseFormatError" and err.status_code == 200
    assert err.message.startswith("Unexpected response shape from /uc/openapi/accountStatus: ")


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [("0", 0.0, 0.0), ("-5", 0.0, 0.0), ("2.5", 2.5, 2.5), ("soon", None, None), ("", None, None)],
)
def test_retry_after_seconds_are_read_as_given(header: str, low: float | None, high: float | None) -> None:
    from rh_tools import _calls as calls

    err = _raised(calls.query_call("1"), 429, {"errorCode": "1003", "errorMessage": "x"}, {"retry-after": header})
    if low is None:
        assert err.retry_after is None
    else:
        assert err.retry_after is not None and low <= err.retry_after <= high


def test_retry_after_dates_count_from_now() -> None:
    from rh_tools import _calls as calls

    def after(when: float) -> float | None:
        headers = {"retry-after": email.utils.formatdate(when, usegmt=True)}
        return _raised(calls.query_call("1"), 503, {"errorCode": "1010", "errorMessage": "x"}, headers).retry_after

    ahead = after(time.time() + 30)
    assert ahead is not None and 28.0 <= ahead <= 30.0
    assert after(time.time() - 3600) == 0.0  # a date in the past: retry now, not never


# ------------------------------------------------------------------ _core: what is sent


def test_every_request_says_who_sends_it_and_asks_for_json() -> None:
    seen: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"code": 0, "msg": "", "data": {"remainMoney": "1"}})

    with RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(api)) as rh:
        rh.account()
    from rh_tools._version import __version__

    assert seen[0].headers["user-agent"] == f"rh-tools/{__version__}"
    assert seen[0].headers["accept"] == "application/json"
    assert json.loads(seen[0].content) == {"apikey": TEST_KEY}  # accountStatus spells it in lowercase


def test_a_non_ascii_key_is_refused_with_what_to_do() -> None:
    from rh_tools import ConfigurationError

    transport = httpx.MockTransport(lambda r: pytest.fail("nothing may be sent"))
    with RunningHub(api_key="ключ" * 8, transport=transport) as rh:
        with pytest.raises(ConfigurationError) as exc:
            rh.account()
    assert exc.value.message == "The API key contains non-ASCII characters"
    assert exc.value.hint == "Copy the 32-character key from the RunningHub console again."


@pytest.mark.parametrize(
    ("body", "names", "field", "problem"),
    [
        ({"seed": math.nan}, {"seed": "Seed"}, "Seed", "nan is not a finite number"),
        ({"a": {"b": [1, "x\ud800"]}}, None, "a.b.1", "contains an unpaired surrogate (invalid Unicode)"),
        ({"ok": 1, "k\udc80": 2}, None, "'k\\udc80'", "unpaired surrogate"),
        ({"outer": {"in\ud800": 1}}, {"outer": "Outer"}, "Outer.'in\\ud800'", "unpaired surrogate"),
        ([1, 2, math.inf], None, "2", "inf is not a finite number"),
        (math.inf, None, "(body)", "inf is not a finite number"),
        ({"list": [{"deep": -math.inf}]}, {"list": "List"}, "List.0.deep", "-inf is not a finite number"),
    ],
)
def test_unsendable_values_are_named_where_they_sit(
    body: Any, names: dict[str, str] | None, field: str, problem: str
) -> None:
    from rh_tools import _core as core

    with pytest.raises(InvalidInputError) as exc:
        core.refuse_unsendable(body, names, context="Invalid arguments for x: ")
    assert exc.value.message.startswith(f"Invalid arguments for x: {field}: ")
    assert problem in exc.value.message
    assert exc.value.details == [{"field": field, "problem": exc.value.message.split(": ", 2)[2]}]
    core.refuse_unsendable({"fine": [1.5, "text", {"k": None}]})  # finite numbers and valid text pass
    core.refuse_unsendable(None)
    with pytest.raises(InvalidInputError) as plain:
        core.refuse_unsendable({"s": "x\ud800"})  # no context: the message starts with the field
    assert plain.value.message == "s: contains an unpaired surrogate (invalid Unicode); send valid UTF-8 text"


def test_log_redaction_is_installed_once_and_redacts() -> None:
    import logging
    import uuid

    from rh_tools import _core as core

    name = f"rh-tools-test.redaction.{uuid.uuid4().hex}"  # a logger no earlier test touched
    logger = logging.getLogger(name)
    core.install_log_redaction(name)
    core.install_log_redaction(name)
    assert sum(isinstance(f, core.RedactingFilter) for f in logger.filters) == 1
    assert not any(isinstance(f, core.RedactingFilter) for f in logging.getLogger().filters)
    httpx_logger = logging.getLogger("httpx")
    kept = list(httpx_logger.filters)
    for f in kept:
        httpx_logger.removeFilter(f)
    try:
        core.install_log_redaction()  # the default: httpx, which logs request URLs
        assert [type(f) for f in httpx_logger.filters] == [core.RedactingFilter]
    finally:
        for f in list(httpx_logger.filters):
            httpx_logger.removeFilter(f)
        for f in kept:
            httpx_logger.addFilter(f)
    record = logging.LogRecord(name, logging.INFO, __file__, 1, "GET %s", (f"/x?apiKey={TEST_KEY}",), None)
    assert logger.filters[-1].filter(record) is True and record.getMessage() == "GET /x?apiKey=***"
    broken = logging.LogRecord(name, logging.INFO, __file__, 1, "%d items", ("many",), None)
    assert logger.filters[-1].filter(broken) is True  # a malformed record is passed on, not dropped


def test_redaction_keeps_the_name_and_hides_the_value() -> None:
    from rh_tools import _core as core

    assert core.redact(f"/demo?apiKey={TEST_KEY}&webappId=1") == "/demo?apiKey=***&webappId=1"
    assert core.redact(f"Authorization: Bearer {TEST_KEY}") == "Authorization: Bearer ***"


def test_transport_errors_name_the_failure_and_keep_the_task() -> None:
    from rh_tools import APITimeoutError
    from rh_tools import _calls as calls
    from rh_tools import _core as core

    req = httpx.Request("POST", "https://www.runninghub.ai/openapi/v2/query")
    err = core.transport_error(httpx.ReadTimeout("", request=req), calls.query_call("42"))
    assert type(err) is APITimeoutError and err.task_id == "42"
    assert err.message == "ReadTimeout during POST /openapi/v2/query: ReadTimeout"  # empty text: the name
    assert err.retryable is True and err.hint == APITimeoutError.default_hint
    reset = core.transport_error(httpx.ReadError("reset by peer", request=req), calls.query_call("42"))
    assert type(reset).__name__ == "APIConnectionError" and reset.message.endswith(": reset by peer")
    lost = core.transport_error(httpx.ReadError("x", request=req), calls.submit_call("p", {}))
    assert lost.hint == (
        "The connection broke after the submit was sent, so a task may have been created and billed. "
        "Check recent tasks (account running count / RunningHub console) before submitting again."
    )


def test_retry_back_off_doubles_with_jitter_and_caps_retry_after() -> None:
    import random

    from rh_tools import _core as core
    from rh_tools import _exceptions as E

    err = E.error_for_status(503)
    for attempt, base in enumerate([0.5, 1.0, 2.0, 4.0]):
        delays = [core.retry_delay("query", attempt, 9, err, random.Random(seed)) for seed in range(50)]
        assert all(base * 0.5 <= d <= base for d in delays), (attempt, min(delays), max(delays))  # type: ignore[operator]
        assert max(delays) - min(delays) > base * 0.3  # jittered, not fixed  # type: ignore[operator]
    err.retry_after = C.RETRY_AFTER_CAP  # exactly the cap is still worth waiting for
    assert core.retry_delay("query", 0, 3, err) == C.RETRY_AFTER_CAP


# ------------------------------------------------------------------ _exceptions: one table, one shape

FAILED_REASON = {"node_id": "4", "node_name": "KSampler", "exception_type": "RuntimeError", "exception_message": "boom"}


def test_a_numeric_code_wins_over_an_identifier_in_the_message() -> None:
    from rh_tools import _exceptions as E

    assert type(E.error_for_code(None, " TASK_QUEUE_MAXED ")) is E.RateLimitError  # v1: the name in msg
    assert type(E.error_for_code(1002, "TASK_QUEUE_MAXED")) is E.AuthenticationError
    assert type(E.error_for_code(" 1003 ", "")) is E.RateLimitError


def test_known_codes_carry_everything_they_were_given() -> None:
    from rh_tools import _exceptions as E

    err = E.error_for_code(1003, None, task_id="9", status_code=429, retry_after=2.0, details={"a": 1})
    assert (err.message, err.code, err.task_id, err.status_code, err.retry_after, err.details) == (
        "Rate limited",  # no message: the code's name, readable
        1003,
        "9",
        429,
        2.0,
        {"a": 1},
    )
    assert err.hint == "Slow down; retrying with back-off." and err.retryable is True
    plain = E.error_for_code(1007, "bad|坏")  # no hint of its own: the class's
    assert plain.hint == E.InvalidRequestError.default_hint and plain.message_zh == "坏"
    failed = E.error_for_code(805, "x", task_id="3", details=FAILED_REASON)
    assert type(failed) is E.TaskFailedError and failed.failed_reason == FAILED_REASON == failed.details
    assert failed.task_id == "3" and failed.status == "FAILED"


def test_unknown_codes_keep_what_they_were_given() -> None:
    from rh_tools import _exceptions as E

    err = E.error_for_code("9999", "New thing|新", task_id="5", status_code=503, retry_after=1.5, details=[1])
    assert type(err) is E.ServerError and err.code == "9999"
    assert (err.message, err.message_zh, err.task_id, err.status_code, err.retry_after, err.details) == (
        "New thing",
        "新",
        "5",
        503,
        1.5,
        [1],
    )
    assert E.error_for_code("9999", None).message == "RunningHub returned an error"


@pytest.mark.parametrize(
    ("status", "cls", "message"),
    [
        (None, "ResponseFormatError", "HTTP 0"),
        (302, "ResponseFormatError", "HTTP 302"),
        (402, "InsufficientBalanceError", "HTTP 402"),
        (403, "AuthenticationError", "HTTP 403"),
        (418, "InvalidRequestError", "HTTP 418"),
        (499, "InvalidRequestError", "HTTP 499"),
        (500, "ServerError", "HTTP 500"),
    ],
)
def test_bare_statuses_map_to_a_class_and_a_message(status: int | None, cls: str, message: str) -> None:
    from rh_tools import _exceptions as E

    err = E.error_for_status(status, retry_after=4.0)
    assert type(err).__name__ == cls and err.message == message and err.retry_after == 4.0
    assert E.error_for_status(status, "said this").message == "said this"


def test_bilingual_messages_split_at_the_first_bar() -> None:
    from rh_tools import _exceptions as E

    assert E.split_message(" A | B|C ") == ("A", "B|C")
    assert E.split_message("A|") == ("A", None)


def test_an_error_renders_code_text_task_and_hint() -> None:
    from rh_tools import _exceptions as E

    full = E.RunningHubError("Boom", code=1003, message_zh="炸", task_id="9", hint="Do X.")
    assert str(full) == "[1003] Boom (炸) task_id=9. Do X."
    assert str(E.RunningHubError("Boom.", hint="Do X.")) == "Boom. Do X."
    assert str(E.RunningHubError("Boom", code="")) == "Boom"
    assert str(E.RunningHubError("Boom", code=0)) == "[0] Boom"
    assert full.args == ("Boom",) and repr(full) == "RunningHubError('Boom')"


def test_to_dict_is_the_agent_facing_shape() -> None:
    from rh_tools import _exceptions as E

    err = E.RateLimitError("slow", code=1003, message_zh="慢", task_id="7", details={"n": 1})
    assert err.to_dict() == {
        "error": "RateLimitError",
        "code": 1003,
        "message": "slow",
        "message_zh": "慢",
        "task_id": "7",
        "retryable": True,
        "hint": E.RateLimitError.default_hint,
        "details": {"n": 1},
    }
    for empty in (None, "", {}, []):
        assert "details" not in E.RunningHubError("x", details=empty).to_dict()
    assert E.RunningHubError("x", details=0).to_dict()["details"] == 0


def test_the_error_classes_keep_their_own_facts() -> None:
    from rh_tools import _exceptions as E

    conn = E.APIConnectionError("reset", task_id="4")
    assert conn.sent is True and conn.task_id == "4" and conn.message == "reset"  # unknown: assume sent
    assert E.RunningHubError("x", retry_after=3.0).retry_after == 3.0
    failed = E.TaskFailedError("bad", failed_reason=FAILED_REASON)
    assert failed.status == "FAILED" and failed.failed_reason == FAILED_REASON == failed.details
    pending = E.TaskTimeoutError("11", 30.4)
    assert pending.waited == 30.4 and pending.message == "Task still running after waiting 30s"
    assert E.TaskTimeoutError("11", 5, "QUEUED").message == "Task still QUEUED after waiting 5s"


# ------------------------------------------------------------------ _waiter: the polling loop's decisions


class _Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _waiter(**kw: Any) -> Any:
    from rh_tools._polling import PollPolicy
    from rh_tools._waiter import Waiter

    kw.setdefault("policy", PollPolicy(initial=0.5, max_interval=10))
    kw.setdefault("deadline", 99.0)
    kw.setdefault("started", 0.0)
    kw.setdefault("clock", _Clock())
    return Waiter(task_id="77", **kw)


def _task(status: str, **kw: Any) -> Any:
    from rh_tools.types import Task

    return Task(task_id="77", status=status, **kw)


@pytest.mark.parametrize(
    ("task", "message", "zh", "retryable", "hint_has", "status"),
    [
        (
            dict(status="FAILED", failed_reason=FAILED_REASON),
            "The task ended FAILED: node KSampler (#4): RuntimeError: boom",
            None,
            False,
            "KSampler",
            "FAILED",
        ),  # fmt: skip
        (dict(status="CANCEL"), "The task was cancelled", None, False, "submit it again", "CANCEL"),
        (
            dict(status="FAILED", error_code="1505", error_message="Real person|真人", failed_reason=FAILED_REASON),
            "Real person: node KSampler (#4): RuntimeError: boom",
            "真人",
            False,
            "realPersonMode",
            "FAILED",
        ),  # fmt: skip
        (
            dict(status="FAILED", error_code="1012", error_message="upstream"),
            "upstream",
            None,
            True,
            "model provider",
            "FAILED",
        ),  # fmt: skip
        (dict(status="RUNNING", error_message="odd"), "odd", None, False, "adjust the inputs", "RUNNING"),
    ],
)
def test_a_failed_task_reports_why_and_whether_to_try_again(
    task: dict[str, Any], message: str, zh: str | None, retryable: bool, hint_has: str, status: str
) -> None:
    from rh_tools import TaskFailedError

    w = _waiter()
    with pytest.raises(TaskFailedError) as exc:
        w.observe(_task(**task))
    err = exc.value
    assert (err.message, err.message_zh, err.retryable, err.status) == (message, zh, retryable, status)
    assert err.task_id == "77" and hint_has in err.hint
    assert err.failed_reason == task.get("failed_reason") == err.details


def test_a_result_reports_its_elapsed_time_and_the_callback_sees_it() -> None:
    clock = _Clock(0.0)
    seen: list[float] = []
    w = _waiter(clock=clock, on_status=lambda t, elapsed: seen.append(elapsed))
    clock.t = 1.25
    assert w.observe(_task("RUNNING")) is None
    clock.t = 3.5
    result = w.observe(_task("SUCCESS"))
    assert result is not None and result.elapsed == 3.5 and seen == [1.25, 3.5]


def test_a_failing_status_callback_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def boom(task: Any, elapsed: float) -> None:
        raise RuntimeError("callback bug")

    with caplog.at_level("ERROR", logger="rh_tools"):
        assert _waiter(on_status=boom).observe(_task("SUCCESS")) is not None
    assert [r.getMessage() for r in caplog.records] == ["status callback failed"] and caplog.records[0].exc_info


def test_a_wait_that_gives_up_says_how_to_resume_once() -> None:
    from rh_tools import _exceptions as E

    w = _waiter()
    own = E.ServerError("down", hint="Server trouble.", retryable=False)
    with pytest.raises(E.ServerError):
        w.poll_failed(own)
    later = "The task may still finish: call wait_task/get_task with task_id=77 later."
    assert own.hint == f"Server trouble. {later}" and own.task_id == "77"
    bare = E.NotFoundError("gone", hint="")
    with pytest.raises(E.NotFoundError):
        w.poll_failed(bare)
    assert bare.hint == later
    with pytest.raises(E.NotFoundError):
        w.poll_failed(bare)  # failing again does not repeat the advice
    assert bare.hint == later


def test_a_timeout_before_any_poll_has_no_status() -> None:
    err = _waiter().timeout()
    assert err.task_id == "77" and err.last_status is None and "running" in err.message


# ------------------------------------------------------------------ _polling: the interval policy and its memory


# ------------------------------------------------------------------ _media: telling inputs apart, and the upload body


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("https://example.com/a.png", "url"),
        ("HTTP://EXAMPLE.COM/A.PNG", "url"),
        ("asset://abc", "url"),
        ("ASSET://abc", "url"),
        ("data:image/png;base64,AAAA", "url"),
        ("  https://example.com/a.png  ", "url"),
        ("./nope.png", "path"),
        ("file:///tmp/x.png", "path"),
    ],
)
def test_remote_references_go_as_they_are(value: str, kind: str) -> None:
    from rh_tools._media import is_remote_reference

    assert is_remote_reference(value) is (kind == "url")


def test_classify_media_sends_urls_uploads_files_and_explains_refusals(tmp_path: Path) -> None:
    from rh_tools._media import MediaSource, classify_media

    png = tmp_path / "in.png"
    png.write_bytes(PNG + b"0" * 2048)
    assert classify_media(" https://example.com/a.png ", label="img") == "https://example.com/a.png"
    assert classify_media("HTTPS://EXAMPLE.COM/A.PNG", label="img") == "HTTPS://EXAMPLE.COM/A.PNG"
    for given in (str(png), png, "file://" + str(png), "FILE://" + str(png)):
        src = classify_media(given, label="img", accept=["png"], max_size_mb=1)
        assert isinstance(src, MediaSource) and src.path == png and src.size == png.stat().st_size
    raw = classify_media(bytearray(PNG + b"1" * 10), label="img", accept=["png"], max_size_mb=1)
    assert isinstance(raw, MediaSource) and raw.data == PNG + b"1" * 10 and raw.name.endswith(".png")

    def refused(value: Any, **kw: Any) -> InvalidInputError:
        with pytest.raises(InvalidInputError) as exc:
            classify_media(value, label="img", **kw)
        return exc.value

    assert refused(png, max_size_mb=0.001).message == "img: file is 0.0 MB; the limit is 0.001 MB"
    assert refused(png, accept=["jpg"]).message.startswith("img: ")
    assert refused(PNG * 2000, max_size_mb=0.001).message.startswith("img: file is 0.0 MB")
    assert refused(b"GIF89a", accept=["png", "webp"]).message.endswith("this field accepts png, webp")
    assert refused(12).message == "img: expected a URL, data URI, local path or bytes, got int"
    blank = refused("   ")
    assert blank.message == "img: empty value" and blank.hint == "Pass a URL, data URI or local file path."
    assert refused("https://?x=1").message == "img: 'https://?x=1' is not a valid URL"
    assert refused("https://" + "?" * 100).message == f"img: {('https://' + '?' * 100)[:80]!r} is not a valid URL"
    ftp = refused("ftp://host/x.png")
    assert ftp.message == "img: unsupported URL scheme in 'ftp://host/x.png'"
    assert ftp.hint == "Use http(s) URLs or local paths."
    assert refused("FTP://host/x.png").message.startswith("img: unsupported URL scheme")
    assert refused(str(tmp_path / "missing.png")).message.startswith("img: ")


def test_workflow_slots_take_runninghub_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rh_tools._media import MediaSource, classify_media

    name = "api/abc123.png"
    assert classify_media(name, label="img", media_ref="file_name") == name
    with pytest.raises(InvalidInputError):
        classify_media(name, label="img")  # a URL slot: a bare name is not a file here
    monkeypatch.chdir(tmp_path)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "abc123.png").write_bytes(PNG)  # a local file of that name: it is uploaded
    assert isinstance(classify_media(name, label="img", media_ref="file_name"), MediaSource)


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"\x00\x00\x00\x18ftypqt  ", "mov"),
        (b"\x00\x00\x00\x18ftypisom", "mp4"),
        (b"\x00\x00\x00\x18ftyp", "mp4"),
        (PNG, "png"),
        (b"qt  qt  qt  ", None),
        (b"", None),
    ],
)
def test_raw_bytes_are_named_by_their_magic(head: bytes, ext: str | None) -> None:
    from rh_tools._media import MediaSource, sniff_extension

    assert sniff_extension(head) == ext
    if head:
        src = MediaSource.from_bytes(head)
        assert src.name.endswith(f".{ext or 'bin'}") and src.size == len(head)


def test_named_bytes_keep_their_extension_and_type() -> None:
    from rh_tools._media import MediaSource

    src = MediaSource.from_bytes(PNG, name="Photo.JPEG")
    assert src.name == "Photo.JPEG" and src.content_type == "image/jpeg"
    with pytest.raises(InvalidInputError) as empty:
        MediaSource.from_bytes(b"")
    assert empty.value.message == "file: empty bytes"
    with pytest.raises(InvalidInputError) as exc:
        MediaSource.from_bytes(b"GIF89a", name="x.gif", accept=["JPEG"])
    assert exc.value.message == "file: 'x.gif' is a .gif file; this field accepts JPEG"
    assert exc.value.hint == "Convert the file to an accepted format first."
    for accept in (["jpg"], ["jpeg"], ["JPG"]):  # jpg and jpeg are one format
        for name in ("a.jpg", "a.jpeg"):
            MediaSource.from_bytes(PNG, name=name, accept=accept)


def test_size_limits_are_in_mebibytes_and_inclusive() -> None:
    from rh_tools._media import MediaSource

    MediaSource.from_bytes(b"x" * 1024 * 1024, name="a.bin", max_size_mb=1)  # exactly the limit: fine
    with pytest.raises(InvalidInputError) as exc:
        MediaSource.from_bytes(b"x" * (1024 * 1024 + 1), name="a.bin", max_size_mb=1)
    assert exc.value.message == "file: file is 1.0 MB; the limit is 1 MB"
    assert exc.value.hint == "Compress or resize the file, or host it and pass its URL."
    with pytest.raises(InvalidInputError, match=r"file is 2\.5 MB"):
        MediaSource.from_bytes(b"x" * (5 * 1024 * 512), name="a.bin", max_size_mb=2)


def test_file_objects_are_named_typed_and_checked(tmp_path: Path) -> None:
    from rh_tools._media import MediaSource

    path = tmp_path / "clip.mp4"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as fh:
        fh.read(4)
        src = MediaSource.coerce(fh)
        assert (src.name, src.size, src.content_type, src.offset, src.fileobj) == ("clip.mp4", 6, "video/mp4", 4, fh)
        assert b"".join(src.iter_chunks()) == b"456789" and not fh.closed  # the caller's file stays open
        assert MediaSource.coerce(fh, name="other.png").name == "other.png"
    anonymous = MediaSource.from_fileobj(io.BytesIO(b"abc"))
    assert re.fullmatch(r"upload-[0-9a-f]{12}\.bin", anonymous.name)
    assert anonymous.content_type == "application/octet-stream"
    named_bytes = MediaSource.coerce(b"GIF89a...", name="x.gif")
    assert named_bytes.name == "x.gif" and named_bytes.data == b"GIF89a..."
    with pytest.raises(InvalidInputError) as exc:
        MediaSource.coerce(42)
    assert exc.value.message == "upload: expected a path, bytes or a binary file object"

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    with pytest.raises(InvalidInputError) as exc2:
        MediaSource.from_fileobj(Pipe())  # type: ignore[arg-type]
    assert exc2.value.message == "upload: file objects must be seekable (open the file in 'rb' mode)"


def test_a_path_upload_reads_in_chunks_and_closes_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rh_tools import _media

    data = bytes(range(256)) * 9000  # 2.2 MiB
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    with pytest.raises(InvalidInputError, match=r"^file: "):
        _media.MediaSource.from_path(tmp_path / "missing.bin")
    src = _media.MediaSource.from_path(path)
    chunks = list(src.iter_chunks())
    assert [len(c) for c in chunks] == [_media.CHUNK, _media.CHUNK, len(data) - 2 * _media.CHUNK]
    assert b"".join(chunks) == data
    in_memory = _media.MediaSource.from_bytes(data, name="a.bin")
    assert [len(c) for c in in_memory.iter_chunks()] == [_media.CHUNK, _media.CHUNK, len(data) - 2 * _media.CHUNK]
    assert b"".join(in_memory.iter_chunks()) == data


async def test_async_chunks_match_the_sync_ones(tmp_path: Path) -> None:
    from rh_tools import _media

    data = bytes(range(256)) * 9000
    path = tmp_path / "a.bin"
    path.write_bytes(data)
    for src in (_media.MediaSource.from_path(path), _media.MediaSource.from_bytes(data, name="a.bin")):
        chunks = [c async for c in src.aiter_chunks()]
        assert [len(c) for c in chunks] == [_media.CHUNK, _media.CHUNK, len(data) - 2 * _media.CHUNK]
        assert b"".join(chunks) == data


def test_the_multipart_body_is_exactly_what_its_length_says() -> None:
    from rh_tools._media import MediaSource, Multipart

    src = MediaSource(name='a"b\r\nc\\d\udcff.png', size=3, content_type="image/png", data=b"PNG")
    mp = Multipart(src, {"apiKey": "k1", "note": "n"})
    body = b"".join(mp)
    b = mp.boundary.encode()
    assert body == (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="apiKey"\r\n\r\nk1\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nn\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="a_b__c_d?.png"\r\n'
        b"Content-Type: image/png\r\n\r\nPNG\r\n--" + b + b"--\r\n"
    )
    assert mp.headers == {
        "Content-Type": f"multipart/form-data; boundary={mp.boundary}",
        "Content-Length": str(len(body)),
    }
    bare = b"".join(Multipart(MediaSource(name="x.bin", size=1, content_type="a/b", data=b"1")))
    assert bare.startswith(b"--") and bare.count(b"Content-Disposition") == 1


# ------------------------------------------------------------------ _download: names we choose, bytes we save


@pytest.mark.parametrize(
    ("task_id", "fields", "name"),
    [
        ("123", {"url": "https://cdn.example/a", "extension": "PNG"}, "123-0.png"),
        ("123", {"url": "https://cdn.example/a.png", "extension": None}, "123-0.png"),
        ("123", {"url": "https://cdn.example/A.WEBP?sig=1", "extension": ""}, "123-0.webp"),
        ("123", {"url": "https://cdn.example/noext", "extension": ""}, "123-0.bin"),
        ("123", {"url": "https://cdn.example/x.mp4", "extension": "video"}, "123-0.mp4"),
        ("123", {"url": "https://cdn.example/x.png", "extension": "image"}, "123-0.png"),
        ("123", {"url": "https://cdn.example/x.mp3", "extension": "audio"}, "123-0.mp3"),
        ("123", {"url": "https://cdn.example/x.md", "extension": "text"}, "123-0.md"),
        ("123", {"url": None, "text": "hi", "extension": "png"}, "123-0.txt"),
        ("AbC-9_z", {"url": "https://cdn.example/x.glb", "extension": "glb"}, "AbC-9_z-0.glb"),
        ("a/b c", {"url": "https://cdn.example/x.png", "extension": "png"}, "a_b_c-0.png"),
        ("", {"url": "https://cdn.example/x.png", "extension": "png"}, "task-0.png"),
    ],
)
def test_output_files_are_named_task_index_extension(task_id: str, fields: dict[str, Any], name: str) -> None:
    from rh_tools._download import output_filename
    from rh_tools.types import Output

    assert output_filename(task_id, 0, Output(**fields)) == name


@pytest.fixture
def produced(fresh: Emulator) -> Any:
    """A real finished task of the emulator, whose output URL serves a PNG."""
    with RunningHub(api_key=TEST_KEY, base_url=fresh.base_url, poll_interval=0.02) as rh:
        return rh.run(GROK, ARGS)


def _result_with(produced: Any, *outputs: Any) -> Any:
    from rh_tools.types import TaskResult

    return TaskResult(task_id=produced.task_id, status="SUCCESS", outputs=list(outputs))


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_downloads_save_files_text_and_follow_redirects(
    fresh: Emulator, produced: Any, tmp_path: Path, use_async: bool
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from rh_tools._download import FetchPolicy, adownload_outputs, download_outputs
    from rh_tools.types import Output

    real = produced.outputs[0].url

    class Moved(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.send_response(302)
            self.send_header("Location", real)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Moved)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = _result_with(
            produced,
            Output(url=f"http://127.0.0.1:{server.server_port}/x.png", extension="png", kind="image"),
            Output(url=None, text="héllo ✓", extension="text"),
            Output(url=None, text=None, extension="text"),
        )
        folder = tmp_path / "new" / "nested"  # created, parents too
        policy = FetchPolicy.for_api(fresh.base_url)  # the emulator's own host, as the client trusts it
        if use_async:
            paths = await adownload_outputs(result, folder, policy=policy)
        else:
            paths = download_outputs(result, folder, policy=policy)
    finally:
        server.shutdown()
    assert [p.name for p in paths] == [
        f"{produced.task_id}-0.png",
        f"{produced.task_id}-1.txt",
        f"{produced.task_id}-2.txt",
    ]
    assert paths[0].read_bytes()[:8] == PNG
    assert paths[1].read_bytes() == "héllo ✓".encode() and paths[2].read_bytes() == b""


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_download_failures_are_typed_and_keep_the_task(
    fresh: Emulator, produced: Any, tmp_path: Path, use_async: bool
) -> None:
    from rh_tools._download import FetchPolicy, adownload_outputs, download_outputs
    from rh_tools.types import Output

    result = _result_with(produced, Output(url=produced.outputs[0].url, extension="png", kind="image"))
    policy = FetchPolicy.for_api(fresh.base_url)

    async def save(**kw: Any) -> Any:
        if use_async:
            return await adownload_outputs(result, tmp_path, policy=policy, **kw)
        return download_outputs(result, tmp_path, policy=policy, **kw)

    fresh.faults.add("http_error", "/media/*", 1, status=400, body="text")
    with pytest.raises(RunningHubError) as refused:
        await save()
    assert refused.value.task_id == produced.task_id and "400" in str(refused.value)
    fresh.faults.add("latency", "/media/*", 1, seconds=3.0)
    with pytest.raises(RunningHubError) as slow:
        await save(timeout=0.2)  # the caller's timeout applies (ignored, the 3-s answer would arrive)
    assert slow.value.task_id == produced.task_id
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunningHubError):
        download_outputs(result, blocker, policy=policy)


# ------------------------------------------------------------------ _webhooks: the receiver's contract


def test_a_public_url_is_joined_without_a_double_slash() -> None:
    rx = WebhookReceiver(public_url="https://tunnel.example/base/")
    secret = rx.url.rsplit("/", 1)[1]
    assert rx.url == f"https://tunnel.example/base/rh-webhook/{secret}"
    assert WebhookReceiver().fallback_poll == 5.0 and WebhookReceiver().received == 0
    rx.close()


def test_callbacks_over_http_accept_a_trailing_slash_and_refuse_empty_bodies() -> None:
    with WebhookReceiver() as rx:
        assert httpx.post(rx.url + "/", json={"event": "TASK_END", "taskId": "8"}).status_code == 200
        assert rx.has_ended("8") and rx.received == 1
        assert httpx.post(rx.url, content=b"").status_code >= 400
        assert httpx.post(rx.url, content=b"[1, 2]").status_code >= 400  # JSON, but not an object
        rx.forget("8")
        assert not rx.has_ended("8")


def test_sleep_returns_at_once_when_ended_and_on_delivery() -> None:
    import threading

    with WebhookReceiver() as rx:
        rx.deliver({"event": "TASK_END", "taskId": "1"})
        assert rx.sleep("1", 30) is True  # already ended: no waiting
        started = time.monotonic()
        assert rx.sleep("2", 0.05) is False and time.monotonic() - started < 5
        timer = threading.Timer(0.05, lambda: rx.deliver({"taskId": "3"}))
        timer.start()
        assert rx.sleep("3", 30) is True  # woken by the callback, long before 30 s
        assert rx._waiters == {}  # no sleeper is left registered


async def test_async_sleep_returns_at_once_when_ended_and_on_delivery() -> None:
    import threading

    with WebhookReceiver() as rx:
        rx.deliver({"event": "TASK_END", "taskId": "1"})
        assert await rx.asleep("1", 30) is True
        assert await rx.asleep("2", 0.05) is False
        timer = threading.Timer(0.05, lambda: rx.deliver({"event": "TASK_END", "taskId": "3"}))
        timer.start()
        with anyio.fail_after(10):
            assert await rx.asleep("3", 30) is True
        assert rx._waiters == {}


# ------------------------------------------------------------------ mcp_server.progress: heartbeats


async def test_heartbeats_say_what_is_happening_and_always_increase() -> None:
    from mcp_server.progress import Heartbeat

    sent: list[tuple[float, float | None, str | None]] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        sent.append((progress, total, message))

    beat = Heartbeat(report, interval=0.05)
    assert re.fullmatch(r"submitting \(\d+s\)", beat.message()) and not beat.done
    await beat.beat()
    await beat.beat()  # at the same instant: nudged up, never equal
    assert [p for p, _, _ in sent] == [sent[0][0], round(sent[0][0] + 0.1, 1)] and beat.sent == 2
    assert all(total is None for _, total, _ in sent)
    beat.on_status(_task("QUEUED"), 0.0)
    assert re.fullmatch(r"task 77 QUEUED, \d+s elapsed", beat.message())
    beat.on_status(_task(""), 0.0)
    assert beat.message().startswith("task 77 RUNNING")  # no status yet: running
    for status, done in (("RUNNING", False), ("SUCCESS", True), ("FAILED", True), ("CANCEL", True)):
        beat.on_status(_task(status), 0.0)
        assert beat.done is done


async def test_heartbeats_follow_status_changes_while_the_call_runs() -> None:
    from mcp_server.progress import Heartbeat

    messages: list[str | None] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    beat = Heartbeat(report, interval=30.0)  # the timer alone would not beat during this test

    async def work() -> str:
        await anyio.sleep(0.05)
        beat.on_status(_task("RUNNING"), 0.1)
        with anyio.fail_after(10):
            while not any("RUNNING" in (m or "") for m in messages):
                await anyio.sleep(0.01)
        return "done"

    assert await beat.run(work) == "done"  # a status change beats at once, not after 30 s


async def test_heartbeat_errors_come_out_as_they_are() -> None:
    from mcp_server.progress import Heartbeat

    async def report(progress: float, total: float | None, message: str | None) -> None:
        return None

    async def fails() -> None:
        raise InvalidInputError("bad")

    with pytest.raises(InvalidInputError):  # not wrapped in an ExceptionGroup
        await Heartbeat(report, interval=0.01).run(fails)
    with pytest.raises(InvalidInputError):
        await Heartbeat(None, interval=0.01).run(fails)

    async def ok() -> int:
        return 7

    quiet = Heartbeat(None, interval=0.01)
    assert await quiet.run(ok) == 7 and quiet.sent == 0
    await quiet.beat()
    assert quiet.sent == 0  # no progress token: nothing is sent


# ------------------------------------------------------------------ mcp_server.paths and the LangChain path policy


def test_mcp_path_refusals_say_exactly_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server.paths import _HOW_TO_ALLOW, FilePolicy

    root = tmp_path / "allowed"
    root.mkdir()
    (root / "in.png").write_bytes(PNG)
    (root / "loop.png").symlink_to(root / "loop.png")
    (tmp_path / "out.png").write_bytes(PNG)
    (root / "link.png").symlink_to(tmp_path / "out.png")
    (root / "sub").mkdir()
    policy = FilePolicy([root])

    def refusal(path: Path | str, roots: list[Path] | None = None) -> InvalidInputError:
        with pytest.raises(InvalidInputError) as exc:
            policy.check_path(Path(path), policy.roots if roots is None else roots)
        return exc.value

    none = refusal(root / "in.png", [])
    assert none.message == f"Local file {str(root / 'in.png')!r} refused: no folder is allowed for local files"
    assert none.hint.startswith(_HOW_TO_ALLOW)
    loop = refusal(root / "loop.png")
    assert loop.message == f"Local file {str(root / 'loop.png')!r} does not exist or cannot be resolved (symlink loop)"
    assert loop.hint == "Pass an existing file inside the allowed folders."
    out = refusal(tmp_path / "out.png")
    assert out.message == f"Local file {str(tmp_path / 'out.png')!r} refused: it is outside the allowed folders"
    assert out.hint.startswith(
        f"Allowed folders: {root.resolve()}. Move or copy the file there, or pass a URL. " + _HOW_TO_ALLOW
    )
    link = refusal(root / "link.png")
    assert link.message.endswith("outside the allowed folders (it is a symlink pointing outside them)")
    missing = refusal(root / "missing.png")
    assert missing.message == f"Local file {str(root / 'missing.png')!r} does not exist or cannot be resolved"
    folder = refusal(root / "sub")
    assert folder.message.endswith("not a regular file (device, FIFO, socket or folder)")
    assert folder.hint == "Pass an ordinary image, video or audio file."
    monkeypatch.chdir(root)  # a relative path is judged from the working folder
    assert policy.check_path(Path("in.png"), policy.roots) == (root / "in.png").resolve()
    assert refusal("link.png").message.endswith("(it is a symlink pointing outside them)")


def test_mcp_roots_come_from_file_uris_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server.paths import FilePolicy, NeedClientRoots, roots_from_uris
    from rh_tools._media import MediaSource

    uris = ["file://localhost/srv/a%20b", "file:relative/x", "FILE:///x", "file://elsewhere/y"]
    assert roots_from_uris(uris) == [Path("/srv/a b"), Path("/x")]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert FilePolicy(["~"]).roots == [tmp_path.resolve()]
    (tmp_path / "in.png").write_bytes(PNG)
    src = MediaSource(name="in.png", size=1, content_type="image/png", path=tmp_path / "." / "in.png")
    FilePolicy([]).checker([tmp_path], can_ask=True)([src])  # roots already given: nothing to ask
    assert src.path == (tmp_path / "in.png").resolve()
    with pytest.raises(NeedClientRoots):
        FilePolicy([tmp_path]).checker(None, can_ask=True)([src])
    with pytest.raises(InvalidInputError):  # may not ask, none given: server folders only (none here)
        FilePolicy([]).checker(None, can_ask=False)([src])


def test_langchain_path_policy_uploads_what_it_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rh_tools._media import MediaSource
    from rh_tools.langchain import make_context

    root = tmp_path / "allowed"
    root.mkdir()
    (root / "in.png").write_bytes(PNG)
    (tmp_path / "out.png").write_bytes(PNG)
    (root / "link.png").symlink_to(tmp_path / "out.png")
    monkeypatch.setenv("HOME", str(tmp_path))
    check = make_context(allowed_dirs=["~/allowed"]).check_media
    assert check is not None
    inside = MediaSource(name="in.png", size=1, content_type="image/png", path=root / "sub" / ".." / "in.png")
    remote = MediaSource.from_bytes(PNG, name="x.png")  # no path: nothing to check
    check([remote, inside])
    assert inside.path == (root / "in.png").resolve()
    for bad in (root / "link.png", root / ".." / "out.png", Path("~/out.png")):
        with pytest.raises(InvalidInputError) as exc:
            check([MediaSource(name="x", size=1, content_type="image/png", path=bad)])
        assert exc.value.message.startswith(f"Local file {str(bad)!r} refused: it is outside the allowed folders")
        assert "allowed_dirs" in exc.value.hint
    with pytest.raises(InvalidInputError):
        make_context(allowed_dirs=[]).check_media([inside])  # type: ignore[misc]  # []: no local files at all


# ------------------------------------------------------------------ _core: a failed submit that names its task

TASK_ID = "2013508786110730241"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (500, {"taskId": TASK_ID, "status": "", "errorCode": "1000", "errorMessage": "oops"}, "ServerError"),
        (400, {"taskId": TASK_ID, "errorCode": "1007", "errorMessage": "bad"}, "InvalidRequestError"),
        (502, {"taskId": TASK_ID, "errorCode": "1010", "errorMessage": "later"}, "ServerError"),
    ],
)
def test_a_failed_submit_that_names_its_task_keeps_the_id_and_is_not_resent(
    status: int, body: dict[str, Any], cls: str
) -> None:
    from rh_tools import _calls as calls
    from rh_tools import _core as core

    err = _raised(calls.submit_call("rhart-image-g/image-to-image", {}), status, body, {"retry-after": "1"})
    assert type(err).__name__ == cls and err.task_id == TASK_ID and err.status_code == status
    assert err.message == body["errorMessage"] and err.retry_after == 1.0
    assert err.retryable is False and f"RunningHub created task {TASK_ID}" in err.hint
    assert core.retry_delay("submit", 0, 3, err) is None  # a task exists: never resubmitted
    legacy = _raised(calls.workflow_call("9"), 500, {"code": 500, "msg": "oops", "data": {"taskId": TASK_ID}})
    assert legacy.task_id == TASK_ID and legacy.retryable is False
    # the same answer to a query is a task that failed, not a lost submit
    task = _decode(calls.query_call(TASK_ID), status, {**body, "status": "FAILED"})
    assert task.task_id == TASK_ID and task.error_code == body["errorCode"]


def test_a_failed_submit_without_a_task_id_may_or_may_not_have_one() -> None:
    from rh_tools import _calls as calls

    submit = calls.submit_call("rhart-image-g/image-to-image", {})
    unknown = _raised(submit, 500, {"taskId": "", "errorCode": "1005", "errorMessage": "internal"})
    assert unknown.task_id is None and unknown.retryable is False and "may have reached RunningHub" in unknown.hint
    busy = _raised(submit, 503, {"taskId": "", "errorCode": "1010", "errorMessage": "unavailable"})
    assert busy.retryable is True and "may have" not in busy.hint  # an admission refusal: no task


def test_the_client_does_not_resend_a_refusal_that_names_a_task() -> None:
    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(429, json={"taskId": TASK_ID, "errorCode": "1003", "errorMessage": "slow"})

    with RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(api)) as rh:
        with pytest.raises(RunningHubError) as exc:
            rh.submit(GROK, ARGS)
    assert len(sent) == 1 and exc.value.task_id == TASK_ID and exc.value.retryable is False


def test_retry_after_is_kept_when_the_status_alone_decides() -> None:
    from rh_tools import _calls as calls

    err = _raised(calls.query_call("1"), 503, {"msg": "maintenance"}, {"retry-after": "4"})
    assert type(err).__name__ == "ServerError" and err.retry_after == 4.0 and err.message == "maintenance"


def test_duration_history_loads_from_and_writes_through_its_store() -> None:
    """With a store (the task journal), a fresh process starts from what earlier ones learnt."""
    from rh_tools._polling import DurationHistory

    class Store:
        def __init__(self) -> None:
            self.rows: dict[str, list[float]] = {"ep": [8.0, 9.0, 10.0]}
            self.asked: list[tuple[str, int]] = []

        def durations(self, key: str, limit: int) -> list[float]:
            self.asked.append((key, limit))
            return self.rows.get(key, [])[-limit:]

        def add_duration(self, key: str, seconds: float) -> None:
            self.rows.setdefault(key, []).append(seconds)

    store = Store()
    h = DurationHistory(size=2, store=store)
    assert h.expect("ep") is not None  # loaded from the store: a fresh history already expects something
    assert store.asked and store.asked[0][0] == "ep"
    assert DurationHistory(size=2).expect("ep") is None  # without the store: nothing learnt yet
    h.record("ep", 12.0)
    h.record("other", 3.0)
    assert store.rows == {"ep": [8.0, 9.0, 10.0, 12.0], "other": [3.0]}
    assert h.expect("ep") == DurationHistory(size=2, store=store).expect("ep")  # a new process agrees


# ------------------------------------------------------------------ toolspecs: what the tools say


def test_describe_lists_each_parameter_with_its_rules() -> None:
    from rh_tools import catalogue
    from rh_tools.toolspecs import describe

    text = describe(catalogue.get("grok_image_to_image")).text
    assert "- model (list, one of g-3|g-4|g-4.1|g-4.2, default g-4.2): Model version to use." in text
    assert "- prompt (string, required): " in text and "- imageUrl (image): " in text
    ranged = next(
        ep
        for ep in catalogue.all()
        if any(p.type == "int" and p.min is not None and p.max is not None for p in ep.params)
    )
    p = next(p for p in ranged.params if p.type == "int" and p.min is not None and p.max is not None)
    assert f"- {p.name} (int" in describe(ranged).text and f"range {p.min}..{p.max}" in describe(ranged).text


def test_local_media_values_are_told_from_remote_ones() -> None:
    from rh_tools.toolspecs import _as_local_path

    assert _as_local_path("./a.png") == "./a.png"
    assert _as_local_path("  /tmp/a.png ") == "/tmp/a.png"
    assert _as_local_path("file:///tmp/a.png") == "/tmp/a.png"
    assert _as_local_path("FILE:///tmp/a.png") == "/tmp/a.png"
    for remote in ("https://x/a.png", "data:image/png;base64,AA", "asset://1", "ftp://x/a", "", "  ", None, 3):
        assert _as_local_path(remote) is None, remote


def test_a_result_that_could_not_be_saved_says_where_and_why(tmp_path: Path) -> None:
    from rh_tools import APIConnectionError
    from rh_tools.toolspecs import ToolContext, ToolResult, _with_unsaved

    ctx = ToolContext(download_dir=tmp_path)
    base = ToolResult("SUCCESS", {"done": True})
    assert _with_unsaved(base, None, ctx) is base and base.text == "SUCCESS"
    os_err = _with_unsaved(ToolResult("SUCCESS", {}), PermissionError("denied"), ctx)
    assert os_err.text == (
        f"SUCCESS\nNot saved to {tmp_path}: PermissionError: denied. The output URLs above still work "
        "(for about 24 h); download them from there."
    )
    assert os_err.data == {"download_error": "PermissionError: denied"}
    api = _with_unsaved(ToolResult("SUCCESS", {}), APIConnectionError("Downloading output 0 failed: ReadTimeout"), ctx)
    assert api.data["download_error"] == "Downloading output 0 failed: ReadTimeout"


def test_tool_waits_follow_the_output_type_and_the_cap() -> None:
    from rh_tools.toolspecs import DEFAULT_WAIT, ToolContext

    ctx = ToolContext()
    assert ctx.wait_for("video") == DEFAULT_WAIT["video"] and ctx.wait_for("image") == DEFAULT_WAIT["image"]
    assert ctx.wait_for("unknown-kind") == 60.0 and ctx.wait_for(None) == 60.0
    assert ctx.wait_for("video", 5.0) == 5.0
    capped = ToolContext(max_wait=10.0)
    assert capped.wait_for("image") == 10.0 and capped.wait_for("image", 3.0) == 3.0


def test_a_wait_gives_up_after_exactly_five_failed_polls_in_a_row() -> None:
    from rh_tools import _exceptions as E

    w = _waiter()
    w.observe(_task("RUNNING"))
    for _ in range(C.MAX_POLL_FAILURES - 1):
        w.poll_failed(E.APIConnectionError("reset"))  # tolerated
    with pytest.raises(E.APIConnectionError):
        w.poll_failed(E.APIConnectionError("reset"))


def test_a_task_with_an_error_code_but_no_status_counts_as_failed() -> None:
    from rh_tools import TaskFailedError

    with pytest.raises(TaskFailedError) as exc:
        _waiter().observe(_task("", error_code="1501", error_message="moderation"))
    assert exc.value.status == "FAILED" and exc.value.code == 1501


async def test_heartbeat_progress_counts_seconds_from_the_start(caplog: pytest.LogCaptureFixture) -> None:
    from mcp_server.progress import Heartbeat

    sent: list[float] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        sent.append(progress)

    beat = Heartbeat(report, interval=30.0)
    assert re.fullmatch(r"submitting \(\d{1,3}s\)", beat.message())  # seconds since the call began
    await beat.beat()
    assert 0.0 <= sent[0] < 1.05 and sent[0] == round(sent[0], 1)  # elapsed seconds, tenths

    async def broken(progress: float, total: float | None, message: str | None) -> None:
        raise anyio.BrokenResourceError("gone")

    with caplog.at_level("DEBUG", logger="mcp_server"):
        await Heartbeat(broken, interval=30.0).beat()
    failed = [r for r in caplog.records if r.name == "mcp_server"]
    assert [r.getMessage() for r in failed] == ["progress notification failed; heartbeat stopped"]
    assert failed[0].exc_info is not None
