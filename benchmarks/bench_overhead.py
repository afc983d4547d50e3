"""Goal 3: client overhead per request vs raw httpx sending the same requests: <= 1.15x.

The emulator runs in its own process (``python -m rh_tools.emulator``), so the server's work does
not share this process's interpreter lock. Both sides send the same status query
(``POST /openapi/v2/query {"taskId": ...}`` with the same headers) to the same emulator:

* raw:     ``httpx.Client`` / ``httpx.AsyncClient`` (same timeouts, redirects and pool limits as the
           client's own), ``resp.json()``;
* client:  ``RunningHub.get_task`` / ``AsyncRunningHub.get_task`` (request building, error mapping,
           the ``Task`` model).

Rounds alternate raw / client so drift on this noisy machine hits both; the verdict uses the median
of the per-round ratios (each round compares two back-to-back batches). The async case runs a fixed
number of requests in flight (a semaphore), the same for both sides: gathering thousands at once
measures httpx's pool, not the client.

    python benchmarks/bench_overhead.py              # about 1 minute
"""

# ruff: noqa: B023  (the lambdas run inside the loop iteration that defines them)
from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from _common import KEY, EmulatorProcess, median, print_header, table, verdict

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._version import __version__

HEADERS = {
    "User-Agent": f"rh-tools/{__version__}",
    "Accept": "application/json",
    "Authorization": f"Bearer {KEY}",
}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


def time_sync(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


async def time_async(fn: Callable[[], Awaitable[Any]], n: int, in_flight: int) -> float:
    sem = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with sem:
            await fn()

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return (time.perf_counter() - t0) / n


def compare(name: str, rounds: list[tuple[float, float]]) -> list[Any]:
    raw = median([r for r, _ in rounds])
    ours = median([c for _, c in rounds])
    ratios = [c / r for r, c in rounds]
    ratio = median(ratios)
    return [
        name,
        len(rounds),
        raw * 1e6,
        ours * 1e6,
        (ours - raw) * 1e6,
        f"{ours / raw:.3f}x",
        f"{ratio:.3f}x ({min(ratios):.2f}–{max(ratios):.2f})",
        verdict(ratio <= 1.15),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=400, help="requests per round and side")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--in-flight", type=int, default=8, help="async requests in flight")
    args = ap.parse_args()
    print_header("Client overhead per request vs raw httpx (goal 3)")
    rows = []
    with EmulatorProcess(
        "--image-seconds", "0.05", "--video-seconds", "100000", "--queue-seconds", "0", "--jitter", "0"
    ) as emu:
        with RunningHub(api_key=KEY, base_url=emu.base_url) as rh:
            finished = rh.run("seedream-v4/text-to-image", prompt="overhead").task_id
            running = rh.submit("vidu/text-to-video-q3-pro-fast", prompt="overhead").task_id
        url = emu.base_url + "/openapi/v2/query"
        for label, task_id in (("finished task (results, usage)", finished), ("running task", running)):
            # ---- sync
            rounds = []
            with (
                RunningHub(api_key=KEY, base_url=emu.base_url) as rh,
                httpx.Client(timeout=TIMEOUT, follow_redirects=True) as raw,
            ):
                body = {"taskId": task_id}
                raw_fn = lambda: raw.post(url, json=body, headers=HEADERS).json()  # noqa: E731
                ours_fn = lambda: rh.get_task(task_id)  # noqa: E731
                assert raw_fn()["taskId"] == ours_fn().task_id
                time_sync(raw_fn, 50)  # warm both pools
                time_sync(ours_fn, 50)
                for _ in range(args.rounds):
                    rounds.append((time_sync(raw_fn, args.requests), time_sync(ours_fn, args.requests)))
            rows.append(compare(f"sync get_task, {label}", rounds))

            # ---- async
            async def run_async(task_id: str = task_id) -> list[tuple[float, float]]:
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
                out = []
                async with (
                    AsyncRunningHub(api_key=KEY, base_url=emu.base_url) as arh,
                    httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True, limits=limits) as araw,
                ):
                    body = {"taskId": task_id}

                    async def raw_fn() -> Any:
                        return (await araw.post(url, json=body, headers=HEADERS)).json()

                    async def ours_fn() -> Any:
                        return await arh.get_task(task_id)

                    await time_async(raw_fn, 50, args.in_flight)
                    await time_async(ours_fn, 50, args.in_flight)
                    for _ in range(args.rounds):
                        out.append(
                            (
                                await time_async(raw_fn, args.requests, args.in_flight),
                                await time_async(ours_fn, args.requests, args.in_flight),
                            )
                        )
                return out

            rows.append(compare(f"async get_task ({args.in_flight} in flight), {label}", asyncio.run(run_async())))
    print(
        table(
            [
                "case",
                "rounds",
                "raw µs/req (med)",
                "client µs/req (med)",
                "overhead µs",
                "ratio of medians",
                "ratio per round: median (range)",
                "goal ≤ 1.15x",
            ],
            rows,
        )
    )
    print()
    print(
        f"{args.requests} requests per round and side; µs per request is wall time / requests (async: "
        "throughput, not latency)."
    )


if __name__ == "__main__":
    main()
