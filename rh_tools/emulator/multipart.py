"""A small streaming multipart/form-data reader: file parts go straight to disk.

Why not ``request.form()``: Starlette needs the optional ``python-multipart`` package for forms
(not a dependency of the emulator extra), and an upload past the size limit must still be read to
the end so the client receives the JSON refusal instead of a broken pipe. Thirty lines of
boundary scanning do both with memory bounded by the chunk size.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, TypeGuard

__all__ = ["MultipartError", "MultipartForm", "UploadPart", "parse_header", "read_multipart"]

_MAX_FIELD = 1024 * 1024  # text fields beyond this are truncated
_MAX_HEADERS = 16 * 1024


class MultipartError(ValueError):
    """The body is not a readable multipart/form-data body."""


@dataclass
class UploadPart:
    """One file part of a multipart body, already on disk."""

    filename: str
    content_type: str
    path: Path
    size: int = 0
    sha256: str = ""
    too_large: bool = False


@dataclass
class MultipartForm:
    fields: dict[str, str]
    files: dict[str, UploadPart]

    def cleanup(self) -> None:
        for part in self.files.values():
            part.path.unlink(missing_ok=True)


def parse_header(value: str) -> tuple[str, dict[str, str]]:
    """``'form-data; name="file"; filename="a.png"'`` -> ("form-data", {"name": ..., "filename": ...})."""
    msg = Message()
    msg["x"] = value
    params = msg.get_params(header="x") or []
    main = params[0][0].lower() if params else ""
    out: dict[str, str] = {}
    for k, v in params[1:]:
        out[k.lower()] = _collapse(v)
    return main, out


def _is_rfc2231(v: object) -> TypeGuard[tuple[str | None, str | None, str]]:
    # RFC 2231 values come back as (charset, language, text) tuples (typeshed types them as str).
    return isinstance(v, tuple)


def _collapse(v: object) -> str:
    if _is_rfc2231(v):
        charset, _, text = v
        try:
            return str(text).encode("latin-1").decode(charset or "utf-8")
        except (LookupError, UnicodeError):
            return str(text)
    return str(v)


class _Part:
    __slots__ = ("name", "file", "fh", "hash", "buf")

    def __init__(self, name: str, file: UploadPart | None, fh: IO[bytes] | None) -> None:
        self.name = name
        self.file = file
        self.fh = fh
        self.hash = hashlib.sha256() if file else None
        self.buf = bytearray()


async def read_multipart(
    chunks: AsyncIterator[bytes],
    content_type: str,
    new_path: Callable[[], Path],
    *,
    max_file_bytes: int,
) -> MultipartForm:
    """Read a whole multipart body from ``chunks``; files larger than ``max_file_bytes`` are
    drained but not kept (``too_large``)."""
    ctype, opts = parse_header(content_type)
    boundary = opts.get("boundary", "")
    if ctype != "multipart/form-data" or not boundary:
        raise MultipartError("expected multipart/form-data with a boundary")
    delim = b"--" + boundary.encode("latin-1")
    marker = b"\r\n" + delim
    fields: dict[str, str] = {}
    files: dict[str, UploadPart] = {}
    buf = bytearray()
    state = "preamble"
    part: _Part | None = None

    def emit(data: bytes | bytearray) -> None:
        assert part is not None
        if part.file is None:
            room = _MAX_FIELD - len(part.buf)
            if room > 0:
                part.buf.extend(data[:room])
            return
        f = part.file
        f.size += len(data)
        if f.too_large:
            return
        if f.size > max_file_bytes:
            f.too_large = True
            assert part.fh is not None
            part.fh.truncate(0)
            return
        assert part.fh is not None and part.hash is not None
        part.fh.write(data)
        part.hash.update(data)

    def end_part() -> None:
        nonlocal part
        assert part is not None
        if part.file is None:
            fields.setdefault(part.name, part.buf.decode("utf-8", "replace"))
        else:
            assert part.fh is not None and part.hash is not None
            part.fh.close()
            part.file.sha256 = part.hash.hexdigest()
            old = files.get(part.name)
            if old is not None:
                old.path.unlink(missing_ok=True)
            files[part.name] = part.file
        part = None

    def begin_part(raw: bytes) -> None:
        nonlocal part
        headers: dict[str, str] = {}
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        _, disp = parse_header(headers.get("content-disposition", ""))
        name = disp.get("name", "")
        if "filename" in disp:
            upload = UploadPart(disp["filename"], headers.get("content-type", "application/octet-stream"), new_path())
            part = _Part(name, upload, open(upload.path, "wb"))  # noqa: SIM115 - closed in end_part
        else:
            part = _Part(name, None, None)

    try:
        async for chunk in chunks:
            buf.extend(chunk)
            while True:
                if state == "preamble":
                    i = buf.find(delim)
                    if i < 0:
                        del buf[: max(0, len(buf) - len(delim))]
                        break
                    del buf[: i + len(delim)]
                    state = "after_delim"
                elif state == "after_delim":
                    if len(buf) < 2:
                        break
                    if buf.startswith(b"--"):  # (len(buf) >= 2 here)
                        state = "done"
                        break
                    j = buf.find(b"\r\n")
                    if j < 0:
                        break
                    del buf[: j + 2]  # CRLF, possibly after transport padding
                    state = "headers"
                elif state == "headers":
                    j = buf.find(b"\r\n\r\n")
                    if j < 0:
                        if len(buf) > _MAX_HEADERS:
                            raise MultipartError("part headers too long")
                        break
                    begin_part(bytes(buf[:j]))
                    del buf[: j + 4]
                    state = "body"
                elif state == "body":
                    i = buf.find(marker)
                    if i < 0:
                        keep = len(marker) - 1
                        if len(buf) > keep:
                            emit(buf[: len(buf) - keep])
                            del buf[: len(buf) - keep]
                        break
                    emit(buf[:i])
                    end_part()
                    del buf[: i + len(marker)]
                    state = "after_delim"
                else:  # done: ignore the epilogue
                    buf.clear()
                    break
        if state != "done":
            raise MultipartError("the multipart body ended early")
    except BaseException:
        if part is not None and part.fh is not None:
            part.fh.close()
            assert part.file is not None
            part.file.path.unlink(missing_ok=True)
        MultipartForm(fields, files).cleanup()
        raise
    return MultipartForm(fields, files)
