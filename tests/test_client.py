"""The twins' behaviour over an in-memory transport: what is sent, when, and how often."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from rh_tools import (
    AsyncRunningHub,
    InvalidInputError,
    RateLimitError,
    RunningHub,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownEndpointError,
    catalogue,
)
from rh_tools.catalogue._examples import example_params

KEY = "feedfacecafebeef0123456789abcdef"


class FakeAPI:
    """Answers like RunningHub would, counting requests; scripted per path."""

    def __init__(self, statuses: list[str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = list(statuses or ["RUNNING", "SUCCESS"])
        self.submit_answers: list[tuple[int, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/openapi/v2/media/upload/binary":
            assert b'name="file"; filename=' in request.read()
            return httpx.Response(
                200,
                json={
                    "code": 0,
                    "message": "success",
                    "data": {
                        "type": "image",
                        "download_url": "https://cdn.example/up.png?token=t",
                        "fileName": "openapi/up.png",
                        "size": "1",
                    },
                },
            )
        if path == "/openapi/v2/query":
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            results = (
                [{"url": "https://cdn.example/out.png", "outputType": "png", "text": None}]
                if status == "SUCCESS"
                else None
            )
            return httpx.Response(
                200,
                json={
                    "taskId": json.loads(request.content)["taskId"],
                    "status": status,
                    "errorCode": "",
                    "errorMessage": "",
                    "results": results,
                    "usage": {"thirdPartyConsumeMoney": "0.14"},
                },
            )
        if path.startswith("/openapi/v2/"):
            if self.submit_answers:
                code, body = self.submit_answers.pop(0)
                return httpx.Response(code, json=body)
            return httpx.Response(
                200,
                json={
                    "taskId": "2013508786110730241",
                    "status": "QUEUED",
                    "errorCode": "",
                    "errorMessage": "",
                    "results": None,
                },
            )
        return httpx.Response(404, json={"code": 404, "msg": "no route"})

    @property
    def submits(self) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.url.path.startswith("/openapi/v2/")
            and r.url.path not in ("/openapi/v2/query", "/openapi/v2/media/upload/binary")
        ]


def client(api: FakeAPI, **kw: Any) -> RunningHub:
    return RunningHub(
        api_key=KEY,
        base_url="https://www.runninghub.ai",
        transport=httpx.MockTransport(api),
        poll_interval=0,
        **kw,
    )


SEED_BODY = {
    "model": "g-4.2",
    "prompt": "Transform this sketch into a UI design",
    "imageUrl": "https://www.runninghub.cn/view?filename=a.jpg&type=input",
}


def test_run_grok_image_to_image_sends_the_seed_body() -> None:
    api = FakeAPI()
    with client(api) as rh:
        result = rh.run("grok_image_to_image", SEED_BODY)
    assert [r.url.path for r in api.requests] == [
        "/openapi/v2/rhart-image-g/image-to-image",
        "/openapi/v2/query",
        "/openapi/v2/query",
    ]
    assert json.loads(api.requests[0].content) == SEED_BODY
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert result.status == "SUCCESS" and result.urls == ["https://cdn.example/out.png"]
    assert result.usage is not None and result.usage.third_party_consume_money == "0.14"


@pytest.mark.parametrize(
    "name",
    [
        "grok_image_to_image",
        "grok-image/image-to-image/channel-low-price",
        "rhart-image-g/image-to-image",
        "/openapi/v2/rhart-image-g/image-to-image",
    ],
)
def test_endpoint_accepts_every_kind_of_name(name: str) -> None:
    api = FakeAPI(["SUCCESS"])
    with client(api) as rh:
        rh.run(name, prompt="x")
    assert api.requests[0].url.path == "/openapi/v2/rhart-image-g/image-to-image"
    # the required `model` was filled with the registry default because the API requires it
    assert json.loads(api.requests[0].content) == {"model": "g-4.2", "prompt": "x"}


def test_submit_that_is_already_done_needs_no_poll() -> None:
    api = FakeAPI()
    api.submit_answers = [
        (
            200,
            {
                "taskId": "5",
                "status": "SUCCESS",
                "errorCode": "",
                "errorMessage": "",
                "results": [{"url": "https://cdn/x.png", "outputType": "png"}],
            },
        )
    ]
    with client(api) as rh:
        result = rh.run("grok_image_to_image", prompt="x")
    assert len(api.requests) == 1 and result.urls == ["https://cdn/x.png"] and result.polls == 0


def _bad_variants(ep: catalogue.Endpoint) -> list[tuple[str, dict[str, Any]]]:
    good = example_params(ep)
    out: list[tuple[str, dict[str, Any]]] = [("unknown key", {**good, "definitelyNotAParam": 1})]
    for p in ep.params:
        if p.required and p.default is None:
            out.append((f"missing {p.name}", {k: v for k, v in good.items() if k != p.name}))
        if p.type == "list":
            out.append((f"bad enum {p.name}", {**good, p.name: "__nope__"}))
        if p.type in ("int", "float") and p.max is not None:
            out.append((f"too big {p.name}", {**good, p.name: p.max + 1}))
        if p.type == "string" and p.max_length:
            out.append((f"too long {p.name}", {**good, p.name: "x" * (p.max_length + 1)}))
        if p.is_media and p.multiple and p.max_items:
            out.append((f"too many {p.name}", {**good, p.name: ["https://e.com/a.png"] * (p.max_items + 1)}))
    return out


def test_every_endpoint_validates_before_any_request() -> None:
    api = FakeAPI(["SUCCESS"])
    checked = 0
    with client(api) as rh:
        for ep in catalogue.all():
            if ep.open_params:
                continue
            for label, params in _bad_variants(ep):
                with pytest.raises(InvalidInputError) as exc:
                    rh.submit(ep.tool_name, params)
                assert exc.value.details, f"{ep.tool_name}: {label} gave no field details"
                checked += 1
    assert api.requests == [], "invalid input reached the network"
    assert checked > 1000


def test_every_endpoint_example_is_submitted_as_is() -> None:
    api = FakeAPI(["SUCCESS"])
    with client(api) as rh:
        for ep in catalogue.all():
            params = example_params(ep, required_only=False)
            rh.submit(ep.tool_name, params)
            sent = json.loads(api.requests[-1].content)
            assert api.requests[-1].url.path == f"/openapi/v2/{ep.path}"
            keys = {p.name: p.key for p in ep.params}
            assert set(sent) == {keys[k] for k in params}
            for p in ep.params:
                if p.type == "list" and p.key in sent:
                    assert isinstance(sent[p.key], str)  # LIST values go as strings


def test_list_values_are_sent_as_strings() -> None:
    ep = next(
        e for e in catalogue.all() if any(p.type == "list" and p.options and p.options[0].isdigit() for p in e.params)
    )
    p = next(p for p in ep.params if p.type == "list" and p.options and p.options[0].isdigit())
    api = FakeAPI(["SUCCESS"])
    with client(api) as rh:
        rh.submit(ep.tool_name, {**example_params(ep), p.name: int(p.options[0])})
    assert json.loads(api.requests[-1].content)[p.key] == p.options[0]


def test_unknown_endpoint_suggests_names() -> None:
    api = FakeAPI()
    with client(api) as rh, pytest.raises(UnknownEndpointError) as exc:
        rh.run("grok_image_to_imag", prompt="x")
    assert "grok_image_to_image" in str(exc.value) and api.requests == []


def test_local_file_is_uploaded_and_replaced_by_its_url(tmp_path: Path) -> None:
    img = tmp_path / "sketch.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    api = FakeAPI(["SUCCESS"])
    with client(api) as rh:
        rh.run("grok_image_to_image", prompt="x", imageUrl=str(img))
    assert [r.url.path for r in api.requests][:2] == [
        "/openapi/v2/media/upload/binary",
        "/openapi/v2/rhart-image-g/image-to-image",
    ]
    assert json.loads(api.requests[1].content)["imageUrl"] == "https://cdn.example/up.png?token=t"


def test_wrong_file_type_and_missing_file_are_refused_locally(tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text("hello")
    api = FakeAPI()
    with client(api) as rh:
        with pytest.raises(InvalidInputError, match="accepts"):
            rh.submit("grok_image_to_image", prompt="x", imageUrl=str(doc))
        with pytest.raises(InvalidInputError, match="not a URL"):
            rh.submit("grok_image_to_image", prompt="x", imageUrl=str(tmp_path / "missing.png"))
        with pytest.raises(InvalidInputError, match="directory"):
            rh.submit("grok_image_to_image", prompt="x", imageUrl=str(tmp_path))
    assert api.requests == []


def test_queue_full_submit_is_retried_then_succeeds() -> None:
    api = FakeAPI(["SUCCESS"])
    api.submit_answers = [(200, {"taskId": "", "status": "", "errorCode": "421", "errorMessage": "TASK_QUEUE_MAXED"})]
    with client(api) as rh:
        rh._rng.seed(0)
        result = rh.run("grok_image_to_image", prompt="x")
    assert len(api.submits) == 2 and result.succeeded


def test_server_error_on_submit_is_not_retried() -> None:
    api = FakeAPI()
    api.submit_answers = [(500, {"taskId": "", "errorCode": "1000", "errorMessage": "Unknown error"})]
    with client(api) as rh, pytest.raises(ServerError) as exc:
        rh.run("grok_image_to_image", prompt="x")
    assert len(api.submits) == 1  # a 1000 might have created a task: never pay twice
    # ... and the agent is not told to send it again: not retryable, and the hint says why
    assert exc.value.retryable is False and exc.value.to_dict()["retryable"] is False
    assert "may have" in exc.value.hint and "before submitting again" in exc.value.hint


def test_rate_limit_gives_up_after_budget_with_retryable_error() -> None:
    api = FakeAPI()
    api.submit_answers = [(429, {"taskId": "", "errorCode": "1003", "errorMessage": "slow"})] * 5
    with client(api, max_retries=2) as rh, pytest.raises(RateLimitError) as exc:
        rh._rng.seed(0)
        rh.submit("grok_image_to_image", prompt="x")
    assert len(api.submits) == 3 and exc.value.retryable


def test_failed_task_raises_with_code_and_task_id() -> None:
    api = FakeAPI()

    def failing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/openapi/v2/query":
            api.requests.append(request)
            return httpx.Response(
                200,
                json={
                    "taskId": "9",
                    "status": "FAILED",
                    "errorCode": "1501",
                    "errorMessage": "Content verification failed|内容审核失败",
                    "results": None,
                },
            )
        return api(request)

    with (
        RunningHub(api_key=KEY, transport=httpx.MockTransport(failing), poll_interval=0) as rh,
        pytest.raises(TaskFailedError) as exc,
    ):
        rh.run("grok_image_to_image", prompt="x")
    assert exc.value.code == 1501 and exc.value.task_id == "9" and not exc.value.retryable


def test_timeout_carries_task_id_and_wait_resumes() -> None:
    api = FakeAPI(["RUNNING"])
    with client(api) as rh:
        with pytest.raises(TaskTimeoutError) as exc:
            rh.run("grok_image_to_image", prompt="x", timeout=0)
        task_id = exc.value.task_id
        assert task_id == "2013508786110730241"
        api.statuses = ["SUCCESS"]
        assert rh.wait(task_id).succeeded


def test_status_callback_sees_every_status() -> None:
    api = FakeAPI(["QUEUED", "RUNNING", "SUCCESS"])
    seen: list[str] = []
    with client(api) as rh:
        rh.run("grok_image_to_image", prompt="x", on_status=lambda t, e: seen.append(t.status))
    assert seen == ["QUEUED", "QUEUED", "RUNNING", "SUCCESS"]


@pytest.mark.parametrize("bad", ["", "  ", "1/../2", "a" * 65, None, 3.5])
def test_bad_task_ids_are_refused_locally(bad: Any) -> None:
    api = FakeAPI()
    with client(api) as rh, pytest.raises(InvalidInputError):
        rh.get_task(bad)
    assert api.requests == []


async def test_async_twin_runs_the_same_flow(tmp_path: Path) -> None:
    api = FakeAPI()
    img = tmp_path / "in.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + b"1" * 3_000_000)  # several chunks through the async stream
    async with AsyncRunningHub(api_key=KEY, transport=httpx.MockTransport(api), poll_interval=0) as rh:
        result = await rh.run("grok_image_to_image", {"prompt": "x", "imageUrl": img})
    assert [r.url.path for r in api.requests] == [
        "/openapi/v2/media/upload/binary",
        "/openapi/v2/rhart-image-g/image-to-image",
        "/openapi/v2/query",
        "/openapi/v2/query",
    ]
    upload = api.requests[0]
    assert int(upload.headers["content-length"]) == len(upload.content) > 3_000_000
    assert result.succeeded


def test_twins_expose_the_same_methods_with_the_same_signatures() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            n: inspect.signature(m)
            for n, m in inspect.getmembers(cls, inspect.isfunction)
            if not n.startswith("_") and n not in ("close", "aclose")
        }

    sync, asyn = public(RunningHub), public(AsyncRunningHub)
    assert sync.keys() == asyn.keys()
    for name in sync:
        assert str(sync[name]) == str(asyn[name]), name
        assert inspect.iscoroutinefunction(getattr(AsyncRunningHub, name)), name


def test_run_keywords_do_not_shadow_endpoint_params() -> None:
    own = {"timeout", "webhook_url", "on_status", "params", "endpoint"}
    clashes = {(ep.tool_name, p.name) for ep in catalogue.all() for p in ep.params if p.name in own}
    assert not clashes


def test_one_http_client_even_when_threads_race_to_first_use() -> None:
    import threading

    made: list[object] = []
    original = httpx.Client.__init__

    def counting_init(self: httpx.Client, *a: Any, **kw: Any) -> None:
        made.append(self)
        original(self, *a, **kw)

    api = FakeAPI(["SUCCESS"])
    rh = client(api)
    barrier = threading.Barrier(8)

    def first_call() -> None:
        barrier.wait()
        rh.get_task("2013508786110730241")

    httpx.Client.__init__ = counting_init  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=first_call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        httpx.Client.__init__ = original  # type: ignore[method-assign]
        rh.close()
    assert len(made) == 1
