"""The RunningHub emulator, driven with plain httpx the way any client would see it (offline, fast)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

KEY = "feedfacecafebeef0123456789abcdef"
OTHER_KEY = "0123456789abcdef0123456789abcdef"
H = {"Authorization": f"Bearer {KEY}"}
GROK = "/openapi/v2/rhart-image-g/image-to-image"
GROK_BODY = {
    "model": "g-4.2",
    "prompt": "turn the sketch into a UI mock-up",
    "imageUrl": "https://example.com/a.png",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


# ---- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared() -> Iterator[Emulator]:
    with Emulator(durations={"image": 0.15, "video": 0.3, "text": 0.05}, queue_seconds=0.03) as emu:
        yield emu


@pytest.fixture
def emu(shared: Emulator) -> Iterator[Emulator]:
    """The module's emulator with faults, counters and settings reset around each test."""
    base = shared.config
    shared.faults.clear()
    shared.stats.reset()
    shared.core.limiter.reset()
    yield shared
    shared.faults.clear()
    shared.core.set_config(**{f: getattr(base, f) for f in ("durations", "rate_limit", "instant_success")})


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, timeout=5) as c:
        yield c


def submit(c: httpx.Client, path: str = GROK, body: dict[str, Any] | None = None, key: str = KEY) -> dict[str, Any]:
    r = c.post(path, headers={"Authorization": f"Bearer {key}"}, json=GROK_BODY if body is None else body)
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(c: httpx.Client, task_id: str, key: str = KEY, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        obj = c.post("/openapi/v2/query", headers={"Authorization": f"Bearer {key}"}, json={"taskId": task_id}).json()
        if obj["status"] in ("SUCCESS", "FAILED", "CANCEL") or time.monotonic() > deadline:
            return obj
        time.sleep(0.03)


class Receiver:
    """A tiny webhook receiver: records JSON posts and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.posts.append(json.loads(body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?secret=s3"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# ---- the happy path -------------------------------------------------------------------------------


def test_grok_image_to_image_submit_poll_download(emu: Emulator, client: httpx.Client) -> None:
    sub = submit(client)
    assert set(sub) == {"taskId", "status", "errorCode", "errorMessage", "results", "clientId", "promptTips"}
    assert re.fullmatch(r"\d{19}", sub["taskId"]) and re.fullmatch(r"[0-9a-f]{32}", sub["clientId"])
    assert sub["status"] in ("QUEUED", "RUNNING") and sub["errorCode"] == "" and sub["results"] is None
    assert json.loads(sub["promptTips"])["result"] is True

    done = wait_done(client, sub["taskId"])
    assert done["status"] == "SUCCESS", done
    (res,) = done["results"]
    assert res["outputType"] in ("png", "jpg") and res["text"] is None and "Rh-Comfy-Auth=" in res["url"]
    assert done["usage"]["thirdPartyConsumeMoney"] == "0.14" and done["usage"]["consumeMoney"] is None
    assert done["usage"]["taskCostTime"].isdigit()

    file = client.get(res["url"])
    assert file.status_code == 200 and file.content[:8] in (PNG_MAGIC,) or file.content[:3] == JPEG_MAGIC
    assert client.get(res["url"].split("?")[0]).status_code == 403  # the signature is required
    assert client.get(res["url"][:-3] + "xyz").status_code == 403
    assert emu.stats.tasks_created == 1 and emu.stats.tasks_by_endpoint == {"rhart-image-g/image-to-image": 1}


def test_results_by_output_kind(emu: Emulator, client: httpx.Client) -> None:
    video = submit(
        client,
        "/openapi/v2/rhart-video/sparkvideo-2.0/multimodal-video",
        {"prompt": "a wave", "resolution": "720p", "duration": "5", "returnLastFrame": True},
    )
    text = submit(client, "/openapi/v2/rhart-video-s/sora-upload-character", {"videoUrl": "https://example.com/v.mp4"})
    many = submit(client, "/openapi/v2/seedream-v4/text-to-image", {"prompt": "cats", "maxImages": 3})
    v = wait_done(client, video["taskId"])
    assert [r["outputType"] for r in v["results"]] == ["mp4", "png"]
    assert client.get(v["results"][0]["url"]).content[4:8] == b"ftyp"
    t = wait_done(client, text["taskId"])
    assert t["results"] == [{"url": None, "outputType": "text", "text": t["results"][0]["text"]}]
    assert re.fullmatch(r"[a-z]+\.[a-z]+", t["results"][0]["text"])
    assert len(wait_done(client, many["taskId"])["results"]) == 3


def test_instant_success_and_price_preview(emu: Emulator, client: httpx.Client) -> None:
    emu.set_config(instant_success=True)
    sub = submit(client)
    assert sub["status"] == "SUCCESS" and sub["results"][0]["url"]
    emu.set_config(instant_success=False)
    before = emu.stats.tasks_created
    r = client.post("/openapi/v2/price-preview/rhart-image-g/image-to-image", headers=H, json=GROK_BODY).json()
    assert r["errorCode"] == "" and r["estimatedPrice"] == 0.14 and r["currency"] == "CNY"
    assert emu.stats.tasks_created == before


def test_per_endpoint_instant_success_and_seeded_jitter(emu: Emulator, client: httpx.Client) -> None:
    emu.set_config(instant_success="rhart-image-g/image-to-image")
    assert submit(client)["status"] == "SUCCESS"
    assert submit(client, "/openapi/v2/seedream-v4/text-to-image", {"prompt": "x"})["status"] != "SUCCESS"
    runs = []
    for _ in range(2):
        with Emulator(jitter=0.5, seed=7) as e:
            runs.append([round(e.core.duration_for("x", "video"), 6) for _ in range(5)])
    assert runs[0] == runs[1] and len(set(runs[0])) > 1 and all(0.25 <= d <= 0.75 for d in runs[0])
    with pytest.raises(TypeError):
        emu.set_config(no_such_setting=1)
    with pytest.raises(ValueError):
        emu.set_config(durations={"hologram": 1.0})


# ---- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (GROK, {**GROK_BODY, "model": "g-9"}, "model"),
        (GROK, {"model": "g-4.2", "imageUrl": "https://example.com/a.png"}, "prompt"),
        (GROK, {**GROK_BODY, "imageUrl": "C:/pictures/a.png"}, "imageUrl"),
        (
            "/openapi/v2/rhart-image-v1/edit",
            {"prompt": "x", "aspectRatio": "1:1", "imageUrls": ["https://e.com/a.png"] * 6},
            "imageUrls",
        ),
        (
            "/openapi/v2/rhart-image-v1/edit",
            {"prompt": "x", "aspectRatio": "1:1", "imageUrls": "https://e.com/a.png"},
            "imageUrls",
        ),
        ("/openapi/v2/seedream-v4/text-to-image", {"prompt": "x", "width": 100}, "width"),
        ("/openapi/v2/seedream-v4/text-to-image", {"prompt": "x" * 2001}, "prompt"),
        (
            "/openapi/v2/rhart-video/wan-2.2/image-to-video",
            {
                "219##image": "openapi/unknown.png",
                "183##text": "x",
                "202##select": "5",
                "218##select": "auto",
            },
            "219##image",
        ),
    ],
)
def test_parameter_errors_name_the_field(
    emu: Emulator, client: httpx.Client, path: str, body: dict, field: str
) -> None:
    r = submit(client, path, body)
    assert r["taskId"] == "" and r["errorCode"] == "1007" and r["results"] is None
    en, zh = r["errorMessage"].split("|")
    assert field in en and field in zh
    assert emu.stats.tasks_created == 0


def _valid_value(p: Any, file_name: str) -> Any:
    if p.type == "list":
        return [p.options[0]] if p.multi_select else p.options[0]
    if p.type in ("int", "float"):
        return (int(p.min) if p.type == "int" else p.min) if p.min is not None else 1
    if p.type == "bool":
        return True
    if p.type == "json":
        return {"k": "v"}
    if p.type in ("image", "video", "audio"):
        v = file_name if p.media_ref == "file_name" else "https://example.com/input.bin"
        return [v] if p.multiple else v
    return "x"


def test_every_catalogue_endpoint_accepts_a_body_built_from_its_table() -> None:
    from rh_tools import catalogue

    with Emulator(concurrency=2000, instant_success=True) as emu, httpx.Client(base_url=emu.base_url) as c:
        up = c.post("/openapi/v2/media/upload/binary", headers=H, files={"file": ("a.png", PNG_MAGIC)}).json()
        refused = []
        for ep in catalogue.load().all():
            for only_required in (True, False):
                body = {
                    p.key: _valid_value(p, up["data"]["fileName"]) for p in ep.params if p.required or not only_required
                }
                r = c.post(f"/openapi/v2/{ep.path}", headers=H, json=body).json()
                if r["errorCode"]:
                    refused.append((ep.path, r["errorMessage"]))
        assert refused == []
        assert emu.stats.tasks_created == 2 * len(catalogue.load().all())


def test_tolerances(emu: Emulator, client: httpx.Client) -> None:
    ok = submit(
        client,
        "/openapi/v2/kling-v2.6-pro/text-to-video",
        {"prompt": "x", "sound": "true", "aspectRatio": "16:9", "duration": 5, "seed2": 1},
    )
    assert ok["errorCode"] == "", ok  # numbers whose str() is an option pass; unknown keys are tolerated
    assert emu.stats.unknown_keys == {"kling-v2.6-pro/text-to-video": {"seed2": 1}}
    assert submit(client, body={**GROK_BODY, "imageUrl": "data:image/png;base64,iVBORw0KGgo="})["errorCode"] == ""
    assert submit(client, body={**GROK_BODY, "imageUrl": "asset://abc123"})["errorCode"] == ""
    assert submit(client, body={**GROK_BODY, "webhookUrl": "ftp://x"})["errorCode"] == "1007"


def test_bad_keys(client: httpx.Client) -> None:
    # A key that matches no user: HTTP 200 with errorCode 806 (tests/fixtures/real S07).
    for headers in ({}, {"Authorization": "Bearer short"}, {"Authorization": "Bearer " + "g" * 32}):
        r = client.post(GROK, headers=headers, json=GROK_BODY)
        assert r.status_code == 200 and (r.json()["taskId"], r.json()["errorCode"]) == ("", "806")
    q = client.post("/openapi/v2/query", json={"taskId": "2013508786110730241"}).json()
    assert (q["status"], q["errorCode"], q["failedReason"], q["usage"], q["taskUsageList"]) == (
        "",
        "806",
        {},
        None,
        None,
    )
    assert client.post("/task/openapi/outputs", json={"apiKey": "nope", "taskId": "1"}).json() == {
        "code": 806,
        "msg": "APIKEY_USER_NOT_FOUND",
        "data": None,
    }
    # The v2 upload says so in its own envelope (S10).
    up = client.post("/openapi/v2/media/upload/binary", files={"file": ("a.png", PNG_MAGIC)}).json()
    assert up == {"code": 401, "message": "ApiKey verification failed"}
    # accountStatus reads lowercase "apikey"; Bearer is accepted on legacy calls too.
    assert client.post("/uc/openapi/accountStatus", json={"apiKey": KEY}).json()["code"] == 806
    assert client.post("/uc/openapi/accountStatus", json={}, headers=H).json()["code"] == 0
    # aiapp/list: the bare key without "Bearer".
    assert client.post("/openapi/v2/aiapp/list", headers={"Authorization": KEY}, json={}).json()["code"] == 0


def test_pinned_and_wrong_kind_keys() -> None:
    wrong = "abcdefabcdefabcdefabcdefabcdef12"
    with Emulator(keys=[KEY], wrong_kind_keys=[wrong]) as emu, httpx.Client(base_url=emu.base_url) as c:
        assert submit(c, key=OTHER_KEY)["errorCode"] == "806"
        assert submit(c, key=wrong)["errorCode"] == "1014"
        assert submit(c)["errorCode"] == ""
        assert c.post("/uc/openapi/accountStatus", json={"apikey": OTHER_KEY}).json()["code"] == 806


def test_key_of_the_other_site_and_enterprise_shared_body_key_are_refused_like_the_gateway() -> None:
    shared = "abcdefabcdefabcdefabcdefabcdef34"
    with Emulator(foreign_keys=[OTHER_KEY], bearer_only_keys=[shared]) as emu, httpx.Client(base_url=emu.base_url) as c:
        refused = {"code": -1, "msg": "ApiKey verification failed", "data": None}
        for r in (
            c.post(GROK, headers={"Authorization": f"Bearer {OTHER_KEY}"}, json=GROK_BODY),
            c.post("/uc/openapi/accountStatus", json={"apikey": OTHER_KEY}),
            c.post("/task/openapi/create", json={"apiKey": shared, "workflowId": SAMPLE_WORKFLOW_ID}),
        ):
            assert (r.status_code, r.json()) == (401, refused)
        ok = c.post(
            "/task/openapi/create",
            headers={"Authorization": f"Bearer {shared}"},
            json={"workflowId": SAMPLE_WORKFLOW_ID},
        ).json()
        assert ok["code"] == 0 and len(ok["data"]["taskId"]) == 19


def test_unknown_task_endpoint_and_method(client: httpx.Client) -> None:
    assert (
        client.post("/openapi/v2/query", headers=H, json={"taskId": "2013508786110730241"}).json()["errorCode"]
        == "1004"
    )
    assert client.post("/openapi/v2/no-such/model", headers=H, json={}).json()["errorCode"] == "1001"
    assert client.get(GROK, headers=H).json()["errorCode"] == "1009"
    # another key's task is not visible
    tid = submit(client)["taskId"]
    assert (
        client.post("/openapi/v2/query", headers={"Authorization": f"Bearer {OTHER_KEY}"}, json={"taskId": tid}).json()[
            "errorCode"
        ]
        == "1004"
    )
    assert client.post("/task/openapi/nope", json={"apiKey": KEY}).json()["code"] == 412


# ---- capacity -------------------------------------------------------------------------------------


def test_concurrency_queue_and_421() -> None:
    with (
        Emulator(concurrency=2, queue_limit=1, durations={"image": 0.4}, queue_seconds=0) as emu,
        httpx.Client(base_url=emu.base_url) as c,
    ):
        a, b, q = submit(c), submit(c), submit(c)
        assert [a["status"], b["status"], q["status"]] == ["RUNNING", "RUNNING", "QUEUED"]
        full = submit(c)
        assert (full["taskId"], full["errorCode"]) == ("", "421")
        legacy = c.post("/task/openapi/create", json={"apiKey": KEY, "workflowId": SAMPLE_WORKFLOW_ID}).json()
        assert (legacy["code"], legacy["msg"]) == (421, "TASK_QUEUE_MAXED")
        assert submit(c, key=OTHER_KEY)["errorCode"] == ""  # limits are per key
        status = c.get("/openapi/v2/queue/status", headers=H).json()["data"]
        assert (status["runningCount"], status["queuedCount"], status["concurrentLimit"]) == ("2", "1", "2")
        assert emu.stats.tasks_created == 4
        assert wait_done(c, q["taskId"])["status"] == "SUCCESS"  # the queued task ran once a slot freed
        assert submit(c)["errorCode"] == ""


def test_rate_limit_429_retry_after(emu: Emulator, client: httpx.Client) -> None:
    # a burst of 2, then one request per 20 s: the third is refused however slow the machine is
    emu.set_config(rate_limit=0.05, rate_limit_burst=2)
    codes = [client.post("/openapi/v2/query", headers=H, json={"taskId": "1"}) for _ in range(3)]
    assert [r.status_code for r in codes[:2]] == [200, 200]
    limited = codes[-1]
    # RunningHub documents no Retry-After header: the emulator sends none unless asked to
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert limited.json()["errorCode"] == "1003"
    assert client.post("/uc/openapi/accountStatus", json={"apikey": KEY}).json()["code"] == 1003
    emu.set_config(rate_limit_retry_after=30.0)  # asked for: at least 30 s (the bucket's own wait is ~20 s)
    assert client.post("/openapi/v2/query", headers=H, json={"taskId": "1"}).headers["Retry-After"] == "30"
    emu.set_config(rate_limit_http_status=200, rate_limit_retry_after=None)
    r = client.post("/openapi/v2/query", headers=H, json={"taskId": "1"})
    assert r.status_code == 200 and "Retry-After" not in r.headers and r.json()["errorCode"] == "1003"
    emu.set_config(rate_limit=None, rate_limit_burst=None, rate_limit_http_status=429)


def test_empty_wallet_refuses_submits(emu: Emulator, client: httpx.Client) -> None:
    poor = "99999999999999999999999999999999"
    emu.set_balance(poor, 0)
    assert submit(client, key=poor)["errorCode"] == "416"
    r = client.post("/task/openapi/create", json={"apiKey": poor, "workflowId": SAMPLE_WORKFLOW_ID}).json()
    assert (r["code"], r["msg"]) == (416, "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET")


def test_thousands_of_tasks_need_no_threads() -> None:
    from rh_tools.emulator.state import Output

    with Emulator(concurrency=5000, durations={"image": 0.2}) as emu:
        threads = threading.active_count()
        for _ in range(2000):
            emu.core.create_task(
                key=KEY,
                family="standard",
                api="v2",
                endpoint="e",
                submit_path="/e",
                kind="image",
                outputs=[Output("png")],
                price=0.0,
                origin=emu.base_url,
                webhook_url=None,
            )
        assert threading.active_count() == threads
        assert emu.wait_until(lambda: emu.core.store.counts(KEY) == (0, 0), timeout=3)


# ---- uploads --------------------------------------------------------------------------------------


def test_upload_then_use(emu: Emulator, client: httpx.Client) -> None:
    png = PNG_MAGIC + b"\x00" * 3000
    r = client.post("/openapi/v2/media/upload/binary", headers=H, files={"file": ("me.png", png, "image/png")}).json()
    assert r["code"] == 0 and r["message"] == "success"
    data = r["data"]
    assert (
        data["type"] == "image"
        and data["size"] == str(len(png))  # bytes (S11)
        and data["fileName"] == f"openapi/{hashlib.sha256(png).hexdigest()}.png"
    )
    assert not data["download_url"].startswith(emu.base_url)  # served from the storage host, like real links
    assert client.get(data["download_url"]).content == png
    sub = submit(client, body={**GROK_BODY, "imageUrl": data["download_url"]})
    assert sub["errorCode"] == ""
    # A workflow-backed slot takes the fileName instead.
    ok = submit(
        client,
        "/openapi/v2/rhart-video/wan-2.2/image-to-video",
        {"219##image": data["fileName"], "183##text": "x", "202##select": "5", "218##select": "auto"},
    )
    assert ok["errorCode"] == ""
    legacy = client.post(
        "/task/openapi/upload",
        data={"apiKey": KEY, "fileType": "image"},
        files={"file": ("me.png", png, "image/png")},
    ).json()
    assert legacy == {
        "code": 0,
        "msg": "success",
        "data": {"fileName": f"api/{hashlib.sha256(png).hexdigest()}.png", "fileType": "image"},
    }
    assert emu.stats.uploads == 2
    bad = client.post("/task/openapi/upload", data={"apiKey": "x"}, files={"file": ("a.png", png)}).json()
    assert bad["code"] == 806


def test_upload_size_limits(emu: Emulator, client: httpx.Client) -> None:
    emu.set_config(upload_max_mb=0.001, legacy_upload_max_mb=0.001)
    big = b"x" * 5000
    try:
        r = client.post("/openapi/v2/media/upload/binary", headers=H, files={"file": ("a.mp4", big)}).json()
        assert r["code"] == 1008 and r["data"] is None
        legacy = client.post("/task/openapi/upload", data={"apiKey": KEY}, files={"file": ("a.mp4", big)}).json()
        assert (legacy["code"], legacy["msg"]) == (809, "APIKEY_FILE_SIZE_EXCEEDED")
        assert emu.stats.uploads == 0
    finally:
        emu.set_config(upload_max_mb=100.0, legacy_upload_max_mb=30.0)


# ---- legacy API -----------------------------------------------------------------------------------


def test_legacy_workflow_lifecycle(emu: Emulator, client: httpx.Client) -> None:
    def call(path: str, **body: Any) -> dict[str, Any]:
        return client.post(path, json={"apiKey": KEY, **body}).json()

    money0 = float(client.post("/uc/openapi/accountStatus", json={"apikey": KEY}).json()["data"]["remainMoney"])
    created = call(
        "/task/openapi/create",
        workflowId=SAMPLE_WORKFLOW_ID,
        nodeInfoList=[{"nodeId": "6", "fieldName": "text", "fieldValue": "a dog"}],
    )
    assert created["code"] == 0 and created["data"]["taskStatus"] in ("QUEUED", "RUNNING")
    tid = created["data"]["taskId"]
    first = call("/task/openapi/outputs", taskId=tid)
    assert (first["code"], first["msg"]) in ((813, "APIKEY_TASK_IS_QUEUED"), (804, "APIKEY_TASK_IS_RUNNING"))
    assert call("/task/openapi/status", taskId=tid)["data"] in ("QUEUED", "RUNNING")
    assert emu.wait_until(lambda: call("/task/openapi/status", taskId=tid)["data"] == "SUCCESS")
    out = call("/task/openapi/outputs", taskId=tid)
    assert out["code"] == 0 and out["data"][0]["fileType"] == "png" and out["data"][0]["nodeId"] == "9"
    assert client.get(out["data"][0]["fileUrl"]).content[:8] == PNG_MAGIC
    # Workflow tasks are also visible to the v2 query.
    assert wait_done(client, tid)["results"][0]["nodeId"] == "9"
    account = client.post("/uc/openapi/accountStatus", json={"apikey": KEY}).json()["data"]
    assert set(account) == {"remainCoins", "currentTaskCounts", "remainMoney", "currency", "apiType"}
    assert all(isinstance(v, str) for v in account.values()) and float(account["remainMoney"]) < money0

    assert call("/task/openapi/create", workflowId="1")["code"] == 380
    assert (
        call(
            "/task/openapi/create",
            workflowId=SAMPLE_WORKFLOW_ID,
            nodeInfoList=[{"nodeId": "99", "fieldName": "text", "fieldValue": "x"}],
        )["code"]
        == 803
    )
    prompt = json.loads(call("/api/openapi/getJsonApiFormat", workflowId=SAMPLE_WORKFLOW_ID)["data"]["prompt"])
    assert prompt["9"]["class_type"] == "SaveImage"


def test_legacy_app_cancel_and_helpers(emu: Emulator, client: httpx.Client) -> None:
    def call(path: str, **body: Any) -> dict[str, Any]:
        return client.post(path, json={"apiKey": KEY, **body}).json()

    demo = client.get("/api/webapp/apiCallDemo", params={"apiKey": KEY, "webappId": SAMPLE_WEBAPP_ID}).json()
    nodes = demo["data"]["nodeInfoList"]
    assert demo["code"] == 0 and nodes[0]["fieldType"] == "IMAGE"
    emu.set_config(durations={"image": 5.0})
    run = call("/task/openapi/ai-app/run", webappId=int(SAMPLE_WEBAPP_ID), nodeInfoList=nodes)
    assert run["code"] == 0, run
    tid = run["data"]["taskId"]
    assert call("/task/openapi/cancel", taskId=tid) == {"code": 0, "msg": "success", "data": None}
    assert call("/task/openapi/status", taskId=tid)["data"] == "CANCEL"
    assert call("/task/openapi/outputs", taskId=tid)["code"] == 805
    assert call("/task/openapi/cancel", taskId="123")["code"] == 807
    assert call("/task/openapi/ai-app/run", webappId="42", nodeInfoList=nodes)["code"] == 901
    quick = call("/task/openapi/quick-ai-app/run", webappId=SAMPLE_WEBAPP_ID, quickCreateCode="001", nodeInfoList=nodes)
    assert quick["code"] == 0
    v2 = client.post(f"/openapi/v2/run/ai-app/{SAMPLE_WEBAPP_ID}", headers=H, json={"nodeInfoList": nodes}).json()
    assert v2["errorCode"] == "" and v2["status"] in ("QUEUED", "RUNNING")
    lora = call("/api/openapi/getLoraUploadUrl", loraName="style", md5Hex="d41d8cd98f00b204e9800998ecf8427e")["data"]
    assert lora["fileName"] == "api-lora-cn/d41d8cd98f00b204e9800998ecf8427e.safetensors"
    assert (
        client.put(lora["url"], content=b"weights", headers={"Content-Type": "application/octet-stream"}).status_code
        == 200
    )
    assert client.put(lora["url"].replace("q-signature=", "q-signature=0"), content=b"x").status_code == 403


# ---- webhooks -------------------------------------------------------------------------------------


def test_webhooks_v2_and_legacy(emu: Emulator, client: httpx.Client, receiver: Receiver) -> None:
    v2 = submit(client, body={**GROK_BODY, "webhookUrl": receiver.url})
    legacy = client.post(
        "/task/openapi/create",
        json={"apiKey": KEY, "workflowId": SAMPLE_WORKFLOW_ID, "webhookUrl": receiver.url},
    ).json()["data"]
    # The receiver sees a post before the emulator has read its answer and marked it delivered.
    assert emu.wait_until(lambda: len(receiver.posts) == 2 and emu.stats.webhooks_delivered == 2)
    by_task = {p["taskId"]: p for p in receiver.posts}
    hook = by_task[v2["taskId"]]
    assert hook["event"] == "TASK_END" and hook["eventData"]["status"] == "SUCCESS"
    assert hook["eventData"]["taskUsageList"][0]["taskId"] == int(v2["taskId"])
    inner = json.loads(by_task[legacy["taskId"]]["eventData"])  # legacy: a JSON string of the outputs answer
    assert inner["code"] == 0 and inner["data"][0]["fileUrl"]
    detail = client.post("/task/openapi/getWebhookDetail", json={"apiKey": KEY, "taskId": v2["taskId"]}).json()["data"]
    assert detail["callbackStatus"] == "SUCCESS" and detail["retryCount"] == 0 and KEY not in json.dumps(detail)
    assert isinstance(detail["eventData"], str)
    again = client.post(
        "/task/openapi/retryWebhook",
        json={"apiKey": KEY, "webhookId": detail["id"], "webhookUrl": receiver.url},
    ).json()
    assert again["code"] == 0
    assert emu.wait_until(lambda: len(receiver.posts) == 3 and emu.stats.webhooks_delivered == 3)


def test_webhook_retries_then_fails(emu: Emulator, client: httpx.Client, receiver: Receiver) -> None:
    receiver.status = 500
    emu.set_config(webhook_retry_delays=(0.01, 0.01, 0.01))
    try:
        tid = submit(client, body={**GROK_BODY, "webhookUrl": receiver.url})["taskId"]
        assert emu.wait_until(lambda: emu.stats.webhooks_failed == 1)
        assert len(receiver.posts) == 4  # the first try and three retries
        detail = client.post("/task/openapi/getWebhookDetail", json={"apiKey": KEY, "taskId": tid}).json()["data"]
        assert (detail["callbackStatus"], detail["retryCount"]) == ("FAILED", 3)
    finally:
        emu.set_config(webhook_retry_delays=(0.2, 0.5, 1.0))


# ---- faults ---------------------------------------------------------------------------------------


def test_reset_before_creates_nothing(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("reset_before", path=GROK, times=1)
    with pytest.raises(httpx.TransportError):
        client.post(GROK, headers=H, json=GROK_BODY)
    assert emu.stats.tasks_created == 0
    assert submit(client)["errorCode"] == ""  # times=1: the next request is served
    assert emu.stats.tasks_created == 1


def test_reset_after_creates_the_task(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("reset_after", path="/openapi/v2/rhart-image-g/*")
    with pytest.raises(httpx.TransportError):
        client.post(GROK, headers=H, json=GROK_BODY)
    assert emu.stats.tasks_created == 1 and emu.stats.faults_fired == {"reset_after": 1}


def test_http_error_pages_and_bad_json(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("http_error", path=GROK, status=503)
    r = client.post(GROK, headers=H, json=GROK_BODY)
    assert r.status_code == 503 and r.json()["errorCode"] == "1005"
    emu.faults.add("html_error", path="/openapi/v2/query")
    r = client.post("/openapi/v2/query", headers=H, json={"taskId": "1"})
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html") and "<html>" in r.text
    emu.faults.add("malformed_json", path=GROK)
    r = client.post(GROK, headers=H, json=GROK_BODY)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert emu.stats.tasks_created == 0


def test_latency_and_slow_response(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("latency", path="/openapi/v2/query", seconds=0.2)
    t0 = time.monotonic()
    client.post("/openapi/v2/query", headers=H, json={"taskId": "1"})
    assert time.monotonic() - t0 >= 0.2
    emu.faults.add("slow_response", path=GROK, seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(GROK, headers=H, json=GROK_BODY, timeout=0.3)
    assert emu.stats.tasks_created == 1  # the submit went through; only its answer was late


def test_queue_full_and_rate_limit_faults(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("queue_full", path=GROK, times=2)
    assert [submit(client)["errorCode"] for _ in range(3)] == ["421", "421", ""]
    emu.faults.add("rate_limit", retry_after=3)
    r = client.post("/task/openapi/status", json={"apiKey": KEY, "taskId": "1"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "3" and r.json()["code"] == 1003
    emu.faults.add("rate_limit")  # Retry-After is opt-in: RunningHub documents none
    r = client.post("/task/openapi/status", json={"apiKey": KEY, "taskId": "1"})
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_error_after_creates_the_task_then_answers_an_error(emu: Emulator, client: httpx.Client) -> None:
    """The double-billing case: the submit went through, the answer says it failed."""
    emu.faults.add("error_after", path=GROK)
    r = client.post(GROK, headers=H, json=GROK_BODY)
    assert r.status_code == 500 and r.json()["errorCode"] == "1005" and r.json()["taskId"] == ""
    assert emu.stats.tasks_created == 1
    emu.faults.add("error_after", path=GROK, task_id=True, code="1000")
    r = client.post(GROK, headers=H, json=GROK_BODY)
    created = r.json()["taskId"]
    assert (
        r.status_code == 500 and r.json()["errorCode"] == "1000" and emu.task_status(created) in ("QUEUED", "RUNNING")
    )
    emu.faults.add("error_after", path=GROK, body="html", status=502)
    r = client.post(GROK, headers=H, json=GROK_BODY)
    assert r.status_code == 502 and "<html>" in r.text
    emu.faults.add("error_after", path="/task/openapi/create", task_id=True, code="500")
    r = client.post("/task/openapi/create", json={"apiKey": KEY, "workflowId": SAMPLE_WORKFLOW_ID})
    assert r.status_code == 500 and r.json()["code"] == 500 and r.json()["data"]["taskId"]
    assert emu.stats.tasks_created == 4 and emu.stats.faults_fired == {"error_after": 4}


def test_task_faults_fail_and_never_finish(emu: Emulator, client: httpx.Client) -> None:
    emu.faults.add("fail_tasks", path=GROK, code="1505")
    at_once = submit(client)  # the real-person policy refuses at once: the submit answer is FAILED
    assert at_once["status"] == "FAILED" and at_once["errorCode"] == "1505" and "|" in at_once["errorMessage"]
    failed = wait_done(client, at_once["taskId"])
    assert failed["failedReason"] == {} and failed["results"] is None  # a model API has no ComfyUI node
    assert failed["usage"] == dict.fromkeys(["consumeMoney", "consumeCoins", "taskCostTime", "thirdPartyConsumeMoney"])
    emu.faults.add("never_finish", path=GROK)
    stuck = submit(client)["taskId"]
    time.sleep(0.4)
    assert wait_done(client, stuck, timeout=0.2)["status"] == "RUNNING"
    assert client.post("/task/openapi/cancel", json={"apiKey": KEY, "taskId": stuck}).json()["code"] == 0
    assert emu.task_status(stuck) == "CANCEL"


def test_model_api_faults_and_real_answer_details(emu: Emulator, client: httpx.Client) -> None:
    """The 15xx faults, the empty-outputs case and details the real answers show (tests/fixtures/real)."""
    balance = client.post("/uc/openapi/accountStatus", json={"apikey": KEY}).json()["data"]["remainMoney"]
    emu.faults.add("content_refused", path=GROK)
    refused = submit(client)
    assert (refused["status"], refused["errorCode"]) == ("FAILED", "1501")
    assert refused["errorMessage"] == "Content security audit did not pass | 内容安全审查未通过"
    assert client.post("/uc/openapi/accountStatus", json={"apikey": KEY}).json()["data"]["remainMoney"] == balance
    emu.faults.add("model_timeout", path=GROK)
    timed_out = submit(client)
    assert timed_out["status"] in ("QUEUED", "RUNNING")  # runs first, then times out
    assert wait_done(client, timed_out["taskId"])["errorCode"] == "1504"
    emu.faults.add("model_error", path=GROK, code="1509", message="Model concurrency limit reached|模型并发已达上限")
    assert wait_done(client, submit(client)["taskId"])["errorMessage"].startswith("Model concurrency")
    emu.faults.add("empty_outputs", path=GROK)
    empty = wait_done(client, submit(client)["taskId"])
    assert (empty["status"], empty["results"]) == ("SUCCESS", [])
    ok = wait_done(client, submit(client)["taskId"])
    assert ok["failedReason"] == {} and ok["clientId"] == "" and ok["promptTips"] == ""
    assert ok["usage"]["taskCostTime"] == "0" and ok["parentTaskId"] is None
    assert ok["taskUsageList"][0]["taskId"] == int(ok["taskId"])
    assert not ok["results"][0]["url"].startswith(emu.base_url)  # results come from the storage host
    assert client.get(ok["results"][0]["url"]).status_code == 200
    # Task ids: not a number -> 1007 "failed to parse request body" (S11); unknown -> 1004 (S12).
    bad = client.post("/openapi/v2/query", headers=H, json={"taskId": "not-an-id"}).json()
    assert (bad["taskId"], bad["status"], bad["errorCode"], bad["errorMessage"]) == (
        "",
        "",
        "1007",
        "failed to parse request body",
    )
    # Workflow validation failure: code 0, node_errors in promptTips, taskId 0 (INFERRED shape).
    emu.faults.add("node_errors")
    create = client.post("/task/openapi/create", json={"apiKey": KEY, "workflowId": SAMPLE_WORKFLOW_ID}).json()
    assert create["code"] == 0 and create["data"]["taskId"] == 0
    assert json.loads(create["data"]["promptTips"])["node_errors"]


def test_consumer_keys_pay_workflows_in_coins(emu: Emulator, client: httpx.Client) -> None:
    consumer = "0123456789abcdef0123456789abcdef"
    emu.set_config(key_kinds={consumer: "consumer"})
    done = client.post("/task/openapi/create", json={"apiKey": consumer, "workflowId": SAMPLE_WORKFLOW_ID}).json()
    tid = done["data"]["taskId"]
    assert emu.wait_until(lambda: emu.task_status(tid) == "SUCCESS")
    usage = client.post("/openapi/v2/query", headers={"Authorization": f"Bearer {consumer}"}, json={"taskId": tid})
    u = usage.json()["usage"]
    assert u["consumeMoney"] is None and u["consumeCoins"].isdigit() and u["taskCostTime"].isdigit()
    item = client.post("/task/openapi/outputs", json={"apiKey": consumer, "taskId": tid}).json()["data"][0]
    assert item["consumeCoins"] == u["consumeCoins"] and item["taskCostTime"] == u["taskCostTime"]
    # A consumer key may not call the Standard Model API.
    assert submit(client, key=consumer)["errorCode"] == "1014"


def test_fault_validation(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.faults.add("explode")
    with pytest.raises(TypeError):
        emu.faults.add("latency", status=500)
    f = emu.faults.add("latency", times=None, seconds=0)
    assert len(emu.faults) == 1
    emu.faults.remove(f)
    assert len(emu.faults) == 0


# ---- lifecycle ------------------------------------------------------------------------------------


def test_restart_keeps_tasks() -> None:
    with Emulator(durations={"video": 0.8}) as emu, httpx.Client(base_url=emu.base_url) as c:
        port = emu.port
        tid = submit(
            c,
            "/openapi/v2/rhart-video/sparkvideo-2.0/multimodal-video",
            {"prompt": "x", "resolution": "720p", "duration": "5"},
        )["taskId"]
        emu.restart(downtime=0.1)
        assert emu.port == port
        assert wait_done(c, tid)["status"] == "SUCCESS"
        assert emu.stats.tasks_created == 1


async def test_async_use() -> None:
    async with Emulator() as emu, httpx.AsyncClient(base_url=emu.base_url) as c:
        r = await c.post(GROK, headers=H, json=GROK_BODY)
        assert r.json()["errorCode"] == ""


def test_cli_parser_defaults() -> None:
    from rh_tools.emulator.__main__ import build_parser

    args = build_parser().parse_args(["--port", "0", "--key", KEY, "--image-seconds", "2"])
    assert (args.port, args.keys, args.dur_image, args.dur_video) == (0, [KEY], 2.0, 8.0)
