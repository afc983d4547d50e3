"""Write the small sample files the emulator serves as task results.

Why: result URLs must lead to real files of the advertised type, so a client's download and
type sniffing are exercised. PNG, WAV and GLB are written here with the standard library (run
``python -m rh_tools.emulator.assets._make_assets``). JPEG, MP4 and MP3 need real encoders; they
were made once with the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel and are committed
as-is (a few KB each). With such an ffmpeg on PATH (or ``FFMPEG=...``) this script remakes them::

    ffmpeg -f lavfi -i testsrc2=size=128x128:rate=1:duration=1 -frames:v 1 -q:v 8 sample.jpg
    ffmpeg -f lavfi -i testsrc2=size=160x90:rate=10:duration=1 -c:v libx264 -profile:v baseline \
        -pix_fmt yuv420p -preset veryslow -crf 35 -movflags +faststart -an sample.mp4
    ffmpeg -f lavfi -i sine=frequency=440:duration=1:sample_rate=22050 -ac 1 -c:a libmp3lame \
        -b:a 32k sample.mp3
"""

# ruff: noqa: E501
from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
import sys
import wave
import zlib
from pathlib import Path

__all__ = ["make_glb", "make_png", "make_wav", "main"]

HERE = Path(__file__).resolve().parent


def make_png(width: int = 64, height: int = 64) -> bytes:
    """A truecolour gradient PNG (so the file is visibly an image, not a blank square)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows += bytes((40 + 3 * x, 90 + 2 * y, 200 - x - y // 2))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def make_wav(seconds: float = 0.25, rate: int = 8000) -> bytes:
    """A short 440 Hz mono tone, 16-bit PCM."""
    import io

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))
        )
        w.writeframes(frames)
    return buf.getvalue()


def make_glb() -> bytes:
    """A binary glTF 2.0 holding one triangle: the smallest mesh a 3D viewer will open."""
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = {
        "asset": {"version": "2.0", "generator": "rh-tools emulator"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "buffers": [{"byteLength": len(positions)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(positions), "target": 34962}],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "max": [1, 1, 0],
                "min": [0, 0, 0],
            }
        ],
    }
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary = positions + b"\x00" * (-len(positions) % 4)
    body = struct.pack("<I4s", len(js), b"JSON") + js + struct.pack("<I4s", len(binary), b"BIN\x00") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


_FFMPEG_JOBS = {
    "sample.jpg": ["-f", "lavfi", "-i", "testsrc2=size=128x128:rate=1:duration=1", "-frames:v", "1", "-q:v", "8"],
    "sample.mp4": [
        "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10:duration=1", "-c:v", "libx264", "-profile:v", "baseline",
        "-pix_fmt", "yuv420p", "-preset", "veryslow", "-crf", "35", "-movflags", "+faststart", "-an",
    ],
    "sample.mp3": [
        "-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=22050", "-ac", "1", "-c:a", "libmp3lame",
        "-b:a", "32k",
    ],
}  # fmt: skip


def main() -> int:
    (HERE / "sample.png").write_bytes(make_png())
    (HERE / "sample.wav").write_bytes(make_wav())
    (HERE / "sample.glb").write_bytes(make_glb())
    ffmpeg = os.environ.get("FFMPEG") or shutil.which("ffmpeg")
    if ffmpeg:
        for name, args in _FFMPEG_JOBS.items():
            subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args, str(HERE / name)], check=True)
    else:
        print("ffmpeg not found: kept the committed sample.jpg/mp4/mp3", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
