"""Media inputs: tell URLs from local files, and stream files up without reading them into memory.

A media field accepts a public URL, a data URI, an ``asset://`` id, a local path or raw bytes.
URLs and data URIs go to the API as they are; local files and bytes are uploaded first and
replaced by the URL (or, for workflow-backed '##' slots, the file name) that the upload returns.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import re
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ._exceptions import InvalidInputError
from ._paths import open_checked
from ._transfer import ametered, metered

__all__ = ["MediaSource", "Multipart", "classify_media", "is_remote_reference", "sniff_extension"]

CHUNK = 1024 * 1024
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*(;base64)?,", re.I)
_RH_FILE_NAME = re.compile(r"^(?:api|openapi)/[\w.\-/]+$|^[0-9a-f]{16,}\.[a-z0-9]{2,5}$", re.I)
_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"GIF8", 0, "gif"),
    (b"RIFF", 0, "wav"),  # refined below for WEBP
    (b"ID3", 0, "mp3"),
    (b"\xff\xfb", 0, "mp3"),
    (b"fLaC", 0, "flac"),
    (b"ftyp", 4, "mp4"),
    (b"glTF", 0, "glb"),
    (b"PK\x03\x04", 0, "zip"),
    (b"BM", 0, "bmp"),
]


def sniff_extension(head: bytes) -> str | None:
    """Guess a file extension from the first bytes, for uploads of raw bytes."""
    for magic, offset, ext in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            if ext == "wav" and head[8:12] == b"WEBP":
                return "webp"
            if ext == "mp4" and head[8:11] == b"qt ":
                return "mov"
            return ext
    return None


def is_remote_reference(value: str) -> bool:
    """True for values the API can fetch itself: http(s) URLs, data URIs, asset ids."""
    v = value.strip()
    return v.lower().startswith(("http://", "https://", "asset://")) or bool(_DATA_URI.match(v))


@dataclass
class MediaSource:
    """Something to upload: a local file, an open binary file, or bytes in memory."""

    name: str
    size: int
    content_type: str
    path: Path | None = None
    data: bytes | None = None
    fileobj: IO[bytes] | None = field(default=None, repr=False)
    offset: int = 0  # where the caller's file object started, so a retried upload resends it whole
    # Set by an agent surface's folder policy (``_paths``): the upload then opens ``path`` with
    # O_NOFOLLOW and reads only if the opened file is still inside these folders. None: any file.
    roots: tuple[Path, ...] | None = field(default=None, repr=False)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        max_size_mb: float | None = None,
        accept: list[str] | None = None,
        label: str = "file",
    ) -> MediaSource:
        p = Path(path).expanduser()
        try:
            st = p.stat()
        except FileNotFoundError:
            raise InvalidInputError(
                f"{label}: {str(path)!r} is not a URL, data URI or existing file",
                hint="Pass a public http(s) URL, a data: URI, or the path of a readable local file.",
            ) from None
        except OSError as exc:
            raise InvalidInputError(f"{label}: cannot read {str(path)!r}: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInputError(f"{label}: {str(path)!r} is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInputError(f"{label}: {str(path)!r} is not a regular file (device, pipe or socket)")
        if not os.access(p, os.R_OK):
            raise InvalidInputError(f"{label}: {str(path)!r} is not readable (permission denied)")
        ext = p.suffix.lower().lstrip(".")
        _check_accept(ext, accept, label, str(path))
        _check_size(st.st_size, max_size_mb, label)
        ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        return cls(name=p.name, size=st.st_size, content_type=ctype, path=p)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        name: str | None = None,
        max_size_mb: float | None = None,
        accept: list[str] | None = None,
        label: str = "file",
    ) -> MediaSource:
        if not data:
            raise InvalidInputError(f"{label}: empty bytes")
        ext = (Path(name).suffix.lower().lstrip(".") if name else None) or sniff_extension(data[:16]) or "bin"
        _check_accept(ext, accept, label, name or "<bytes>")
        _check_size(len(data), max_size_mb, label)
        fname = name or f"upload-{uuid.uuid4().hex[:12]}.{ext}"
        ctype = mimetypes.guess_type(fname)[0] or "application/octet-stream"
        return cls(name=fname, size=len(data), content_type=ctype, data=data)

    @classmethod
    def from_fileobj(cls, fh: IO[bytes], *, name: str | None = None) -> MediaSource:
        if not hasattr(fh, "read"):
            raise InvalidInputError("upload: expected a path, bytes or a binary file object")
        try:
            start = fh.tell()
            fh.seek(0, io.SEEK_END)
            size = fh.tell() - start
            fh.seek(start)
        except (OSError, AttributeError, ValueError):
            raise InvalidInputError("upload: file objects must be seekable (open the file in 'rb' mode)") from None
        fname = name or Path(getattr(fh, "name", "") or f"upload-{uuid.uuid4().hex[:12]}.bin").name
        ctype = mimetypes.guess_type(fname)[0] or "application/octet-stream"
        return cls(name=fname, size=size, content_type=ctype, fileobj=fh, offset=start)

    @classmethod
    def coerce(cls, value: Any, *, name: str | None = None) -> MediaSource:
        if isinstance(value, MediaSource):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls.from_bytes(bytes(value), name=name)
        if isinstance(value, (str, os.PathLike)):
            return cls.from_path(value)
        return cls.from_fileobj(value, name=name)

    def iter_chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            for i in range(0, len(self.data), CHUNK):
                yield self.data[i : i + CHUNK]
            return
        fh, close = self._open()
        try:
            while chunk := fh.read(CHUNK):
                yield chunk
        finally:
            if close:
                fh.close()

    async def aiter_chunks(self) -> AsyncIterator[bytes]:
        if self.data is not None:
            for chunk in self.iter_chunks():
                yield chunk
            return
        fh, close = await asyncio.to_thread(self._open)
        try:
            while chunk := await asyncio.to_thread(fh.read, CHUNK):
                yield chunk
        finally:
            if close:
                await asyncio.to_thread(fh.close)

    def _open(self) -> tuple[IO[bytes], bool]:
        """The file to stream, opened once and judged by its descriptor (see ``_paths.open_checked``)."""
        if self.fileobj is not None:
            self.fileobj.seek(self.offset)
            return self.fileobj, False
        assert self.path is not None
        fd = open_checked(self.path, self.roots)
        size = os.fstat(fd).st_size
        if size != self.size:  # Content-Length was computed from the size seen when the file was checked
            os.close(fd)
            raise InvalidInputError(
                f"Local file {str(self.path)!r} changed size ({self.size} -> {size} bytes) before it could be uploaded",
                hint="Wait until the file is completely written, then call again.",
            )
        return os.fdopen(fd, "rb"), True


def _check_accept(ext: str, accept: list[str] | None, label: str, shown: str) -> None:
    if not accept or not ext:
        return
    allowed = {a.lower() for a in accept}
    if "jpg" in allowed or "jpeg" in allowed:
        allowed |= {"jpg", "jpeg"}
    if ext.lower() not in allowed:
        raise InvalidInputError(
            f"{label}: {shown!r} is a .{ext} file; this field accepts {', '.join(accept)}",
            hint="Convert the file to an accepted format first.",
        )


def _check_size(size: int, max_size_mb: float | None, label: str) -> None:
    if max_size_mb and size > max_size_mb * 1024 * 1024:
        raise InvalidInputError(
            f"{label}: file is {size / 1048576:.1f} MB; the limit is {max_size_mb:g} MB",
            hint="Compress or resize the file, or host it and pass its URL.",
        )


def classify_media(
    value: Any,
    *,
    label: str,
    accept: list[str] | None = None,
    max_size_mb: float | None = None,
    media_ref: str = "url",
) -> str | MediaSource:
    """Return the string to send as is, or the MediaSource to upload first. Raises on bad input."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return MediaSource.from_bytes(bytes(value), max_size_mb=max_size_mb, accept=accept, label=label)
    if isinstance(value, os.PathLike):
        return MediaSource.from_path(value, max_size_mb=max_size_mb, accept=accept, label=label)
    if not isinstance(value, str):
        raise InvalidInputError(f"{label}: expected a URL, data URI, local path or bytes, got {type(value).__name__}")
    v = value.strip()
    if not v:
        raise InvalidInputError(f"{label}: empty value", hint="Pass a URL, data URI or local file path.")
    if is_remote_reference(v):
        if v.lower().startswith(("http://", "https://")) and not re.match(r"^https?://[^/\s?#]+", v, re.I):
            raise InvalidInputError(f"{label}: {v[:80]!r} is not a valid URL")
        return v
    if v.lower().startswith(("file://",)):
        v = v[7:]
    if re.match(r"^[a-z][a-z0-9+.-]*://", v, re.I):
        raise InvalidInputError(
            f"{label}: unsupported URL scheme in {v[:80]!r}", hint="Use http(s) URLs or local paths."
        )
    if media_ref == "file_name" and not Path(v).expanduser().exists() and _RH_FILE_NAME.match(v):
        return v  # already a RunningHub upload file name (what '##' workflow slots take)
    return MediaSource.from_path(v, max_size_mb=max_size_mb, accept=accept, label=label)


class Multipart:
    """A multipart/form-data body with one streamed file part, so Content-Length is known up front."""

    def __init__(self, source: MediaSource, fields: dict[str, str] | None = None, file_field: str = "file") -> None:
        self.source = source
        self.boundary = uuid.uuid4().hex
        b = self.boundary.encode()
        head = b""
        for k, v in (fields or {}).items():
            head += (
                b"--"
                + b
                + b"\r\n"
                + f'Content-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
                + v.encode()
                + b"\r\n"
            )
        # A file name that is not valid UTF-8 on disk (surrogate-escaped) must not break the encode below.
        safe_name = re.sub(r'[\r\n"\\]', "_", source.name).encode("utf-8", "replace").decode("utf-8")
        head += (
            b"--"
            + b
            + b"\r\n"
            + f'Content-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'.encode()
            + f"Content-Type: {source.content_type}\r\n\r\n".encode()
        )
        self.head = head
        self.tail = b"\r\n--" + b + b"--\r\n"

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(len(self.head) + self.source.size + len(self.tail)),
        }

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from metered(self.source.iter_chunks(), "upload", self.source.name, self.source.size)
        yield self.tail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        async for chunk in ametered(self.source.aiter_chunks(), "upload", self.source.name, self.source.size):
            yield chunk
        yield self.tail
