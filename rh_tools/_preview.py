"""Thumbnails of image outputs, sized for a model to look at, so an agent can check its work.

An output image of any size (a 4K PNG is tens of MB) becomes a JPEG of at most 1,024 px on its long
side and ``max_bytes`` bytes: what vision models downscale to anyway (OpenAI's high detail works on
tiles of a 2,048-px fit, Claude resizes past ~1,568 px, Gemini tiles at 768 px), at about 1,000-1,500
image tokens. The original is fetched through the same path as downloads (``_download``), cut off
at ``FETCH_LIMIT``; decoding refuses images over ``MAX_PIXELS`` (decompression bombs).

Pillow is optional (``pip install 'rh-tools[preview]'``); without it the result says so instead.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ._exceptions import RunningHubError

__all__ = ["DEFAULT_MAX_BYTES", "FETCH_LIMIT", "MAX_SIDE", "Thumbnail", "apreviews", "make_thumbnail", "previews"]

MAX_SIDE = 1024
DEFAULT_MAX_BYTES = 256 * 1024
FETCH_LIMIT = 50 * 1024 * 1024
MAX_PIXELS = 100_000_000
MAX_IMAGES = 4  # previews per result: a batch of 4 is common; more would crowd the context
NO_PILLOW = "No preview: Pillow is not installed (pip install 'rh-tools[preview]'); open the links instead."
_QUALITIES = (85, 75, 60, 45)
_MIN_SIDE = 160


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    mime_type: str
    width: int
    height: int
    index: int = 0  # which output it shows


def _pillow() -> Any:
    from PIL import Image, ImageOps  # optional extra

    return Image, ImageOps


def pillow_available() -> bool:
    try:
        _pillow()
    except ImportError:
        return False
    return True


def make_thumbnail(data: bytes, *, max_side: int = MAX_SIDE, max_bytes: int = DEFAULT_MAX_BYTES) -> Thumbnail:
    """A JPEG no larger than ``max_side`` px and ``max_bytes`` bytes. Raises ValueError with the reason."""
    image_mod, ops = _pillow()
    try:
        with warnings.catch_warnings():  # Pillow warns about big images; the limit below says it plainly
            warnings.simplefilter("ignore", image_mod.DecompressionBombWarning)
            img = image_mod.open(io.BytesIO(data))
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise ValueError(f"the image is {width}x{height} px, over the {MAX_PIXELS // 1_000_000} MP preview limit")
        if img.format == "JPEG":
            img.draft("RGB", (max_side * 2, max_side * 2))  # decode big JPEGs at a fraction of their size
        img.seek(0)  # animations: the first frame
        img = ops.exif_transpose(img)
        if img.mode != "RGB":
            rgba = img.convert("RGBA")
            flat = image_mod.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            img = flat
        side = max_side
        while True:
            shown = img.copy()
            shown.thumbnail((side, side), image_mod.Resampling.LANCZOS)
            for quality in _QUALITIES:
                out = io.BytesIO()
                shown.save(out, "JPEG", quality=quality, optimize=True)
                if out.tell() <= max_bytes:
                    return Thumbnail(out.getvalue(), "image/jpeg", shown.width, shown.height)
            if side <= _MIN_SIDE:
                raise ValueError(f"no thumbnail fits in {max_bytes} bytes")
            side = max(_MIN_SIDE, int(side * 0.7))
    except (OSError, image_mod.DecompressionBombError, SyntaxError) as exc:  # Pillow's "cannot identify image"
        raise ValueError(f"not an image Pillow can read ({type(exc).__name__})") from None


def _image_outputs(task: Any) -> list[tuple[int, str]]:
    return [(i, o.url) for i, o in enumerate(task.outputs) if o.kind == "image" and o.url][:MAX_IMAGES]


def _failed(index: int, why: str) -> str:
    return f"No preview of output {index + 1}: {why}."


def previews(
    task: Any, fetch: Callable[[str], bytes], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Thumbnail], list[str]]:
    """Thumbnails of the task's image outputs, and a note for each one that could not be made."""
    wanted = _image_outputs(task)
    if wanted and not pillow_available():
        return [], [NO_PILLOW]
    shown: list[Thumbnail] = []
    notes: list[str] = []
    for index, url in wanted:
        try:
            thumb = make_thumbnail(fetch(url), max_bytes=max_bytes)
            shown.append(Thumbnail(thumb.data, thumb.mime_type, thumb.width, thumb.height, index))
        except (ValueError, RunningHubError) as exc:
            notes.append(_failed(index, exc.message if isinstance(exc, RunningHubError) else str(exc)))
    return shown, notes


async def apreviews(
    task: Any, fetch: Callable[[str], Awaitable[bytes]], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Thumbnail], list[str]]:
    """:func:`previews` for async callers (fetching is async; the resize itself is short CPU work)."""
    import anyio.to_thread

    wanted = _image_outputs(task)
    if wanted and not pillow_available():
        return [], [NO_PILLOW]
    shown: list[Thumbnail] = []
    notes: list[str] = []
    for index, url in wanted:
        try:
            data = await fetch(url)
            thumb = await anyio.to_thread.run_sync(lambda: make_thumbnail(data, max_bytes=max_bytes))  # noqa: B023
            shown.append(Thumbnail(thumb.data, thumb.mime_type, thumb.width, thumb.height, index))
        except (ValueError, RunningHubError) as exc:
            notes.append(_failed(index, exc.message if isinstance(exc, RunningHubError) else str(exc)))
    return shown, notes
