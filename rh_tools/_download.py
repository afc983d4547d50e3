"""Fetch a result's outputs: streamed, guarded, capped, and written only where we say.

Output URLs come from the service's answer, so they are treated as untrusted input:

* **Where from.** Loopback, private, link-local and other non-public addresses are refused, after
  DNS resolution and again on every redirect (``_net.AddressGuard``); the API's own host is
  trusted, on any port (the emulator serves its outputs from a second loopback port).
* **How much.** ``max_bytes`` caps what is read and written (default 2 GiB: generous for video);
  a compressed body may not expand more than ``BOMB_RATIO`` times what arrived (a 1 MB gzip bomb
  stops at a few MB, not 1 GiB); ``timeout`` bounds each output's whole download, however slowly
  the server drips.
* **Where to.** Bytes go to a fresh temporary file in the output folder, renamed over the final
  name when complete, so a symlink or hard link planted under that name is replaced, never
  written through, and a failed download leaves nothing half-written.
* **Failures** are a typed :class:`~rh_tools.DownloadError` carrying the task id, the URL and a
  reason; the task itself succeeded, and the tool surfaces still return its URLs.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin

import httpx

from . import _net as net
from ._exceptions import DownloadError, RunningHubError
from ._transfer import ametered, metered

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "FetchPolicy",
    "adownload_outputs",
    "afetch_output",
    "download_outputs",
    "fetch_output",
    "output_filename",
]

DEFAULT_MAX_BYTES = 2 * 1024**3  # a long 4K video fits; nothing an output legitimately is comes near
DEFAULT_TIMEOUT = 600.0  # seconds per output, whole download (2 GiB at ~4 MB/s)
BOMB_RATIO = 100  # decoded bytes per received byte, beyond BOMB_FLOOR (media barely compresses)
BOMB_FLOOR = 8 * 1024 * 1024
MAX_REDIRECTS = 5
_READ_TIMEOUT = 60.0  # one socket read; the whole download is bounded by FetchPolicy.timeout
_EXT = re.compile(r"^[a-z0-9]{1,5}$")


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and trust for fetching output URLs. The client attaches one to every result it returns."""

    trusted: tuple[str, ...] = ()  # hosts fetched from even when not public (the API's own, any port)
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def for_api(cls, base_url: str | None, **kw: Any) -> FetchPolicy:
        """Trust only the API's own host (where the emulator, or a proxy in front of RunningHub, serves files)."""
        origin = net.origin_of(base_url) if base_url else None
        return cls(trusted=(origin[1],) if origin else (), **kw)

    @classmethod
    def default(cls) -> FetchPolicy:
        """For results built by hand: trust the API origin of the environment (``RUNNINGHUB_BASE_URL``)."""
        from ._config import ClientConfig

        try:
            return cls.for_api(ClientConfig.resolve().base_url)
        except RunningHubError:
            return cls()


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


# ------------------------------------------------------------------ decisions (shared by both twins)


class _Meter:
    """Counts what arrives and what it decodes to; raises the moment a limit is passed."""

    def __init__(
        self,
        policy: FetchPolicy,
        url: str,
        index: int,
        task_id: str | None,
        limit: int | None = None,
        name: str | None = None,
    ):
        self.limit = policy.max_bytes if limit is None else limit
        self.url, self.index, self.task_id = url, index, task_id
        self.label = f"Output {index}"
        self.name = name or self.label  # what progress displays call this file
        self.decoded = 0

    def check_headers(self, resp: httpx.Response) -> None:
        length = resp.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.limit:
            raise self._too_large(int(length))

    def add(self, chunk: bytes, raw_so_far: int) -> None:
        self.decoded += len(chunk)
        # The floor never exceeds the size limit: otherwise, with a limit under the floor, whether a
        # bomb reads as "decompression" or "too_large" would depend on how the network chunked it.
        if self.decoded > min(BOMB_FLOOR, self.limit) and self.decoded > BOMB_RATIO * max(raw_so_far, 1):
            raise DownloadError(
                f"{self.label} is a compressed body that expands more than {BOMB_RATIO}x "
                f"({raw_so_far} bytes became over {self.decoded}); refused as a decompression bomb",
                reason="decompression",
                url=self.url,
                index=self.index,
                task_id=self.task_id,
            )
        if max(self.decoded, raw_so_far) > self.limit:
            raise self._too_large(max(self.decoded, raw_so_far))

    def _too_large(self, size: int) -> DownloadError:
        return DownloadError(
            f"{self.label} is larger than the limit ({size} > {self.limit} bytes); not fetched",
            reason="too_large",
            url=self.url,
            index=self.index,
            task_id=self.task_id,
            hint="Raise the limit (RUNNINGHUB_MAX_DOWNLOAD_MB or max_download_mb=) if you expect files this "
            "big; the task succeeded and its output URLs still work for about 24 h.",
        )


def _next_url(url: str, resp: httpx.Response, hops: int, index: int, task_id: str | None) -> str | None:
    """The redirect target to follow, None when ``resp`` is the answer; raises on a loop or a bad status."""
    if resp.is_redirect and "location" in resp.headers:
        if hops >= MAX_REDIRECTS:
            raise DownloadError(
                f"Output {index}: more than {MAX_REDIRECTS} redirects",
                reason="redirects",
                url=url,
                index=index,
                task_id=task_id,
            )
        return urljoin(url, resp.headers["location"])
    if resp.status_code >= 400:
        raise DownloadError(
            f"Output {index}: the file server answered HTTP {resp.status_code}",
            reason="http_status",
            url=url,
            index=index,
            task_id=task_id,
            status_code=resp.status_code,
            retryable=resp.status_code >= 500 or resp.status_code == 429,
        )
    return None


def _typed(exc: BaseException, url: str, index: int, task_id: str | None, policy: FetchPolicy) -> DownloadError:
    """Any failure while fetching, as the DownloadError the caller sees (never a raw httpx error)."""
    if isinstance(exc, DownloadError):
        return exc
    cause = exc if isinstance(exc, net.BlockedAddressError) else exc.__cause__
    if isinstance(cause, net.BlockedAddressError):
        return DownloadError(
            f"Output {index} not fetched: {cause}",
            reason="blocked_address",
            url=url,
            index=index,
            task_id=task_id,
            hint="Output URLs must point at public addresses; this one points at this machine or a private network. "
            "The task succeeded; report the URL if you believe it is legitimate.",
        )
    if isinstance(exc, httpx.TimeoutException):
        return DownloadError(
            f"Output {index} not fetched within the download time limit ({policy.timeout:g} s)",
            reason="timeout",
            url=url,
            index=index,
            task_id=task_id,
        )
    if isinstance(exc, OSError):
        return DownloadError(
            f"Output {index} could not be saved: {exc.strerror or exc}",
            reason="disk",
            url=url,
            index=index,
            task_id=task_id,
            retryable=False,
        )
    name = type(exc).__name__
    return DownloadError(
        f"Output {index} not fetched: {name}: {net_redact(str(exc)) or name}",
        reason="network",
        url=url,
        index=index,
        task_id=task_id,
    )


def net_redact(text: str) -> str:
    from ._core import redact  # local: _core imports the media and path modules this one does not need

    return redact(text)[:300]


def _target_dir(directory: Path, task_id: str | None) -> Path:
    directory = directory.expanduser()
    try:
        if directory.exists() and not directory.is_dir():
            raise DownloadError(
                f"download directory {str(directory)!r} exists and is not a directory",
                reason="disk",
                task_id=task_id,
                retryable=False,
            )
        directory.mkdir(parents=True, exist_ok=True)
        return directory.resolve()
    except OSError as exc:
        raise DownloadError(
            f"download directory {str(directory)!r} cannot be created: {exc.strerror}",
            reason="disk",
            task_id=task_id,
            retryable=False,
        ) from None


def _size(resp: httpx.Response) -> int | None:
    """The file's size when the server says (for progress bars), else None."""
    length = resp.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _open_temp(target: Path) -> tuple[Any, str]:
    """A new, exclusively created file in ``target`` (the output folder) and its name."""
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".rh-", suffix=".part")
    return os.fdopen(fd, "wb"), tmp


def _commit(fh: Any, tmp: str, final: Path) -> None:
    """Rename the finished temporary file over ``final``.

    Renaming replaces the directory entry, so whatever was planted under ``final`` (a symlink, a
    hard link to someone else's file) is unlinked, not written through.
    """
    fh.close()
    os.replace(tmp, final)


def _discard(fh: Any, tmp: str) -> None:
    fh.close()
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _client_kwargs(policy: FetchPolicy) -> dict[str, Any]:
    return {
        "timeout": httpx.Timeout(_READ_TIMEOUT, connect=10.0),
        "guard": net.AddressGuard(policy.trusted),
    }


_HEADERS = {"Accept-Encoding": "identity"}  # media barely compresses; a compressed answer is suspect anyway


# ------------------------------------------------------------------ blocking


def _fetch_to(client: httpx.Client, url: str, sink: Any, meter: _Meter, guard: net.AddressGuard) -> None:
    hops = 0
    while True:
        guard.check_url(url)
        resp = client.send(client.build_request("GET", url, headers=_HEADERS), stream=True)
        try:
            nxt = _next_url(url, resp, hops, meter.index, meter.task_id)
            if nxt is None:
                meter.check_headers(resp)
                for chunk in metered(resp.iter_bytes(), "download", meter.name, _size(resp)):
                    meter.add(chunk, resp.num_bytes_downloaded)
                    sink(chunk)
                return
        finally:
            resp.close()
        url, hops = nxt, hops + 1


def download_outputs(
    result: TaskResult, directory: Path, *, timeout: float | None = None, policy: FetchPolicy | None = None
) -> list[Path]:
    """Save every output under ``directory``; ``timeout`` (seconds) bounds each output's download."""
    policy = policy or FetchPolicy.default()
    if timeout is not None:  # the caller's limit: the one applied, and the one a timeout error names
        policy = replace(policy, timeout=timeout)
    target = _target_dir(directory, result.task_id)
    paths: list[Path] = []
    kw = _client_kwargs(policy)
    with net.make_client(**kw) as client:
        for i, out in enumerate(result.outputs):
            path = target / output_filename(result.task_id, i, out)
            url = out.url or ""
            try:
                fh, tmp = _open_temp(target)
                try:
                    if out.url is None:
                        fh.write((out.text or "").encode("utf-8"))
                    else:
                        with net.deadline(time.monotonic() + policy.timeout):
                            _fetch_to(
                                client,
                                out.url,
                                fh.write,
                                _Meter(policy, url, i, result.task_id, name=path.name),
                                kw["guard"],
                            )
                    _commit(fh, tmp, path)
                except BaseException:
                    _discard(fh, tmp)
                    raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a typed DownloadError
                raise _with_saved(_typed(exc, url, i, result.task_id, policy), paths) from None
            paths.append(path)
    return paths


def _with_saved(err: DownloadError, paths: list[Path]) -> DownloadError:
    if paths and not err.details:
        err.details = {"saved": [str(p) for p in paths]}
    return err


# ------------------------------------------------------------------ awaitable


@contextlib.asynccontextmanager
async def _astream(
    client: httpx.AsyncClient, url: str, meter: _Meter, guard: net.AddressGuard
) -> AsyncGenerator[httpx.Response, None]:
    import asyncio

    hops = 0
    while True:
        await asyncio.to_thread(guard.check_url, url)
        resp = await client.send(client.build_request("GET", url, headers=_HEADERS), stream=True)
        try:
            nxt = _next_url(url, resp, hops, meter.index, meter.task_id)
            if nxt is None:
                meter.check_headers(resp)
                yield resp
                return
        finally:
            await resp.aclose()
        url, hops = nxt, hops + 1


async def _achunks(resp: httpx.Response, meter: _Meter) -> AsyncIterator[bytes]:
    async for chunk in ametered(resp.aiter_bytes(), "download", meter.name, _size(resp)):
        meter.add(chunk, resp.num_bytes_downloaded)
        yield chunk


async def adownload_outputs(
    result: TaskResult, directory: Path, *, timeout: float | None = None, policy: FetchPolicy | None = None
) -> list[Path]:
    """Awaitable :func:`download_outputs`."""
    import asyncio

    policy = policy or FetchPolicy.default()
    if timeout is not None:  # the caller's limit: the one applied, and the one a timeout error names
        policy = replace(policy, timeout=timeout)
    target = await asyncio.to_thread(_target_dir, directory, result.task_id)
    paths: list[Path] = []
    kw = _client_kwargs(policy)
    async with net.make_async_client(**kw) as client:
        for i, out in enumerate(result.outputs):
            path = target / output_filename(result.task_id, i, out)
            url = out.url or ""
            try:
                fh, tmp = await asyncio.to_thread(_open_temp, target)
                try:
                    if out.url is None:
                        await asyncio.to_thread(fh.write, (out.text or "").encode("utf-8"))
                    else:
                        with net.deadline(time.monotonic() + policy.timeout):
                            meter = _Meter(policy, url, i, result.task_id, name=path.name)
                            async with _astream(client, out.url, meter, kw["guard"]) as resp:
                                async for chunk in _achunks(resp, meter):
                                    await asyncio.to_thread(fh.write, chunk)
                    await asyncio.to_thread(_commit, fh, tmp, path)
                except BaseException:
                    _discard(fh, tmp)
                    raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes a typed DownloadError
                raise _with_saved(_typed(exc, url, i, result.task_id, policy), paths) from None
            paths.append(path)
    return paths


# ------------------------------------------------------------------ one output into memory (previews, resources/read)


def _memory_meter(url: str, max_bytes: int, what: str, policy: FetchPolicy) -> _Meter:
    meter = _Meter(policy, url, 0, None, limit=max_bytes)
    meter.label = what
    return meter


def fetch_output(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 60.0,
    what: str = "the output",
    policy: FetchPolicy | None = None,
) -> bytes:
    """One output's bytes in memory (previews), under the download guard: no private address (but
    the API's host, from ``policy``), at most ``max_bytes``, within ``timeout`` seconds in all."""
    policy = policy or FetchPolicy.default()
    kw = _client_kwargs(policy)
    meter = _memory_meter(url, max_bytes, what, policy)
    data = bytearray()
    try:
        with net.make_client(**kw) as client, net.deadline(time.monotonic() + timeout):
            _fetch_to(client, url, data.extend, meter, kw["guard"])
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed DownloadError
        raise _typed(exc, url, 0, None, replace(policy, timeout=timeout)) from None
    return bytes(data)


async def afetch_output(
    url: str,
    *,
    max_bytes: int,
    timeout: float = 60.0,
    what: str = "the output",
    client: httpx.AsyncClient | None = None,
    policy: FetchPolicy | None = None,
) -> bytes:
    """:func:`fetch_output` for async callers. ``client``: a pool to reuse, which should be one made
    with ``_net.make_async_client(guard=...)`` (the MCP server's preview pool): an unguarded pool
    still gets the early address check of every URL and redirect, but not the check at connect."""
    policy = policy or FetchPolicy.default()
    kw = _client_kwargs(policy)
    own = client is None
    http = client if client is not None else net.make_async_client(**kw)
    meter = _memory_meter(url, max_bytes, what, policy)
    try:
        with net.deadline(time.monotonic() + timeout):
            data = bytearray()
            async with _astream(http, url, meter, kw["guard"]) as resp:
                async for chunk in _achunks(resp, meter):
                    data += chunk
            return bytes(data)
    except Exception as exc:  # noqa: BLE001 - typed, as for downloads
        raise _typed(exc, url, 0, None, replace(policy, timeout=timeout)) from None
    finally:
        if own:
            await http.aclose()
