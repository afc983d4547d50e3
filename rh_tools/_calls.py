"""Every API operation as a :class:`~rh_tools._core.Call`: where it goes, how its answer reads.

One function per operation builds the request (pure data) and names the reader of its answer; the
twins in ``_client`` send it. Answers come in three shapes: the v2 task object (errors as
``errorCode``/``errorMessage`` with an empty ``taskId``), the legacy ``{code, msg, data}`` envelope,
and the v2 upload envelope (``message`` instead of ``msg``).
"""

from __future__ import annotations

import json
from typing import Any

from ._core import Call, _body_message, _int
from ._exceptions import InvalidInputError, ResponseFormatError, error_for_code
from ._media import MediaSource
from .types import Account, Output, PricePreview, QueueStatus, Task, UploadedFile, Usage, WebhookDetail

__all__ = [
    "account_call",
    "ai_app_call",
    "ai_app_demo_call",
    "apply_upload",
    "cancel_call",
    "envelope_data",
    "legacy_outputs_call",
    "list_ai_apps_call",
    "lora_upload_url_call",
    "price_preview_call",
    "query_call",
    "queue_status_call",
    "resend_webhook_call",
    "submit_call",
    "task_from_v2",
    "upload_call",
    "v2_object",
    "webhook_detail_call",
    "workflow_call",
    "workflow_json_call",
]


def v2_object(body: Any) -> dict[str, Any]:
    """A v2 answer (task object, or a flat object with errorCode), raising on an error answer."""
    if not isinstance(body, dict):
        raise ResponseFormatError(f"Expected a JSON object, got {type(body).__name__}")
    if "taskId" not in body and "code" in body:  # some v2 routes answer with the legacy envelope
        data = envelope_data(body)
        return data if isinstance(data, dict) else {"data": data}
    code, msg = body.get("errorCode"), body.get("errorMessage")
    if not body.get("taskId") and (code not in (None, "") or msg not in (None, "")):
        raise error_for_code(code, msg)
    return body


def envelope_data(body: Any) -> Any:
    """``data`` of a ``{code, msg|message, data}`` envelope, raising the mapped error when code != 0."""
    if not isinstance(body, dict) or "code" not in body:
        raise ResponseFormatError("Expected a {code, msg, data} envelope")
    if body["code"] not in (0, "0"):
        data = body.get("data")
        reason = data.get("failedReason") if isinstance(data, dict) else None
        raise error_for_code(body["code"], _body_message(body), details=reason)
    return body.get("data")


def task_from_v2(body: Any, endpoint: str | None = None) -> Task:
    obj = v2_object(body)
    results = obj.get("results") or []
    usage = obj.get("usage")
    return Task(
        task_id=str(obj.get("taskId") or ""),
        status=str(obj.get("status") or "").upper(),
        endpoint=endpoint,
        error_code=str(obj["errorCode"]) if obj.get("errorCode") not in (None, "") else None,
        error_message=obj.get("errorMessage") or None,
        outputs=[Output.from_api(r) for r in results if isinstance(r, dict)],
        usage=Usage.model_validate(usage) if isinstance(usage, dict) else None,
        failed_reason=obj.get("failedReason") or None,
        prompt_tips=obj.get("promptTips") or None,
    )


def _task_from_legacy_create(body: Any, endpoint: str) -> Task:
    data = envelope_data(body) or {}
    tips = data.get("promptTips")
    _raise_node_errors(tips)
    return Task(
        task_id=str(data["taskId"]),
        status=str(data.get("taskStatus") or "QUEUED").upper(),
        endpoint=endpoint,
        prompt_tips=tips if isinstance(tips, str) else None,
    )


def _raise_node_errors(tips: Any) -> None:
    """A workflow submit whose promptTips lists node_errors failed validation (official skill)."""
    if not isinstance(tips, str) or not tips:
        return
    try:
        parsed = json.loads(tips)
    except ValueError:
        return
    if isinstance(parsed, dict) and parsed.get("node_errors"):
        raise error_for_code(433, "Workflow validation failed (node_errors)", details=parsed["node_errors"])


def _task_from_legacy_outputs(body: Any, task_id: str) -> Task:
    """/task/openapi/outputs answers 'not ready' through codes (804 running, 813 queued)."""
    code = body.get("code") if isinstance(body, dict) else None
    if _int(code) == 804:
        return Task(task_id=task_id, status="RUNNING")
    if _int(code) == 813:
        return Task(task_id=task_id, status="QUEUED")
    if _int(code) == 805:
        data = body.get("data") or {}
        return Task(
            task_id=task_id,
            status="FAILED",
            error_code="805",
            error_message=_body_message(body),
            failed_reason=data.get("failedReason"),
        )
    data = envelope_data(body)
    if not data:  # some answers say "still running" as code 0 with no data
        return Task(task_id=task_id, status="RUNNING")
    usage = {
        k: data[0].get(k)
        for k in ("consumeMoney", "consumeCoins", "thirdPartyConsumeMoney", "taskCostTime")
        if isinstance(data[0], dict) and k in data[0]
    }
    return Task(
        task_id=task_id,
        status="SUCCESS",
        outputs=[Output.from_api(d) for d in data],
        usage=Usage.model_validate(usage) if usage else None,
    )


# ---------------------------------------------------------------- calls


def submit_call(path: str, body: dict[str, Any]) -> Call[Task]:
    return Call("POST", f"/openapi/v2/{path}", lambda b: task_from_v2(b, path), body=body, kind="submit")


def query_call(task_id: str, endpoint: str | None = None) -> Call[Task]:
    return Call(
        "POST",
        "/openapi/v2/query",
        lambda b: task_from_v2(b, endpoint),
        body={"taskId": task_id},
        task_id=task_id,
    )


def legacy_outputs_call(task_id: str) -> Call[Task]:
    return Call(
        "POST",
        "/task/openapi/outputs",
        lambda b: _task_from_legacy_outputs(b, task_id),
        body={"taskId": task_id},
        auth="body",
        task_id=task_id,
    )


def cancel_call(task_id: str) -> Call[None]:
    return Call(
        "POST",
        "/task/openapi/cancel",
        lambda b: (envelope_data(b), None)[1],
        body={"taskId": task_id},
        auth="body",
        kind="action",
        task_id=task_id,
    )


def account_call() -> Call[Account]:
    return Call(
        "POST",
        "/uc/openapi/accountStatus",
        lambda b: Account.model_validate(envelope_data(b) or {}),
        body={},
        auth="body_lower",
    )


def queue_status_call() -> Call[QueueStatus]:
    return Call("GET", "/openapi/v2/queue/status", lambda b: QueueStatus.model_validate(envelope_data(b) or {}))


def price_preview_call(path: str, body: dict[str, Any]) -> Call[PricePreview]:
    return Call(
        "POST",
        f"/openapi/v2/price-preview/{path}",
        lambda b: PricePreview.model_validate(v2_object(b)),
        body=body,
    )


def _node_body(node_info_list: list[dict[str, Any]] | None, extra: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in extra.items() if v is not None}
    if node_info_list is not None:
        if not isinstance(node_info_list, list) or not all(
            isinstance(n, dict) and "nodeId" in n and "fieldName" in n for n in node_info_list
        ):
            raise InvalidInputError(
                "node_info_list must be a list of {nodeId, fieldName, fieldValue} objects",
                hint="Read the node ids and field names with get_workflow_json (workflows) or the app's API demo.",
            )
        body["nodeInfoList"] = [{**n, "nodeId": str(n["nodeId"])} for n in node_info_list]
    return body


def workflow_call(workflow_id: str, node_info_list: list[dict[str, Any]] | None = None, **options: Any) -> Call[Task]:
    body = _node_body(node_info_list, {"workflowId": str(workflow_id), **options})
    return Call(
        "POST",
        "/task/openapi/create",
        lambda b: _task_from_legacy_create(b, f"workflow:{workflow_id}"),
        body=body,
        auth="body",
        kind="submit",
    )


def ai_app_call(webapp_id: str, node_info_list: list[dict[str, Any]], **options: Any) -> Call[Task]:
    body = _node_body(node_info_list, {"webappId": str(webapp_id), **options})
    return Call(
        "POST",
        "/task/openapi/ai-app/run",
        lambda b: _task_from_legacy_create(b, f"ai-app:{webapp_id}"),
        body=body,
        auth="body",
        kind="submit",
    )


def workflow_json_call(workflow_id: str) -> Call[dict[str, Any]]:
    def parse(b: Any) -> dict[str, Any]:
        prompt = (envelope_data(b) or {}).get("prompt")
        return json.loads(prompt) if isinstance(prompt, str) else dict(prompt or {})

    return Call("POST", "/api/openapi/getJsonApiFormat", parse, body={"workflowId": str(workflow_id)}, auth="body")


def ai_app_demo_call(webapp_id: str) -> Call[dict[str, Any]]:
    return Call(
        "GET",
        "/api/webapp/apiCallDemo",
        lambda b: dict(envelope_data(b) or {}),
        query={"webappId": str(webapp_id)},
        auth="query",
    )


def list_ai_apps_call(
    current: int = 1, size: int = 20, sort: str = "RECOMMEND", days: int | None = None
) -> Call[dict[str, Any]]:
    if not 1 <= size <= 50:
        raise InvalidInputError("size must be between 1 and 50")
    body: dict[str, Any] = {"current": current, "size": size, "sort": sort}
    if days is not None:
        body["days"] = days
    # The official skill sends the bare key (no "Bearer") on this route; we follow it.
    return Call("POST", "/openapi/v2/aiapp/list", lambda b: dict(envelope_data(b) or {}), body=body, auth="raw")


def webhook_detail_call(task_id: str) -> Call[WebhookDetail]:
    return Call(
        "POST",
        "/task/openapi/getWebhookDetail",
        lambda b: WebhookDetail.model_validate(envelope_data(b) or {}),
        body={"taskId": task_id},
        auth="body",
        task_id=task_id,
    )


def resend_webhook_call(webhook_id: str, webhook_url: str) -> Call[None]:
    return Call(
        "POST",
        "/task/openapi/retryWebhook",
        lambda b: (envelope_data(b), None)[1],
        body={"webhookId": str(webhook_id), "webhookUrl": webhook_url},
        auth="body",
        kind="action",
    )


def lora_upload_url_call(lora_name: str, md5_hex: str) -> Call[dict[str, Any]]:
    return Call(
        "POST",
        "/api/openapi/getLoraUploadUrl",
        lambda b: dict(envelope_data(b) or {}),
        body={"loraName": lora_name, "md5Hex": md5_hex},
        auth="body",
    )


def apply_upload(body: dict[str, Any], key: str, index: int | None, uploaded: UploadedFile, ref: str) -> None:
    """Put an upload's URL (or file name, for '##' workflow slots) where the local file was."""
    value = uploaded.file_name if ref == "file_name" or not uploaded.download_url else uploaded.download_url
    if index is None:
        body[key] = value
    else:
        body[key][index] = value


def upload_call(source: MediaSource) -> Call[UploadedFile]:
    # The v2 upload answers {code, message, data:{download_url, fileName, ...}}; success iff code == 0.
    return Call(
        "POST",
        "/openapi/v2/media/upload/binary",
        lambda b: UploadedFile.model_validate(envelope_data(b)),
        kind="upload",
        upload=source,
    )
