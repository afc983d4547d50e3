"""Every failure rh-tools reports, as one tree, mapped from HTTP status and RunningHub codes by one table.

::

    RunningHubError                 code, message, message_zh, task_id, retryable, hint
    ├── ConfigurationError          no API key, bad base URL (nothing was sent)
    ├── InvalidInputError           arguments rejected locally, before any request (also a ValueError)
    │   └── UnknownEndpointError    no endpoint of that name; carries close matches
    ├── BudgetError                 a spending limit stopped a paid call before submit (nothing was sent)
    ├── APIConnectionError          the request or its answer was lost in transport; `sent` says
    │   └── APITimeoutError         whether the request may have reached RunningHub
    ├── APIError                    RunningHub answered with an error (HTTP status and/or code)
    │   ├── AuthenticationError     bad, disabled or wrong-kind key (802, 1002, 1014, HTTP 401/403 …)
    │   ├── InsufficientBalanceError                                            (416, 812)
    │   ├── InvalidRequestError     the API rejected the parameters (301, 1007, 433, 803 …)
    │   ├── NotFoundError           unknown task, workflow or app (807, 1004, 380, 901 …)
    │   ├── FileTooLargeError                                                  (809, 1008)
    │   ├── ContentPolicyError      moderation / real-person policy             (1501, 1505)
    │   ├── RateLimitError          concurrency or rate limit: wait and resubmit (421, 415, 1003, 429 …)
    │   │   └── SlotTimeoutError    no task slot of RUNNINGHUB_MAX_CONCURRENCY came free in time (nothing sent)
    │   ├── ServerError             RunningHub-side failure                     (500, 1000, 1005, 5xx …)
    │   └── ResponseFormatError     the answer was not the JSON shape the API documents
    ├── DownloadError               a finished task's output could not be fetched or saved (task_id, URL)
    ├── TaskFailedError             the task ended FAILED or CANCEL; `code` says why
    └── TaskTimeoutError            our wait deadline passed; the task keeps running (resume with wait)

``retryable`` answers "may the *same request* be sent again?"; whether a paid submit may be sent
again is stricter (see ``SUBMIT_RETRY_CODES``): only when the answer proves no task was created.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ._guards import is_object

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BudgetError",
    "CODES",
    "CodeInfo",
    "ConfigurationError",
    "ContentPolicyError",
    "DownloadError",
    "FileTooLargeError",
    "InsufficientBalanceError",
    "InvalidInputError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "RunningHubError",
    "ServerError",
    "SlotTimeoutError",
    "SUBMIT_RETRY_CODES",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnknownEndpointError",
    "error_for_code",
    "error_for_status",
    "failure_summary",
    "is_key_refusal",
    "split_message",
    "trim_failed_reason",
]


class RunningHubError(Exception):
    """Base of every rh-tools error. ``str(err)`` is written for a person or an agent to act on."""

    default_hint = ""
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        message_zh: str | None = None,
        task_id: str | None = None,
        retryable: bool | None = None,
        hint: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        details: Any = None,
    ) -> None:
        self.message = message
        self.code = code
        self.message_zh = message_zh
        self.task_id = task_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.hint = self.default_hint if hint is None else hint
        self.status_code = status_code
        self.retry_after = retry_after
        self.details = details
        super().__init__(message)

    def __str__(self) -> str:
        # Rendered on demand: the client adds task ids and hints as an error travels up.
        return self._render()

    def _render(self) -> str:
        parts: list[str] = []
        if self.code not in (None, ""):
            parts.append(f"[{self.code}]")
        parts.append(self.message)
        if self.message_zh:
            parts.append(f"({self.message_zh})")
        text = " ".join(parts)
        if self.task_id:
            text += f" task_id={self.task_id}"
        if self.hint:
            text += f". {self.hint}" if not text.endswith(".") else f" {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe view for tool results (never holds the API key: errors are built without it)."""
        return {
            "error": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
            "task_id": self.task_id,
            "retryable": self.retryable,
            "hint": self.hint,
            **({"details": self.details} if self.details not in (None, "", {}, []) else {}),
        }


class ConfigurationError(RunningHubError):
    default_hint = "Set RUNNINGHUB_API_KEY (or pass api_key=) and check RUNNINGHUB_BASE_URL."


class InvalidInputError(RunningHubError, ValueError):
    default_hint = "Fix the arguments and call again; nothing was sent and no credits were spent."


class UnknownEndpointError(InvalidInputError):
    default_hint = (
        "Use search_models to find the right name, or pass the API path (e.g. 'rhart-image-g/image-to-image')."
    )


class BudgetError(RunningHubError):
    """A paid call stopped before submit by a spending limit this surface was given (see ``_budget``)."""

    default_hint = (
        "Nothing was submitted and no credits were spent. Choose a cheaper model or options (price_model "
        "shows the price first), or raise the limit."
    )


class APIConnectionError(RunningHubError):
    """Transport failure. ``sent`` is False only when the request provably never left this machine."""

    default_retryable = True
    default_hint = "Network problem talking to RunningHub; retry shortly."

    def __init__(self, message: str, *, sent: bool = True, **kw: Any) -> None:
        self.sent = sent
        super().__init__(message, **kw)


class APITimeoutError(APIConnectionError):
    default_hint = "RunningHub did not answer in time; retry, or raise the request timeout."


class APIError(RunningHubError):
    """RunningHub answered, and the answer is an error."""


class AuthenticationError(APIError):
    default_hint = (
        "Check the API key: it must be the 32-character key of the same site as the base URL "
        "(runninghub.ai vs runninghub.cn); Standard Model endpoints need an Enterprise-Shared key."
    )


class InsufficientBalanceError(APIError):
    default_hint = "Top up the RunningHub wallet/coins, then submit again."


class InvalidRequestError(APIError):
    default_hint = "The API rejected the parameters; use describe_model to see the valid ones, fix and resubmit."


class NotFoundError(APIError):
    default_hint = "Check the id; tasks are only kept for a limited time."


class FileTooLargeError(APIError):
    default_hint = "Use a smaller file (compress or resize it) and try again."


class ContentPolicyError(APIError):
    default_hint = "The content was refused by moderation; change the prompt or the images. Do not retry as is."


class RateLimitError(APIError):
    default_retryable = True
    default_hint = "Too many tasks at once for this key; wait for running tasks to finish, then resubmit."


class SlotTimeoutError(RateLimitError):
    """Every task slot of the account (``RUNNINGHUB_MAX_CONCURRENCY``) stayed busy until the wait's
    deadline. Raised before the submit: nothing was sent and nothing charged. A RateLimitError, so
    code that waits and resubmits after a queue-full answer handles it the same way."""

    default_hint = (
        "Nothing was submitted or charged: all task slots of this account were in use the whole time. "
        "Call again later, or allow a longer wait."
    )


class ServerError(APIError):
    default_retryable = True
    default_hint = "RunningHub-side error; retry later."


class ResponseFormatError(APIError):
    default_retryable = True
    default_hint = "RunningHub answered with something other than the documented JSON; retry later."


class TaskFailedError(RunningHubError):
    """The task reached a terminal failure. ``failed_reason`` holds the ComfyUI details where given,
    trimmed to what an agent can act on (node, exception type and message; never the traceback)."""

    default_hint = "The generation failed; adjust the inputs or try again."

    def __init__(self, message: str, *, failed_reason: Any = None, status: str = "FAILED", **kw: Any) -> None:
        self.failed_reason = trim_failed_reason(failed_reason)
        self.status = status
        kw.setdefault("details", self.failed_reason)
        super().__init__(message, **kw)

    @property
    def node(self) -> str | None:
        """'name (#id)' of the node that failed, when RunningHub said."""
        r = self.failed_reason or {}
        name, node_id = r.get("node_name"), r.get("node_id")
        if name and node_id:
            return f"{name} (#{node_id})"
        return name or (f"#{node_id}" if node_id else None)

    @classmethod
    def from_task(
        cls,
        task_id: str,
        status: str,
        error_code: str | int | None,
        error_message: str | None,
        failed_reason: Any = None,
    ) -> TaskFailedError:
        """The error for a task that ended FAILED/CANCEL, in every shape RunningHub reports one.

        The failure reason goes into the message itself, because the message is what LangChain and
        MCP show the model, and the failing node is what lets an agent fix its inputs."""
        reason = trim_failed_reason(failed_reason)
        n = _as_int(error_code)
        info = CODES.get(n) if n is not None else None
        en, zh = split_message(error_message)
        if info is not None and (not en or en == info.name):
            en = info.text
        if not en:
            en = "The task was cancelled" if status == "CANCEL" else f"The task ended {status or 'FAILED'}"
        summary = failure_summary(reason)
        message = f"{en}: {summary}" if summary and summary not in en else en
        if info is not None and info.error is not TaskFailedError:
            retryable, hint = info.retryable, info.hint or info.error.default_hint
        elif status == "CANCEL":
            retryable, hint = False, "The task was cancelled; submit it again if you still want the result."
        elif reason and _TRANSIENT_FAILURE.search(
            f"{reason.get('exception_type', '')} {reason.get('exception_message', '')}"
        ):
            retryable = True
            hint = (
                "The machine ran out of GPU memory or a service timed out; retry, or for workflows pass "
                "instance_type='plus' (48 GB) or smaller inputs."
            )
        elif reason:
            retryable = False
            where = f"node {reason['node_name']}" if reason.get("node_name") else "a node"
            hint = (
                f"The workflow failed in {where}; fix the input it reads (nodeInfoList value, file name, model "
                "name) and resubmit. Resubmitting unchanged will fail the same way."
            )
        else:
            retryable, hint = False, cls.default_hint
        return cls(
            message,
            code=n if n is not None else (error_code or None),
            message_zh=zh,
            task_id=task_id or None,
            retryable=retryable,
            hint=hint,
            failed_reason=reason,
            status=status or "FAILED",
        )


class DownloadError(RunningHubError):
    """A finished task's output could not be fetched or saved. The task itself succeeded and is paid.

    ``reason`` says why: ``blocked_address`` (the URL points at this machine or a private network),
    ``too_large``, ``decompression`` (a compressed body that expands past the limits), ``timeout``
    (the download's wall-clock limit), ``http_status``, ``redirects``, ``network`` or ``disk``.
    """

    default_hint = (
        "The task succeeded (and is paid for); only saving its output failed. The output URLs still work "
        "for about 24 h: open or download them from there."
    )

    def __init__(
        self, message: str, *, reason: str = "network", url: str | None = None, index: int | None = None, **kw: Any
    ) -> None:
        self.reason = reason
        self.url = url
        self.index = index
        kw.setdefault("retryable", reason in ("network", "timeout", "http_status"))
        super().__init__(message, **kw)


class TaskTimeoutError(RunningHubError):
    """The wait deadline passed. The task is still running server-side and is *not* lost."""

    default_retryable = True

    def __init__(self, task_id: str, waited: float, last_status: str | None = None) -> None:
        self.waited = waited
        self.last_status = last_status
        super().__init__(
            f"Task still {last_status or 'running'} after waiting {waited:.0f}s",
            task_id=task_id,
            hint=f"The task keeps running; call wait_task/get_task with task_id={task_id} later to fetch the result.",
        )


@dataclass(frozen=True)
class CodeInfo:
    name: str
    error: type[RunningHubError]
    retryable: bool
    hint: str = ""

    @property
    def text(self) -> str:
        """Readable English for answers that carry only the identifier (legacy ``msg``) or Chinese."""
        return _TEXTS.get(self.name) or self.name.replace("_", " ").capitalize()


_F, _R = False, True
# Every code of runninghub-api.md section 5 and of tests/fixtures/real/. `retryable` follows the
# official client and the reference's action column (R/W retryable, F not). 804/813 are "still
# running/queued" signals, handled by the status parser before this table is consulted.
CODES: dict[int, CodeInfo] = {
    # Gateway refusal "ApiKey verification failed" (HTTP 401 or 200): a key of the other site, or an
    # Enterprise-Shared key sent in the body of a legacy call (see the corpus, tests/fixtures/real/).
    -1: CodeInfo(
        "APIKEY_VERIFICATION_FAILED",
        AuthenticationError,
        _F,
        "RunningHub refused the key: it must be the key of the same site as the base URL (runninghub.ai vs "
        "runninghub.cn). If the same key worked moments ago, retry once.",
    ),
    301: CodeInfo("PARAMS_INVALID", InvalidRequestError, _F),
    380: CodeInfo("WORKFLOW_NOT_EXISTS", NotFoundError, _F, "Check the workflow id."),
    412: CodeInfo("TOKEN_INVALID", InvalidRequestError, _F, "The API path is wrong; check the base URL."),
    415: CodeInfo("TASK_INSTANCE_MAXED", RateLimitError, _R, "No free dedicated instance; retry in 30-120 s."),
    416: CodeInfo("TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET", InsufficientBalanceError, _F),
    421: CodeInfo("TASK_QUEUE_MAXED", RateLimitError, _R),
    423: CodeInfo("TASK_NOT_FOUNED", NotFoundError, _F),
    433: CodeInfo(
        "VALIDATE_PROMPT_FAILED", InvalidRequestError, _F, "The workflow failed validation; see the message."
    ),
    435: CodeInfo(
        "TASK_USER_EXCLAPI_INSTANCE_NOT_FOUND",
        InvalidRequestError,
        _F,
        "No dedicated instance; for 48 GB machines pass instance_type='plus'.",
    ),
    436: CodeInfo("TASK_USER_EXCLAPI_REQUIRED", AuthenticationError, _F, "The dedicated-API membership has expired."),
    500: CodeInfo("UNKNOWN_ERROR", ServerError, _R),
    801: CodeInfo("APIKEY_UNSUPPORTED_FREE_USER", AuthenticationError, _F, "Free accounts cannot use the API."),
    802: CodeInfo("APIKEY_UNAUTHORIZED", AuthenticationError, _F),
    803: CodeInfo(
        "APIKEY_INVALID_NODE_INFO",
        InvalidRequestError,
        _F,
        "nodeInfoList does not match the workflow; read it with get_workflow_json.",
    ),
    804: CodeInfo("APIKEY_TASK_IS_RUNNING", ServerError, _R, "Still running; poll again."),
    805: CodeInfo("APIKEY_TASK_STATUS_ERROR", TaskFailedError, _F),
    806: CodeInfo("APIKEY_USER_NOT_FOUND", AuthenticationError, _F),
    807: CodeInfo("APIKEY_TASK_NOT_FOUND", NotFoundError, _F),
    808: CodeInfo("APIKEY_UPLOAD_FAILED", ServerError, _R),
    809: CodeInfo("APIKEY_FILE_SIZE_EXCEEDED", FileTooLargeError, _F),
    810: CodeInfo(
        "WORKFLOW_NOT_SAVED_OR_NOT_RUNNING",
        InvalidRequestError,
        _F,
        "Run the workflow once successfully on the RunningHub website, then call again.",
    ),
    811: CodeInfo("CORPAPIKEY_INVALID", AuthenticationError, _F),
    812: CodeInfo("CORPAPIKEY_INSUFFICIENT_FUNDS", InsufficientBalanceError, _F),
    813: CodeInfo("APIKEY_TASK_IS_QUEUED", ServerError, _R, "Queued; poll again."),
    814: CodeInfo("PERSONAL_QUEUE_COUNT_LIMIT", RateLimitError, _R, "Personal queue full (1000); wait."),
    901: CodeInfo("WEBAPP_NOT_EXISTS", NotFoundError, _F, "Check the AI app id."),
    1000: CodeInfo("UNKNOWN_ERROR", ServerError, _R),
    1001: CodeInfo("INVALID_URL", InvalidRequestError, _F, "The endpoint path or an input URL is wrong."),
    1002: CodeInfo("INVALID_API_KEY", AuthenticationError, _F),
    1003: CodeInfo("RATE_LIMITED", RateLimitError, _R, "Slow down; retrying with back-off."),
    1004: CodeInfo("TASK_NOT_FOUND", NotFoundError, _F, "Unknown or expired task id."),
    1005: CodeInfo("INTERNAL_ERROR", ServerError, _R),
    1006: CodeInfo("TASK_TIMEOUT", ServerError, _R, "The task timed out on RunningHub; submit it again."),
    1007: CodeInfo("INVALID_PARAMETERS", InvalidRequestError, _F),
    1008: CodeInfo("FILE_TOO_LARGE", FileTooLargeError, _F),
    1009: CodeInfo("METHOD_NOT_SUPPORTED", InvalidRequestError, _F),
    1010: CodeInfo("SERVICE_UNAVAILABLE", ServerError, _R),
    1011: CodeInfo("SYSTEM_BUSY", RateLimitError, _R, "RunningHub is busy; wait and resubmit."),
    1012: CodeInfo("UPSTREAM_ERROR", ServerError, _R, "The model provider failed; retry later."),
    1013: CodeInfo(
        "FILE_PROCESSING_FAILED",
        InvalidRequestError,
        _R,
        "An input file could not be fetched or processed; check its URL (public, not expired) and retry once.",
    ),
    1014: CodeInfo(
        "KEY_TYPE_DENIED",
        AuthenticationError,
        _F,
        "Standard Model endpoints need an Enterprise-Shared API key; create one in the RunningHub console.",
    ),
    1015: CodeInfo("GENERATION_FAILED", ServerError, _R, "Generation failed; try again, perhaps with other inputs."),
    1101: CodeInfo("NODE_INFO_ERROR", InvalidRequestError, _F, "Check nodeInfoList against the workflow JSON."),
    1501: CodeInfo("CONTENT_VERIFICATION_FAILED", ContentPolicyError, _F),
    1504: CodeInfo("MODEL_TIMEOUT", ServerError, _R),
    # The v2 upload answers a refused key with body code 401 (third-party client tests); 403000 is an
    # auth refusal code one integrator lists. HTTP-like body codes keep their HTTP meaning.
    401: CodeInfo("UNAUTHORIZED", AuthenticationError, _F),
    403: CodeInfo("FORBIDDEN", AuthenticationError, _F),
    403000: CodeInfo("FORBIDDEN", AuthenticationError, _F),
    1505: CodeInfo(
        "REAL_PERSON_PROHIBITED",
        ContentPolicyError,
        _F,
        "Photorealistic people are refused; change the image or prompt (Seedance 2.0: try realPersonMode).",
    ),
}

# English for answers that carry only an identifier (legacy ``msg``) or only Chinese.
_TEXTS = {
    "PARAMS_INVALID": "Invalid or missing parameters",
    "WORKFLOW_NOT_EXISTS": "The workflow does not exist",
    "TOKEN_INVALID": "The API path is wrong",
    "TASK_INSTANCE_MAXED": "No dedicated instance is free",
    "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET": "The wallet balance is too low to create the task",
    "TASK_QUEUE_MAXED": "Concurrency limit reached: too many tasks running for this key",
    "TASK_NOT_FOUNED": "Task not found",
    "VALIDATE_PROMPT_FAILED": "The workflow failed validation",
    "TASK_USER_EXCLAPI_INSTANCE_NOT_FOUND": "No dedicated instance found",
    "TASK_USER_EXCLAPI_REQUIRED": "The dedicated-API membership has expired",
    "APIKEY_UNSUPPORTED_FREE_USER": "Free accounts cannot use API keys",
    "APIKEY_UNAUTHORIZED": "The API key is not authorized",
    "APIKEY_INVALID_NODE_INFO": "nodeInfoList does not match the workflow",
    "APIKEY_TASK_IS_RUNNING": "The task is still running",
    "APIKEY_TASK_STATUS_ERROR": "The task failed",
    "APIKEY_USER_NOT_FOUND": "No user found for this API key",
    "APIKEY_TASK_NOT_FOUND": "Task not found",
    "APIKEY_UPLOAD_FAILED": "The upload failed",
    "APIKEY_FILE_SIZE_EXCEEDED": "The file is too large",
    "WORKFLOW_NOT_SAVED_OR_NOT_RUNNING": "The workflow was never saved or run on the website",
    "CORPAPIKEY_INVALID": "The enterprise API key is invalid",
    "CORPAPIKEY_INSUFFICIENT_FUNDS": "The enterprise balance is too low",
    "APIKEY_TASK_IS_QUEUED": "The task is queued",
    "PERSONAL_QUEUE_COUNT_LIMIT": "The personal queue is full",
    "WEBAPP_NOT_EXISTS": "The AI app does not exist",
    "APIKEY_VERIFICATION_FAILED": "ApiKey verification failed",
    "UNAUTHORIZED": "Unauthorized",
    "FORBIDDEN": "Forbidden",
}

# Codes whose answer proves the submit created no task (capacity or rate refusals), so the same
# paid submit may be sent again. Anything else (including 500/1000) might have created one. Any
# other RateLimitError (an unknown concurrency code, HTTP 429) is treated the same way.
# 1005 (INTERNAL_ERROR) is not a refusal: an internal error can follow the task's creation, and
# resending would buy it twice (the emulator's ``error_after`` fault shows it). 1010/1011 ("service
# unavailable", "system busy") are read as admission refusals: INFERRED, nothing documents when
# they are sent.
SUBMIT_RETRY_CODES = frozenset({415, 421, 814, 1003, 1010, 1011})

_MSG_TO_CODE = {info.name: code for code, info in CODES.items() if not info.name.startswith(("UNKNOWN",))}
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def split_message(text: str | None) -> tuple[str, str | None]:
    """RunningHub writes messages as 'English|中文', 'English | 中文' or '中文|English'; keep both halves,
    English first. A message with no '|' is returned as it is."""
    if not text:
        return "", None
    first, sep, second = text.partition("|")
    if not sep:
        return text.strip(), None
    first, second = first.strip(), second.strip()
    if _CJK.search(first) and second and not _CJK.search(second):
        first, second = second, first
    return first, second or None


def _as_int(code: int | str | None) -> int | None:
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code.strip())
    return None


# Codes and words that say "this key was refused" (as opposed to "this key may not do that", like
# 1014 or 801): the cases where asking the other site whether it knows the key can help.
_KEY_REFUSALS = frozenset({-1, 401, 403, 403000, 802, 806, 811, 1002})


def is_key_refusal(err: RunningHubError) -> bool:
    """True when RunningHub refused the key itself (unknown, disabled, or of the other site)."""
    if not isinstance(err, AuthenticationError):
        return False
    n = _as_int(err.code)
    if n is not None and n in CODES:
        return n in _KEY_REFUSALS
    return err.status_code in (401, 403) or "verification failed" in (err.message or "").lower()


# Unknown codes (the model-API range above 1500 is only partly published) are classified by words.
_WORD_CLASSES: tuple[tuple[re.Pattern[str], type[APIError], bool], ...] = (
    (re.compile(r"verification failed|unauthori[sz]ed|api ?key|鉴权|密钥", re.I), AuthenticationError, False),
    (re.compile(r"balance|insufficient|wallet|余额|资金", re.I), InsufficientBalanceError, False),
    (re.compile(r"concurren|too many|rate limit|busy|queue|并发|繁忙|排队|限流", re.I), RateLimitError, True),
    (
        re.compile(r"content|moderation|nsfw|sensitive|real people|audit|审核|真人|敏感", re.I),
        ContentPolicyError,
        False,
    ),
    (re.compile(r"time ?out|timed out|超时", re.I), ServerError, True),
    (re.compile(r"download|upload|decod|fetch|file|下载|上传|解码|文件", re.I), InvalidRequestError, True),
)
_TRANSIENT_FAILURE = re.compile(
    r"OutOfMemory|out of memory|CUDA error|显存|time ?out|timed out|ConnectionError|超时", re.I
)


def _class_for_unknown(message: str, status_code: int | None) -> tuple[type[APIError], bool | None]:
    if status_code and status_code >= 400:
        cls = type(error_for_status(status_code))
        return cls, None
    for pattern, cls, retryable in _WORD_CLASSES:
        if pattern.search(message):
            return cls, retryable
    return APIError, None


def error_for_code(
    code: int | str | None,
    message: str | None = None,
    *,
    task_id: str | None = None,
    status_code: int | None = None,
    retry_after: float | None = None,
    details: Any = None,
) -> RunningHubError:
    """Map a RunningHub code (v1 ``code``/``msg``, v2 ``errorCode``/``errorMessage``) to its error.

    The HTTP status is never hidden: a 401/403 stays an AuthenticationError and a 429 a
    RateLimitError whatever the body code says (see ``_core.decode_response``)."""
    n = _as_int(code)
    stripped = (message or "").strip()
    if n is None and stripped in _MSG_TO_CODE:  # v1 puts identifiers in msg
        n = _MSG_TO_CODE[stripped]
    if n is None and "verification failed" in stripped.lower():
        n = -1
    info = CODES.get(n) if n is not None else None
    en, zh = split_message(message)
    if info is not None and (not en or en == info.name or (_CJK.search(en) and not zh)):
        if en and en != info.name:
            zh = en  # a Chinese-only message: keep it beside the English
        en = info.text
    if not en:
        en = "RunningHub returned an error"
    if info is None:
        cls, retryable = _class_for_unknown(f"{en} {zh or ''}", status_code)
        return cls(
            en,
            code=code,
            message_zh=zh,
            task_id=task_id,
            retryable=retryable,
            status_code=status_code,
            retry_after=retry_after,
            details=details,
        )
    if info.error is TaskFailedError:
        return TaskFailedError.from_task(task_id or "", "FAILED", n, message, details)
    return info.error(
        en,
        code=n,
        message_zh=zh,
        task_id=task_id,
        retryable=info.retryable,
        hint=info.hint or None,
        status_code=status_code,
        retry_after=retry_after,
        details=details,
    )


# ---------------------------------------------------------------- failure reasons

_REASON_KEYS = ("node_id", "node_name", "exception_type", "exception_message")
_MESSAGE_LIMIT = 400


def trim_failed_reason(raw: Any) -> dict[str, str] | None:
    """The parts of a ComfyUI ``failedReason`` an agent can act on, or None.

    RunningHub sends ``{}`` on success, an object (sometimes a JSON string) with ``node_id``,
    ``node_name``, ``exception_type``, ``exception_message``, ``traceback``, ``current_inputs`` and
    ``current_outputs`` on failure. Tracebacks and node inputs are dropped: long, and no help to
    an agent choosing what to change."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError:
                raw = {"exception_message": text}
        elif text:
            raw = {"exception_message": text}
        else:
            return None
    if not is_object(raw):
        return None
    out: dict[str, str] = {}
    for key in _REASON_KEYS:
        value = raw.get(key)
        if value in (None, "", {}, []):
            continue
        text = str(value).strip()
        if key == "exception_message":
            text = _strip_traceback(text)
        out[key] = text
    return out or None


def _strip_traceback(text: str) -> str:
    cut = text.find("Traceback (most recent call last)")
    if cut > 0:
        text = text[:cut]
    elif cut == 0:
        # The message is a whole traceback: what the agent needs is its last line, the exception
        # ("torch.OutOfMemoryError: CUDA out of memory"), not the frames above it.
        tail = [line.strip() for line in text.splitlines() if line.strip() and not line[:1].isspace()]
        text = tail[-1] if len(tail) > 1 else text
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("  File ")]
    text = " ".join(lines[:3])
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def failure_summary(reason: dict[str, str] | None) -> str:
    """'node KSampler (#3): RuntimeError: missing input' from a trimmed failure reason."""
    if not reason:
        return ""
    node = reason.get("node_name")
    node_id = reason.get("node_id")
    where = ""
    if node or node_id:
        where = "node " + (f"{node} (#{node_id})" if node and node_id else node or f"#{node_id}")
    what = ": ".join(p for p in (reason.get("exception_type"), reason.get("exception_message")) if p)
    return ": ".join(p for p in (where, what) if p)


def error_for_status(status_code: int | None, message: str = "", *, retry_after: float | None = None) -> APIError:
    """Map a bare HTTP error status (no RunningHub code in the body)."""
    s = status_code or 0
    cls: type[APIError]
    if s in (401, 403):
        cls = AuthenticationError
    elif s == 402:
        cls = InsufficientBalanceError
    elif s == 404:
        cls = NotFoundError
    elif s == 413:
        cls = FileTooLargeError
    elif s == 429:
        cls = RateLimitError
    elif s >= 500:
        cls = ServerError
    elif s >= 400:
        cls = InvalidRequestError
    else:
        cls = ResponseFormatError
    return cls(message or f"HTTP {s}", status_code=status_code, retry_after=retry_after)
