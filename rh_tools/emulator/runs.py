"""Starting ComfyUI workflow and AI-app tasks, shared by the legacy routes and their v2 twins.

Why shared: ``/task/openapi/create`` and ``/openapi/v2/run/workflow/{id}`` (likewise the AI-app
pair) run the same thing and differ only in the answer's shape, chosen by ``api``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from .core import Core, Refusal
from .shapes import envelope, legacy_error, v2_error
from .state import Output, Task
from .workflows import workflow_outputs

__all__ = ["origin_of", "read_json", "start_app", "start_workflow"]


def origin_of(request: Request) -> str:
    """Scheme and host the client used: result links must point back at the same place."""
    return str(request.base_url).rstrip("/")


async def read_json(request: Request, api: str) -> dict[str, Any]:
    """The JSON object body, or a ``Refusal`` in the ``api`` family's shape."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if api == "legacy":
            raise Refusal(legacy_error(301))
        raise Refusal(v2_error("1007", "the body must be a JSON object", "请求体必须是JSON对象"))
    return body


def _refuse(api: str, legacy_code: int, v2_code: str, en: str = "", zh: str = "", *, msg: str | None = None) -> Refusal:
    if api == "legacy":
        return Refusal(legacy_error(legacy_code, msg=msg))
    return Refusal(v2_error(v2_code, en, zh))


def _node_mismatch(api: str, node_id: Any, field: Any, en: str, zh: str) -> Refusal:
    """803 with the detail a real answer gives in ``msg`` (S08), not only the identifier."""
    detail = f"NODE_INFO_MISMATCH(nodeId={node_id}, fieldName={field}, reason=node_not_found_in_workflow)"
    return _refuse(api, 803, "803", en, zh, msg=detail)


def _node_list(body: Mapping[str, Any], api: str, required: bool) -> list[Mapping[str, Any]]:
    nodes = body.get("nodeInfoList")
    if nodes is None:
        if required:
            raise _refuse(api, 301, "1007", "'nodeInfoList' is required", "缺少必填参数 nodeInfoList")
        return []
    if not isinstance(nodes, list) or not all(
        isinstance(n, Mapping) and n.get("nodeId") not in (None, "") and n.get("fieldName") for n in nodes
    ):
        raise _refuse(
            api,
            803,
            "803",
            "each nodeInfoList item needs nodeId and fieldName",
            "nodeInfoList 每项需要 nodeId 与 fieldName",
        )
    return nodes


def _webhook(body: Mapping[str, Any], api: str) -> str | None:
    url = body.get("webhookUrl")
    if url in (None, ""):
        return None
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise _refuse(api, 301, "1007", "'webhookUrl' must be an http(s) URL", "webhookUrl 必须是 http(s) 地址")
    return url


def _node_errors_fault(core: Core, request: Request, api: str) -> None:
    """The ``node_errors`` fault: ComfyUI validation failed, no task was created. INFERRED shape:
    code 0 with ``promptTips`` listing node_errors (which clients must check, S05) and taskId 0."""
    if core.faults.take("node_errors", request.url.path) is None:
        return
    tips = {
        "result": False,
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"},
        "outputs_to_execute": [],
        "node_errors": {"3": {"errors": [{"type": "value_not_in_list", "message": "Value not in list"}]}},
    }
    if api == "legacy":
        data = {"netWssUrl": None, "taskId": 0, "clientId": "", "taskStatus": "FAILED", "promptTips": json.dumps(tips)}
        raise Refusal(envelope(data))
    raise Refusal(v2_error("433", "workflow validation failed", "工作流校验失败"))


def start_workflow(core: Core, request: Request, key: str, body: Mapping[str, Any], workflow_id: Any, api: str) -> Task:
    """Check and start a workflow run (unknown id 380, bad nodeInfoList 803, bad JSON 433)."""
    prompt: Any = None
    if isinstance(body.get("workflow"), str) and body["workflow"].strip():
        try:
            prompt = json.loads(body["workflow"])
        except ValueError:
            prompt = None
        if not isinstance(prompt, Mapping):
            raise _refuse(api, 433, "1007", "'workflow' is not API-format JSON", "workflow 不是 API 格式的 JSON")
    else:
        wid = str(workflow_id or "").strip()
        if not wid:
            raise _refuse(api, 301, "1007", "'workflowId' is required", "缺少必填参数 workflowId")
        wf = core.workflows.get(wid)
        if wf is None:
            raise _refuse(api, 380, "380")
        prompt = wf.get("prompt", {})
    nodes = _node_list(body, api, required=False)
    for n in nodes:
        node = prompt.get(str(n["nodeId"]))
        if not isinstance(node, Mapping) or str(n["fieldName"]) not in (node.get("inputs") or {}):
            raise _node_mismatch(
                api,
                n["nodeId"],
                n["fieldName"],
                f"node {n['nodeId']} has no input {n['fieldName']!r}",
                f"节点 {n['nodeId']} 没有输入 {n['fieldName']}",
            )
    _node_errors_fault(core, request, api)
    outs = workflow_outputs(prompt)
    kind = outs[0][1]
    cfg = core.config
    outputs = [Output(str(cfg.output_formats.get(k, "png")), node_id=nid) for nid, k in outs]
    return core.create_task(
        key=key,
        family="workflow",
        api=api,
        endpoint=str(workflow_id or "inline"),
        submit_path=request.url.path,
        kind=kind,
        outputs=outputs,
        price=round(float(cfg.prices.get(kind, 0.1)), 2),
        origin=origin_of(request),
        webhook_url=_webhook(body, api),
    )


def start_app(
    core: Core,
    request: Request,
    key: str,
    body: Mapping[str, Any],
    webapp_id: Any,
    api: str,
    *,
    quick: bool = False,
) -> Task:
    """Check and start an AI-app run (unknown id 901, bad nodeInfoList 803, missing fields 301)."""
    # webappId arrives as a string or as a (possibly precision-damaged) JSON number.
    wid = (
        str(int(webapp_id))
        if isinstance(webapp_id, (int, float)) and not isinstance(webapp_id, bool)
        else str(webapp_id or "")
    )
    if not wid.strip():
        raise _refuse(api, 301, "1007", "'webappId' is required", "缺少必填参数 webappId")
    app = core.webapps.get(wid.strip())
    if app is None:
        raise _refuse(api, 901, "901")
    if quick and not str(body.get("quickCreateCode") or "").strip():
        raise _refuse(api, 301, "1007", "'quickCreateCode' is required", "缺少必填参数 quickCreateCode")
    nodes = _node_list(body, api, required=True)
    known = {(str(n.get("nodeId")), str(n.get("fieldName"))) for n in app.get("nodeInfoList", [])}
    for n in nodes:
        if (str(n["nodeId"]), str(n["fieldName"])) not in known:
            raise _node_mismatch(
                api,
                n["nodeId"],
                n["fieldName"],
                f"the app has no field {n['nodeId']}/{n['fieldName']}",
                f"应用没有字段 {n['nodeId']}/{n['fieldName']}",
            )
    _node_errors_fault(core, request, api)
    kind = str(app.get("output", "image"))
    cfg = core.config
    outputs = [Output(str(cfg.output_formats.get(kind, "png")), node_id=str(app.get("outputNodeId", "9")))]
    return core.create_task(
        key=key,
        family="ai-app",
        api=api,
        endpoint=wid,
        submit_path=request.url.path,
        kind=kind,
        outputs=outputs,
        price=round(float(cfg.prices.get(kind, 0.1)), 2),
        origin=origin_of(request),
        webhook_url=_webhook(body, api),
    )
