"""Routes of the Standard Model API (``/openapi/v2/...``): submit, query, upload and the extras.

Why this order of checks on submit — key (1002, rate 1003), path (1001), key kind (1014), body
(1007), wallet (416), capacity (421): a request is refused by the cheapest check that applies,
and no refused request ever creates a task.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .core import Core, Refusal
from .media import KIND_BY_EXT
from .multipart import MultipartError, read_multipart
from .runs import origin_of, read_json, start_app, start_workflow
from .shapes import envelope, json_response, upload_error, v2_error, v2_query_error
from .validate import validate_body

__all__ = ["v2_routes"]

Handler = Callable[[Request], Awaitable[Response]]


def _guard(fn: Callable[[Core, Request], Awaitable[Response]], core: Core) -> Handler:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(core, request)
        except Refusal as r:
            return r.response

    endpoint.__name__ = fn.__name__
    return endpoint


async def submit(core: Core, request: Request) -> Response:
    if request.method != "POST":
        return v2_error("1009", f"use POST, not {request.method}", f"请使用 POST 而不是 {request.method}")
    key = core.auth_v2(request)
    path = request.path_params["endpoint"]
    ep = core.endpoints.get(path)
    if ep is None:
        # INFERRED: the answer for an unknown model path is undocumented; 1001 "Invalid URL" fits.
        core.stats.count_code(1001)
        return v2_error("1001", f"no endpoint /openapi/v2/{path}", f"接口 /openapi/v2/{path} 不存在")
    if core.is_wrong_kind(key):
        core.stats.count_code(1014)
        return v2_error("1014")
    body = await read_json(request, "v2")
    cfg = core.config
    res = validate_body(
        ep,
        body,
        strict_types=cfg.strict_types,
        file_name_ok=core.uploads.known,
        strict_file_names=cfg.strict_file_names,
    )
    if not res.ok:
        p = res.first
        assert p is not None
        core.stats.count_code(1007)
        return v2_error("1007", p.en, p.zh)
    kind = ep.output_type
    outputs = core.plan_outputs(kind, body, ep.path)
    task = core.create_task(
        key=key,
        family="standard",
        api="v2",
        endpoint=ep.path,
        submit_path=request.url.path,
        kind=kind,
        outputs=outputs,
        price=core.price_for(kind, body, len(outputs)),
        origin=origin_of(request),
        webhook_url=body.get("webhookUrl") or None,
        unknown_keys=res.unknown_keys,
    )
    return json_response(core.task_object(task, submit=True))


async def query(core: Core, request: Request) -> Response:
    key = core.auth_v2(request)
    body = await read_json(request, "v2")
    task_id = body.get("taskId")
    if task_id in (None, ""):
        core.stats.count_code(1007)
        return v2_error("1007", "'taskId' is required", "缺少必填参数 taskId")
    if not _is_id(task_id):
        # S11: a task id that is no number fails body parsing (taskId is a number server-side).
        core.stats.count_code(1007)
        return v2_query_error("1007", "failed to parse request body")
    task = core.store.get(str(task_id))
    # S08, S12: an unknown (or another key's) task answers 1004 with status "".
    if task is None or task.key != key:
        core.stats.count_code(1004)
        return v2_query_error("1004")
    return json_response(core.task_object(task))


def _is_id(value: Any) -> bool:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text.isdigit() and len(text) <= 19


async def upload_binary(core: Core, request: Request) -> Response:
    key = core.auth_v2(request, family="upload")
    limit = int(core.config.upload_max_mb * 1024 * 1024)
    try:
        form = await read_multipart(
            request.stream(),
            request.headers.get("content-type", ""),
            core.uploads.tmp_path,
            max_file_bytes=limit,
        )
    except ClientDisconnect:
        return Response(status_code=400)
    except MultipartError as exc:
        return upload_error(1007, str(exc))
    try:
        part = form.files.get("file")
        if part is None:
            return upload_error(1007, "multipart field 'file' is required")
        if part.too_large:
            core.stats.count_code(1008)
            return upload_error(1008, f"{part.size} bytes > {limit} bytes")
        ext = Path(part.filename).suffix.lower().lstrip(".")
        kind = KIND_BY_EXT.get(ext, "file")  # INFERRED: other file kinds are tolerated as "file"
        # S11: "openapi/<hash>.<ext>", size in bytes, the URL on a storage host (not the API host).
        file_name = f"openapi/{part.sha256}" + (f".{ext}" if ext else "")
        stored = core.uploads.add(
            file_name, part.path, size=part.size, media_type=part.content_type, kind=kind, key=key
        )
        core.stats.count_upload(part.size)
        path = f"/media/{file_name}"
        token = core.signer.sign(path, stored.created + core.config.url_ttl_seconds)
        data = {
            "type": kind,
            "download_url": f"{core.files_origin(origin_of(request))}{path}?Rh-Comfy-Auth={token}",
            "fileName": file_name,
            "size": str(part.size),
        }
        return json_response({"code": 0, "message": "success", "data": data})
    finally:
        form.cleanup()


async def queue_status(core: Core, request: Request) -> Response:
    key = core.auth_v2(request, family="legacy")
    running, waiting = core.store.counts(key)
    cfg = core.config
    return envelope(
        {
            "apiKeyType": cfg.api_key_type,
            "concurrentLimit": str(cfg.key_setting(key, "concurrency")),
            "runningCount": str(running),
            "queuedCount": str(waiting),
            "totalCurrentTasks": str(running + waiting),
        }
    )


async def price_preview(core: Core, request: Request) -> Response:
    key = core.auth_v2(request)
    path = request.path_params["endpoint"]
    ep = core.endpoints.get(path)
    if ep is None:
        return v2_error("1001", f"no endpoint /openapi/v2/{path}", f"接口 /openapi/v2/{path} 不存在")
    if core.is_wrong_kind(key):
        return v2_error("1014")
    body = await read_json(request, "v2")
    cfg = core.config
    res = validate_body(
        ep,
        body,
        strict_types=cfg.strict_types,
        file_name_ok=core.uploads.known,
        strict_file_names=cfg.strict_file_names,
    )
    if not res.ok:
        p = res.first
        assert p is not None
        return v2_error("1007", p.en, p.zh)
    outputs = core.plan_outputs(ep.output_type, body, ep.path)
    price = core.price_for(ep.output_type, body, len(outputs))
    return json_response(
        {
            "errorCode": "",
            "errorMessage": "",
            "estimatedPrice": price,
            "currency": cfg.currency,
            "freeLimit": 0,
            "isFreeThisCall": False,
            "priceText": f"¥{price:.2f}",
            "priceTextEn": f"{cfg.currency} {price:.2f}",
            "remainingFreeLimitCount": 0,
            "freeLimitCount": 0,
        }
    )


async def run_app(core: Core, request: Request) -> Response:
    key = core.auth_v2(request)
    body = await read_json(request, "v2")
    task = start_app(core, request, key, body, request.path_params["app_id"], "v2")
    return json_response(core.task_object(task, submit=True))


async def run_workflow(core: Core, request: Request) -> Response:
    key = core.auth_v2(request)
    body = await read_json(request, "v2")
    task = start_workflow(core, request, key, body, request.path_params["workflow_id"], "v2")
    return json_response(core.task_object(task, submit=True))


async def aiapp_list(core: Core, request: Request) -> Response:
    core.auth_v2(request, family="legacy")  # the official skill sends the bare key, no "Bearer"
    try:
        body = await request.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    size = max(1, min(50, _int(body.get("size"), 20)))
    current = max(1, _int(body.get("current"), 1))
    apps = list(core.webapps.items())
    page = apps[(current - 1) * size : current * size]
    records: list[dict[str, Any]] = [
        {
            "webappId": wid,
            "title": app.get("name", wid),
            "description": app.get("description", ""),
            "cover": "",
            "invokeExample": f"POST /openapi/v2/run/ai-app/{wid}",
        }
        for wid, app in page
    ]
    pages = max(1, math.ceil(len(apps) / size))
    return envelope(
        {
            "records": records,
            "current": current,
            "size": size,
            "total": len(apps),
            "pages": pages,
            "hasNext": current < pages,
        }
    )


def _int(v: Any, default: int) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def v2_routes(core: Core) -> list[Route]:
    """Specific routes first: the catch-all model route would otherwise swallow them."""
    g = _guard
    return [
        Route("/openapi/v2/query", g(query, core), methods=["POST"]),
        Route("/openapi/v2/media/upload/binary", g(upload_binary, core), methods=["POST"]),
        Route("/openapi/v2/queue/status", g(queue_status, core), methods=["GET", "POST"]),
        Route("/openapi/v2/aiapp/list", g(aiapp_list, core), methods=["POST"]),
        Route("/openapi/v2/price-preview/{endpoint:path}", g(price_preview, core), methods=["POST"]),
        Route("/openapi/v2/run/ai-app/{app_id}", g(run_app, core), methods=["POST"]),
        Route("/openapi/v2/run/workflow/{workflow_id}", g(run_workflow, core), methods=["POST"]),
        Route(
            "/openapi/v2/{endpoint:path}",
            g(submit, core),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]
