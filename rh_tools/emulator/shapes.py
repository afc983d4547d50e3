"""The JSON shapes the API answers with, built in one place.

Why: three response families coexist and clients are picky about each — the Standard Model task
object (errors carried in ``errorCode``/``errorMessage``, HTTP 200), the legacy ``{code,msg,data}``
envelope, and the v2 upload envelope, which says ``message`` instead of ``msg``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from .codes import V2, legacy_msg, v2_message

__all__ = [
    "Family",
    "envelope",
    "family_of",
    "json_response",
    "key_refused",
    "legacy_error",
    "unknown_key",
    "upload_error",
    "v2_error",
    "v2_error_body",
    "v2_query_error",
]

Family = str  # "v2" | "upload" | "legacy" | "other"


def family_of(path: str) -> Family:
    """Which response family a request path belongs to (decides the shape of canned errors)."""
    if path.startswith("/openapi/v2/media/upload"):
        return "upload"
    if path.startswith(("/openapi/v2/queue/", "/openapi/v2/aiapp/")):
        return "legacy"  # these v2 extras answer with the {code,msg,data} envelope
    if path.startswith("/openapi/v2/"):
        return "v2"
    if path.startswith(("/task/", "/api/", "/uc/")):
        return "legacy"
    return "other"


class _JSON(JSONResponse):
    """UTF-8 JSON without ASCII escaping, like the service (Chinese text appears verbatim)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return _JSON(content, status_code=status_code, headers=headers)


def v2_error_body(code: str, en_detail: str = "", zh_detail: str = "", message: str | None = None) -> dict[str, Any]:
    """The task object with an empty taskId: how the v2 API reports a refused request."""
    return {
        "taskId": "",
        "status": "",
        "errorCode": code,
        "errorMessage": message if message is not None else v2_message(code, en_detail, zh_detail),
        "results": None,
    }


def v2_query_error(code: str, message: str | None = None) -> JSONResponse:
    """A refusal from /openapi/v2/query: the task object with status "" and the extra fields the
    query answer always carries (S07: ``failedReason: {}``, ``usage``/``parentTaskId``/``taskUsageList`` null)."""
    body = v2_error_body(code, message=message)
    body.update({"clientId": "", "promptTips": "", "failedReason": {}, "usage": None})
    body.update({"parentTaskId": None, "taskUsageList": None})
    return json_response(body)


def key_refused() -> JSONResponse:
    """The gateway's refusal of a key of the other site, or of an Enterprise-Shared key sent in a
    legacy body: HTTP 401, ``{"code": -1, "msg": "ApiKey verification failed", "data": null}`` (S08, S09)."""
    return json_response({"code": -1, "msg": legacy_msg(-1), "data": None}, 401)


def unknown_key(family: Family, path: str) -> JSONResponse:
    """A key that matches no user. v2 task routes answer status "" + errorCode "806" with HTTP 200
    (S07), legacy routes ``code 806`` (S07), the v2 upload ``code 401`` with ``message`` (S10)."""
    if family == "upload":
        return json_response({"code": 401, "message": legacy_msg(-1)})
    if family == "v2":
        if path == "/openapi/v2/query":
            return v2_query_error("806")
        return v2_error("806")
    return legacy_error(806)


def v2_error(
    code: str,
    en_detail: str = "",
    zh_detail: str = "",
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return json_response(v2_error_body(code, en_detail, zh_detail), status_code, headers)


def envelope(
    data: Any = None, code: int = 0, msg: str | None = None, status_code: int = 200, **extra: Any
) -> JSONResponse:
    """The legacy ``{code, msg, data}`` envelope."""
    body = {"code": code, "msg": legacy_msg(code) if msg is None else msg, "data": data}
    body.update(extra)
    return json_response(body, status_code)


def legacy_error(
    code: int,
    data: Any = None,
    *,
    msg: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"code": code, "msg": legacy_msg(code) if msg is None else msg, "data": data}
    return json_response(body, status_code, headers)


def upload_error(
    code: int, en_detail: str = "", *, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The v2 upload envelope (``message``, not ``msg``) for a failure; INFERRED codes (1002/1007/1008)."""
    message = v2_message(str(code), en_detail) if str(code) in V2 else legacy_msg(code)
    return json_response({"code": code, "message": message, "data": None}, status_code, headers)
