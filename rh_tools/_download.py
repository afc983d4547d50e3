"""Save a result's outputs to disk, streamed, under names we choose (never the server's)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import httpx

from ._exceptions import APIConnectionError, InvalidInputError, RunningHubError, error_for_status

__all__ = [
    "adownload_outputs",
    "afetch_output",
    "download_outputs",
    "fetch_output",
    "output_filename",
]

_EXT = re.compile(r"^[a-z0-9]{1,5}$")


# What saving needs of ``types.Output`` / ``types.TaskResult``, as Protocols rather than an import:
# ``TaskResult.download()`` calls this module, so importing ``types`` here would make a cycle.
class Output(Protocol):
    @property
    def url(self) -> str | None: ...
    @property
    def extension(self) -> str | None: ...
    @property
    def text(self) -> str | None: ...


class TaskResult(Protocol):
    @property
    def task_id(self) -> str: ...
    @property
    def outputs(self) -> Sequence[Output]: ...


def output_filename(task_id: str, index: int, output: Output) -> str:
    """'<task id>-<n>.<ext>': only [A-Za-z0-9._-], so a hostile URL or outputType can't steer the path."""
    ext = (output.extension or "").lower()
    if output.url is None:
        ext = "txt"
    elif not _EXT.match(ext) or ext in ("image", "video", "audio", "text"):
        m = re.search(r"\.([A-Za-z0-9]{1,5})(?:$|[?#])", output.url)
        ext = m.group(1).lower() if m else "bin"
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", task_id)[:64] or "task"
    return f"{safe_id}-{index}.{ext}"


def _claim(path: Path) -> Path:
    """Make ``path`` safe to write: a symlink planted under our name is removed, so the write lands in
    the output folder rather than wherever the link points."""
    if path.is_symlink():
        path.unlink()
    return path


def _target_dir(directory: Path) -> Path:
    directory = directory.expanduser()
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"download directory {str(directory)!r} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory.resolve()


def download_outputs(result: TaskResult, directory: Path, *, timeout: float = 300.0) -> list[Path]:
    target = _target_dir(directory)
    paths: list[Path] = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for i, out in enumerate(result.outputs):
            path = _claim(target / output_filename(result.task_id, i, out))
            if out.url is None:
                path.write_text(out.text or "", encoding="utf-8")
            else:
                try:
                    with client.stream("GET", out.url) as resp:
                        if resp.status_code >= 400:
                            raise error_for_status(resp.status_code, f"Downloading output {i} failed")
                        with open(path, "wb") as fh:
                            for chunk in resp.iter_bytes(1 << 20):
                                fh.write(chunk)
                except httpx.TransportError as exc:
                    raise APIConnectionError(
                        f"Downloading output {i} failed: {type(exc).__name__}", task_id=result.task_id
                    ) from None
            paths.append(path)
    return paths


async def adownload_outputs(result: TaskResult, directory: Path, *, timeout: float = 300.0) -> list[Path]:
    import asyncio

    target = await asyncio.to_thread(_target_dir, directory)
    paths: list[Path] = []
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        for i, out in enumerate(result.outputs):
            path = await asyncio.to_thread(_claim, target / output_filename(result.task_id, i, out))
            if out.url is None:
                await asyncio.to_thread(path.write_text, out.text or "", encoding="utf-8")
            else:
                try:
                    async with client.stream("GET", out.url) as resp:
                        if resp.status_code >= 400:
                            raise error_for_status(resp.status_code, f"Downloading output {i} failed")
                        fh = await asyncio.to_thread(open, path, "wb")
                        try:
                            async for chunk in resp.aiter_bytes(1 << 20):
                                await asyncio.to_thread(fh.write, chunk)
                        finally:
                            await asyncio.to_thread(fh.close)
                except httpx.TransportError as exc:
                    raise APIConnectionError(
                        f"Downloading output {i} failed: {type(exc).__name__}", task_id=result.task_id
                    ) from None
            paths.append(path)
    return paths


# ------------------------------------------------------------------ one output into memory (previews, resources/read)


def _too_large(what: str, limit: int) -> RunningHubError:
    return RunningHubError(
        f"{what} is larger than {limit / (1024 * 1024):g} MiB; not read into memory",
        hint="Open the output URL directly, or download it with TaskResult.download().",
    )


def fetch_output(url: str, *, max_bytes: int, timeout: float = 60.0, what: str = "the output") -> bytes:
    """One output's bytes, streamed and cut off past ``max_bytes`` (a declared or real size over it raises)."""
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        try:
            with client.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    raise error_for_status(resp.status_code, f"Fetching {what} failed")
                if int(resp.headers.get("content-length") or 0) > max_bytes:
                    raise _too_large(what, max_bytes)
                data = bytearray()
                for chunk in resp.iter_bytes(1 << 16):
                    data += chunk
                    if len(data) > max_bytes:
                        raise _too_large(what, max_bytes)
                return bytes(data)
        except httpx.TransportError as exc:
            raise APIConnectionError(f"Fetching {what} failed: {type(exc).__name__}") from None


async def afetch_output(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 60.0,
    what: str = "the output",
    client: httpx.AsyncClient | None = None,
) -> bytes:
    """:func:`fetch_output` for async callers (``client``: reuse a pool, e.g. the MCP server's)."""
    own = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=timeout, follow_redirects=True)
    try:
        async with http.stream("GET", url, timeout=timeout) as resp:
            if resp.status_code >= 400:
                raise error_for_status(resp.status_code, f"Fetching {what} failed")
            if int(resp.headers.get("content-length") or 0) > max_bytes:
                raise _too_large(what, max_bytes)
            data = bytearray()
            async for chunk in resp.aiter_bytes(1 << 16):
                data += chunk
                if len(data) > max_bytes:
                    raise _too_large(what, max_bytes)
            return bytes(data)
    except httpx.TransportError as exc:
        raise APIConnectionError(f"Fetching {what} failed: {type(exc).__name__}") from None
    finally:
        if own:
            await http.aclose()
