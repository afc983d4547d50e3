"""Goal 5: a 1 GiB upload is streamed: peak RSS growth <= 32 MB, throughput >= 0.8x raw httpx.

A 1 GiB file is made under /tmp (sparse by default: reads cost no disk I/O, so the figures are the
HTTP path's, on both sides alike; ``--dense`` writes real bytes) and deleted afterwards. The
emulator runs in its own process with its upload limit raised, and stores each upload on disk.

* raw httpx:  ``httpx.Client.post(url, files={"file": fh})`` (httpx streams file objects in
              multipart) and the async twin; same endpoint, same key;
* client:     ``RunningHub.upload(path)`` / ``AsyncRunningHub.upload(path)``.

Each side uploads the file ``--rounds`` times, alternating raw / client. RSS growth is this
process's peak (VmHWM, reset before each upload) minus its RSS just before the upload.

    python benchmarks/bench_upload.py               # about 2 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _common import (
    KEY,
    EmulatorProcess,
    median,
    peak_rss_mb,
    print_header,
    reset_peak_rss,
    rss_mb,
    table,
    verdict,
)

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._version import __version__

GiB = 1024**3
HEADERS = {
    "User-Agent": f"rh-tools/{__version__}",
    "Accept": "application/json",
    "Authorization": f"Bearer {KEY}",
}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def make_file(directory: Path, size: int, dense: bool) -> Path:
    path = directory / "upload.mp4"
    with open(path, "wb") as fh:
        if dense:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                fh.write(block)
        else:
            fh.truncate(size)
    return path


def measure(fn: Callable[[], Any]) -> tuple[float, float, float]:
    """(seconds, peak RSS growth in MB, this process's CPU seconds) of one upload."""
    before = rss_mb()
    reset_peak_rss()
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, max(0.0, peak_rss_mb() - before), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dense", action="store_true", help="write real bytes instead of a sparse file")
    args = ap.parse_args()
    size = args.size_mb * 1024 * 1024
    print_header("Streaming upload of a 1 GiB file (goal 5)")
    if not reset_peak_rss():
        print("warning: cannot reset VmHWM here; growth is measured against the peak since start\n")
    tmp = Path(tempfile.mkdtemp(prefix="rh-bench-upload-", dir="/tmp"))
    try:
        path = make_file(tmp, size, args.dense)
        with EmulatorProcess(settings={"upload_max_mb": args.size_mb * 2}) as emu:
            url = emu.base_url + "/openapi/v2/media/upload/binary"
            results: dict[str, list[tuple[float, float, float]]] = {
                k: [] for k in ("raw sync", "client sync", "raw async", "client async")
            }

            def raw_sync() -> None:
                with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as c, open(path, "rb") as fh:
                    r = c.post(url, files={"file": (path.name, fh, "video/mp4")}, headers=HEADERS)
                    assert r.json()["code"] == 0, r.text

            def client_sync() -> None:
                with RunningHub(api_key=KEY, base_url=emu.base_url) as rh:
                    assert rh.upload(path).download_url

            async def _raw_async() -> None:
                async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as c:
                    with open(path, "rb") as fh:
                        r = await c.post(url, files={"file": (path.name, fh, "video/mp4")}, headers=HEADERS)
                    assert r.json()["code"] == 0, r.text

            async def _client_async() -> None:
                async with AsyncRunningHub(api_key=KEY, base_url=emu.base_url) as rh:
                    assert (await rh.upload(path)).download_url

            sides: dict[str, Callable[[], Any]] = {
                "raw sync": raw_sync,
                "client sync": client_sync,
                "raw async": lambda: asyncio.run(_raw_async()),
                "client async": lambda: asyncio.run(_client_async()),
            }
            for _ in range(args.rounds):
                for name, fn in sides.items():
                    results[name].append(measure(fn))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = []
    for mode in ("sync", "async"):
        raw, ours = results[f"raw {mode}"], results[f"client {mode}"]
        raw_tp = median([size / s / 2**20 for s, _, _ in raw])
        our_tp = median([size / s / 2**20 for s, _, _ in ours])
        for name, res, tp in ((f"raw httpx {mode}", raw, raw_tp), (f"rh-tools {mode}", ours, our_tp)):
            growth = max(g for _, g, _ in res)
            is_ours = name.startswith("rh-tools")
            rows.append(
                [
                    name,
                    len(res),
                    median([s for s, _, _ in res]),
                    tp,
                    median([c for _, _, c in res]),
                    growth,
                    f"{our_tp / raw_tp:.2f}x: {verdict(our_tp / raw_tp >= 0.8)}" if is_ours else "",
                    verdict(growth <= 32) if is_ours else "",
                ]
            )
    print(
        table(
            [
                "side",
                "uploads",
                "seconds (med)",
                "MiB/s (med)",
                "client CPU s (med)",
                "peak RSS growth MB (max)",
                "throughput vs raw (goal ≥ 0.8x)",
                "RSS goal ≤ 32 MB",
            ],
            rows,
        )
    )
    print(
        f"\nfile: {args.size_mb} MiB, {'dense random' if args.dense else 'sparse'}; deleted after the run. "
        "Both sides share the emulator's pace (it parses, hashes and stores every byte), so the\n"
        "throughput ratio bounds the client's cost at that rate; client CPU s shows the cost itself."
    )


if __name__ == "__main__":
    main()
