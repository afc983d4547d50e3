"""Goal 1: completion-to-caller lag and queries per task, rh-tools' polling vs fixed and geometric pollers.

Five strategies run side by side in one process, on one in-process emulator (its task clock is this
process's time.monotonic, so ``emu.task(id).end_at`` is the instant the task really finished):

* ``rh-tools warm`` - ``AsyncRunningHub.run`` with its default policy, one client that learns the
  durations of each endpoint as its tasks finish;
* ``rh-tools cold`` - the same, but a fresh client per task without a task journal: every task is
  the first of its endpoint the client has seen (a first-ever CLI run or MCP server; with the
  journal, later processes start warm: bench_fresh_process.py);
* ``geometric``     - plain back-off: sleep 0.5 s x 1.5^n (capped at 10 s), query, repeat;
* ``fixed 5 s``     - the official RunningHub client's loop: sleep 5 s, query, repeat;
* ``fixed 1 s``     - the same loop every second.

The baselines use ``AsyncRunningHub.submit``/``get_task``, so request building, transport and
connection pool are identical; only *when* to query differs. Each strategy has its own API key, and
the emulator draws run times per key and endpoint from one seed, so task i of a class runs exactly
as long under every strategy: the comparison is paired, task by task.

Three classes with median run times of 2, 8 and 30 s, spread by ``--dist``: ``uniform:0.3`` (median
x U(0.7, 1.3)) or ``lognormal:0.8`` (heavy-tailed, as real queues are). N tasks per class and
strategy; task i of a class is submitted at i x median/5, so a few run at once and the warm client
learns as tasks finish. Rows report tasks 11..N (the warm client has seen ten finish by then).

lag     = moment ``run``/the loop returns to the caller - the moment the task finished (end_at)
task    = end_at - the emulator's admission of the task
queries = status queries after the submit (the lower bound is 1 query and 0 lag)
goal    = median lag <= max(10 % of the median task, 0.25 s), and no more queries than fixed 1 s.

    python benchmarks/bench_polling.py                          # uniform ±30 %, ~4 minutes
    python benchmarks/bench_polling.py --dist lognormal:0.8     # heavy tails, ~7 minutes
    python benchmarks/bench_polling.py --tasks 12 --classes 2s,8s   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from _common import mean, median, pct, print_header, table, verdict

from rh_tools import AsyncRunningHub
from rh_tools.emulator import Emulator

CLASSES: dict[str, tuple[str, float]] = {
    "2s": ("seedream-v4/text-to-image", 2.0),
    "8s": ("seedream-v4.5/text-to-image", 8.0),
    "30s": ("seedream-v5-lite/text-to-image", 30.0),
}
#: strategy -> its API key (the emulator accepts any 32-hex key; one each keeps run times paired)
KEYS = {
    "rh-tools warm": "a" * 32,
    "rh-tools cold": "b" * 32,
    "geometric 0.5×1.5ⁿ": "c" * 32,
    "fixed 5 s": "d" * 32,
    "fixed 1 s": "e" * 32,
}
STEADY_FROM = 10  # tasks 11.. are reported


@dataclass
class Sample:
    cls: str
    strategy: str
    index: int
    task_id: str
    returned: float
    queries: int
    lag: float = 0.0
    task: float = 0.0


def fixed(every: float) -> Iterator[float]:
    while True:
        yield every


def geometric(initial: float = 0.5, factor: float = 1.5, cap: float = 10.0) -> Iterator[float]:
    gap = initial
    while True:
        yield gap
        gap = min(gap * factor, cap)


async def run_ours(rh: AsyncRunningHub, path: str, prompt: str) -> tuple[str, int]:
    result = await rh.run(path, prompt=prompt, timeout=900)
    return result.task_id, result.polls


async def run_loop(rh: AsyncRunningHub, path: str, prompt: str, gaps: Iterator[float]) -> tuple[str, int]:
    task = await rh.submit(path, prompt=prompt)
    queries = 0
    while task.status not in ("SUCCESS", "FAILED", "CANCEL"):
        await asyncio.sleep(next(gaps))
        task = await rh.get_task(task.task_id)
        queries += 1
    return task.task_id, queries


async def one_task(base_url: str, clients: dict[str, AsyncRunningHub], strategy: str, path: str, prompt: str) -> Any:
    if strategy == "rh-tools warm":
        return await run_ours(clients[strategy], path, prompt)
    if strategy == "rh-tools cold":  # a fresh client without a journal: nothing learnt, a first-ever run
        async with AsyncRunningHub(api_key=KEYS[strategy], base_url=base_url, store="none") as rh:
            return await run_ours(rh, path, prompt)
    gaps = {"geometric 0.5×1.5ⁿ": geometric, "fixed 5 s": lambda: fixed(5.0), "fixed 1 s": lambda: fixed(1.0)}
    return await run_loop(clients[strategy], path, prompt, gaps[strategy]())


async def one_class(
    base_url: str, clients: dict[str, AsyncRunningHub], cls: str, n: int, spacing: float
) -> list[Sample]:
    path, seconds = CLASSES[cls]

    async def timed(strategy: str, i: int) -> Sample:
        run: Callable[[], Awaitable[tuple[str, int]]] = lambda: one_task(  # noqa: E731
            base_url, clients, strategy, path, f"benchmark {cls} #{i}"
        )
        task_id, queries = await run()
        return Sample(cls, strategy, i, task_id, time.monotonic(), queries)

    jobs: list[asyncio.Task[Sample]] = []
    t0 = time.monotonic()
    for i in range(n):
        await asyncio.sleep(max(0.0, t0 + i * seconds * spacing - time.monotonic()))
        jobs += [asyncio.create_task(timed(strategy, i)) for strategy in KEYS]
    return list(await asyncio.gather(*jobs))


def _groups(samples: list[Sample]) -> dict[tuple[str, str], list[Sample]]:
    out: dict[tuple[str, str], list[Sample]] = {}
    for s in samples:
        out.setdefault((s.cls, s.strategy), []).append(s)
    return out


def summarise(samples: list[Sample], classes: list[str]) -> str:
    rows: list[list[Any]] = []
    for cls in classes:
        by = {s: [x for x in samples if x.cls == cls and x.strategy == s and x.index >= STEADY_FROM] for s in KEYS}
        one_s_queries = mean([x.queries for x in by["fixed 1 s"]])
        for strategy, s in by.items():
            if not s:
                continue
            lags = [x.lag for x in s]
            goal = max(0.10 * median([x.task for x in s]), 0.25)
            queries = mean([x.queries for x in s])
            judged = strategy.startswith("rh-tools")
            rows.append(
                [
                    cls,
                    strategy,
                    len(s),
                    median([x.task for x in s]),
                    median(lags),
                    pct(lags, 95),
                    max(lags),
                    f"{100 * median([x.lag / x.task for x in s]):.1f} %",
                    queries,
                    f"{goal:.2f}",
                    (f"lag {verdict(median(lags) <= goal)}, queries {verdict(queries <= one_s_queries)}")
                    if judged
                    else "",
                ]
            )
    return table(
        [
            "class",
            "strategy",
            "tasks",
            "task s (med)",
            "lag s (med)",
            "lag p95",
            "lag max",
            "lag/task (med)",
            "queries/task",
            "goal lag s",
            "goal (lag; queries ≤ fixed 1 s)",
        ],
        rows,
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=30, help="tasks per class and strategy (default 30)")
    ap.add_argument("--classes", default="2s,8s,30s", help="comma-separated subset of 2s,8s,30s")
    ap.add_argument("--spacing", type=float, default=0.2, help="submit gap as a fraction of the median run time")
    ap.add_argument("--dist", default="uniform:0.3", help="run-time spread: uniform:J or lognormal:SIGMA")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    classes = [c for c in args.classes.split(",") if c]

    print_header("Polling lag and queries per task (goal 1)")
    durations = {CLASSES[c][0]: CLASSES[c][1] for c in classes}
    emu = Emulator(port=0, duration_dist=args.dist, seed=args.seed, concurrency=100_000, endpoint_durations=durations)
    with emu:
        clients = {s: AsyncRunningHub(api_key=key, base_url=emu.base_url) for s, key in KEYS.items()}
        started = time.monotonic()
        try:
            groups = await asyncio.gather(
                *(one_class(emu.base_url, clients, c, args.tasks, args.spacing) for c in classes)
            )
        finally:
            for c in clients.values():
                await c.aclose()
        wall = time.monotonic() - started
        samples = [s for g in groups for s in g]
        created: dict[str, tuple[float, float]] = {}  # task id -> (creation instant, run time)
        for s in samples:
            t = emu.task(s.task_id)
            assert t is not None and t.end_at is not None and t.final == "SUCCESS", s
            s.lag = s.returned - t.end_at
            s.task = t.end_at - t.created
            created[s.task_id] = (t.created, t.duration)
        # The emulator gives the n-th task a key creates at an endpoint the n-th run time of that
        # endpoint's stream. Number each strategy's tasks in the order the emulator created them (a
        # fresh client's connection may overtake the one before under load): index i then means the
        # same run time under every strategy.
        paired: dict[tuple[str, int], set[float]] = {}
        for (cls, _strategy), group in _groups(samples).items():
            group.sort(key=lambda x: created[x.task_id][0])
            for i, x in enumerate(group):
                x.index = i
                paired.setdefault((cls, i), set()).add(round(created[x.task_id][1], 9))
        unpaired = {k: v for k, v in paired.items() if len(v) != 1}
        assert not unpaired, f"run times differ between strategies: {sorted(unpaired.items())[:5]}"
        queries = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
    counted = sum(s.queries for s in samples)
    print(
        table(
            ["setting", "value"],
            [
                ["tasks per class and strategy", args.tasks],
                ["run times", f"{args.dist} around the class median, seed {args.seed} (identical per strategy)"],
                ["submit spacing", f"{args.spacing:g} x median run time"],
                ["wall time", f"{wall:.0f} s"],
                ["queries seen by the emulator / counted by the callers", f"{queries} / {counted}"],
            ],
        )
    )
    print()
    print(summarise(samples, classes))
    print()
    print(f"Rows: tasks {STEADY_FROM + 1}..{args.tasks} of each class, the same tasks (run times) for every strategy.")
    print("Lower bound for every class: lag 0, 1 query (a push channel; see bench_webhook.py).")


if __name__ == "__main__":
    asyncio.run(main())
