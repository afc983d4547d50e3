"""The client's brain, without I/O: what to send, how to read the answer, whether to try again.

``RunningHub`` and ``AsyncRunningHub`` only send the :class:`Call` objects built here and sleep
where :func:`retry_delay` or :class:`Waiter` says; everything they decide is decided here once,
so the twins cannot drift apart and every decision is unit-testable without a network.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar

from . import _constants as C
from ._config import ClientConfig
from ._exceptions import (
    SUBMIT_RETRY_CODES,
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    InvalidInputError,
    ResponseFormatError,
    RunningHubError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    error_for_code,
    error_for_status,
)
from ._media import MediaSource, Multipart
from ._polling import DurationHistory, PollPolicy
from .types import (
    Account,
    Output,
    PricePreview,
    QueueStatus,
    Task,
    TaskResult,
    UploadedFile,
    Usage,
    WebhookDetail,
)

__all__ = [
    "Call",
    "Waiter",
    "account_call",
    "apply_upload",
    "ai_app_call",
    "ai_app_demo_call",
    "cancel_call",
    "decode_response",
    "legacy_outputs_call",
    "list_ai_apps_call",
    "lora_upload_url_call",
    "price_preview_call",
    "query_call",
    "queue_status_call",
    "install_log_redaction",
    "redact",
    "refuse_unsendable",
    "request_kwargs",
    "resend_webhook_call",
    "retry_delay",
    "submit_call",
    "task_from_v2",
    "transport_error",
    "upload_call",
    "webhook_detail_call",
    "workflow_call",
    "workflow_json_call",
]

log = logging.getLogger("rh_tools")
T = TypeVar("T")

# How the key travels: v2 uses Bearer only; legacy endpoints read it from the body (and newer doc
# pages also show Bearer, so both are sent); accountStatus spells it `apikey`; the AI-app list of
# the official skill sends the bare key as Authorization; apiCallDemo is a GET with it in the query.
Auth = Literal["bearer", "body", "body_lower", "raw", "query"]
# Retry class: "submit" may create a paid task; "query" is idempotent; "action" changes state
# without cost (cancel, webhook resend) and is retried only when it provably was not sent.
Kind = Literal["submit", "query", "action", "upload"]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    auth: Auth = "bearer"
    kind: Kind = "query"
    task_id: str | None = None
    upload: MediaSource | None = None
    form: dict[str, str] = field(default_factory=dict)


def request_kwargs(call: Call[Any], config: ClientConfig, *, async_: bool = False) -> dict[str, Any]:
    """httpx.request(...) arguments for ``call`` (the key is read here and nowhere else)."""
    key = config.key()
    if not key.isascii():  # HTTP headers are ASCII: httpx would raise a bare UnicodeEncodeError
        raise ConfigurationError("The API key contains non-ASCII characters",
                                 hint="Copy the 32-character key from the RunningHub console again.")
    headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
    if call.auth == "raw":
        headers["Authorization"] = key
    else:
        headers["Authorization"] = f"Bearer {key}"
    body = dict(call.body) if call.body is not None else None
    query = dict(call.query) if call.query else None
    if call.auth == "body":
        body = {"apiKey": key, **(body or {})}
    elif call.auth == "body_lower":
        body = {"apikey": key, **(body or {})}
    elif call.auth == "query":
        query = {"apiKey": key, **(query or {})}
    kw: dict[str, Any] = {"method": call.method, "url": config.base_url + call.path, "headers": headers}
    if query:
        kw["params"] = query
    if call.upload is not None:
        form = dict(call.form)
        if call.auth == "body":
            form = {"apiKey": key, **form}
        mp = Multipart(call.upload, form)
        headers.update(mp.headers)
        kw["content"] = mp.__aiter__() if async_ else iter(mp)
    elif body is not None:
        kw["json"] = body
    return kw


_SECRET_PARAM = re.compile(r"((?:api_?key|Rh-Comfy-Auth|q-signature|token|sign)=)[^&\s]+", re.I)


def refuse_unsendable(body: Any, names: Mapping[str, str] | None = None, *, context: str = "") -> None:
    """Refuse, before sending, a body JSON cannot carry: NaN/±Infinity (validation lets them through
    where a float has no range) and unpaired surrogates (JSON escapes like "\\ud800" decode to them).
    httpx would raise a bare ValueError/UnicodeEncodeError mid-request instead of a clear error.
    ``names`` maps body keys to the argument names the caller used, for the message."""
    found = _unsendable(body, ()) if body is not None else None
    if found is not None:
        where, problem = found
        if where and names and where[0] in names:
            where = (names[where[0]], *where[1:])
        field_name = ".".join(map(str, where)) or "(body)"
        raise InvalidInputError(f"{context}{field_name}: {problem}",
                                details=[{"field": field_name, "problem": problem}])


def _unsendable(value: Any, where: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return where, f"{value} is not a finite number; JSON and the API take finite numbers"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where, "contains an unpaired surrogate (invalid Unicode); send valid UTF-8 text"
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        if (found := _unsendable(k, where) if isinstance(k, str) else None) is not None:
            return (*where, repr(k)), found[1]
        if (found := _unsendable(v, (*where, k))) is not None:
            return found
    return None


_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+", re.I)


def redact(text: str) -> str:
    """Strip credentials and URL signatures from text bound for logs or errors."""
    return _BEARER.sub(r"\1***", _SECRET_PARAM.sub(r"\1***", text))


class RedactingFilter(logging.Filter):
    """Redacts log records of a logger we do not own. httpx logs every request URL at INFO, and
    two RunningHub routes take the key in the query string (apiCallDemo), as do signed output URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours to hide
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger_name: str = "httpx") -> None:
    """Idempotently put a :class:`RedactingFilter` on ``logger_name``."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def decode_response(call: Call[T], status: int, headers: Mapping[str, str], content: bytes) -> T:
    """Turn an HTTP answer into the call's result, or raise the mapped error."""
    retry_after = _retry_after(headers)
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
        if status >= 400:
            raise _with_task(error_for_status(status, f"HTTP {status} with a non-JSON body",
                                              retry_after=retry_after), call)
        snippet = content[:80].decode("utf-8", "replace").strip()
        raise _with_task(ResponseFormatError(f"RunningHub answered HTTP {status} with non-JSON: {snippet!r}",
                                             status_code=status), call) from None
    code = _body_code(body)
    if status >= 400 and code is None:
        raise _with_task(error_for_status(status, _body_message(body) or f"HTTP {status}",
                                          retry_after=retry_after), call)
    try:
        return call.parse(body)
    except RunningHubError as err:
        if err.status_code is None:
            err.status_code = status
        if err.retry_after is None:
            err.retry_after = retry_after
        raise _with_task(err, call) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _with_task(ResponseFormatError(f"Unexpected response shape from {call.path}: {exc}",
                                             status_code=status), call) from None


def _with_task(err: RunningHubError, call: Call[Any]) -> RunningHubError:
    if err.task_id is None and call.task_id:
        err.task_id = call.task_id
    if call.kind == "submit" and _submit_outcome_unknown(err):
        err.retryable = False
        err.hint = _SUBMIT_MAY_EXIST
    return err


# A paid submit whose answer was lost or garbled may still have created (and billed) a task, so it
# must not be reported as "retry it": an agent would resubmit and pay twice.
_SUBMIT_MAY_EXIST = (
    "The submit may have reached RunningHub and created a billed task although no usable answer came back. "
    "Check recent tasks (account running count / RunningHub console) before submitting again."
)


def _submit_outcome_unknown(err: RunningHubError) -> bool:
    """True when a failed submit's answer does not prove that no task was created."""
    if isinstance(err, APIConnectionError):
        return err.sent
    if isinstance(err, ResponseFormatError):
        return True
    return isinstance(err, ServerError) and _int(err.code) in (None, 500, 1000)


def _body_code(body: Any) -> Any:
    if not isinstance(body, dict):
        return None
    if body.get("errorCode") not in (None, "", 0, "0"):
        return body["errorCode"]
    if "code" in body and body.get("code") not in (0, "0", 200, "200"):
        return body.get("code")
    return None


def _body_message(body: Any) -> str | None:
    if isinstance(body, dict):
        for k in ("errorMessage", "msg", "message", "error"):
            if isinstance(body.get(k), str) and body[k]:
                return str(body[k])
    return None


def transport_error(exc: Exception, call: Call[Any]) -> APIConnectionError:
    """Classify an httpx transport failure; ``sent=False`` only when the request never left."""
    import httpx  # local: keeps httpx out of import-time of modules that only need decisions

    name = type(exc).__name__
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    hint: str | None = None
    retryable: bool | None = None
    if call.kind == "submit" and sent:
        hint = ("The connection broke after the submit was sent, so a task may have been created and billed. "
                "Check recent tasks (account running count / RunningHub console) before submitting again.")
        retryable = False  # not "send it again": that could buy the same generation twice
    return cls(f"{name} during {call.method} {redact(call.path)}: {redact(str(exc)) or name}", sent=sent,
               task_id=call.task_id, hint=hint, retryable=retryable)


def retry_delay(kind: Kind, attempt: int, max_retries: int, error: RunningHubError,
                rng: random.Random | None = None) -> float | None:
    """Seconds to wait before retrying, or None to give up. ``attempt`` counts retries already made."""
    if attempt >= max_retries:
        return None
    if kind == "submit":
        allowed = (
            (isinstance(error, APIConnectionError) and not error.sent)
            or error.status_code == 429
            or _int(error.code) in SUBMIT_RETRY_CODES
        )
    elif kind == "action":
        allowed = isinstance(error, APIConnectionError) and not error.sent
    else:
        allowed = error.retryable
    if not allowed:
        return None
    if error.retry_after is not None:
        return None if error.retry_after > C.RETRY_AFTER_CAP else error.retry_after
    backoff = min(C.RETRY_BASE_DELAY * (2**attempt), C.RETRY_MAX_DELAY)
    return backoff * (0.5 + 0.5 * (rng or random).random())


def _int(code: Any) -> int | None:
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- response readers


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
    return Task(task_id=str(data["taskId"]), status=str(data.get("taskStatus") or "QUEUED").upper(),
                endpoint=endpoint, prompt_tips=tips if isinstance(tips, str) else None)


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
        return Task(task_id=task_id, status="FAILED", error_code="805",
                    error_message=_body_message(body), failed_reason=data.get("failedReason"))
    data = envelope_data(body)
    if not data:  # some answers say "still running" as code 0 with no data
        return Task(task_id=task_id, status="RUNNING")
    usage = {k: data[0].get(k) for k in ("consumeMoney", "consumeCoins", "thirdPartyConsumeMoney", "taskCostTime")
             if isinstance(data[0], dict) and k in data[0]}
    return Task(task_id=task_id, status="SUCCESS", outputs=[Output.from_api(d) for d in data],
                usage=Usage.model_validate(usage) if usage else None)


# ---------------------------------------------------------------- calls


def submit_call(path: str, body: dict[str, Any]) -> Call[Task]:
    return Call("POST", f"/openapi/v2/{path}", lambda b: task_from_v2(b, path), body=body, kind="submit")


def query_call(task_id: str, endpoint: str | None = None) -> Call[Task]:
    return Call("POST", "/openapi/v2/query", lambda b: task_from_v2(b, endpoint), body={"taskId": task_id},
                task_id=task_id)


def legacy_outputs_call(task_id: str) -> Call[Task]:
    return Call("POST", "/task/openapi/outputs", lambda b: _task_from_legacy_outputs(b, task_id),
                body={"taskId": task_id}, auth="body", task_id=task_id)


def cancel_call(task_id: str) -> Call[None]:
    return Call("POST", "/task/openapi/cancel", lambda b: (envelope_data(b), None)[1], body={"taskId": task_id},
                auth="body", kind="action", task_id=task_id)


def account_call() -> Call[Account]:
    return Call("POST", "/uc/openapi/accountStatus", lambda b: Account.model_validate(envelope_data(b) or {}),
                body={}, auth="body_lower")


def queue_status_call() -> Call[QueueStatus]:
    return Call("GET", "/openapi/v2/queue/status", lambda b: QueueStatus.model_validate(envelope_data(b) or {}))


def price_preview_call(path: str, body: dict[str, Any]) -> Call[PricePreview]:
    return Call("POST", f"/openapi/v2/price-preview/{path}", lambda b: PricePreview.model_validate(v2_object(b)),
                body=body)


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
    return Call("POST", "/task/openapi/create", lambda b: _task_from_legacy_create(b, f"workflow:{workflow_id}"),
                body=body, auth="body", kind="submit")


def ai_app_call(webapp_id: str, node_info_list: list[dict[str, Any]], **options: Any) -> Call[Task]:
    body = _node_body(node_info_list, {"webappId": str(webapp_id), **options})
    return Call("POST", "/task/openapi/ai-app/run", lambda b: _task_from_legacy_create(b, f"ai-app:{webapp_id}"),
                body=body, auth="body", kind="submit")


def workflow_json_call(workflow_id: str) -> Call[dict[str, Any]]:
    def parse(b: Any) -> dict[str, Any]:
        prompt = (envelope_data(b) or {}).get("prompt")
        return json.loads(prompt) if isinstance(prompt, str) else dict(prompt or {})

    return Call("POST", "/api/openapi/getJsonApiFormat", parse, body={"workflowId": str(workflow_id)}, auth="body")


def ai_app_demo_call(webapp_id: str) -> Call[dict[str, Any]]:
    return Call("GET", "/api/webapp/apiCallDemo", lambda b: dict(envelope_data(b) or {}),
                query={"webappId": str(webapp_id)}, auth="query")


def list_ai_apps_call(current: int = 1, size: int = 20, sort: str = "RECOMMEND", days: int | None = None
                      ) -> Call[dict[str, Any]]:
    if not 1 <= size <= 50:
        raise InvalidInputError("size must be between 1 and 50")
    body: dict[str, Any] = {"current": current, "size": size, "sort": sort}
    if days is not None:
        body["days"] = days
    # The official skill sends the bare key (no "Bearer") on this route; we follow it.
    return Call("POST", "/openapi/v2/aiapp/list", lambda b: dict(envelope_data(b) or {}), body=body, auth="raw")


def webhook_detail_call(task_id: str) -> Call[WebhookDetail]:
    return Call("POST", "/task/openapi/getWebhookDetail", lambda b: WebhookDetail.model_validate(envelope_data(b) or {}),
                body={"taskId": task_id}, auth="body", task_id=task_id)


def resend_webhook_call(webhook_id: str, webhook_url: str) -> Call[None]:
    return Call("POST", "/task/openapi/retryWebhook", lambda b: (envelope_data(b), None)[1],
                body={"webhookId": str(webhook_id), "webhookUrl": webhook_url}, auth="body", kind="action")


def lora_upload_url_call(lora_name: str, md5_hex: str) -> Call[dict[str, Any]]:
    return Call("POST", "/api/openapi/getLoraUploadUrl", lambda b: dict(envelope_data(b) or {}),
                body={"loraName": lora_name, "md5Hex": md5_hex}, auth="body")


def apply_upload(body: dict[str, Any], key: str, index: int | None, uploaded: UploadedFile, ref: str) -> None:
    """Put an upload's URL (or file name, for '##' workflow slots) where the local file was."""
    value = uploaded.file_name if ref == "file_name" or not uploaded.download_url else uploaded.download_url
    if index is None:
        body[key] = value
    else:
        body[key][index] = value


def upload_call(source: MediaSource) -> Call[UploadedFile]:
    # The v2 upload answers {code, message, data:{download_url, fileName, ...}}; success iff code == 0.
    return Call("POST", "/openapi/v2/media/upload/binary", lambda b: UploadedFile.model_validate(envelope_data(b)),
                kind="upload", upload=source)


# ---------------------------------------------------------------- waiting


@dataclass
class Waiter:
    """The one polling loop's state and decisions; the twins call it and sleep where it says.

    Deadline semantics: one overall deadline for the wait; the last poll happens at the deadline, so
    a task finishing just before it is still returned rather than reported as timed out.
    """

    task_id: str
    deadline: float
    policy: PollPolicy
    history: DurationHistory | None = None
    history_key: str | None = None
    started: float = field(default_factory=time.monotonic)
    # Polls are scheduled (and durations learnt) from when the task was created, not from when the
    # call began: under load a submit can wait for a connection slot for seconds, and counting that
    # wait would put every poll early. None: the same as ``started``.
    anchor: float | None = None
    clock: Callable[[], float] = time.monotonic
    on_status: Callable[[Task, float], Any] | None = None
    polls: int = 0
    failures: int = 0
    last: Task | None = None
    last_not_done_at: float = 0.0
    _prev_delay: float | None = None
    _final_poll_done: bool = False
    _warm: bool = False  # the last sleep aimed at a learnt window
    _target: float = 0.0  # task age the next cold poll aims at

    def elapsed(self) -> float:
        """Seconds since the call began (what callers and results report)."""
        return self.clock() - self.started

    def age(self) -> float:
        """Seconds since the task was created (what polling decisions use)."""
        return self.clock() - (self.started if self.anchor is None else self.anchor)

    def next_delay(self) -> float | None:
        """Sleep this long, then poll; None means the deadline has passed (raise :meth:`timeout`)."""
        now = self.clock()
        remaining = self.deadline - now
        if remaining <= 0:
            if self._final_poll_done:
                return None
            self._final_poll_done = True  # one last look at the deadline (timeout=0 means "check once")
            return 0.0
        expected = self.history.expect(self.history_key) if self.history and self.history_key else None
        self._warm = expected is not None
        age = self.age()
        delay = self.policy.next_delay(age, self._prev_delay, expected)
        self._prev_delay = delay
        if expected is None and delay > 0:
            # Cold back-off runs on a fixed timetable of task ages (0.5, 1.25, 2.4 … s): a poll that
            # was itself late (a busy event loop, queued connections) does not push the later ones back.
            self._target = max(self._target + delay, age + min(delay, self.policy.floor))
            delay = self._target - age
        if delay >= remaining:
            self._final_poll_done = True
            return remaining
        return delay

    def observe(self, task: Task, *, polled: bool = True) -> TaskResult | None:
        """Record one status; return the result when done, raise on failure, None to keep polling."""
        self.failures = 0
        self.polls += polled
        self.last = task
        if self.on_status is not None:
            try:
                self.on_status(task, self.elapsed())
            except Exception:  # a progress callback must never lose the task
                log.exception("status callback failed")
        if task.status == "SUCCESS":
            elapsed = self.elapsed()
            if self.history and self.history_key:
                # The task ended in (lo, hi]; learn the middle. After a jump straight into a learnt
                # window the bracket reaches back to the submit and says little: count at most two
                # poll steps of it, so what is learnt errs early (an extra poll next time) rather
                # than late (lag), and tasks that got faster still pull the window down.
                lo, hi = self.last_not_done_at, self.age()
                if self._warm:
                    lo = max(lo, hi - 2 * self.policy.step(hi))
                self.history.record(self.history_key, (lo + hi) / 2)
            # SUCCESS with no results is passed on as an empty result (official behaviour unverified).
            return TaskResult(**task.model_dump(), elapsed=elapsed, polls=self.polls)
        if task.status in ("FAILED", "CANCEL") or task.error_code or task.error_message:
            # The official client treats any errorCode on a poll as failure, whatever the status.
            raise _task_failed(task)
        self.last_not_done_at = self.age()
        return None

    def poll_failed(self, error: RunningHubError) -> None:
        """A poll itself failed (after the transport retries): give up if it cannot get better."""
        self.failures += 1
        if error.task_id is None:
            error.task_id = self.task_id
        if not error.retryable or self.failures >= C.MAX_POLL_FAILURES:
            if not error.hint.endswith("later."):
                error.hint = (error.hint + " " if error.hint else "") + (
                    f"The task may still finish: call wait_task/get_task with task_id={self.task_id} later."
                )
            raise error

    def timeout(self) -> TaskTimeoutError:
        return TaskTimeoutError(self.task_id, self.elapsed(), self.last.status if self.last else None)


def _task_failed(task: Task) -> TaskFailedError:
    err = error_for_code(task.error_code, task.error_message or f"Task ended with status {task.status}",
                         task_id=task.task_id, details=task.failed_reason)
    return TaskFailedError(
        err.message, code=err.code, message_zh=err.message_zh, task_id=task.task_id,
        retryable=err.retryable if task.error_code else False,
        hint=err.hint if task.error_code else None, failed_reason=task.failed_reason, status=task.status,
    )
