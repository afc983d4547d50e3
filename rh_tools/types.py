"""What the client returns. Response models accept unknown fields, so a new API field never breaks us."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

__all__ = [
    "Account",
    "Output",
    "OutputKind",
    "PricePreview",
    "QueueStatus",
    "Task",
    "TaskResult",
    "TaskStatus",
    "UploadedFile",
    "Usage",
    "WebhookDetail",
    "output_kind",
]

OutputKind = Literal["image", "video", "audio", "3d", "text", "file"]

_KINDS: dict[str, OutputKind] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff", "avif", "heic"), "image"),
    **dict.fromkeys(("mp4", "mov", "webm", "mkv", "avi", "m4v", "gifv"), "video"),
    **dict.fromkeys(("mp3", "wav", "flac", "m4a", "ogg", "aac", "opus"), "audio"),
    **dict.fromkeys(("glb", "gltf", "obj", "fbx", "stl", "usdz", "ply", "3d"), "3d"),
    **dict.fromkeys(("text", "txt", "json", "string"), "text"),
    **dict.fromkeys(("image", "video", "audio"), None),  # kind words, handled below
}


def output_kind(extension: str | None, url: str | None = None) -> OutputKind:
    """RunningHub's ``outputType`` is a file extension ('png', 'mp4', 'text'); turn it into a kind."""
    ext = (extension or "").lower().lstrip(".")
    if ext in ("image", "video", "audio"):
        return ext  # type: ignore[return-value]
    if ext in _KINDS and _KINDS[ext]:
        return _KINDS[ext]  # type: ignore[return-value]
    if url:
        m = re.search(r"\.([A-Za-z0-9]{2,5})(?:$|[?#])", url)
        if m and _KINDS.get(m.group(1).lower()):
            return _KINDS[m.group(1).lower()]  # type: ignore[return-value]
    return "file"


class TaskStatus(str, Enum):
    CREATE = "CREATE"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCEL = "CANCEL"

    @property
    def terminal(self) -> bool:
        return self in (TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.CANCEL)


TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCEL"})


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Output(_Loose):
    """One result: a file URL, or text (LLM answers, character ids)."""

    url: str | None = None
    kind: OutputKind = "file"
    extension: str | None = None
    text: str | None = None
    node_id: str | None = None

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Output:
        # v2 results use url/outputType/text; legacy outputs fileUrl/fileType; be liberal.
        url = item.get("url") or item.get("outputUrl") or item.get("fileUrl")
        ext = item.get("outputType") or item.get("fileType")
        text = item.get("text") or item.get("content") or item.get("output")
        node = item.get("nodeId")
        return cls(
            url=url,
            extension=(str(ext).lower() if ext else None),
            text=text if isinstance(text, str) else None,
            kind=output_kind(ext, url),
            node_id=str(node) if node else None,
        )


class Usage(_Loose):
    """Cost fields exactly as the API gives them (strings or null): money in CNY/USD, coins, seconds."""

    consume_money: str | None = Field(None, alias="consumeMoney")
    consume_coins: str | None = Field(None, alias="consumeCoins")
    third_party_consume_money: str | None = Field(None, alias="thirdPartyConsumeMoney")
    task_cost_time: str | None = Field(None, alias="taskCostTime")

    @field_validator("*", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    def summary(self) -> str:
        parts = []
        if self.third_party_consume_money not in (None, "", "0"):
            parts.append(f"{self.third_party_consume_money} (API)")
        if self.consume_money not in (None, "", "0"):
            parts.append(f"{self.consume_money} (runtime)")
        if self.consume_coins not in (None, "", "0"):
            parts.append(f"{self.consume_coins} coins")
        return ", ".join(parts) or "no cost reported"


class Task(_Loose):
    """A task as RunningHub last reported it."""

    task_id: str
    status: str
    endpoint: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    outputs: list[Output] = Field(default_factory=list)
    usage: Usage | None = None
    failed_reason: Any = None
    prompt_tips: str | None = None
    note: str | None = Field(None, description="What RunningHub's answer implies beyond the fields above.")

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def urls(self) -> list[str]:
        return [o.url for o in self.outputs if o.url]

    @property
    def texts(self) -> list[str]:
        return [o.text for o in self.outputs if o.text]


class TaskResult(Task):
    """A finished, successful task, plus how long the caller waited for it."""

    elapsed: float = 0.0
    polls: int = 0
    files: list[str] = Field(default_factory=list, description="Local paths, after download().")
    # How output URLs may be fetched (trusted API origin, size and time caps); set by the client that
    # produced this result. None: rh_tools._download.FetchPolicy.default().
    _fetch: Any = PrivateAttr(None)

    def download(self, directory: str | Path, *, timeout: float | None = None) -> list[Path]:
        """Save every output file under ``directory`` (created if needed); text outputs become .txt.

        ``timeout`` bounds each output's whole download (default 600 s, or the client's
        ``download_timeout``). Failures raise :class:`~rh_tools.DownloadError` with the task id.
        """
        from ._download import download_outputs

        paths = download_outputs(self, Path(directory), timeout=timeout, policy=self._fetch)
        self.files = [str(p) for p in paths]
        return paths

    async def adownload(self, directory: str | Path, *, timeout: float | None = None) -> list[Path]:
        from ._download import adownload_outputs

        paths = await adownload_outputs(self, Path(directory), timeout=timeout, policy=self._fetch)
        self.files = [str(p) for p in paths]
        return paths


class UploadedFile(_Loose):
    """An uploaded input: ``download_url`` goes into model fields, ``file_name`` into workflow nodes.

    ``size`` is the size in bytes as RunningHub reports it (a string)."""

    download_url: str | None = None
    file_name: str | None = Field(None, alias="fileName")
    type: str | None = None
    size: str | None = None

    @field_validator("size", mode="before")
    @classmethod
    def _size_str(cls, v: Any) -> Any:
        return str(v) if v is not None else None

    @model_validator(mode="after")
    def _has_a_reference(self) -> UploadedFile:
        if not self.download_url and not self.file_name:
            raise ValueError("the upload answer has neither download_url nor fileName")
        return self


class Account(_Loose):
    remain_coins: str | None = Field(None, alias="remainCoins")
    remain_money: str | None = Field(None, alias="remainMoney")
    currency: str | None = None
    current_task_counts: str | None = Field(None, alias="currentTaskCounts")
    api_type: str | None = Field(None, alias="apiType")

    @field_validator("*", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class QueueStatus(_Loose):
    api_key_type: str | None = Field(None, alias="apiKeyType")
    concurrent_limit: int | None = Field(None, alias="concurrentLimit")
    running_count: int | None = Field(None, alias="runningCount")
    queued_count: int | None = Field(None, alias="queuedCount")
    total_current_tasks: int | None = Field(None, alias="totalCurrentTasks")


class PricePreview(_Loose):
    estimated_price: float | None = Field(None, alias="estimatedPrice")
    currency: str | None = None
    is_free_this_call: bool | None = Field(None, alias="isFreeThisCall")
    price_text: str | None = Field(None, alias="priceText")


class WebhookDetail(_Loose):
    id: str | None = None
    task_id: str | None = Field(None, alias="taskId")
    webhook_url: str | None = Field(None, alias="webhookUrl")
    event: str | None = None
    callback_status: str | None = Field(None, alias="callbackStatus")
    retry_count: int | None = Field(None, alias="retryCount")

    @field_validator("id", "task_id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v) if v is not None else None
