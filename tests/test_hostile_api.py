"""An API that misbehaves on purpose (issue #11, "The API key", "Waits that keep their word", ids).

* Redirects: a 307 to another origin is never followed (the legacy body carries the key); the
  foreign server receives nothing. A same-origin redirect is followed.
* An API that quotes the key back (error messages, HTML error pages, non-JSON 200 answers, JSON
  ``\\u`` escapes, task failure reasons, text outputs) never gets it into an error, a log line or a
  tool result.
* No cookie set for one key travels with another key's request through rh-mcp's shared pool.
* ``timeout`` / ``--max-wait`` bound the whole call: a poll that hangs, a submit whose answer never
  comes, and answers that drip one byte at a time end within the limit plus a small margin, with
  the task id when one is known and the "a task may exist" hint for a lost submit.
* ``workflow_id`` / ``webapp_id`` are checked before the paid submit; a task id the API returns
  that the client cannot use is reported as "a task was created", never "nothing was sent".
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attack_log import record
from conftest import CANARY_KEY, ROOT, TEST_KEY
from hostile import TASK_ID, FakeAPI, RawServer, Request, hang, json_response, redirect, response

from rh_tools import (
    APITimeoutError,
    AsyncRunningHub,
    ConfigurationError,
    InvalidInputError,
    RunningHub,
    RunningHubError,
    TaskFailedError,
    TaskTimeoutError,
)

TOOL = "grok_image_to_image"
ARGS = {"prompt": "a fox", "imageUrl": "https://example.com/fox.png"}
WORKFLOW = "1904136902449209346"
MAY_EXIST = "before submitting again"
LIMIT = 1.0  # the call's timeout in the deadline tests
BOUND = LIMIT + 2.0 + 5.0  # limit + grace + a generous margin for a loaded machine (a hang lasts 60 s)


def _client(api: FakeAPI, key: str = TEST_KEY, **kw: Any) -> RunningHub:
    return RunningHub(api_key=key, base_url=api.base_url, poll_interval=0.01, **kw)


# ------------------------------------------------------------------ redirects


def test_api_redirects_to_another_origin_are_not_followed() -> None:
    with RawServer({"/": lambda req: response(200, b"{}")}) as foreign:
        api = FakeAPI()
        api.submit_route = redirect(foreign.origin + "/steal", status=307)
        with api, _client(api) as rh:
            for name, call in (
                ("legacy workflow (key in the body)", lambda: rh.run_workflow(WORKFLOW, [])),
                ("v2 submit (key in the header)", lambda: rh.run(TOOL, ARGS)),
                ("v2 query", lambda: rh.get_task(TASK_ID)),
            ):
                if name == "v2 query":
                    api.query_route = redirect(foreign.origin + "/steal", status=307)
                with pytest.raises(ConfigurationError) as caught:
                    call()
                assert "another host" in str(caught.value) and "RUNNINGHUB_BASE_URL" in str(caught.value), name
        assert foreign.requests == []  # nothing, let alone the key, reached the other origin
    record("api key", "307/302 from the API to another origin", tried=3, held=3)


def test_same_origin_redirects_are_followed() -> None:
    api = FakeAPI(outputs=["/files/a.png"])
    moved = {"n": 0}

    def once(req: Request) -> Any:
        moved["n"] += 1
        if moved["n"] == 1:
            return response(307, b"", {"Location": "/openapi/v2/moved-submit"})
        return json_response(api.task("QUEUED"))

    api.submit_route = once
    with api, _client(api) as rh:
        assert rh.run(TOOL, ARGS).task_id == TASK_ID
    assert api.server.hits["/openapi/v2/moved-submit"] == 1


# ------------------------------------------------------------------ the key quoted back


def _quoting_routes(key: str) -> list[tuple[str, str, Any]]:
    """(what, which route, route) of answers that quote ``key``."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in key)
    failed = {"taskId": TASK_ID, "status": "FAILED", "errorCode": "1501", "results": None}
    text_out = {"taskId": TASK_ID, "status": "SUCCESS", "results": [{"text": f"the key is {key}", "outputType": "txt"}]}
    v2_error = {"taskId": "", "errorCode": "1002", "errorMessage": f"bad key {key}"}
    escaped_body = ('{"taskId":"","errorCode":"1002","errorMessage":"' + escaped + '"}').encode()
    html = f"<html>key={key} Bearer {key}</html>".encode()
    return [
        ("v2 error message", "submit", lambda r: json_response(v2_error)),
        ("HTTP 500 HTML page", "submit", lambda r: response(500, html)),
        ("200 non-JSON", "submit", lambda r: response(200, f"oops {key} oops".encode())),
        ("JSON \\u-escaped", "submit", lambda r: response(200, escaped_body, {"Content-Type": "application/json"})),
        ("legacy msg", "submit", lambda r: json_response({"code": 802, "msg": f"UNAUTHORIZED {key}", "data": None})),
        (
            "task failure reason",
            "query",
            lambda r: json_response({**failed, "errorMessage": f"refused {key}", "failedReason": {"exception": key}}),
        ),
        ("text output", "query", lambda r: json_response(text_out)),
    ]


def test_a_key_quoted_back_never_reaches_errors_logs_or_tools(caplog: pytest.LogCaptureFixture) -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server
    from rh_tools.langchain import RunningHubToolkit

    key = CANARY_KEY
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    routes = _quoting_routes(key)
    for what, which, route in routes:
        api = FakeAPI()
        setattr(api, f"{which}_route", route)
        with api:
            with _client(api, key=key, max_retries=0) as rh:
                try:
                    result = rh.run(TOOL, ARGS, timeout=5)
                    seen.append(json.dumps(result.model_dump()))
                except RunningHubError as err:
                    seen += [str(err), repr(err), json.dumps(err.to_dict(), default=str)]
            sync = _client(api, key=key, max_retries=0)
            asy = AsyncRunningHub(api_key=key, base_url=api.base_url, poll_interval=0.01, max_retries=0)
            tool = next(
                t for t in RunningHubToolkit(client=sync, async_client=asy, tools=[TOOL]).get_tools() if t.name == TOOL
            )
            msg = tool.invoke({"type": "tool_call", "id": "c", "name": TOOL, "args": dict(ARGS)})
            seen += [str(msg.content), json.dumps(msg.artifact, default=str)]
            sync.close()

            async def via_mcp(api: FakeAPI = api) -> Any:
                config = ServerConfig(api_key=key, base_url=api.base_url, poll_interval=0.01, tools=[TOOL], max_wait=5)
                async with Client(build_server(config)) as client:
                    return await client.call_tool(TOOL, dict(ARGS))

            res = asyncio.run(via_mcp())
            seen += [json.dumps(res.model_dump(mode="json"))]
        assert not [s for s in seen if key in s], what
    assert key not in caplog.text
    assert any("***" in s for s in seen)  # the quotes arrived, scrubbed
    record(
        "api key",
        "API quotes the key back (7 answer kinds x client/LangChain/MCP/logs)",
        tried=len(routes) * 3,
        held=len(routes) * 3,
    )


# ------------------------------------------------------------------ cookies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_cookie_travels_between_keys_through_rh_mcp(tmp_path: Path) -> None:
    from hostile import json_response as jr

    def account(req: Request) -> Any:
        key = req.headers.get("authorization", "")[-32:]
        body = {"code": 0, "msg": "ok", "data": {"remainMoney": "1", "currency": "USD", "apiType": "x"}}
        return jr(body, headers={"Set-Cookie": f"session=for-{key[:6]}; Path=/"})

    with RawServer({"/": account}) as api:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
        env["RUNNINGHUB_BASE_URL"] = api.origin
        log = tmp_path / "server.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        try:
            _wait_port(port, proc, log)
            url = f"http://127.0.0.1:{port}/mcp"
            for key in (TEST_KEY, CANARY_KEY, TEST_KEY):
                asyncio.run(_call_account(url, key))
        finally:
            proc.terminate()
            proc.wait(10)
    calls = [r for r in api.requests if r.path.startswith("/uc/") or "account" in r.path.lower()]
    assert len(calls) == 3, [r.path for r in api.requests]
    assert all("cookie" not in r.headers for r in api.requests), [r.headers.get("cookie") for r in api.requests]
    record("api key", "cookie set for one key, next calls with other keys", tried=2, held=2)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)


async def _call_account(url: str, key: str) -> None:
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"X-RunningHub-Api-Key": key}, timeout=30)
    async with Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("get_account", {})
        assert not result.is_error, result


# ------------------------------------------------------------------ whole-call deadlines


def _json_drip(req: Request) -> Iterator[bytes]:
    """A JSON answer whose body arrives one byte every 50 ms (it would take minutes)."""
    yield b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    for _ in range(2400):
        yield b" "
        time.sleep(0.05)


DEADLINE_CASES: list[tuple[str, str, Any, str]] = [
    # (what, route, answer, expected outcome)
    ("poll hangs", "query", hang(60), "pending"),
    ("poll answer drips", "query", _json_drip, "pending"),
    ("submit answer never comes", "submit", hang(60), "lost-submit"),
    ("submit answer drips", "submit", _json_drip, "lost-submit"),
]


def _check_deadline(outcome: str, err: BaseException, took: float, what: str) -> None:
    assert took < BOUND, (what, took)
    if outcome == "pending":
        assert isinstance(err, TaskTimeoutError) and err.task_id == TASK_ID, (what, err)
    else:
        assert isinstance(err, APITimeoutError) and err.retryable is False and MAY_EXIST in str(err), (what, err)


def _sync_case(case: tuple[str, str, Any, str]) -> None:
    what, which, route, outcome = case
    api = FakeAPI()
    setattr(api, f"{which}_route", route)
    with api:
        started = time.monotonic()
        with _client(api) as rh, pytest.raises(RunningHubError) as caught:
            rh.run(TOOL, ARGS, timeout=LIMIT)
        _check_deadline(outcome, caught.value, time.monotonic() - started, what)
        assert api.submits() == 1  # never resubmitted


async def _async_case(case: tuple[str, str, Any, str]) -> None:
    what, which, route, outcome = case
    api = FakeAPI()
    setattr(api, f"{which}_route", route)
    with api:
        started = time.monotonic()
        async with AsyncRunningHub(api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01) as rh:
            with pytest.raises(RunningHubError) as caught:
                await rh.run(TOOL, ARGS, timeout=LIMIT)
        _check_deadline(outcome, caught.value, time.monotonic() - started, what)
        assert api.submits() == 1


def test_timeout_bounds_the_whole_call() -> None:
    """Each case runs beside the others (threads / tasks): every one measures only its own call."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(DEADLINE_CASES)) as pool:
        list(pool.map(_sync_case, DEADLINE_CASES))  # re-raises the first failure

    async def all_async() -> None:
        await asyncio.gather(*(_async_case(c) for c in DEADLINE_CASES))

    asyncio.run(all_async())
    record("waits", "hung / dripping poll and submit vs timeout=1 s (sync and async twins)", tried=8, held=8)


def _tool_case(case: tuple[str, str, Any, str]) -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server
    from rh_tools.langchain import RunningHubTool

    what, which, route, outcome = case
    api = FakeAPI()
    setattr(api, f"{which}_route", route)
    with api:
        if which == "query":  # wait() on an existing task
            with _client(api) as rh:
                started = time.monotonic()
                with pytest.raises(TaskTimeoutError) as caught:
                    rh.wait(TASK_ID, timeout=LIMIT)
                _check_deadline("pending", caught.value, time.monotonic() - started, what)
        sync = _client(api)
        asy = AsyncRunningHub(api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01)
        tool = RunningHubTool(name=TOOL, client=sync, async_client=asy, wait=LIMIT)
        started = time.monotonic()
        msg = tool.invoke({"type": "tool_call", "id": "c", "name": TOOL, "args": dict(ARGS)})
        assert time.monotonic() - started < BOUND, what
        assert TASK_ID in msg.content if outcome == "pending" else MAY_EXIST in msg.content, msg.content
        sync.close()

        async def via_mcp() -> Any:
            config = ServerConfig(
                api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01, tools=[TOOL], max_wait=LIMIT
            )
            async with Client(build_server(config)) as client:
                started = time.monotonic()
                res = await client.call_tool(TOOL, dict(ARGS))
                return res, time.monotonic() - started

        res, took = asyncio.run(via_mcp())
        data = res.structured_content or {}
        assert took < BOUND, (what, took)
        if outcome == "pending":
            assert not res.is_error and data["task_id"] == TASK_ID and data["done"] is False, data
        else:
            assert res.is_error and data["retryable"] is False and MAY_EXIST in data["hint"], data


def test_wait_and_tools_keep_their_limit_too() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(DEADLINE_CASES)) as pool:
        list(pool.map(_tool_case, DEADLINE_CASES))
    n = len(DEADLINE_CASES)
    record("waits", "hung / dripping poll and submit vs wait(), LangChain wait=1, rh-mcp --max-wait 1", tried=n, held=n)


# ------------------------------------------------------------------ ids


BAD_IDS: list[Any] = ["../1", "1/../../x", "", " ", "12a", "1" * 40, "١٢٣", "1?x=2", -5, 1.5, None, ["1"], "1\n2"]


def test_workflow_and_app_ids_are_checked_before_the_paid_submit() -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    api = FakeAPI()
    with api, _client(api) as rh:
        for bad in BAD_IDS:
            for call in (rh.run_workflow, rh.run_ai_app):
                with pytest.raises(InvalidInputError, match="must be the number"):
                    call(bad, [])
            for read in (rh.get_workflow_json, rh.get_ai_app):
                with pytest.raises(InvalidInputError, match="must be the number"):
                    read(bad)

        async def via_mcp() -> list[Any]:
            config = ServerConfig(api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01)
            async with Client(build_server(config)) as client:
                return [
                    await client.call_tool(name, {field: bad, "node_info_list": []})
                    for bad in BAD_IDS
                    if bad is not None
                    for name, field in (("run_workflow", "workflow_id"), ("run_ai_app", "webapp_id"))
                ]

        results = asyncio.run(via_mcp())
        assert all(r.is_error for r in results)
        assert rh.run_workflow(int(WORKFLOW), [], wait=False).task_id == TASK_ID  # the control: a real id works
    assert api.submits() == 1 and len(api.server.requests) == 1
    record(
        "protocol",
        "malformed workflow_id / webapp_id before a paid submit",
        tried=len(BAD_IDS) * 6,
        held=len(BAD_IDS) * 6,
    )


@pytest.mark.parametrize("bad_id", ["x" * 300, "12/34", "1 2", "a?b", "123"])
def test_a_task_id_of_an_unexpected_form_after_a_paid_submit_is_not_nothing_was_sent(bad_id: str) -> None:
    """Ids a caller types are checked before sending (19 digits); an id RunningHub returns for a task
    it created is polled as it is, so a paid task is never reported as "nothing was sent"."""
    from rh_tools.langchain import RunningHubTool

    api = FakeAPI(outputs=["/files/a.png"])
    api.submit_route = lambda req: json_response({**api.task("QUEUED"), "taskId": bad_id})
    with api, _client(api) as rh:
        try:
            outcome = rh.run(TOOL, ARGS, timeout=5).task_id
        except RunningHubError as err:
            outcome = str(err)
        assert "nothing was sent" not in outcome.lower(), outcome
        asy = AsyncRunningHub(api_key=TEST_KEY, base_url=api.base_url)
        msg = RunningHubTool(name=TOOL, client=rh, async_client=asy).invoke(
            {"type": "tool_call", "id": "c", "name": TOOL, "args": dict(ARGS)}
        )
        assert "nothing was sent" not in str(msg.content).lower(), msg.content
        assert len(str(msg.content)) < 2000  # an oversized id is not echoed in full
    assert api.submits() == 2  # one per surface, never a silent resubmit
    record("protocol", "task id of an unexpected form returned by a paid submit", tried=1, held=1)


def test_task_failed_hint_is_unchanged_by_scrubbing() -> None:
    """Scrubbing only removes keys: a normal failure still reads as the API said."""
    api = FakeAPI()
    api.query_route = lambda req: json_response(
        {"taskId": TASK_ID, "status": "FAILED", "errorCode": "1501", "errorMessage": "content refused|内容违规"}
    )
    with api, _client(api) as rh, pytest.raises(TaskFailedError) as caught:
        rh.run(TOOL, ARGS)
    assert caught.value.message == "content refused" and caught.value.message_zh == "内容违规"


# ------------------------------------------------------------------ the pure decisions behind these


@pytest.mark.parametrize(
    "url,location,follows",
    [
        ("https://www.runninghub.ai/openapi/v2/x", "/openapi/v2/y", True),
        ("https://www.runninghub.ai/a", "https://www.runninghub.ai:443/b", True),
        ("http://www.runninghub.ai/a", "https://www.runninghub.ai/a", True),  # the https upgrade
        ("https://www.runninghub.ai/a", "http://www.runninghub.ai/a", False),  # a downgrade
        ("https://www.runninghub.ai/a", "https://evil.example/a", False),
        ("https://www.runninghub.ai/a", "//evil.example/a", False),  # scheme-relative
        ("https://www.runninghub.ai/a", "https://www.runninghub.ai.evil.example/a", False),
        ("https://www.runninghub.ai/a", "https://www.runninghub.ai:8443/a", False),
        ("http://127.0.0.1:8765/a", "http://127.0.0.1:8766/a", False),
        ("http://127.0.0.1:8765/a", "http://localhost:8765/a", False),  # same machine, another name
    ],
)
def test_redirect_rule(url: str, location: str, follows: bool) -> None:
    from rh_tools import _core as core

    if follows:
        assert core.redirect_target(url, location).endswith(location.rsplit("/", 1)[-1])
    else:
        with pytest.raises(ConfigurationError):
            core.redirect_target(url, location)


def test_scrubbing_keeps_signed_urls_and_other_text() -> None:
    from rh_tools import _core as core

    core.register_secret(CANARY_KEY)
    url = "https://cdn.example/a.png?Rh-Comfy-Auth=abc&sign=xyz"
    body = json.dumps({"results": [{"url": url}], "msg": "内容 \u4e2d", "k": CANARY_KEY}).encode()
    clean = json.loads(core.scrub_answer(body))
    assert clean["results"][0]["url"] == url and clean["msg"] == "内容 中" and clean["k"] == "***"
    escaped = ('{"m":"' + "".join(f"\\u{ord(c):04x}" for c in CANARY_KEY) + '","u":"' + url + '"}').encode()
    assert json.loads(core.scrub_answer(escaped)) == {"m": "***", "u": url}
    core.register_secret("short")  # too short to be a key: never scrubbed from ordinary text
    assert core.redact("a short text") == "a short text"
