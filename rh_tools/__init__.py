"""rh-tools: RunningHub for LLM agents.

``RunningHub`` / ``AsyncRunningHub`` reach every Standard Model endpoint by name, validate
arguments before any credit is spent, and never drop a task id. ``rh_tools.catalogue`` lists the
endpoints; ``rh_tools.langchain`` and the ``mcp_server`` package expose them to agents.

Importing is cheap and offline: the HTTP client, the catalogue and the optional integrations are
only loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BudgetError,
    ConfigurationError,
    ContentPolicyError,
    DownloadError,
    FileTooLargeError,
    InsufficientBalanceError,
    InvalidInputError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RunningHubError,
    ServerError,
    SlotTimeoutError,
    TaskFailedError,
    TaskTimeoutError,
    UnknownEndpointError,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._budget import Budget
    from ._client import AsyncRunningHub, RunningHub
    from ._webhooks import WebhookReceiver
    from .types import (
        Account,
        Output,
        PricePreview,
        QueueStatus,
        Task,
        TaskResult,
        TaskStatus,
        UploadedFile,
        Usage,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Account",
    "AsyncRunningHub",
    "AuthenticationError",
    "Budget",
    "BudgetError",
    "ConfigurationError",
    "ContentPolicyError",
    "DownloadError",
    "FileTooLargeError",
    "InsufficientBalanceError",
    "InvalidInputError",
    "InvalidRequestError",
    "NotFoundError",
    "Output",
    "PricePreview",
    "QueueStatus",
    "RateLimitError",
    "ResponseFormatError",
    "RunningHub",
    "RunningHubError",
    "ServerError",
    "SlotTimeoutError",
    "Task",
    "TaskFailedError",
    "TaskResult",
    "TaskStatus",
    "TaskTimeoutError",
    "UnknownEndpointError",
    "UploadedFile",
    "Usage",
    "WebhookReceiver",
    "__version__",
]

_LAZY = {
    "RunningHub": "._client",
    "AsyncRunningHub": "._client",
    "WebhookReceiver": "._webhooks",
    "Budget": "._budget",
    **dict.fromkeys(
        (
            "Account",
            "Output",
            "PricePreview",
            "QueueStatus",
            "Task",
            "TaskResult",
            "TaskStatus",
            "UploadedFile",
            "Usage",
        ),
        ".types",
    ),
}


def __getattr__(name: str) -> Any:
    # httpx and pydantic cost most of the import time; agents that only list tools don't need them.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rh_tools' has no attribute {name!r}")
