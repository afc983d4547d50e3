"""Routes of the legacy workflow / AI-app API (``/task/openapi``, ``/api/openapi``, ``/uc/openapi``).

Why a separate module: these answer with the ``{code, msg, data}`` envelope, read the key from the
body (``apiKey``; ``apikey`` for account status; a form field for uploads) and use their own codes
(802, 804/805/813, 807, 809 ...), so nothing here is shared with the v2 shapes except the tasks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .core import Core, Refusal, money_text
from .media import KIND_BY_EXT
from .multipart import MultipartError, read_multipart
from .runs import origin_of, read_json, start_app, start_workflow
from .shapes import envelope, legacy_error

__all__ = ["legacy_routes", "lora_signature"]

Handler = Callable[[Request], Awaitable[Response]]


def _guard(fn: Callable[[Core, Request], Awaitable[Response]], core: Core) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(core, request)
        except Refusal as r:
            return r.response

    endpoint.__name__ = fn.__name__
    return endpoint


async def _keyed(core: Core, request: Request, field: str = "apiKey") -> tuple[str, dict[str, Any]]:
    body = await read_json(request, "legacy")
    return core.auth_legacy(request, body, field), body


def _own_task(core: Core, key: str, task_id: Any) -> Any:
    # INFERRED: a task id that is no number is a parameter error here (the v2 query answers 1007).
    if task_id in (None, "") or not str(task_id).strip().isdigit():
        raise Refusal(legacy_error(301))
    task = core.store.get(str(task_id))
    if task is None or task.key != key:
        core.stats.count_code(807)
        raise Refusal(legacy_error(807))
    return task


async def create(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = start_workflow(core, request, key, body, body.get("workflowId"), "legacy")
    return envelope(core.legacy_submit_data(task))


async def ai_app_run(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = start_app(core, request, key, body, body.get("webappId"), "legacy")
    return envelope(core.legacy_submit_data(task))


async def quick_ai_app_run(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = start_app(core, request, key, body, body.get("webappId"), "legacy", quick=True)
    return envelope(core.legacy_submit_data(task))


async def status(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = _own_task(core, key, body.get("taskId"))
    return envelope(task.status(core.store.clock()))


async def outputs(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = _own_task(core, key, body.get("taskId"))
    code, data = core.legacy_outputs(task)
    if code:
        core.stats.count_code(code)
    return envelope(data, code)


async def cancel(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = _own_task(core, key, body.get("taskId"))
    if task.family != "standard" or core.config.cancel_standard_tasks:
        core.store.cancel(task.task_id)
    return envelope(None)


async def account_status(core: Core, request: Request) -> Response:
    key, _ = await _keyed(core, request, "apikey")
    running, _waiting = core.store.counts(key)
    acct = core.store.account(key)
    cfg = core.config
    # A consumer key has coins and no wallet: remainMoney and currency null (S01).
    wallet = cfg.key_kind(key) != "consumer"
    return envelope(
        {
            "remainCoins": str(cfg.key_setting(key, "remain_coins")),
            "currentTaskCounts": str(running),
            "remainMoney": money_text(acct.balance) if wallet else None,
            "currency": cfg.currency if wallet else None,
            "apiType": cfg.api_type,
        }
    )


async def upload(core: Core, request: Request) -> Response:
    limit = int(core.config.legacy_upload_max_mb * 1024 * 1024)
    try:
        form = await read_multipart(
            request.stream(),
            request.headers.get("content-type", ""),
            core.uploads.tmp_path,
            max_file_bytes=limit,
        )
    except ClientDisconnect:
        return Response(status_code=400)
    except MultipartError:
        return legacy_error(301)
    try:
        key = core.auth_legacy(request, form.fields)
        part = form.files.get("file")
        if part is None:
            return legacy_error(301)
        if part.too_large:
            core.stats.count_code(809)
            return legacy_error(809)
        ext = Path(part.filename).suffix.lower().lstrip(".")
        kind = KIND_BY_EXT.get(ext, "file")
        # zip archives are stored without an extension (their fileName is a bare hash).
        file_name = f"api/{part.sha256}" + (f".{ext}" if ext and kind != "zip" else "")
        core.uploads.add(file_name, part.path, size=part.size, media_type=part.content_type, kind=kind, key=key)
        core.stats.count_upload(part.size)
        return envelope({"fileName": file_name, "fileType": form.fields.get("fileType") or "input"})
    finally:
        form.cleanup()


async def json_api_format(core: Core, request: Request) -> Response:
    _, body = await _keyed(core, request)
    wid = str(body.get("workflowId") or "")
    wf = core.workflows.get(wid)
    if wf is None:
        return legacy_error(380)
    return envelope({"prompt": json.dumps(wf.get("prompt", {}), ensure_ascii=False)}, msg="SUCCESS")


def lora_signature(path: str, sign_time: str, secret: bytes) -> str:
    return hmac.new(secret, f"{path}\n{sign_time}".encode(), hashlib.sha1).hexdigest()


async def lora_upload_url(core: Core, request: Request) -> Response:
    _, body = await _keyed(core, request)
    name, md5 = body.get("loraName"), body.get("md5Hex")
    if not name or not md5 or not isinstance(md5, str):
        return legacy_error(301)
    file_name = f"api-lora-cn/{md5.lower()}.safetensors"
    path = f"/lora/{file_name}"
    now = int(time.time())
    sign_time = f"{now};{now + 3600}"
    sig = lora_signature(path, sign_time, core.signer_secret)
    url = (
        f"{origin_of(request)}{path}?q-sign-algorithm=sha1&q-ak=AKIDemulator&q-sign-time={quote(sign_time)}"
        f"&q-key-time={quote(sign_time)}&q-header-list=host&q-url-param-list=&q-signature={sig}"
    )
    return envelope({"fileName": file_name, "url": url})


async def webhook_detail(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    task = _own_task(core, key, body.get("taskId"))
    rec = core.webhooks.for_task(task.task_id)
    return envelope(rec.detail() if rec else None)


async def retry_webhook(core: Core, request: Request) -> Response:
    key, body = await _keyed(core, request)
    rec = core.webhooks.get(str(body.get("webhookId") or ""))
    if rec is None or rec.key != key:
        return legacy_error(301)
    url = body.get("webhookUrl") or rec.webhook_url
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return legacy_error(301)
    rec.webhook_url = url
    core.webhooks.dispatch(rec, url)
    return envelope(None, msg="")


async def api_call_demo(core: Core, request: Request) -> Response:
    q = request.query_params
    core.auth_legacy(request, {"apiKey": q.get("apiKey")})
    wid = str(q.get("webappId") or "")
    app = core.webapps.get(wid)
    if app is None:
        return legacy_error(901)
    nodes = list(app.get("nodeInfoList", []))
    demo_body = {"webappId": wid, "apiKey": "<your api key>", "nodeInfoList": nodes}
    curl = (
        f"curl -X POST '{origin_of(request)}/task/openapi/ai-app/run' -H 'Content-Type: application/json' "
        f"-d '{json.dumps(demo_body, ensure_ascii=False)}'"
    )
    return envelope(
        {
            "curl": curl,
            "accessEncrypted": False,
            "webappName": app.get("name", wid),
            "statisticsInfo": {
                "likeCount": "0",
                "downloadCount": "0",
                "useCount": "0",
                "pv": "0",
                "collectCount": "0",
            },
            "nodeInfoList": nodes,
            "covers": [],
            "tags": [],
        }
    )


async def lora_put(core: Core, request: Request) -> Response:
    """The presigned PUT target of getLoraUploadUrl (no RunningHub key: the signature is the auth)."""
    path = request.url.path
    q = request.query_params
    if q.get("q-signature") != lora_signature(path, q.get("q-sign-time", ""), core.signer_secret):
        return Response("<Error><Code>SignatureDoesNotMatch</Code></Error>", 403, media_type="application/xml")
    end = q.get("q-sign-time", "").partition(";")[2]
    if end.isdigit() and int(end) < time.time():
        return Response(
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            403,
            media_type="application/xml",
        )
    file_name = path.removeprefix("/lora/")
    tmp = core.uploads.tmp_path()
    size = 0
    with open(tmp, "wb") as fh:
        async for chunk in request.stream():
            size += len(chunk)
            fh.write(chunk)
    core.uploads.add(file_name, tmp, size=size, media_type="application/octet-stream", kind="lora", key="")
    core.stats.count_upload(size)
    etag = hashlib.md5(tmp.name.encode()).hexdigest()  # noqa: S324 - an ETag, not security
    return Response(b"", 200, headers={"ETag": f'"{etag}"'})


def legacy_routes(core: Core) -> list[Route]:
    g = _guard
    post = ["POST"]
    return [
        Route("/task/openapi/create", g(create, core), methods=post),
        Route("/task/openapi/ai-app/run", g(ai_app_run, core), methods=post),
        Route("/task/openapi/quick-ai-app/run", g(quick_ai_app_run, core), methods=post),
        Route("/task/openapi/status", g(status, core), methods=post),
        Route("/task/openapi/outputs", g(outputs, core), methods=post),
        Route("/task/openapi/cancel", g(cancel, core), methods=post),
        Route("/task/openapi/upload", g(upload, core), methods=post),
        Route("/task/openapi/getWebhookDetail", g(webhook_detail, core), methods=post),
        Route("/task/openapi/retryWebhook", g(retry_webhook, core), methods=post),
        Route("/uc/openapi/accountStatus", g(account_status, core), methods=post),
        Route("/api/openapi/getJsonApiFormat", g(json_api_format, core), methods=post),
        Route("/api/openapi/getLoraUploadUrl", g(lora_upload_url, core), methods=post),
        Route("/api/webapp/apiCallDemo", g(api_call_demo, core), methods=["GET"]),
        Route("/lora/{file:path}", g(lora_put, core), methods=["PUT"]),
    ]
