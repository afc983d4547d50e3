"""Files the emulator hands out and takes in: sample results, signed URLs, uploads, multipart.

Why here and not in the routes: result links must lead to real files of the advertised type and
uploads must come back byte-for-byte from their ``download_url`` — plumbing the route code should
not carry. (Reading multipart bodies lives in ``multipart.py``.)
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

__all__ = [
    "ASSETS",
    "KIND_BY_EXT",
    "Signer",
    "StoredFile",
    "UploadStore",
    "asset_for",
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
_FALLBACK = {
    "webp": "png",
    "gif": "png",
    "bmp": "png",
    "mov": "mp4",
    "webm": "mp4",
    "flac": "wav",
    "m4a": "mp3",
}

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
