"""Every failure rh-tools reports, as one tree, mapped from HTTP status and RunningHub codes by one table.

::

    RunningHubError                 code, message, message_zh, task_id, retryable, hint
    ├── ConfigurationError          no API key, bad base URL (nothing was sent)
    ├── InvalidInputError           arguments rejected locally, before any request (also a ValueError)
    │   └── UnknownEndpointError    no endpoint of that name; carries close matches
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
    │   ├── ServerError             RunningHub-side failure                     (500, 1000, 1005, 5xx …)
    │   └── ResponseFormatError     the answer was not the JSON shape the API documents
    ├── TaskFailedError             the task ended FAILED or CANCEL; `code` says why
    └── TaskTimeoutError            our wait deadline passed; the task keeps running (resume with wait)

``retryable`` answers "may the *same request* be sent again?"; whether a paid submit may be sent
again is stricter (see ``SUBMIT_RETRY_CODES``): only when the answer proves no task was created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "CODES",
    "CodeInfo",
    "ConfigurationError",
    "ContentPolicyError",
    "FileTooLargeError",
    "InsufficientBalanceError",
    "InvalidInputError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "RunningHubError",
    "ServerError",
    "SUBMIT_RETRY_CODES",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnknownEndpointError",
    "error_for_code",
    "error_for_status",
    "split_message",
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
        parts = []
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


class ServerError(APIError):
    default_retryable = True
    default_hint = "RunningHub-side error; retry later."


class ResponseFormatError(APIError):
    default_retryable = True
    default_hint = "RunningHub answered with something other than the documented JSON; retry later."


class TaskFailedError(RunningHubError):
    """The task reached a terminal failure. ``failed_reason`` holds ComfyUI details where given."""

    default_hint = "The generation failed; adjust the inputs or try again."

    def __init__(self, message: str, *, failed_reason: Any = None, status: str = "FAILED", **kw: Any) -> None:
        self.failed_reason = failed_reason
        self.status = status
        kw.setdefault("details", failed_reason)
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


_F, _R = False, True
# Every code of runninghub-api.md section 5. `retryable` follows the official client and the
# reference's action column (R/W retryable, F not). 804/813 are "still running/queued" signals,
# handled by the status parser before this table is consulted; they are listed for completeness.
CODES: dict[int, CodeInfo] = {
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
    1505: CodeInfo(
        "REAL_PERSON_PROHIBITED",
        ContentPolicyError,
        _F,
        "Photorealistic people are refused; change the image or prompt (Seedance 2.0: try realPersonMode).",
    ),
}

# Codes whose answer proves the submit created no task (capacity or rate refusals), so the same
# paid submit may be sent again. Anything else (including 500/1000) might have created one.
# 1005 (INTERNAL_ERROR) is not a refusal: an internal error can follow the task's creation, and
# resending would buy it twice (the emulator's ``error_after`` fault shows it). 1010/1011 ("service
# unavailable", "system busy") are read as admission refusals: INFERRED, nothing documents when
# they are sent.
SUBMIT_RETRY_CODES = frozenset({415, 421, 814, 1003, 1010, 1011})

_MSG_TO_CODE = {info.name: code for code, info in CODES.items() if not info.name.startswith(("UNKNOWN",))}


def split_message(text: str | None) -> tuple[str, str | None]:
    """RunningHub writes many messages as 'English|中文'; keep both halves."""
    if not text:
        return "", None
    en, sep, zh = text.partition("|")
    return (en.strip(), zh.strip() or None) if sep else (text.strip(), None)


def _as_int(code: int | str | None) -> int | None:
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().lstrip("-").isdigit():
        return int(code.strip())
    return None


def error_for_code(
    code: int | str | None,
    message: str | None = None,
    *,
    task_id: str | None = None,
    status_code: int | None = None,
    retry_after: float | None = None,
    details: Any = None,
) -> RunningHubError:
    """Map a RunningHub code (v1 ``code``/``msg``, v2 ``errorCode``/``errorMessage``) to its error."""
    n = _as_int(code)
    if n is None and message and message.strip() in _MSG_TO_CODE:  # v1 puts identifiers in msg
        n = _MSG_TO_CODE[message.strip()]
    info = CODES.get(n) if n is not None else None
    en, zh = split_message(message)
    if not en:
        en = info.name.replace("_", " ").capitalize() if info else "RunningHub returned an error"
    if info is None:
        cls: type[RunningHubError] = error_for_status(status_code).__class__ if status_code else APIError
        return cls(
            en,
            code=code,
            message_zh=zh,
            task_id=task_id,
            status_code=status_code,
            retry_after=retry_after,
            details=details,
        )
    if info.error is TaskFailedError:
        return TaskFailedError(
            en, code=n, message_zh=zh, task_id=task_id, failed_reason=details, status_code=status_code
        )
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
