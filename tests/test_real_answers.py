"""Every real answer of tests/fixtures/real/ replayed through the client, both twins.

Each corpus file holds an answer RunningHub gave (or a doc, or another client, says it gives) and
what rh-tools must make of it: a task in some status, a value, or a typed error with its code,
``retryable`` flag and the words an agent needs. The answer goes through the real client over
httpx.MockTransport, so the path is the one a user's call takes: request building, decoding,
error mapping, polling decisions, and the text LangChain and MCP show the model.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from rh_tools import AsyncRunningHub, RunningHub, RunningHubError, TaskTimeoutError
from rh_tools import _calls as calls
from rh_tools import _core as core
from rh_tools import _render as R
from rh_tools._exceptions import is_key_refusal
from rh_tools._webhooks import WebhookReceiver

CORPUS_DIR = Path(__file__).with_name("fixtures") / "real"
CORPUS = sorted(CORPUS_DIR.glob("*.json"))
KEY = "feedfacecafebeef0123456789abcdef"
BASE = "https://www.runninghub.ai"
DEFAULT_TASK_ID = "2013508786110730241"
KINDS = ("captured", "doc", "asserted", "reconstructed")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def test_corpus_is_whole_and_every_source_is_listed() -> None:
    readme = (CORPUS_DIR / "README.md").read_text("utf-8")
    assert len(CORPUS) >= 50
    for path in CORPUS:
        entry = load(path)
        assert entry["id"] == path.stem
        prov = entry["provenance"]
        assert prov["kind"] in KINDS and prov["where"]
        assert f"| {prov['source']} |" in readme, f"{path.name}: source {prov['source']} missing from README.md"
        assert entry["expect"], path.name
        text = json.dumps(entry)
        # secrets are replaced, never recorded: no bearer token, no signed-URL token, no key field value
        assert not re.search(r"Bearer\s+[A-Za-z0-9]{16,}|Rh-Comfy-Auth=(?!REDACTED)[^&\"]+", text), path.name
        assert all(v in (None, "<API_KEY>") for v in _key_fields(entry["request"])), path.name


def _key_fields(request: dict[str, Any]) -> list[Any]:
    found = []
    for part in (request.get("body"), request.get("query")):
        if isinstance(part, dict):
            found += [v for k, v in part.items() if k.lower() == "apikey"]
    return found


def _task_id(entry: dict[str, Any]) -> str:
    body = entry["request"].get("body")
    tid = body.get("taskId") if isinstance(body, dict) else None
    return tid if isinstance(tid, str) and tid.isdigit() and len(tid) >= 16 else DEFAULT_TASK_ID


class Replay:
    """A MockTransport handler answering every request to the API host with the corpus answer;
    the other site (asked about a refused key) answers ``other`` or the same refusal."""

    def __init__(self, entry: dict[str, Any], other: tuple[int, Any] | None = None) -> None:
        self.entry = entry
        self.other = other
        self.requests: list[httpx.Request] = []
        self.probes: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        resp = self.entry["response"]
        if request.url.host != "www.runninghub.ai":
            self.probes.append(request)
            status, body = self.other or (resp["status"], resp["body"])
            return httpx.Response(status, json=body)
        self.requests.append(request)
        return httpx.Response(resp["status"], json=resp["body"], headers=resp.get("headers") or {})


def _client_call(entry: dict[str, Any]) -> tuple[str, tuple[Any, ...], dict[str, Any]] | None:
    """(method, args, kwargs) of the client call that gets this answer; None for pure decoding."""
    op, req = entry["operation"], entry["request"]
    body = req.get("body") if isinstance(req.get("body"), dict) else {}
    tid = _task_id(entry)
    if op == "submit":
        return "submit_raw", (req["path"].removeprefix("/openapi/v2/"), {k: v for k, v in body.items()}), {}
    if op == "query":
        return "get_task", (tid,), {}
    if op == "wait":
        return "wait", (tid,), {"timeout": 0}
    if op == "legacy_outputs":
        return "wait", (tid,), {"timeout": 0, "legacy_status": True}
    if op == "legacy_create":
        nodes = body.get("nodeInfoList")
        return "run_workflow", (body.get("workflowId") or "1904136902449209346", nodes), {"wait": False}
    if op == "ai_app_run":
        return "run_ai_app", (str(body.get("webappId")), body.get("nodeInfoList") or []), {"wait": False}
    if op == "cancel":
        return "cancel", (tid,), {}
    if op == "account":
        return "account", (), {}
    if op == "upload":
        return "upload", (b"\x89PNG\r\n\x1a\n-corpus",), {"name": "x.png"}
    if op == "workflow_json":
        return "get_workflow_json", (body.get("workflowId"),), {}
    if op == "webhook_detail":
        return "webhook_detail", (tid if len(tid) >= 16 else DEFAULT_TASK_ID,), {}
    if op == "retry_webhook":
        return "resend_webhook", (body["webhookId"], body["webhookUrl"]), {}
    if op == "api_call_demo":
        return "get_ai_app", (req["query"]["webappId"],), {}
    return None


def _pure_call(entry: dict[str, Any]) -> core.Call[Any]:
    op = entry["operation"]
    tid = _task_id(entry)
    if op == "legacy_status":
        return calls.legacy_status_call(tid)
    if op == "legacy_upload":
        return core.Call("POST", "/task/openapi/upload", calls.uploaded_file, kind="upload")
    if op == "lora_url":
        return calls.lora_upload_url_call("my-lora-name", "f8d958506e6c8044f79ccd7c814c6179")
    raise AssertionError(f"no reader for operation {op!r}")


def _run(entry: dict[str, Any], twin: str, handler: Replay) -> Any:
    """The outcome of replaying ``entry``: a value, or the exception raised."""
    if entry["operation"] == "webhook":
        payload = entry["response"]["body"]
        receiver = WebhookReceiver()
        assert receiver.deliver(payload) and receiver.has_ended(str(payload["taskId"]))
        return calls.task_from_webhook(payload)
    planned = _client_call(entry)
    try:
        if planned is None:
            resp = entry["response"]
            content = json.dumps(resp["body"]).encode()
            return core.decode_response(_pure_call(entry), resp["status"], resp.get("headers") or {}, content)
        name, args, kw = planned
        opts: dict[str, Any] = {"api_key": KEY, "base_url": BASE, "transport": httpx.MockTransport(handler)}
        if twin == "sync":
            with RunningHub(**opts, max_retries=0) as rh:
                return getattr(rh, name)(*args, **kw)

        async def go() -> Any:
            async with AsyncRunningHub(**opts, max_retries=0) as rh:
                return await getattr(rh, name)(*args, **kw)

        return asyncio.run(go())
    except (RunningHubError, TaskTimeoutError) as exc:
        return exc


def _check_task(task: Any, want: dict[str, Any]) -> None:
    if isinstance(task, TaskTimeoutError):  # wait(timeout=0) on a task still in progress
        assert want["status"] in ("CREATE", "QUEUED", "RUNNING"), f"timed out at {task.last_status}"
        assert task.last_status == want["status"] and task.task_id == want["task_id"]
        return
    assert not isinstance(task, BaseException), f"expected a task, got {type(task).__name__}: {task}"
    assert task.status == want["status"]
    assert task.task_id == want["task_id"]
    if "outputs" in want:
        assert len(task.outputs) == want["outputs"]
    if "kinds" in want:
        assert [o.kind for o in task.outputs] == want["kinds"]
    if "texts" in want:
        assert task.texts == want["texts"]
    for field, value in (want.get("usage") or {}).items():
        assert task.usage is not None and getattr(task.usage, field) == value, field
    if want.get("note"):
        assert task.note and "no visible output" in task.note
        assert task.note in R.result_text(calls_result(task))
    if "failed_reason" in want:
        assert task.failed_reason == want["failed_reason"]


def calls_result(task: Any) -> Any:
    from rh_tools.types import TaskResult

    return task if isinstance(task, TaskResult) else TaskResult(**task.model_dump())


def _check_error(err: Any, want: dict[str, Any]) -> None:
    assert isinstance(err, RunningHubError), f"expected {want['type']}, got {type(err).__name__}: {err!r}"
    assert type(err).__name__ == want["type"], f"{type(err).__name__}: {err}"
    if "code" in want:
        assert err.code == want["code"]
    if "retryable" in want:
        assert err.retryable is want["retryable"]
    if "task_id" in want:
        assert err.task_id == want["task_id"]
    for attr in ("message", "message_zh"):
        if attr in want:
            assert getattr(err, attr) == want[attr]
    text = R.error_text(err)  # what the LangChain tools and the MCP server show the model
    for words in want.get("in_text", []):
        assert words in text, f"{words!r} not in:\n{text}"
    for words in want.get("not_in_text", []):
        assert words not in text and words not in json.dumps(err.to_dict(), ensure_ascii=False)
    if "submit_retry" in want:
        assert (core.retry_delay("submit", 0, 3, err) is not None) is want["submit_retry"]
    if "key_refusal" in want:
        assert is_key_refusal(err) is want["key_refusal"]
    assert err.hint, "every error says what to do"


def _check_fields(obj: Any, want: dict[str, Any]) -> None:
    assert not isinstance(obj, BaseException), f"{type(obj).__name__}: {obj}"
    for field, value in want.items():
        assert getattr(obj, field) == value, field


def _check_value(value: Any, want: Any) -> None:
    if want is None:
        assert value is None
    elif "nodes" in want:
        assert sorted(value) == sorted(want["nodes"])
    elif "keys" in want:
        assert set(want["keys"]) <= set(value)
    else:
        assert not isinstance(value, BaseException), value
        for k, v in want.items():
            assert value[k] == v


def check(outcome: Any, expect: dict[str, Any]) -> None:
    (kind, want), *_ = expect.items()
    check_by_kind: dict[str, Callable[[Any, Any], None]] = {
        "task": _check_task,
        "error": _check_error,
        "account": _check_fields,
        "upload": _check_fields,
        "webhook_detail": _check_fields,
        "value": _check_value,
    }
    check_by_kind[kind](outcome, want)


def _twins(path: Path) -> list[str]:
    return ["sync", "async"] if _client_call(load(path)) is not None else ["pure"]


@pytest.mark.parametrize(
    ("path", "twin"),
    [pytest.param(p, t, id=f"{p.stem}-{t}") for p in CORPUS for t in _twins(p)],
)
def test_every_real_answer(path: Path, twin: str) -> None:
    entry = load(path)
    handler = Replay(entry)
    check(_run(entry, twin, handler), entry["expect"])
