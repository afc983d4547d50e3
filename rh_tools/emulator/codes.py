"""Error codes the emulator answers with, and their wording.

Why a table: the real API reports Standard Model errors as ``errorCode`` plus an ``"English|中文"``
(sometimes ``"English | 中文"``) ``errorMessage``, and legacy errors as an envelope ``code`` plus an
upper-case identifier in ``msg``. Clients match on both, so the emulator must use the same codes
and the same message *format*. Where a real message was seen (tests/fixtures/real/, source ids in
the comments) it is used as is; the others are the emulator's own wording.
"""

from __future__ import annotations

__all__ = ["LEGACY", "V2", "bilingual", "legacy_msg", "v2_message"]

#: Standard Model (v2) codes -> (English, Chinese).
V2: dict[str, tuple[str, str]] = {
    "1000": ("Unknown error, please retry", "未知错误，请重试"),
    "1001": ("Invalid URL, check the endpoint path", "无效的URL，请检查接口路径"),
    "1002": ("Invalid API key, check your credentials", "无效的API Key，请检查凭证"),
    "1003": ("Rate limit exceeded, slow down your requests", "请求频率超限，请降低请求速度"),
    "1004": ("Task not found, please check the task ID", "任务不存在或已过期，请检查任务ID"),  # S12
    "1005": ("Internal server error, retry later", "服务器内部错误，请稍后重试"),
    "1006": ("Task execution timed out, please retry", "任务执行超时，请重试"),
    "1007": ("Invalid parameters, check your input", "参数错误，请检查输入"),
    "1008": ("File size limit exceeded", "文件大小超出限制"),
    "1009": ("HTTP method not supported", "不支持的HTTP方法"),
    "1011": ("System busy, retry later", "系统繁忙，请稍后重试"),
    "1014": (  # S13
        "Access Denied: Standard Model API is restricted to Enterprise-Shared API Keys only.",
        "访问被拒绝：标准模型API仅限企业级-共享API Key调用。",
    ),
    "1015": ("Generation failed, please try again", "生成失败，请重试"),
    "1501": ("Content security audit did not pass", "内容安全审查未通过"),  # S11
    "1504": ("Model timed out, please retry later", "模型响应超时。请稍后重试。"),  # S20
    "1505": (  # S03 (English), S20 (Chinese)
        "Photorealistic real people are prohibited, please modify your prompt or image",
        "禁止生成真人。请修改提示词或参考图。",
    ),
    "806": ("API key user not found", "API Key 对应用户不存在"),
    "416": ("Insufficient wallet balance", "钱包余额不足"),
    "421": ("Task queue is full: too many concurrent tasks for this key", "任务队列已满：该Key并发任务过多"),
    "380": ("Workflow does not exist", "工作流不存在"),
    "901": ("AI app does not exist", "AI应用不存在"),
    "803": ("nodeInfoList does not match the workflow", "nodeInfoList与工作流不匹配"),
    "433": ("Workflow validation failed", "工作流校验失败"),
}

#: Legacy envelope codes -> the identifier the API puts in ``msg``.
LEGACY: dict[int, str] = {
    0: "success",
    301: "PARAMS_INVALID",
    380: "WORKFLOW_NOT_EXISTS",
    412: "TOKEN_INVALID",
    416: "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET",
    421: "TASK_QUEUE_MAXED",
    423: "TASK_NOT_FOUNED",  # sic, as the API spells it
    433: "VALIDATE_PROMPT_FAILED",
    -1: "ApiKey verification failed",  # S08, S09: the gateway's refusal, not an identifier
    802: "APIKEY_UNAUTHORIZED",
    806: "APIKEY_USER_NOT_FOUND",
    803: "APIKEY_INVALID_NODE_INFO",
    804: "APIKEY_TASK_IS_RUNNING",
    805: "APIKEY_TASK_STATUS_ERROR",
    807: "APIKEY_TASK_NOT_FOUND",
    808: "APIKEY_UPLOAD_FAILED",
    809: "APIKEY_FILE_SIZE_EXCEEDED",
    813: "APIKEY_TASK_IS_QUEUED",
    901: "WEBAPP_NOT_EXISTS",
    1003: "RATE_LIMIT_EXCEEDED",  # INFERRED: the legacy family's spelling of 1003 is undocumented
}


#: Codes whose real messages were seen with spaces around the bar ("EN | 中文").
_SPACED = frozenset({"1004", "1501"})


def bilingual(en: str, zh: str, sep: str = "|") -> str:
    """The API's ``EN|中文`` message format."""
    return f"{en}{sep}{zh}"


def v2_message(code: str, en_detail: str = "", zh_detail: str = "") -> str:
    """``errorMessage`` for ``code``, optionally naming the offending field in both languages."""
    en, zh = V2.get(code, V2["1000"])
    if en_detail:
        en = f"{en}: {en_detail}"
    if zh_detail:
        zh = f"{zh}：{zh_detail}"
    return bilingual(en, zh, " | " if code in _SPACED else "|")


def legacy_msg(code: int) -> str:
    """``msg`` for a legacy envelope ``code``."""
    return LEGACY.get(code, "UNKNOWN_ERROR")
