"""The emulator answers the corpus's questions with the corpus's shapes, so it cannot drift again.

For each real answer in tests/fixtures/real/, a scenario puts a real emulator on loopback in the
same state (a refused key, a failed node, a finished workflow, a full queue …) and asks the same
question over HTTP. The two answers are compared as shapes: HTTP status, keys, JSON types and
value formats (a 19-digit id, a URL, a JSON string, an "EN|中文" message, an identifier …).
Keys the corpus answer does not show are only compared for captured and doc answers given whole;
partial, asserted and reconstructed answers are compared on the keys they show.

Every difference the emulator keeps on purpose is listed, with why, in
tests/emulator_shape_differences.md; the test fails on an unlisted difference and on a listed one
that no longer occurs. Answers with no emulator scenario are listed there too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

ROOT = Path(__file__).resolve().parent
CORPUS = {p.stem: json.loads(p.read_text("utf-8")) for p in sorted((ROOT / "fixtures" / "real").glob("*.json"))}
DIFFERENCES = ROOT / "emulator_shape_differences.md"
KEY = "feedfacecafebeef0123456789abcdef"
CONSUMER = "0123456789abcdef0123456789abcdef"
FOREIGN = "c0ffee00c0ffee00c0ffee00c0ffee00"
SHARED_BEARER_ONLY = "abcdefabcdefabcdefabcdefabcdef34"
UNKNOWN_ID = "2013508786110730241"
GROK = "/openapi/v2/rhart-image-g/image-to-image"
GROK_BODY = {"model": "g-4.2", "prompt": "x", "imageUrl": "https://example.com/a.png"}
NODES = [{"nodeId": "6", "fieldName": "text", "fieldValue": "a fox"}]
_CJK = re.compile(r"[\u3400-\u9fff]")

# ------------------------------------------------------------------ shapes


def fmt(s: str) -> str:
    """The format class of a string value."""
    if s == "":
        return "empty"
    if re.fullmatch(r"[1-9]\d{18}", s):
        return "id19"
    if re.fullmatch(r"-?\d+(\.\d+)?", s):
        return "numeric"
    if s.startswith(("http://", "https://")):
        return "url"
    if s.startswith("wss://"):
        return "wss"
    if s[:1] in "{[":
        try:
            json.loads(s)
            return "json"
        except ValueError:
            pass
    if "|" in s and _CJK.search(s):
        return "bilingual"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s):
        return "datetime"
    if re.fullmatch(r"[A-Z][A-Z0-9_]+", s):
        return "identifier"
    return "text"


def kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return f"string:{fmt(v)}"
    return "array" if isinstance(v, list) else "object"


def diff(real: Any, emu: Any, path: str, whole: bool) -> Iterator[tuple[str, str]]:
    """(path, what differs) for every place the emulator's answer has another shape."""
    if kind(real) != kind(emu):
        yield path, f"{kind(real)} in the real answer, {kind(emu)} in the emulator's"
        return
    if isinstance(real, dict):
        for k, v in real.items():
            if k not in emu:
                yield f"{path}.{k}", "missing in the emulator's answer"
            else:
                yield from diff(v, emu[k], f"{path}.{k}", whole)
        if whole:
            for k in emu.keys() - real.keys():
                yield f"{path}.{k}", "only in the emulator's answer"
    elif isinstance(real, list) and real and emu:
        yield from diff(real[0], emu[0], f"{path}[0]", whole)
    elif isinstance(real, list) and real and not emu:
        yield f"{path}[0]", "the emulator's list is empty"


def kept_differences() -> dict[tuple[str, str], str]:
    """(corpus id, path) -> why, from the markdown table (path '-' = no scenario for that answer)."""
    rows: dict[tuple[str, str], str] = {}
    for line in DIFFERENCES.read_text("utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|$", line)
        if m:
            rows[(m.group(1), m.group(2))] = m.group(3)
    return rows


# ------------------------------------------------------------------ scenarios


class Ask:
    """One emulator and an HTTP client for it, with the steps scenarios share."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.http = httpx.Client(base_url=emu.base_url, timeout=10)

    def v2(self, path: str, body: Any, key: str = KEY) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {key}"}, json=body)

    def legacy(self, path: str, body: dict[str, Any], key: str = KEY, field: str = "apiKey") -> httpx.Response:
        return self.http.post(path, json={field: key, **body})

    def done(self, task_id: str) -> None:
        assert self.emu.wait_until(lambda: self.emu.task_status(task_id) in ("SUCCESS", "FAILED", "CANCEL"), 10)

    def standard(self, path: str = GROK, body: Any = None, key: str = KEY, wait: bool = True) -> str:
        tid = self.v2(path, body or GROK_BODY, key).json()["taskId"]
        if wait:
            self.done(tid)
        return str(tid)

    def query(self, task_id: str, key: str = KEY) -> httpx.Response:
        return self.v2("/openapi/v2/query", {"taskId": task_id}, key)

    def workflow(self, key: str = KEY, wait: bool = True, **extra: Any) -> str:
        data = self.legacy("/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID, **extra}, key).json()["data"]
        if wait:
            self.done(data["taskId"])
        return str(data["taskId"])

    def outputs(self, task_id: str, key: str = KEY) -> httpx.Response:
        return self.legacy("/task/openapi/outputs", {"taskId": task_id}, key)

    def webhook_payload(self, task_id: str) -> dict[str, Any]:
        assert self.emu.wait_until(lambda: any(r.task_id == task_id for r in self.emu.webhooks), 10)
        return next(r.payload for r in self.emu.webhooks if r.task_id == task_id)


Scenario = Callable[[Ask], "httpx.Response | dict[str, Any]"]
UNREACHABLE = "http://127.0.0.1:9/rh-webhook"


def _running(a: Ask) -> None:
    a.emu.set_config(queue_seconds=0, durations={"image": 5, "video": 5})


def _legacy_upload(a: Ask, data: bytes, name: str, key: str = KEY) -> httpx.Response:
    return a.http.post("/task/openapi/upload", data={"apiKey": key, "fileType": "input"}, files={"file": (name, data)})


def _v2_upload(a: Ask, key: str = KEY) -> httpx.Response:
    files = {"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 140)}
    return a.http.post("/openapi/v2/media/upload/binary", headers={"Authorization": f"Bearer {key}"}, files=files)


def _failed_workflow(a: Ask, code: str = "805") -> str:
    a.emu.faults.add("fail_tasks", path="/task/openapi/create", code=code)
    return a.workflow()


def _webhook_detail(a: Ask) -> httpx.Response:
    a.emu.set_config(webhook_retry_delays=(0.01, 0.01, 0.01), webhook_timeout=0.5)
    tid = a.workflow(webhookUrl=UNREACHABLE)
    assert a.emu.wait_until(lambda: any(r.task_id == tid and r.callback_status == "FAILED" for r in a.emu.webhooks))
    return a.legacy("/task/openapi/getWebhookDetail", {"taskId": tid})


def _retry_webhook(a: Ask) -> httpx.Response:
    tid = a.workflow(webhookUrl=UNREACHABLE)
    rec_id = next(r.id for r in a.emu.webhooks if r.task_id == tid) if a.webhook_payload(tid) else ""
    return a.legacy("/task/openapi/retryWebhook", {"webhookId": rec_id, "webhookUrl": UNREACHABLE})


def _cancel_running(a: Ask) -> httpx.Response:
    _running(a)
    return a.legacy("/task/openapi/cancel", {"taskId": a.workflow(wait=False)})


def _text_result(a: Ask) -> httpx.Response:
    tid = a.standard("/openapi/v2/rhart-video-s/sora-upload-character", {"videoUrl": "https://example.com/v.mp4"})
    return a.query(tid)


def _queue_full(a: Ask) -> httpx.Response:
    a.emu.set_config(concurrency=0, queue_limit=0)
    return a.legacy("/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID})


def _empty_wallet(a: Ask) -> httpx.Response:
    a.emu.set_balance(KEY, 0)
    return a.legacy("/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID})


def _bad_node(a: Ask, path: str, body: dict[str, Any]) -> httpx.Response:
    return a.legacy(path, {**body, "nodeInfoList": [{"nodeId": "999", "fieldName": "nope", "fieldValue": "x"}]})


def _webhook(a: Ask, legacy: bool) -> dict[str, Any]:
    if legacy:
        return a.webhook_payload(a.workflow(webhookUrl=UNREACHABLE))
    return a.webhook_payload(a.standard(body={**GROK_BODY, "webhookUrl": UNREACHABLE}))


SCENARIOS: dict[str, Scenario] = {
    "S01-legacy-create-queued": lambda a: a.legacy(
        "/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID, "nodeInfoList": NODES}
    ),
    "S01-legacy-create-running": lambda a: (
        _running(a),
        a.legacy("/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID}),
    )[1],
    "S01-ai-app-run-running": lambda a: (
        _running(a),
        a.legacy("/task/openapi/ai-app/run", {"webappId": int(SAMPLE_WEBAPP_ID), "nodeInfoList": _app_nodes(a)}),
    )[1],
    "S01-quick-ai-app-run": lambda a: (
        _running(a),
        a.legacy(
            "/task/openapi/quick-ai-app/run",
            {"webappId": SAMPLE_WEBAPP_ID, "quickCreateCode": "002", "nodeInfoList": _app_nodes(a)},
        ),
    )[1],
    "S01-workflow-json": lambda a: a.legacy("/api/openapi/getJsonApiFormat", {"workflowId": SAMPLE_WORKFLOW_ID}),
    "S01-legacy-status-empty": lambda a: a.legacy("/task/openapi/status", {"taskId": a.workflow(wait=False)}),
    "S01-outputs-success": lambda a: a.outputs(a.workflow()),
    "S01-outputs-failed-805": lambda a: a.outputs(_failed_workflow(a)),
    "S01-cancel-ok": _cancel_running,
    "S01-cancel-not-found-807": lambda a: a.legacy("/task/openapi/cancel", {"taskId": UNKNOWN_ID}),
    "S01-account-ints": lambda a: a.legacy("/uc/openapi/accountStatus", {}, CONSUMER, "apikey"),
    "S01-account-strings": lambda a: a.legacy("/uc/openapi/accountStatus", {}, CONSUMER, "apikey"),
    "S01-legacy-upload-image": lambda a: _legacy_upload(a, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "a.png"),
    "S01-legacy-upload-zip": lambda a: _legacy_upload(a, b"PK\x03\x04" + b"\0" * 64, "a.zip"),
    "S01-legacy-upload-too-large-809": lambda a: (
        a.emu.set_config(legacy_upload_max_mb=0.00001),
        _legacy_upload(a, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "a.png"),
    )[1],
    "S01-lora-upload-url": lambda a: a.legacy(
        "/api/openapi/getLoraUploadUrl", {"loraName": "my-lora-name", "md5Hex": "f8d958506e6c8044f79ccd7c814c6179"}
    ),
    "S01-webhook-detail": _webhook_detail,
    "S01-retry-webhook": _retry_webhook,
    "S01-api-call-demo-old": lambda a: a.http.get(
        "/api/webapp/apiCallDemo", params={"apiKey": KEY, "webappId": SAMPLE_WEBAPP_ID}
    ),
    "S01-webhook-legacy": lambda a: _webhook(a, legacy=True),
    "S02-v2-submit-running": lambda a: (_running(a), a.v2(GROK, GROK_BODY))[1],
    "S03-contract-upload": _v2_upload,
    "S03-contract-query-success": lambda a: a.query(a.standard()),
    "S03-real-person-1505": lambda a: (
        a.emu.faults.add("real_person_refused", path=GROK),
        a.query(a.standard()),
    )[1],
    "S04-outputs-finished-no-output": lambda a: (
        a.emu.faults.add("empty_outputs", path="/task/openapi/create"),
        a.outputs(a.workflow()),
    )[1],
    "S04-outputs-running-wss": lambda a: (_running(a), a.outputs(a.workflow(wait=False)))[1],
    "S05-ai-app-node-errors": lambda a: (
        a.emu.faults.add("node_errors"),
        a.legacy("/task/openapi/ai-app/run", {"webappId": int(SAMPLE_WEBAPP_ID), "nodeInfoList": _app_nodes(a)}),
    )[1],
    "S06-query-success-image": lambda a: a.query(a.standard()),
    "S06-query-success-video": lambda a: a.query(a.standard()),
    "S06-webhook-v2-object": lambda a: _webhook(a, legacy=False),
    "S07-query-success-failedreason-empty": lambda a: a.query(a.standard()),
    "S07-query-invalid-key-806": lambda a: a.query(UNKNOWN_ID, key="not-a-key"),
    "S07-outputs-invalid-key-806": lambda a: a.outputs(UNKNOWN_ID, key="not-a-key"),
    "S08-legacy-upload-401-verification-failed": lambda a: _legacy_upload(a, b"\x89PNG\r\n\x1a\n", "a.png", FOREIGN),
    "S08-query-fake-task-1004": lambda a: a.query(UNKNOWN_ID),
    "S08-create-803-node-mismatch": lambda a: _bad_node(
        a, "/task/openapi/ai-app/run", {"webappId": int(SAMPLE_WEBAPP_ID)}
    ),
    "S09-create-enterprise-shared-body-key-refused": lambda a: a.legacy(
        "/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID}, SHARED_BEARER_ONLY
    ),
    "S10-v2-upload-401-in-body": lambda a: _v2_upload(a, key="not-a-key"),
    "S11-query-fake-task-1007": lambda a: a.query("not-a-task-id"),
    "S11-v2-upload-success": _v2_upload,
    "S11-query-failed-1501-no-cost": lambda a: (
        a.emu.faults.add("content_refused", path=GROK),
        a.query(a.standard()),
    )[1],
    "S12-query-task-gone-1004": lambda a: a.query(UNKNOWN_ID),
    "S13-submit-1014-key-type": lambda a: a.v2(GROK, GROK_BODY, CONSUMER),
    "S14-outputs-queued-813": lambda a: (
        a.emu.set_config(queue_seconds=5),
        a.outputs(a.workflow(wait=False)),
    )[1],
    "S14-outputs-running-804": lambda a: (_running(a), a.outputs(a.workflow(wait=False)))[1],
    "S14-outputs-failed-value-not-in-list": lambda a: a.outputs(_failed_workflow(a)),
    "S14-outputs-success-coins": lambda a: a.outputs(a.workflow(CONSUMER), CONSUMER),
    "S14-outputs-success-two-nodes": lambda a: a.outputs(a.workflow(CONSUMER), CONSUMER),
    "S14-create-numeric-task-id": lambda a: a.legacy(
        "/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID, "instanceType": "plus", "nodeInfoList": NODES}
    ),
    "S14-create-416-wallet": _empty_wallet,
    "S14-create-421-queue-maxed": _queue_full,
    "S14-create-803-node-info": lambda a: _bad_node(a, "/task/openapi/create", {"workflowId": SAMPLE_WORKFLOW_ID}),
    "S14-account-strings": lambda a: a.legacy("/uc/openapi/accountStatus", {}, KEY, "apikey"),
    "S15-outputs-failed-traceback-list": lambda a: a.outputs(_failed_workflow(a)),
    "S16-query-805-oom-no-task-id": lambda a: a.query(_failed_workflow(a)),
    "S17-query-workflow-coins": lambda a: a.query(a.workflow(CONSUMER), CONSUMER),
    "S18-submit-1014-chinese-first": lambda a: a.v2(GROK, GROK_BODY, CONSUMER),
    "S19-other-site-key-refused": lambda a: a.legacy("/uc/openapi/accountStatus", {}, FOREIGN, "apikey"),
    "S20-query-failed-1504-timeout": lambda a: (
        a.emu.faults.add("model_timeout", path=GROK),
        a.query(a.standard()),
    )[1],
    "S21-query-text-result": _text_result,
}


def _app_nodes(a: Ask) -> list[dict[str, Any]]:
    demo = a.http.get("/api/webapp/apiCallDemo", params={"apiKey": KEY, "webappId": SAMPLE_WEBAPP_ID}).json()
    return list(demo["data"]["nodeInfoList"])


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(
        durations={"image": 0.05, "video": 0.05, "audio": 0.05, "3d": 0.05, "text": 0.05},
        key_kinds={CONSUMER: "consumer"},
        foreign_keys=[FOREIGN],
        bearer_only_keys=[SHARED_BEARER_ONLY],
    ) as e:
        yield e


def _answer(emu: Emulator, name: str) -> tuple[int | None, Any]:
    emu.faults.clear()
    emu.set_config(queue_seconds=0.05, durations={"image": 0.05, "video": 0.05}, concurrency=50, queue_limit=0)
    emu.set_config(legacy_upload_max_mb=30.0, webhook_retry_delays=(0.2, 0.5, 1.0), webhook_timeout=5.0)
    emu.set_balance(KEY, 1000.0)
    ask = Ask(emu)
    try:
        got = SCENARIOS[name](ask)
    finally:
        ask.http.close()
    if isinstance(got, httpx.Response):
        return got.status_code, got.json()
    return None, got  # a webhook payload


def test_every_answer_has_a_scenario_or_a_reason() -> None:
    kept = kept_differences()
    for name in CORPUS:
        assert name in SCENARIOS or (name, "-") in kept, f"{name}: no scenario, and no reason in {DIFFERENCES.name}"
    for name, path in kept:
        assert name in CORPUS, f"{DIFFERENCES.name} lists {name}, which is not in the corpus"
        if path == "-":
            assert name not in SCENARIOS, f"{name} has a scenario now: remove its '-' row"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_emulator_answers_in_the_real_shape(emu: Emulator, name: str) -> None:
    real = CORPUS[name]
    status, body = _answer(emu, name)
    prov = real["provenance"]
    whole = not real.get("partial") and prov["kind"] in ("captured", "doc")
    found = dict(diff(real["response"]["body"], body, "body", whole))
    if real["response"]["status"] is not None and status != real["response"]["status"]:
        found["status"] = f"HTTP {real['response']['status']} in the real answer, {status} in the emulator's"
    kept = {path for (n, path) in kept_differences() if n == name}
    if "*" in kept:  # an answer kept different as a whole (an older form of the route)
        assert found, f"{name}: listed as different as a whole, but the emulator now answers alike"
        return
    unexplained = {p: why for p, why in found.items() if p not in kept}
    assert not unexplained, f"{name}: differences not listed in {DIFFERENCES.name}: {unexplained}\n{body}"
    stale = kept - set(found)
    assert not stale, f"{name}: {DIFFERENCES.name} lists differences that no longer occur: {sorted(stale)}"
