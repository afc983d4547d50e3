"""Files the emulator hands out and takes in: sample results, signed URLs, uploads, multipart.

Why here and not in the routes: result links must lead to real files of the advertised type,
uploads must come back byte-for-byte from their ``download_url``, and a 1 GiB upload must stream
to disk rather than sit in memory — all of which is plumbing the route code should not carry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import os
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

__all__ = [
    "ASSETS",
    "KIND_BY_EXT",
    "MultipartError",
    "MultipartForm",
    "Signer",
    "StoredFile",
    "UploadPart",
    "UploadStore",
    "asset_for",
    "read_multipart",
]

ASSETS = Path(__file__).resolve().parent / "assets"

#: Sample file served for each result extension (other image formats fall back to PNG, etc.).
_SAMPLES = {
    "png": "sample.png",
    "jpg": "sample.jpg",
    "jpeg": "sample.jpg",
    "mp4": "sample.mp4",
    "mp3": "sample.mp3",
    "wav": "sample.wav",
    "glb": "sample.glb",
}
_FALLBACK = {"webp": "png", "gif": "png", "bmp": "png", "mov": "mp4", "webm": "mp4", "flac": "wav", "m4a": "mp3"}

#: Upload ``type`` by extension. The service names image/video/audio; INFERRED for the rest.
KIND_BY_EXT: dict[str, str] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "gif", "bmp"), "image"),
    **dict.fromkeys(("mp4", "avi", "mov", "mkv", "webm"), "video"),
    **dict.fromkeys(("mp3", "wav", "flac", "m4a", "ogg", "aac"), "audio"),
    "zip": "zip",
}


def asset_for(ext: str) -> tuple[Path, str]:
    """(sample file, media type) to serve for a result with extension ``ext``."""
    ext = ext.lower()
    name = _SAMPLES.get(ext) or _SAMPLES.get(_FALLBACK.get(ext, ""), "sample.png")
    path = ASSETS / name
    media_type = {"glb": "model/gltf-binary"}.get(path.suffix[1:]) or mimetypes.guess_type(path.name)[0]
    return path, media_type or "application/octet-stream"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs download paths into JWT-looking ``Rh-Comfy-Auth`` tokens and checks them.

    The check is deliberately loose about *what* a token is (any of ours, for this path, not
    expired) because clients only ever copy these URLs; what matters is that a stripped or
    altered token fails the way a real signed CDN link does (HTTP 403).
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def sign(self, path: str, expires: float) -> str:
        head = _b64(b'{"alg":"HS256","typ":"JWT"}')
        body = _b64(json.dumps({"p": path, "exp": int(expires)}, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{sig}"

    def check(self, path: str, token: str | None, now: float | None = None) -> bool:
        if not token:
            return False
        try:
            head, body, sig = token.split(".")
            want = _b64(hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
            if not hmac.compare_digest(want, sig):
                return False
            claims = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return False
        if claims.get("p") != path:
            return False
        exp = claims.get("exp")
        return not isinstance(exp, (int, float)) or exp >= (time.time() if now is None else now)


@dataclass
class StoredFile:
    """An upload kept on disk, servable back at its URL."""

    file_name: str  # the API's fileName ("openapi/<hex>.png", "api/<sha256>.png")
    path: Path
    size: int
    media_type: str
    kind: str
    key: str
    created: float = field(default_factory=time.time)


class UploadStore:
    """Uploaded files of one emulator, in a private temporary directory removed on close."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rh-emulator-"))
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        # Removed when the store is collected or the interpreter exits, whichever comes first.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.dir), True)

    def tmp_path(self) -> Path:
        return self.dir / f"part-{secrets.token_hex(8)}"

    def add(self, file_name: str, src: Path, *, size: int, media_type: str, kind: str, key: str) -> StoredFile:
        dest = self.dir / file_name.replace("/", "__")
        os.replace(src, dest)
        stored = StoredFile(file_name, dest, size, media_type, kind, key)
        with self._lock:
            self._files[file_name] = stored
        return stored

    def get(self, file_name: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_name)

    def known(self, file_name: str) -> bool:
        return self.get(file_name) is not None

    def close(self) -> None:
        self._cleanup()


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


class MultipartError(ValueError):
    """The body is not a readable multipart/form-data body."""


_MAX_FIELD = 1024 * 1024


async def read_multipart(request: Request, store: UploadStore, *, max_file_bytes: int) -> MultipartForm:
    """Stream a multipart body: file parts go straight to disk, text fields into a dict.

    A file part larger than ``max_file_bytes`` stops being written (``too_large``) but the rest of
    the body is still read, so the client gets a JSON answer instead of a broken pipe.
    """
    ctype, opts = parse_options_header(request.headers.get("content-type", ""))
    boundary = opts.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise MultipartError("expected multipart/form-data with a boundary")

    fields: dict[str, str] = {}
    files: dict[str, UploadPart] = {}
    cur: dict[str, Any] = {}
    headers: dict[bytes, bytes] = {}
    hname = bytearray()
    hval = bytearray()

    def on_part_begin() -> None:
        headers.clear()
        cur.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        hname.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        hval.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(hname).lower()] = bytes(hval)
        hname.clear()
        hval.clear()

    def on_headers_finished() -> None:
        _, disp = parse_options_header(headers.get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        cur["name"] = name
        if filename is not None:
            part = UploadPart(
                filename=filename.decode("utf-8", "replace"),
                content_type=headers.get(b"content-type", b"application/octet-stream").decode("latin-1"),
                path=store.tmp_path(),
            )
            cur["file"] = part
            cur["fh"] = open(part.path, "wb")  # noqa: SIM115 - closed in on_part_end
            cur["hash"] = hashlib.sha256()
        else:
            cur["buf"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        part: UploadPart | None = cur.get("file")
        if part is None:
            buf = cur["buf"]
            if len(buf) < _MAX_FIELD:
                buf.extend(chunk[: _MAX_FIELD - len(buf)])
            return
        part.size += len(chunk)
        if part.too_large:
            return
        if part.size > max_file_bytes:
            part.too_large = True
            cur["fh"].truncate(0)
            return
        cur["fh"].write(chunk)
        cur["hash"].update(chunk)

    def on_part_end() -> None:
        part: UploadPart | None = cur.get("file")
        if part is None:
            fields.setdefault(cur.get("name", ""), bytes(cur.get("buf", b"")).decode("utf-8", "replace"))
            return
        cur["fh"].close()
        part.sha256 = cur["hash"].hexdigest()
        old = files.get(cur["name"])
        if old is not None:
            old.path.unlink(missing_ok=True)
        files[cur["name"]] = part

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except Exception as exc:
        fh = cur.get("fh")
        if fh is not None and not fh.closed:
            fh.close()
            cur["file"].path.unlink(missing_ok=True)
        MultipartForm(fields, files).cleanup()
        if isinstance(exc, MultipartError):
            raise
        raise MultipartError(f"unreadable multipart body: {exc}") from exc
    return MultipartForm(fields, files)
