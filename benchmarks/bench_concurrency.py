"""Goal 4: 1,000 concurrent tasks through one AsyncRunningHub: all done, wall <= 1.2x ideal, RSS <= 150 MB.

The emulator runs in its own process (``python -m rh_tools.emulator``, concurrency 100,000, every
task exactly ``--seconds`` long, no queueing), so this process's RSS and CPU are the client's.

ideal = the wall time of ONE task run alone through a fresh client on the same emulator
        (task duration + the poll lag of the cold schedule + round trips): the best 1,000 tasks
        can do if the client added nothing for running them together.
wall  = from the first ``run`` call to the last result, 1,000 ``rh.run`` gathered at once on a
        fresh client (cold: no duration history, like the solo run).

Requests are counted by a transport wrapper. Peak RSS is this process's VmHWM (reset before the
default run where the kernel allows). The client keeps at most ``max_in_flight`` (20) requests on
the wire: httpx/httpcore scans every queued request on every pool event, so 1,000 requests queued
in httpx at once cost CPU quadratically. ``--cap N`` adds a run with a transport-level cap too.

    python benchmarks/bench_concurrency.py            # about 2.5 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from _common import KEY, EmulatorProcess, peak_rss_mb, print_header, reset_peak_rss, rss_mb, table, verdict

from rh_tools import AsyncRunningHub

PATH = "seedream-v4/text-to-image"
# The emulator bills every finished task from a per-key wallet: a fresh key per run counts the tasks
# it really created (a retried submit that did create a task would show here).
OPENING_BALANCE, IMAGE_PRICE = 1000.0, 0.14
ACCOUNT = "/uc/openapi/accountStatus"


class CountingTransport(httpx.AsyncBaseTransport):
    """The client's default transport (same limits), counting requests per path.

    ``cap``: at most this many requests handed to httpx at once (an asyncio.Semaphore in front of
    the pool); None hands every request straight to httpx, as the client does by default.
    """

    def __init__(self, cap: int | None = None) -> None:
        limits = (
            httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
            if cap
            else httpx.Limits(max_connections=200, max_keepalive_connections=50)
        )
        self.inner = httpx.AsyncHTTPTransport(limits=limits)
        self.count: Counter[str] = Counter()
        self.sem = asyncio.Semaphore(cap) if cap else None
        self.last_submit_answered = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == ACCOUNT:  # the wallet read after the run is not part of it
            return await self.inner.handle_async_request(request)
        self.count[request.url.path] += 1
        if self.sem is None:
            response = await self.inner.handle_async_request(request)
        else:
            async with self.sem:
                response = await self.inner.handle_async_request(request)
                await response.aread()  # the connection is busy until the body is read and closed
                await response.aclose()
        if request.url.path == "/openapi/v2/" + PATH:
            self.last_submit_answered = time.monotonic()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Run:
    wall: float
    submits_done: float  # seconds from the start until the last submit was answered
    cpu: float  # this process's CPU seconds during the run
    results: list[Any]
    errors: list[BaseException]
    count: Counter[str]
    created: int = 0  # tasks the emulator billed, from the wallet of this run's own key


async def run_many(base_url: str, n: int, cap: int | None = None, key: str = KEY) -> Run:
    transport = CountingTransport(cap)
    async with AsyncRunningHub(api_key=key, base_url=base_url, transport=transport) as rh:
        c0, t0 = time.process_time(), time.monotonic()
        results = await asyncio.gather(
            *(rh.run(PATH, prompt=f"concurrent #{i}", timeout=300) for i in range(n)), return_exceptions=True
        )
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        spent = OPENING_BALANCE - float((await rh.account()).remain_money or 0)
    return Run(
        wall,
        transport.last_submit_answered - t0,
        cpu,
        [r for r in results if not isinstance(r, BaseException)],
        [r for r in results if isinstance(r, BaseException)],
        transport.count,
        round(spent / IMAGE_PRICE),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0, help="task duration (no jitter)")
    ap.add_argument(
        "--cap",
        type=int,
        default=0,
        help="also run with a transport-level in-flight cap of this size, for comparison (0: skip it)",
    )
    args = ap.parse_args()
    print_header("1,000 concurrent tasks through AsyncRunningHub (goal 4)")
    with EmulatorProcess(
        "--image-seconds",
        str(args.seconds),
        "--jitter",
        "0",
        "--queue-seconds",
        "0",
        "--concurrency",
        "100000",
    ) as emu:
        solo = asyncio.run(run_many(emu.base_url, 1))
        base_rss = rss_mb()
        reset = reset_peak_rss()
        runs = {"default client": asyncio.run(run_many(emu.base_url, args.tasks, key="1" * 32))}
        peak = peak_rss_mb()
        if args.cap:
            runs[f"≤ {args.cap} in flight, pool of {args.cap}"] = asyncio.run(
                run_many(emu.base_url, args.tasks, args.cap, key="2" * 32)
            )
    ideal = solo.wall
    rows: list[list[Any]] = []

    def add(label: str, f: Any, goal: Any = "") -> None:
        rows.append([label, *(f(r) for r in runs.values()), goal])

    default = runs["default client"]
    ok = len(default.results) == args.tasks and all(r.status == "SUCCESS" for r in default.results)
    add("tasks completed", lambda r: f"{len(r.results)} / {args.tasks} ({len(r.errors)} errors)", verdict(ok))
    add("wall, all tasks (s)", lambda r: f"{r.wall:.2f}")
    add("wall / ideal", lambda r: f"{r.wall / ideal:.2f}x", f"≤ 1.2x: {verdict(default.wall / ideal <= 1.2)}")
    add("last submit answered after (s)", lambda r: f"{r.submits_done:.2f}")
    add("client CPU (s)", lambda r: f"{r.cpu:.1f}")
    add("requests sent", lambda r: f"{sum(r.count.values()):,}")
    add(
        "  submits (retries: pool timeouts, never sent)",
        lambda r: f"{r.count.get('/openapi/v2/' + PATH, 0):,}",
    )
    add(
        "tasks created (billed by the emulator)",
        lambda r: f"{r.created:,}",
        verdict(default.created == args.tasks),
    )
    add(
        "  status queries (per task)",
        lambda r: f"{r.count.get('/openapi/v2/query', 0):,} ({r.count.get('/openapi/v2/query', 0) / args.tasks:.2f})",
    )
    rows.append(
        [
            "peak RSS (VmHWM" + (", reset before the run)" if reset else " since start)"),
            f"{peak:.1f} MB",
            *([""] * (len(runs) - 1)),
            f"≤ 150 MB: {verdict(peak <= 150)}",
        ]
    )
    rows.append(["RSS before the run", f"{base_rss:.1f} MB", *([""] * (len(runs) - 1)), ""])
    print(table(["measure", *runs, "goal"], rows))
    print()
    print(
        f"task duration {args.seconds:g} s, no jitter; ideal = one task alone through a fresh client: "
        f"{ideal:.2f} s ({solo.results[0].polls} polls)."
    )
    if args.cap:
        print(
            f"The second run puts an asyncio.Semaphore({args.cap}) in front of a pool of {args.cap} "
            "connections: "
            "what a client-side in-flight cap would give."
        )
    if default.errors:
        print("first error:", repr(default.errors[0]))


if __name__ == "__main__":
    main()
