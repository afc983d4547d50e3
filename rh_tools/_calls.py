"""Every API operation as a :class:`~rh_tools._core.Call`: where it goes, how its answer reads.

One function per operation builds the request (pure data) and names the reader of its answer; the
twins in ``_client`` send it. Answers come in three shapes: the v2 task object (errors as
``errorCode``/``errorMessage`` with an empty ``taskId``), the legacy ``{code, msg, data}`` envelope,
and the v2 upload envelope (``message`` instead of ``msg``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ._core import Call, _body_message, _int
from ._exceptions import InvalidInputError, InvalidRequestError, ResponseFormatError, error_for_code
from ._media import MediaSource
from .types import Account, Output, PricePreview, QueueStatus, Task, UploadedFile, Usage, WebhookDetail

__all__ = [
    "RunOptions",
    "account_call",
    "ai_app_call",
    "ai_app_demo_call",
    "apply_upload",
    "cancel_call",
    "envelope_data",
    "legacy_outputs_call",
    "legacy_status_call",
    "numeric_id",
    "list_ai_apps_call",
    "lora_upload_url_call",
    "price_preview_call",
    "query_call",
    "queue_status_call",
    "resend_webhook_call",
    "submit_call",
    "task_from_v2",
    "task_from_webhook",
    "upload_call",
    "uploaded_file",
    "v2_object",
    "webhook_detail_call",
    "workflow_call",
    "workflow_json_call",
]


_TASK_STATUSES = frozenset({"CREATE", "QUEUED", "RUNNING", "SUCCESS", "FAILED", "CANCEL"})
_STATUS_ALIASES = {"CANCELED": "CANCEL", "CANCELLED": "CANCEL"}


def v2_object(body: Any) -> dict[str, Any]:
    """A v2 answer (task object, or a flat object with errorCode), raising on an error answer.

    An error answer is one with errorCode/errorMessage and no usable task: an empty taskId, or a
    status that is no task status (the service answers a refused key with ``"status": ""`` and
    ``"errorCode": "806"``, an unknown task with 1004, a malformed task id with 1007)."""
    if not isinstance(body, dict):
        raise ResponseFormatError(f"Expected a JSON object, got {type(body).__name__}")
    if "taskId" not in body and "errorCode" not in body and "code" in body:
        data = envelope_data(body)  # some v2 routes answer with the legacy envelope
        return data if isinstance(data, dict) else {"data": data}
    code, msg = body.get("errorCode"), body.get("errorMessage")
    has_error = code not in (None, "") or msg not in (None, "")
    status = _status(body.get("status"))
    if has_error and (not body.get("taskId") or status not in _TASK_STATUSES):
        raise error_for_code(code, msg, details=body.get("failedReason"))
    return body


def _status(raw: Any) -> str:
    status = str(raw or "").strip().upper()
    return _STATUS_ALIASES.get(status, status)


def envelope_data(body: Any) -> Any:
    """``data`` of a ``{code, msg|message, data}`` envelope, raising the mapped error when code != 0."""
    if isinstance(body, dict) and "code" not in body and body.get("errorCode") not in (None, ""):
        # A v2-style refusal on an envelope route (gateways answer alike on every route).
        raise error_for_code(body["errorCode"], body.get("errorMessage"), details=body.get("failedReason"))
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
        status=_status(obj.get("status")),
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
    if not isinstance(data, dict):
        raise ResponseFormatError(f"Expected the created task in data, got {type(data).__name__}")
    tips = data.get("promptTips")
    _raise_node_errors(tips)
    task_id = data.get("taskId")
    # The schema types taskId as int64 and clients see both numbers and strings; an id of 0 (or
    # none) means no task was created, so there is nothing to poll and nothing was billed.
    if task_id in (None, "", 0, "0"):
        raise InvalidRequestError(
            "RunningHub created no task (taskId 0)",
            details={"promptTips": tips} if tips else None,
            hint="The workflow or its nodeInfoList was not accepted; check them with describe_workflow and resubmit.",
        )
    return Task(
        task_id=str(task_id),
        status=_status(data.get("taskStatus")) or "QUEUED",
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


_NO_VISIBLE_OUTPUT = (
    "The task finished but produced no visible output: the workflow has no output (Save) node, the "
    "output nodes are disabled, or its logic produced nothing."
)


def _task_from_legacy_outputs(body: Any, task_id: str) -> Task:
    """/task/openapi/outputs, read as the official client (ComfyUI_RH_APICall) reads it.

    Codes and ``msg`` identifiers both count: 804 / APIKEY_TASK_IS_RUNNING running, 813 /
    APIKEY_TASK_IS_QUEUED queued, 805 / APIKEY_TASK_STATUS_ERROR failed (``data.failedReason``);
    code 0 with ``data`` null is still running, code 0 with an empty list finished with no visible
    output, code 0 with a list finished with those files. Any other code is an error."""
    if not isinstance(body, dict) or "code" not in body:
        raise ResponseFormatError("Expected a {code, msg, data} envelope")
    code, msg, data = _int(body.get("code")), str(body.get("msg") or "").strip(), body.get("data")
    if code == 804 or msg == "APIKEY_TASK_IS_RUNNING":
        return Task(task_id=task_id, status="RUNNING")
    if code == 813 or msg == "APIKEY_TASK_IS_QUEUED":
        return Task(task_id=task_id, status="QUEUED")
    if code == 805 or msg == "APIKEY_TASK_STATUS_ERROR":
        return Task(
            task_id=task_id,
            status="FAILED",
            error_code="805",
            error_message=_body_message(body),
            failed_reason=data.get("failedReason") if isinstance(data, dict) else None,
        )
    data = envelope_data(body)
    if data is None:
        return Task(task_id=task_id, status="RUNNING")
    if not isinstance(data, list):
        raise ResponseFormatError(f"Expected a list of outputs, got {type(data).__name__}")
    if not data:
        return Task(task_id=task_id, status="SUCCESS", note=_NO_VISIBLE_OUTPUT)
    usage: dict[str, Any] = {}
    for item in data:
        if isinstance(item, dict):
            for k in ("consumeMoney", "consumeCoins", "thirdPartyConsumeMoney", "taskCostTime"):
                if usage.get(k) in (None, "") and item.get(k) not in (None, ""):
                    usage[k] = item[k]
    return Task(
        task_id=task_id,
        status="SUCCESS",
        outputs=[Output.from_api(d) for d in data if isinstance(d, dict)],
        usage=Usage.model_validate(usage) if usage else None,
    )


# ---------------------------------------------------------------- calls


def submit_call(path: str, body: dict[str, Any]) -> Call[Task]:
    return Call("POST", f"/openapi/v2/{path}", lambda b: task_from_v2(b, path), body=body, kind="submit")


def query_call(task_id: str, endpoint: str | None = None) -> Call[Task]:
    def parse(b: Any) -> Task:
        task = task_from_v2(b, endpoint)
        if not task.task_id:  # some answers leave taskId out; it is the one we asked about
            task.task_id = task_id
        return task

    return Call("POST", "/openapi/v2/query", parse, body={"taskId": task_id}, task_id=task_id)


def legacy_status_call(task_id: str) -> Call[Task]:
    """/task/openapi/status: ``data`` is the bare status string (deprecated; the docs' example is "")."""

    def parse(b: Any) -> Task:
        data = envelope_data(b)
        return Task(task_id=task_id, status=_status(data) if isinstance(data, str) else "")

    return Call("POST", "/task/openapi/status", parse, body={"taskId": task_id}, auth="body", task_id=task_id)


def task_from_webhook(payload: Any) -> Task:
    """The task a TASK_END callback reports, in both forms RunningHub sends: ``eventData`` as the v2
    task object (Standard Model tasks) or as a JSON string holding the /task/openapi/outputs answer
    (workflow / AI-app tasks). The callback is unauthenticated: confirm with a query before trusting it."""
    if not isinstance(payload, dict) or not payload.get("taskId"):
        raise ResponseFormatError("Expected a TASK_END payload with a taskId")
    task_id = str(payload["taskId"])
    data = payload.get("eventData")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise ResponseFormatError("eventData is neither an object nor JSON text") from None
    if isinstance(data, dict) and "code" in data and "taskId" not in data:
        return _task_from_legacy_outputs(data, task_id)
    task = task_from_v2(data)
    if not task.task_id:
        task.task_id = task_id
    return task


def uploaded_file(body: Any) -> UploadedFile:
    """An upload answer (v2 ``{code, message, data}`` or legacy ``{code, msg, data}``)."""
    data = envelope_data(body)
    if not isinstance(data, dict):
        raise ResponseFormatError(f"Expected the uploaded file in data, got {type(data).__name__}")
    return UploadedFile.model_validate(data)


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


_ID = re.compile(r"^[1-9][0-9]{0,19}$")


def numeric_id(value: Any, what: str) -> str:
    """A workflow/app id as the digits RunningHub issues, or a clear error before any request."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not _ID.match(text):
        raise InvalidInputError(
            f"{what} must be the number from its RunningHub page (e.g. 1904136902449209346), got {value!r}",
            hint=f"Copy the {what} from the address bar of its page on runninghub.ai / runninghub.cn.",
        )
    return text


@dataclass(frozen=True)
class RunOptions:
    """Optional fields of a workflow or AI-app run, as the docs and official clients name them.

    ``use_personal_queue`` (exclusive keys: queue instead of failing when every own machine is
    busy), ``retain_seconds`` (billed machine retention; sent only when > 0, as one client notes),
    ``access_password`` (password-protected workflows/apps; inferred from the field's name),
    ``instance_type`` ("plus" = 48 GB machine), ``add_metadata`` (workflows: write the prompt into
    image metadata, default true on the service)."""

    webhook_url: str | None = None
    instance_type: str | None = None
    use_personal_queue: bool | None = None
    retain_seconds: int | None = None
    access_password: str | None = None
    add_metadata: bool | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.webhook_url:
            out["webhookUrl"] = _text(self.webhook_url, "webhook_url")
        if self.instance_type:
            out["instanceType"] = _text(self.instance_type, "instance_type")
        if self.use_personal_queue is not None:
            out["usePersonalQueue"] = _flag(self.use_personal_queue, "use_personal_queue")
        if self.retain_seconds is not None:
            if isinstance(self.retain_seconds, bool) or not isinstance(self.retain_seconds, int):
                raise InvalidInputError(
                    f"retain_seconds must be a whole number of seconds, got {self.retain_seconds!r}"
                )
            if self.retain_seconds < 0:
                raise InvalidInputError("retain_seconds must be >= 0")
            if self.retain_seconds > 0:
                out["retainSeconds"] = self.retain_seconds
        if self.access_password:
            out["accessPassword"] = _text(self.access_password, "access_password")
        if self.add_metadata is not None:
            out["addMetadata"] = _flag(self.add_metadata, "add_metadata")
        return out


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return value.strip()


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be true or false, got {value!r}")
    return value


def _inline_workflow(workflow: Any) -> str:
    """The API-format workflow JSON as the string the create call takes (``workflow`` field)."""
    parsed = workflow
    if isinstance(workflow, str):
        try:
            parsed = json.loads(workflow)
        except ValueError as exc:
            raise InvalidInputError(f"workflow is not valid JSON: {exc}") from None
    if (
        not isinstance(parsed, dict)
        or not parsed
        or not all(isinstance(n, dict) and "class_type" in n for n in parsed.values())
    ):
        raise InvalidInputError(
            "workflow must be a ComfyUI workflow in API format: {node id: {class_type, inputs}}",
            hint="Export it with 'Save (API Format)' in ComfyUI, or read one with get_workflow_json.",
        )
    return json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))


def workflow_call(
    workflow_id: str | int | None,
    node_info_list: list[dict[str, Any]] | None = None,
    *,
    workflow: str | dict[str, Any] | None = None,
    options: RunOptions | None = None,
) -> Call[Task]:
    """POST /task/openapi/create: a saved workflow by id, or an inline API-format ``workflow``."""
    extra: dict[str, Any] = {}
    if workflow is not None:
        extra["workflow"] = _inline_workflow(workflow)
    if workflow_id is not None or workflow is None:
        extra["workflowId"] = numeric_id(workflow_id, "workflow_id")
    body = _node_body(node_info_list, {**extra, **(options or RunOptions()).body()})
    label = f"workflow:{extra.get('workflowId', 'inline')}"
    return Call(
        "POST",
        "/task/openapi/create",
        lambda b: _task_from_legacy_create(b, label),
        body=body,
        auth="body",
        kind="submit",
    )


def ai_app_call(
    webapp_id: str | int, node_info_list: list[dict[str, Any]], *, options: RunOptions | None = None
) -> Call[Task]:
    """POST /task/openapi/ai-app/run. ``webappId`` goes as a JSON integer, as in the docs' example
    and the official clients (int64 in the schema; Python's JSON keeps all 19 digits exact)."""
    wid = numeric_id(webapp_id, "webapp_id")
    body = _node_body(node_info_list, {"webappId": int(wid), **(options or RunOptions()).body()})
    return Call(
        "POST",
        "/task/openapi/ai-app/run",
        lambda b: _task_from_legacy_create(b, f"ai-app:{wid}"),
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
    if ref == "file_name":
        value = uploaded.file_name or uploaded.download_url
    else:
        value = uploaded.download_url or uploaded.file_name
    if index is None:
        body[key] = value
    else:
        body[key][index] = value


def upload_call(source: MediaSource) -> Call[UploadedFile]:
    # The v2 upload answers {code, message, data:{download_url, fileName, ...}}; success iff code == 0.
    return Call(
        "POST",
        "/openapi/v2/media/upload/binary",
        uploaded_file,
        kind="upload",
        upload=source,
    )
