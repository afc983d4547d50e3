"""What the corpus taught the client, tested against real servers where the behaviour spans calls.

- a key of the other site: one free account call to the other site says so in the error (two real
  emulators on loopback, each pinned to its own key, the site -> URL map overridden);
- Enterprise-Shared keys on legacy routes: the body key is refused, Bearer-only is tried once;
- task ids checked locally; every documented run_workflow / run_ai_app field reaches the wire;
- the failure reason (node, exception) reaches the text LangChain and MCP show the model;
- HTTP statuses are never hidden by body codes; every code has its class and retry decisions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import TEST_KEY

from rh_tools import AsyncRunningHub, AuthenticationError, InvalidInputError, RunningHub, TaskFailedError
from rh_tools import _core as core
from rh_tools import _exceptions as E
from rh_tools._config import ClientConfig
from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

AI_KEY = TEST_KEY
CN_KEY = "0badc0de0badc0de0badc0de0badc0de"
STRANGER = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
FAST = {"image": 0.05, "video": 0.05, "audio": 0.05, "3d": 0.05, "text": 0.05}
GROK = {"prompt": "a fox", "imageUrl": "https://example.com/fox.png"}


@pytest.fixture(scope="module")
def sites() -> Iterator[tuple[Emulator, Emulator]]:
    """Two sites, each knowing only its own key; each refuses the other's like the real gateway."""
    with (
        Emulator(keys=[AI_KEY], foreign_keys=[CN_KEY], durations=FAST) as ai,
        Emulator(keys=[CN_KEY], foreign_keys=[AI_KEY], durations=FAST) as cn,
    ):
        yield ai, cn


def _site_client(twin: str, key: str, ai: Emulator, cn: Emulator) -> Any:
    cls = RunningHub if twin == "sync" else AsyncRunningHub
    return cls(api_key=key, site="ai", site_urls={"ai": ai.base_url, "cn": cn.base_url}, poll_interval=0.02)


def _call(twin: str, client: Any, name: str, *args: Any, **kw: Any) -> Any:
    if twin == "sync":
        with client:
            return getattr(client, name)(*args, **kw)

    async def go() -> Any:
        async with client:
            return await getattr(client, name)(*args, **kw)

    return asyncio.run(go())


def _account_calls(emu: Emulator) -> int:
    return emu.stats.snapshot()["requests_by_path"].get("/uc/openapi/accountStatus", 0)


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_key_of_the_other_site_is_named_in_the_error(sites: tuple[Emulator, Emulator], twin: str) -> None:
    ai, cn = sites
    before = _account_calls(cn)
    with pytest.raises(AuthenticationError) as exc:
        _call(twin, _site_client(twin, CN_KEY, ai, cn), "run", "grok_image_to_image", GROK)
    assert "This key belongs to runninghub.cn: set RUNNINGHUB_SITE=cn" in str(exc.value)
    assert exc.value.code == -1 and exc.value.status_code == 401 and not exc.value.retryable
    assert _account_calls(cn) == before + 1  # one free account call, on the other site only


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_good_key_costs_no_extra_call(sites: tuple[Emulator, Emulator], twin: str) -> None:
    ai, cn = sites
    before_cn, before_ai = _account_calls(cn), _account_calls(ai)
    result = _call(twin, _site_client(twin, AI_KEY, ai, cn), "run", "grok_image_to_image", GROK)
    assert result.succeeded
    assert (_account_calls(cn), _account_calls(ai)) == (before_cn, before_ai)


def test_a_key_neither_site_knows_says_so_and_is_asked_once_per_client(sites: tuple[Emulator, Emulator]) -> None:
    ai, cn = sites
    before = _account_calls(cn)
    with _site_client("sync", STRANGER, ai, cn) as rh:
        for _ in range(2):
            with pytest.raises(AuthenticationError) as exc:
                rh.account()
            assert (
                exc.value.code == 806 and "Neither runninghub.ai nor runninghub.cn accepts this key" in exc.value.hint
            )
    assert _account_calls(cn) == before + 1  # the answer is remembered


def test_site_urls_follow_argument_then_environment_then_default() -> None:
    env = {"RUNNINGHUB_CN_BASE_URL": "http://127.0.0.1:9", "RUNNINGHUB_SITE": "cn"}
    cfg = ClientConfig.resolve(env=env)
    assert (cfg.base_url, cfg.site) == ("http://127.0.0.1:9", "cn")
    cfg = ClientConfig.resolve(site_urls={"cn": "http://127.0.0.1:8"}, env=env)
    assert (cfg.base_url, cfg.site) == ("http://127.0.0.1:8", "cn")
    assert ClientConfig.resolve(env={}).site_urls["cn"] == "https://www.runninghub.cn"
    assert ClientConfig.resolve(base_url="http://127.0.0.1:7", env={}).site == "custom"  # no probe there


# ------------------------------------------------------------------ Enterprise-Shared on legacy routes


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_enterprise_shared_key_falls_back_to_bearer_only_once_and_stays(twin: str) -> None:
    shared = "abcdefabcdefabcdefabcdefabcdef34"
    with Emulator(bearer_only_keys=[shared], durations=FAST) as emu:
        client = (RunningHub if twin == "sync" else AsyncRunningHub)(
            api_key=shared, base_url=emu.base_url, poll_interval=0.02
        )

        async def flow() -> Any:
            async with client as rh:
                first = await rh.run_workflow(SAMPLE_WORKFLOW_ID, wait=False)
                return first, await rh.account()

        def sync_flow() -> Any:
            with client as rh:
                return rh.run_workflow(SAMPLE_WORKFLOW_ID, wait=False), rh.account()

        task, account = sync_flow() if twin == "sync" else asyncio.run(flow())
        assert len(task.task_id) == 19 and account.current_task_counts is not None
        requests = emu.stats.snapshot()["requests_by_path"]
        assert requests["/task/openapi/create"] == 2  # refused with the body key, accepted with Bearer only
        assert requests["/uc/openapi/accountStatus"] == 1  # the client remembered: Bearer only at once


def test_legacy_auth_setting_is_argument_then_environment_then_both() -> None:
    call = __import__("rh_tools._calls", fromlist=["x"]).workflow_call(SAMPLE_WORKFLOW_ID)
    env = {"RUNNINGHUB_API_KEY": TEST_KEY, "RUNNINGHUB_LEGACY_AUTH": "bearer"}
    kw = core.request_kwargs(call, ClientConfig.resolve(env=env))
    assert "apiKey" not in kw["json"] and kw["headers"]["Authorization"] == f"Bearer {TEST_KEY}"
    kw = core.request_kwargs(call, ClientConfig.resolve(legacy_auth="body", env=env))
    assert kw["json"]["apiKey"] == TEST_KEY and "Authorization" not in kw["headers"]
    kw = core.request_kwargs(call, ClientConfig.resolve(api_key=TEST_KEY, env={}))
    assert kw["json"]["apiKey"] == TEST_KEY and kw["headers"]["Authorization"] == f"Bearer {TEST_KEY}"
    with pytest.raises(E.ConfigurationError, match="legacy_auth"):
        ClientConfig.resolve(legacy_auth="header", env={})


def test_fallback_only_on_that_exact_refusal() -> None:
    call = __import__("rh_tools._calls", fromlist=["x"]).workflow_call(SAMPLE_WORKFLOW_ID)
    refused = E.error_for_code(-1, "ApiKey verification failed", status_code=401)
    assert core.legacy_auth_fallback(call, refused, "both") == "bearer"
    assert core.legacy_auth_fallback(call, refused, "bearer") is None  # once
    assert core.legacy_auth_fallback(call, E.error_for_code(806), "both") is None  # an unknown key
    query = __import__("rh_tools._calls", fromlist=["x"]).query_call("2013508786110730241")
    assert core.legacy_auth_fallback(query, refused, "both") is None  # v2 calls carry no body key


# ------------------------------------------------------------------ task ids


@pytest.mark.parametrize("bad", ["1", "task-1", "2013508786110730241x", "-2013508786110730241", "9" * 19, 1.5, None])
@pytest.mark.parametrize("method", ["get_task", "wait", "cancel", "webhook_detail"])
def test_task_ids_are_checked_before_any_request(bad: Any, method: str) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    for cls in (RunningHub, AsyncRunningHub):
        client = cls(api_key=TEST_KEY, transport=transport)
        with pytest.raises(InvalidInputError, match="19-digit number RunningHub returned"):
            result = getattr(client, method)(bad)
            if asyncio.iscoroutine(result):
                asyncio.run(result)
    assert sent == []
    assert core.check_task_id(2013508786110730241) == "2013508786110730241"
    assert core.check_task_id(" 2013508786110730241 ") == "2013508786110730241"


# ------------------------------------------------------------------ run_workflow / run_ai_app fields


def _capture() -> tuple[list[dict[str, Any]], httpx.MockTransport]:
    bodies: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        data = {"netWssUrl": None, "taskId": "1910246754753896450", "taskStatus": "QUEUED", "promptTips": "{}"}
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": data})

    return bodies, httpx.MockTransport(handle)


def test_every_documented_run_field_reaches_the_wire() -> None:
    bodies, transport = _capture()
    inline = {"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}
    with RunningHub(api_key=TEST_KEY, transport=transport) as rh:
        rh.run_workflow(
            SAMPLE_WORKFLOW_ID,
            [{"nodeId": 6, "fieldName": "text", "fieldValue": "x"}],
            workflow=inline,
            wait=False,
            instance_type="plus",
            use_personal_queue=True,
            retain_seconds=60,
            access_password="secret-pw",
            add_metadata=False,
            webhook_url="https://example.com/hook",
        )
        rh.run_ai_app(SAMPLE_WEBAPP_ID, [], wait=False, retain_seconds=0, use_personal_queue=False)
    wf, app = bodies
    assert wf["workflowId"] == SAMPLE_WORKFLOW_ID and json.loads(wf["workflow"]) == inline
    assert (wf["instanceType"], wf["usePersonalQueue"], wf["retainSeconds"], wf["accessPassword"]) == (
        "plus",
        True,
        60,
        "secret-pw",
    )
    assert wf["addMetadata"] is False and wf["webhookUrl"] == "https://example.com/hook"
    assert wf["nodeInfoList"][0]["nodeId"] == "6"
    # webappId as a JSON integer, as the docs' example and the official clients send it, all digits kept
    assert app["webappId"] == int(SAMPLE_WEBAPP_ID) and isinstance(app["webappId"], int)
    assert "retainSeconds" not in app and app["usePersonalQueue"] is False


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"retain_seconds": -1}, "retain_seconds"),
        ({"retain_seconds": "60"}, "retain_seconds"),
        ({"use_personal_queue": "yes"}, "use_personal_queue"),
        ({"workflow": "{not json"}, "not valid JSON"),
        ({"workflow": {"3": {"inputs": {}}}}, "API format"),
        ({"access_password": 1234}, "access_password"),
    ],
)
def test_bad_run_fields_are_refused_before_sending(kwargs: dict[str, Any], words: str) -> None:
    bodies, transport = _capture()
    with RunningHub(api_key=TEST_KEY, transport=transport) as rh, pytest.raises(InvalidInputError, match=words):
        rh.run_workflow(SAMPLE_WORKFLOW_ID, wait=False, **kwargs)
    with RunningHub(api_key=TEST_KEY, transport=transport) as rh, pytest.raises(InvalidInputError, match="webapp_id"):
        rh.run_ai_app("my-app", [], wait=False)
    assert bodies == []


def test_inline_workflow_and_options_run_on_the_emulator_through_the_tools() -> None:
    from rh_tools.langchain import RunningHubToolkit

    with Emulator(durations=FAST) as emu, RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as rh:
        prompt = rh.get_workflow_json(SAMPLE_WORKFLOW_ID)
        result = rh.run_workflow(None, workflow=prompt, instance_type="plus", retain_seconds=30, timeout=10)
        assert result.succeeded and result.outputs
        tools = {t.name: t for t in RunningHubToolkit(client=rh).get_tools()}
        msg = tools["run_workflow"].invoke(
            {
                "type": "tool_call",
                "id": "c1",
                "name": "run_workflow",
                "args": {"workflow": json.dumps(prompt), "options": {"instance_type": "plus", "retain_seconds": 5}},
            }
        )
        assert msg.status == "success" and msg.artifact["status"] == "SUCCESS"
        bad = tools["run_ai_app"].invoke(
            {
                "type": "tool_call",
                "id": "c2",
                "name": "run_ai_app",
                "args": {"webapp_id": SAMPLE_WEBAPP_ID, "options": {"gpu": "big"}},
            }
        )
        assert bad.status == "error" and "unknown options ['gpu']" in bad.content


# ------------------------------------------------------------------ failure reasons reach the model

REASON = {
    "node_id": "276",
    "node_name": "SONIC_PreData",
    "exception_type": "TypeError",
    "exception_message": (
        "SONIC_PreData.sampler_main() missing 2 required positional arguments: 'clip_vision' and 'vae'"
    ),
    "traceback": json.dumps(['  File "/workspace/ComfyUI/execution.py", line 328, in process_inputs\n']),
    "current_inputs": "{}",
    "current_outputs": "{}",
}


def _failing(emu: Emulator) -> None:
    emu.faults.add(
        "fail_tasks", path="/task/openapi/create", code="805", message="APIKEY_TASK_STATUS_ERROR", reason=REASON
    )


def test_failure_reason_reaches_the_langchain_tool_text() -> None:
    from rh_tools.langchain import RunningHubToolkit

    with Emulator(durations=FAST) as emu, RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as rh:
        _failing(emu)
        tool = {t.name: t for t in RunningHubToolkit(client=rh).get_tools()}["run_workflow"]
        msg = tool.invoke(
            {"type": "tool_call", "id": "c", "name": "run_workflow", "args": {"workflow_id": SAMPLE_WORKFLOW_ID}}
        )
    assert msg.status == "error"
    for words in ("SONIC_PreData", "#276", "TypeError", "'clip_vision' and 'vae'", "retryable: no"):
        assert words in msg.content, msg.content
    assert "execution.py" not in msg.content  # no traceback


async def test_failure_reason_reaches_the_mcp_tool_text() -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    emu = Emulator(durations=FAST)
    await asyncio.to_thread(emu.start)
    try:
        _failing(emu)
        server = build_server(ServerConfig(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05))
        async with Client(server) as client:
            result = await client.call_tool("run_workflow", {"workflow_id": SAMPLE_WORKFLOW_ID})
    finally:
        await asyncio.to_thread(emu.close)
    text = "\n".join(getattr(b, "text", "") for b in result.content)
    assert result.is_error
    for words in ("SONIC_PreData", "#276", "TypeError", "missing 2 required positional arguments"):
        assert words in text, text
    assert "execution.py" not in text


def test_a_failed_task_carries_its_id_and_a_trimmed_reason_in_every_shape() -> None:
    shapes = [
        ("FAILED", "805", "APIKEY_TASK_STATUS_ERROR", REASON),
        ("FAILED", None, None, REASON),  # only failedReason
        ("FAILED", "1501", "Content security audit did not pass | 内容安全审查未通过", {}),
        ("FAILED", "805", None, json.dumps(REASON)),  # failedReason as a JSON string
        ("CANCEL", None, None, None),
    ]
    for status, code, message, reason in shapes:
        err = TaskFailedError.from_task("2013508786110730241", status, code, message, reason)
        assert err.task_id == "2013508786110730241" and err.status == status
        if reason:
            assert "SONIC_PreData (#276)" in err.message and not err.retryable
            assert err.failed_reason and "traceback" not in err.failed_reason
            assert "traceback" not in json.dumps(err.to_dict())
    oom = TaskFailedError.from_task("1", "FAILED", "805", None, {"exception_type": "torch.OutOfMemoryError"})
    assert oom.retryable and "plus" in oom.hint


# ------------------------------------------------------------------ statuses, codes, messages


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"code": -1, "msg": "ApiKey verification failed"}),
        (401, {"code": 12345, "msg": "something new"}),  # an unknown body code never hides the 401
        (403, {"code": 500, "msg": "UNKNOWN_ERROR"}),  # nor an unrelated known one
        (200, {"code": 401, "message": "ApiKey verification failed"}),
        (200, {"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None}),
        (200, {"taskId": "", "status": "", "errorCode": "806", "failedReason": {}, "usage": None}),
        (200, {"taskId": "", "status": "", "errorCode": "1002", "errorMessage": "Invalid API Key|无效"}),
    ],
)
def test_authentication_failures_in_every_shape(status: int, body: dict[str, Any]) -> None:
    for call in (
        __import__("rh_tools._calls", fromlist=["x"]).account_call(),
        __import__("rh_tools._calls", fromlist=["x"]).query_call("2013508786110730241"),
    ):
        with pytest.raises(AuthenticationError) as exc:
            core.decode_response(call, status, {}, json.dumps(body).encode())
        assert not exc.value.retryable
        assert core.retry_delay("submit", 0, 3, exc.value) is None


def test_a_429_stays_a_rate_limit_whatever_the_body() -> None:
    call = __import__("rh_tools._calls", fromlist=["x"]).submit_call("x/y", {})
    with pytest.raises(E.RateLimitError) as exc:
        core.decode_response(call, 429, {}, b'{"taskId":"","errorCode":"1005","errorMessage":"busy"}')
    assert core.retry_delay("submit", 0, 3, exc.value) is not None  # a refusal proves no task


@pytest.mark.parametrize(
    ("code", "message", "cls", "retryable", "submit_retry"),
    [
        ("1509", "Model concurrency limit reached|模型并发已达上限", E.RateLimitError, True, True),
        ("1510", "File download failed, please check the URL", E.InvalidRequestError, True, False),
        ("1511", "Image decoding failed|图片解码失败", E.InvalidRequestError, True, False),
        ("1512", "Sensitive content detected", E.ContentPolicyError, False, False),
        ("1513", "Upstream timed out", E.ServerError, True, False),
        ("1599", "Something else entirely", E.APIError, False, False),
    ],
)
def test_unpublished_model_codes_are_classified_by_their_words(
    code: str, message: str, cls: type, retryable: bool, submit_retry: bool
) -> None:
    err = E.error_for_code(code, message)
    assert type(err) is cls and err.retryable is retryable and err.code == code
    assert (core.retry_delay("submit", 0, 3, err) is not None) is submit_retry


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("Task not found|任务不存在", "Task not found", "任务不存在"),
        ("Task not found | 任务不存在", "Task not found", "任务不存在"),
        ("任务不存在|Task not found", "Task not found", "任务不存在"),
        ("任务不存在 | Task not found", "Task not found", "任务不存在"),
        ("only english", "only english", None),
    ],
)
def test_bilingual_messages_in_either_order(text: str, en: str, zh: str | None) -> None:
    assert E.split_message(text) == (en, zh)


def test_chinese_only_and_identifier_messages_get_english_beside_them() -> None:
    err = E.error_for_code(812, "企业版余额不足，请充值")
    assert (err.message, err.message_zh) == ("The enterprise balance is too low", "企业版余额不足，请充值")
    assert E.error_for_code(None, "TASK_QUEUE_MAXED").message.startswith("Concurrency limit reached")
