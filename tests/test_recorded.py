"""Recorded-HTTP integration tests: the real client against recorded RunningHub answers.

Every test here replays a cassette from ``cassettes/test_recorded/`` in CI (network blocked). The
assertions only rely on what the API documents (shapes, statuses, codes), so the same tests pass
on cassettes re-recorded live. Two need the emulator's fault injection (``emulator_only``) and are
skipped live; three use workflow/app ids that exist only on the emulator (``live_ids``) and read
them from RUNNINGHUB_TEST_* variables for a live run (see cassettes/README.md).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from cassette_support import REAL_HOST
from conftest import LIVE_IDS, Target

from rh_tools import (
    AsyncRunningHub,
    AuthenticationError,
    InvalidRequestError,
    RunningHub,
    TaskFailedError,
    catalogue,
)
from rh_tools.catalogue._examples import example_params

SEED_BODY = {
    "model": "g-4.2",
    "prompt": (
        "Transform this hand-drawn sketch into a high-fidelity, modern SaaS developer platform UI design. "
        "Apply a Dark Mode theme with cyberpunk-style neon blue and purple accents. Strictly retain the original "
        "navigation bar and data dashboard layout, making it look highly technical and futuristic, perfect as a "
        "visual reference for an advanced API management admin panel."
    ),
    "imageUrl": (
        "https://www.runninghub.cn/view?filename=a0a906fc8d88bb6f920e13b6db8b7383ce9aca64bb7a5d223d3cb927400eb4c4"
        ".jpg&type=input&subfolder=&Rh-Comfy-Auth=REDACTED&Rh-Identify=3f6513e5a06657b88f2659513be7d34c"
        "&rand=0.679752356978309"
    ),
}

# One endpoint per family: (tool name, extra params over the generated example).
FAMILIES = {
    "text_to_image": ("seedream_v4_text_to_image", {}),
    "image_to_image": ("nano_banana_pro_edit", {}),
    "text_to_video": ("kling_v2_6_pro_text_to_video", {}),
    "image_to_video": ("seedance_v1_5_pro_image_to_video", {}),
    "video_edit": ("kling_video_o3_std_video_edit", {}),
    "speech": ("minimax_speech_2_8_hd", {"text": "Hello from rh-tools."}),
    "three_d": ("hunyuan3d_v3_1_text_to_3d", {}),
    "llm_text": ("rhart_text_g_25_flash_text_to_text", {}),
}


def client(target: Target, use_async: bool = False, **kw: Any) -> Any:
    cls = AsyncRunningHub if use_async else RunningHub
    return cls(
        api_key=kw.pop("api_key", target.api_key),
        base_url=target.base_url,
        poll_interval=target.poll_interval,
        **kw,
    )


def run(use_async: bool, target: Target, fn_name: str, *args: Any, **kw: Any) -> Any:
    """Call the same method on the sync or the async twin (they share one cassette)."""
    client_kw = kw.pop("client_kw", {})
    if not use_async:
        with client(target, **client_kw) as rh:
            return getattr(rh, fn_name)(*args, **kw)

    async def go() -> Any:
        async with client(target, True, **client_kw) as rh:
            return await getattr(rh, fn_name)(*args, **kw)

    return asyncio.run(go())


def is_file_url(url: str | None, target: Target) -> bool:
    """Result and upload links are http(s) URLs on a storage host, never on the API host: the real
    service serves them from CDN hosts, the emulator from its second (files) listener."""
    if not url or not url.startswith(("https://", "http://")):
        return False
    return not url.startswith((target.base_url + "/", REAL_HOST + "/"))


def assert_documented_success(result: Any, target: Target) -> None:
    assert result.task_id.isdigit() and len(result.task_id) >= 15  # 19-digit snowflake ids
    assert result.status == "SUCCESS"
    assert result.outputs, "SUCCESS with results"
    for out in result.outputs:
        assert out.url is None or is_file_url(out.url, target)
        assert out.extension  # outputType is a file extension or "text"


REAL_HOST_TARGET = Target("replay", REAL_HOST, "")  # what a recorded request body holds


def ids(target: Target) -> dict[str, str]:
    """Workflow / app ids: the emulator's samples, or for a live run the RUNNINGHUB_TEST_* ones."""
    from rh_tools.emulator.workflows import SAMPLE_VIDEO_WORKFLOW_ID, SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

    if target.mode == "live":
        return {k: v for k, v in LIVE_IDS.items() if v}
    return {
        "workflow": SAMPLE_WORKFLOW_ID,
        "workflow_text_node": "6:text",
        "video_workflow": SAMPLE_VIDEO_WORKFLOW_ID,
        "webapp": SAMPLE_WEBAPP_ID,
    }


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def use_async(request: pytest.FixtureRequest, rh_target: Target) -> bool:
    if request.param and rh_target.mode == "live":
        pytest.skip("live re-recording records the sync run once; the async run replays the same cassette")
    return bool(request.param)


@pytest.mark.vcr
@pytest.mark.default_cassette("grok_image_to_image.yaml")
def test_grok_image_to_image_end_to_end(rh_target: Target, use_async: bool, vcr: Any, tmp_path: Path) -> None:
    statuses: list[str] = []
    result = run(
        use_async,
        rh_target,
        "run",
        "grok_image_to_image",
        SEED_BODY,
        on_status=lambda t, e: statuses.append(t.status),
    )
    submit = vcr.requests[0]
    assert submit.method == "POST" and submit.path == "/openapi/v2/rhart-image-g/image-to-image"
    assert json.loads(submit.body) == SEED_BODY  # exactly the seed doc's example body
    assert [r.path for r in vcr.requests[1:]] == ["/openapi/v2/query"] * (len(vcr.requests) - 1)
    assert statuses[-1] == "SUCCESS" and len(statuses) == len(vcr.requests)
    assert_documented_success(result, rh_target)
    assert result.outputs[0].kind == "image"
    assert result.usage is not None


@pytest.mark.vcr
@pytest.mark.default_cassette("grok_download.yaml")
def test_result_download_saves_a_real_image(rh_target: Target, tmp_path: Path) -> None:
    from urllib.parse import urlsplit

    from rh_tools._download import FetchPolicy, download_outputs

    with client(rh_target) as rh:
        result = rh.run("grok_image_to_image", prompt="a neon skyline", imageUrl=SEED_BODY["imageUrl"])
    # The cassette's output URL is the emulator's loopback media port (real outputs come from a public
    # CDN); downloads refuse private addresses unless their host is trusted, so trust that one host.
    media_host = urlsplit(result.urls[0]).hostname or ""
    paths = download_outputs(result, tmp_path, policy=FetchPolicy(trusted=(media_host,)))
    assert len(paths) == 1 and paths[0].parent == tmp_path
    head = paths[0].read_bytes()[:8]
    assert head.startswith((b"\x89PNG", b"\xff\xd8\xff"))


@pytest.mark.vcr
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_one_endpoint_per_family(rh_target: Target, family: str) -> None:
    name, extra = FAMILIES[family]
    ep = catalogue.get(name)
    with client(rh_target) as rh:
        result = rh.run(ep, {**example_params(ep), **extra})
    assert_documented_success(result, rh_target)
    kinds = {o.kind for o in result.outputs}
    assert ep.output_type in kinds or (ep.output_type == "text" and result.texts)


@pytest.mark.vcr
def test_upload_then_run_with_it(rh_target: Target, tmp_path: Path) -> None:
    png = tmp_path / "sketch.png"
    png.write_bytes(Path(__file__).with_name("data").joinpath("sketch.png").read_bytes())
    with client(rh_target) as rh:
        up = rh.upload(png)
        assert is_file_url(up.download_url, rh_target) and up.file_name
        result = rh.run("grok_image_to_image", prompt="make it neon", imageUrl=up.download_url)
    assert_documented_success(result, rh_target)


@pytest.mark.vcr
def test_local_file_is_uploaded_transparently(rh_target: Target, vcr: Any) -> None:
    sketch = Path(__file__).with_name("data") / "sketch.png"
    with client(rh_target) as rh:
        result = rh.run("grok_image_to_image", prompt="make it neon", imageUrl=str(sketch))
    paths = [r.path for r in vcr.requests]
    assert paths[:2] == ["/openapi/v2/media/upload/binary", "/openapi/v2/rhart-image-g/image-to-image"]
    assert is_file_url(json.loads(vcr.requests[1].body)["imageUrl"], REAL_HOST_TARGET)
    assert_documented_success(result, rh_target)


@pytest.mark.vcr
@pytest.mark.live_ids("workflow", "workflow_text_node")
def test_workflow_run(rh_target: Target, vcr: Any) -> None:
    known = ids(rh_target)
    node, field = known["workflow_text_node"].split(":", 1)
    with client(rh_target) as rh:
        nodes = rh.get_workflow_json(known["workflow"])
        assert node in nodes and field in nodes[node]["inputs"] and nodes[node]["class_type"]
        result = rh.run_workflow(known["workflow"], [{"nodeId": node, "fieldName": field, "fieldValue": "a fox"}])
    create = next(r for r in vcr.requests if r.path == "/task/openapi/create")
    sent = json.loads(create.body)
    assert sent["apiKey"] == "REDACTED" and sent["nodeInfoList"][0]["nodeId"] == node
    assert_documented_success(result, rh_target)


@pytest.mark.vcr
@pytest.mark.live_ids("webapp")
def test_ai_app_run(rh_target: Target, vcr: Any) -> None:
    webapp = ids(rh_target)["webapp"]
    with client(rh_target) as rh:
        demo = rh.get_ai_app(webapp)
        nodes = demo["nodeInfoList"]
        assert nodes and {"nodeId", "fieldName", "fieldValue"} <= set(nodes[0])
        result = rh.run_ai_app(webapp, nodes)
    run = next(r for r in vcr.requests if r.path == "/task/openapi/ai-app/run")
    assert json.loads(run.body)["webappId"] == int(webapp)  # a JSON integer, as the official clients send it
    assert_documented_success(result, rh_target)


@pytest.mark.vcr
@pytest.mark.live_ids("video_workflow")
def test_cancel(rh_target: Target) -> None:
    with client(rh_target) as rh:
        task = rh.run_workflow(ids(rh_target)["video_workflow"], wait=False)
        assert task.task_id.isdigit() and task.status in ("CREATE", "QUEUED", "RUNNING")
        rh.cancel(task.task_id)
        with pytest.raises(TaskFailedError) as exc:
            rh.wait(task.task_id, timeout=30)
    assert exc.value.status == "CANCEL" and exc.value.task_id == task.task_id


@pytest.mark.vcr
def test_account(rh_target: Target) -> None:
    with client(rh_target) as rh:
        acct = rh.account()
    assert acct.remain_money is not None or acct.remain_coins is not None
    assert acct.current_task_counts is not None and acct.current_task_counts.isdigit()


@pytest.mark.vcr
def test_bad_key(rh_target: Target) -> None:
    with client(rh_target, api_key="not-a-runninghub-key") as rh, pytest.raises(AuthenticationError) as exc:
        rh.run("grok_image_to_image", prompt="x")
    # 806: a key that matches no user (tests/fixtures/real S07); -1: the gateway's refusal
    assert exc.value.code in (806, -1, 1002, 802) and not exc.value.retryable


@pytest.mark.vcr
def test_api_parameter_error(rh_target: Target) -> None:
    # The client refuses bad input locally; submit_raw skips that to show what the API itself says.
    with client(rh_target) as rh, pytest.raises(InvalidRequestError) as exc:
        rh.submit_raw("rhart-image-g/image-to-image", {"model": "g-99", "prompt": "x"})
    assert exc.value.code in (1007, 301) and exc.value.message


@pytest.mark.vcr
@pytest.mark.emulator_only("a full queue is provoked with a fault")
def test_queue_full_then_success_on_retry(rh_target: Target, vcr: Any) -> None:
    if rh_target.emulator is not None:
        rh_target.emulator.faults.add("queue_full", path="/openapi/v2/rhart-image-g/image-to-image", times=1)
    with client(rh_target) as rh:
        rh._rng.seed(0)
        result = rh.run("grok_image_to_image", prompt="x")
    submits = [r for r in vcr.requests if r.path == "/openapi/v2/rhart-image-g/image-to-image"]
    assert len(submits) == 2  # refused once with 421 (no task), then accepted
    assert_documented_success(result, rh_target)


@pytest.mark.vcr
@pytest.mark.emulator_only("a moderation refusal is provoked with a fault")
def test_task_failed(rh_target: Target) -> None:
    if rh_target.emulator is not None:
        rh_target.emulator.faults.add("content_refused", times=1)
    with client(rh_target) as rh, pytest.raises(TaskFailedError) as exc:
        rh.run("grok_image_to_image", prompt="x")
    assert exc.value.code == 1501 and exc.value.task_id and not exc.value.retryable
    assert exc.value.message and exc.value.message_zh
