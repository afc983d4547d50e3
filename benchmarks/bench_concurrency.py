"""Goal 4: 1,000 concurrent tasks through one AsyncRunningHub: all done, wall <= 1.10x an oracle, RSS <= 150 MB.

The emulator runs in its own process (``python -m rh_tools.emulator``, concurrency 100,000, every
task exactly ``--seconds`` long, no queueing), so this process's RSS and CPU are the client's.

oracle = raw httpx that knows every task's duration: 1,000 submits gathered at once (at most 20
         requests on the wire, on a pool of 20, as the client), each task then sleeps until its
         known end and queries once: two requests per task, the least any polling client can send.
client = 1,000 ``rh.run`` gathered at once on a fresh (cold) ``AsyncRunningHub`` with a fresh task
         journal (on, as by default, but empty): it knows nothing about the endpoint and finds out
         by polling.
wall   = from the first request to the last result, for either.

Both run against the same emulator process, alternating, ``--rounds`` times; the verdict takes
the median of the per-round ratios. Requests are counted by a transport wrapper; tasks created are
counted from the emulator's wallet of a fresh key per run (a retried submit that did create a task
would show). Peak RSS is this process's VmHWM, reset before each client run where the kernel allows.

    python benchmarks/bench_concurrency.py            # 3 rounds, about 2 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from _common import EmulatorProcess, peak_rss_mb, print_header, reset_peak_rss, rss_mb, table, verdict

from rh_tools import AsyncRunningHub
from rh_tools._constants import MAX_IN_FLIGHT

PATH = "seedream-v4/text-to-image"
SUBMIT = "/openapi/v2/" + PATH
QUERY = "/openapi/v2/query"
# The emulator bills every finished task from a per-key wallet: a fresh key per run counts the tasks
# it really created.
OPENING_BALANCE, IMAGE_PRICE = 1000.0, 0.14
ACCOUNT = "/uc/openapi/accountStatus"


class CountingTransport(httpx.AsyncBaseTransport):
    """An httpx transport with the client's default pool (MAX_IN_FLIGHT connections), counting requests."""

    def __init__(self) -> None:
        limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
        self.inner = httpx.AsyncHTTPTransport(limits=limits)
        self.count: Counter[str] = Counter()
        self.last_submit_answered = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != ACCOUNT:  # the wallet read after the run is not part of it
            self.count[request.url.path] += 1
        response = await self.inner.handle_async_request(request)
        if request.url.path == SUBMIT:
            self.last_submit_answered = time.monotonic()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Run:
    wall: float
    submits_done: float  # seconds from the start until the last submit was answered
    cpu: float  # this process's CPU seconds during the run
    done: int
    errors: list[BaseException]
    count: Counter[str]
    created: int = 0  # tasks the emulator billed, from the wallet of this run's own key
    peak_rss: float = field(default=0.0)


async def billed(base_url: str, key: str) -> int:
    async with AsyncRunningHub(api_key=key, base_url=base_url) as rh:
        return round((OPENING_BALANCE - float((await rh.account()).remain_money or 0)) / IMAGE_PRICE)


async def run_client(base_url: str, n: int, key: str, journal: str) -> Run:
    transport = CountingTransport()
    async with AsyncRunningHub(api_key=key, base_url=base_url, transport=transport, store=journal) as rh:
        c0, t0 = time.process_time(), time.monotonic()
        results = await asyncio.gather(
            *(rh.run(PATH, prompt=f"concurrent #{i}", timeout=300) for i in range(n)), return_exceptions=True
        )
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
    ok = [r for r in results if not isinstance(r, BaseException) and r.status == "SUCCESS"]
    errors = [r for r in results if isinstance(r, BaseException)]
    return Run(wall, transport.last_submit_answered - t0, cpu, len(ok), errors, transport.count)


async def run_oracle(base_url: str, n: int, seconds: float, key: str) -> Run:
    """Raw httpx that knows every task's duration: submit, sleep until it ends, query (again if early)."""
    transport = CountingTransport()
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, transport=transport, timeout=60) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with slots:
                response = await http.post(path, json=body)
            return response.json()  # type: ignore[no-any-return]

        async def one(i: int) -> str:
            task = await post(SUBMIT, {"prompt": f"oracle #{i}"})
            await asyncio.sleep(seconds)  # from the submit's answer: the task started before it
            while (status := (await post(QUERY, {"taskId": task["taskId"]}))["status"]) not in ("SUCCESS", "FAILED"):
                await asyncio.sleep(0.02)
            return str(status)

        c0, t0 = time.process_time(), time.monotonic()
        results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
    errors = [r for r in results if isinstance(r, BaseException)]
    return Run(wall, transport.last_submit_answered - t0, cpu, results.count("SUCCESS"), errors, transport.count)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10.0, help="task duration (the same for every task)")
    ap.add_argument("--rounds", type=int, default=3, help="oracle/client pairs, alternating (default 3)")
    args = ap.parse_args()
    print_header("1,000 concurrent tasks through AsyncRunningHub (goal 4)")
    emulator_args = ("--image-seconds", str(args.seconds), "--duration-dist", "fixed", "--queue-seconds", "0")
    pairs: list[tuple[Run, Run]] = []
    with EmulatorProcess(*emulator_args, "--concurrency", "100000") as emu:
        base_rss = rss_mb()
        for r in range(args.rounds):
            oracle_key, client_key = f"{2 * r + 1:032x}", f"{2 * r + 2:032x}"
            oracle = asyncio.run(run_oracle(emu.base_url, args.tasks, args.seconds, oracle_key))
            reset = reset_peak_rss()
            with tempfile.TemporaryDirectory(prefix="rh-bench-journal-") as state:  # cold, journal on
                client = asyncio.run(run_client(emu.base_url, args.tasks, client_key, f"{state}/journal.sqlite3"))
            client.peak_rss = peak_rss_mb()
            oracle.created = asyncio.run(billed(emu.base_url, oracle_key))
            client.created = asyncio.run(billed(emu.base_url, client_key))
            pairs.append((oracle, client))
            print(f"round {r + 1}: oracle {oracle.wall:.2f} s, client {client.wall:.2f} s", flush=True)
    ratios = [c.wall / o.wall for o, c in pairs]
    ratio = statistics.median(ratios)
    median_pair = pairs[ratios.index(sorted(ratios)[len(ratios) // 2])]
    rows: list[list[Any]] = []
    n = args.tasks

    def add(label: str, f: Any, goal: str = "") -> None:
        rows.append([label, *(f(r) for r in median_pair), goal])

    ok = all(c.done == n and not c.errors and c.created == n for _, c in pairs)
    add("tasks completed (errors)", lambda r: f"{r.done} / {n} ({len(r.errors)})", verdict(ok) + " (every round)")
    add("tasks created (billed by the emulator)", lambda r: f"{r.created:,}")
    add("wall, all tasks (s)", lambda r: f"{r.wall:.2f}")
    rows.append(
        [
            "client wall / oracle wall",
            "",
            f"{ratio:.3f}x (rounds: {', '.join(f'{x:.3f}' for x in ratios)})",
            f"≤ 1.10x: {verdict(ratio <= 1.10)}",
        ]
    )
    add("last submit answered after (s)", lambda r: f"{r.submits_done:.2f}")
    add("CPU of this process (s)", lambda r: f"{r.cpu:.1f}")
    add("requests sent", lambda r: f"{sum(r.count.values()):,}")
    add("  status queries (per task)", lambda r: f"{r.count[QUERY]:,} ({r.count[QUERY] / n:.2f})")
    peak = max(c.peak_rss for _, c in pairs)
    rows.append(
        [
            "peak RSS (VmHWM" + (", reset before each client run)" if reset else " since start)"),
            "",
            f"{peak:.1f} MB (max of rounds)",
            f"≤ 150 MB: {verdict(peak <= 150)}",
        ]
    )
    rows.append(["RSS before the runs", "", f"{base_rss:.1f} MB", ""])
    print()
    print(table(["measure (the median round)", "oracle (raw httpx)", "rh-tools client (cold)", "goal"], rows))
    print()
    print(
        f"{n:,} tasks of exactly {args.seconds:g} s each; {args.rounds} rounds, oracle then client; "
        f"at most {MAX_IN_FLIGHT} requests on the wire for either."
    )
    errors = [e for _, c in pairs for e in c.errors]
    if errors:
        print("first error:", repr(errors[0]))


if __name__ == "__main__":
    main()
