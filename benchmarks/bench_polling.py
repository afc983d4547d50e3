"""Goal 1: completion-to-caller lag and queries per task, rh-tools' adaptive polling vs fixed pollers.

Three strategies run side by side in one process, on one in-process emulator (its task clock is this
process's time.monotonic, so ``emu.task(id).end_at`` is the instant the task really finished):

* ``rh-tools``  - ``AsyncRunningHub.run`` with its default policy (learns per-endpoint durations);
* ``fixed 5 s`` - the official RunningHub client's strategy: submit, then sleep 5 s / query, repeat;
* ``fixed 1 s`` - the same loop every second.

The baselines use the same ``AsyncRunningHub`` (``submit`` + ``get_task``), so request building,
transport and connection pool are identical; only *when* to query differs. Each strategy has its
own client (own connection pool, own duration history).

Three task classes of about 2 s, 8 s and 30 s (emulator ``endpoint_durations`` with +/-30 % uniform
jitter), N tasks per class and strategy. Task i of a class is submitted at i x duration/5, so a few
run at once and the rh-tools client learns as tasks finish: its first tasks are cold (no history),
the later ones steady state.

lag     = moment ``run``/the loop returns to the caller - the moment the task finished (end_at)
task    = end_at - the emulator's admission of the task (the time the task ran, jitter included)
queries = status queries after the submit (the lower bound is 1 query and 0 lag)
goal    = median lag <= max(10 % of task, 0.25 s) with fewer queries than the fixed 1 s poller.

    python benchmarks/bench_polling.py            # 30 tasks per class, about 3.5 minutes
    python benchmarks/bench_polling.py --tasks 10 --classes 2s,8s   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Any

from _common import KEY, mean, median, pct, print_header, table, verdict

from rh_tools import AsyncRunningHub
from rh_tools.emulator import Emulator

CLASSES: dict[str, tuple[str, float]] = {
    "2s": ("seedream-v4/text-to-image", 2.0),
    "8s": ("seedream-v4.5/text-to-image", 8.0),
    "30s": ("seedream-v5-lite/text-to-image", 30.0),
}
STRATEGIES = ("rh-tools", "fixed 5 s", "fixed 1 s")
COLD = 5  # the first tasks of a class: submitted before the client has seen two of them finish
STEADY_FROM = 10  # tasks 11.. are "steady state"


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


async def run_ours(rh: AsyncRunningHub, cls: str, index: int, path: str) -> Sample:
    result = await rh.run(path, prompt=f"benchmark {cls} #{index}", timeout=600)
    return Sample(cls, "rh-tools", index, result.task_id, time.monotonic(), result.polls)


async def run_fixed(rh: AsyncRunningHub, cls: str, index: int, path: str, every: float, name: str) -> Sample:
    task = await rh.submit(path, prompt=f"benchmark {cls} #{index}")
    queries = 0
    while task.status not in ("SUCCESS", "FAILED", "CANCEL"):
        await asyncio.sleep(every)
        task = await rh.get_task(task.task_id)
        queries += 1
    return Sample(cls, name, index, task.task_id, time.monotonic(), queries)


async def one_class(clients: dict[str, AsyncRunningHub], cls: str, n: int, spacing: float) -> list[Sample]:
    path, seconds = CLASSES[cls]
    jobs: list[asyncio.Task[Sample]] = []
    t0 = time.monotonic()
    for i in range(n):
        await asyncio.sleep(max(0.0, t0 + i * seconds * spacing - time.monotonic()))
        jobs.append(asyncio.create_task(run_ours(clients["rh-tools"], cls, i, path)))
        jobs.append(asyncio.create_task(run_fixed(clients["fixed 5 s"], cls, i, path, 5.0, "fixed 5 s")))
        jobs.append(asyncio.create_task(run_fixed(clients["fixed 1 s"], cls, i, path, 1.0, "fixed 1 s")))
    return list(await asyncio.gather(*jobs))


def summarise(samples: list[Sample], classes: list[str], n: int) -> str:
    rows: list[list[Any]] = []
    for cls in classes:
        nominal = CLASSES[cls][1]
        for strategy in STRATEGIES:
            for phase, lo, hi in (("cold", 0, COLD), ("steady", STEADY_FROM, n), ("all", 0, n)):
                if strategy != "rh-tools" and phase != "all":
                    continue
                s = [x for x in samples if x.cls == cls and x.strategy == strategy and lo <= x.index < hi]
                if not s:
                    continue
                lags = [x.lag for x in s]
                rel = [x.lag / x.task for x in s]
                goal = max(0.10 * median([x.task for x in s]), 0.25)
                rows.append(
                    [
                        cls,
                        strategy,
                        f"{phase} ({len(s)})",
                        median([x.task for x in s]),
                        median(lags),
                        pct(lags, 95),
                        max(lags),
                        f"{100 * median(rel):.1f} %",
                        mean([x.queries for x in s]),
                        f"{goal:.2f}",
                        "",
                    ]
                )
        # the verdict goes on rh-tools' steady-state row (or "all" when there is no steady state)
        ours = [r for r in rows if r[0] == cls and r[1] == "rh-tools"]
        row = next((r for r in ours if r[2].startswith("steady")), ours[-1])
        one_s = next(r for r in rows if r[0] == cls and r[1] == "fixed 1 s")
        row[-1] = verdict(row[4] <= float(row[9]) and row[8] < one_s[8]) + f" (nominal {nominal:g} s)"
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
            "goal",
        ],
        rows,
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=30, help="tasks per class and strategy (default 30)")
    ap.add_argument("--classes", default="2s,8s,30s", help="comma-separated subset of 2s,8s,30s")
    ap.add_argument("--spacing", type=float, default=0.2, help="submit gap as a fraction of the duration")
    ap.add_argument("--jitter", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    classes = [c for c in args.classes.split(",") if c]

    print_header("Polling lag and queries per task (goal 1)")
    durations = {CLASSES[c][0]: CLASSES[c][1] for c in classes}
    emu = Emulator(port=0, jitter=args.jitter, seed=args.seed, concurrency=100_000, endpoint_durations=durations)
    with emu:
        clients = {s: AsyncRunningHub(api_key=KEY, base_url=emu.base_url) for s in STRATEGIES}
        started = time.monotonic()
        try:
            groups = await asyncio.gather(*(one_class(clients, c, args.tasks, args.spacing) for c in classes))
        finally:
            for c in clients.values():
                await c.aclose()
        wall = time.monotonic() - started
        samples = [s for g in groups for s in g]
        for s in samples:
            t = emu.task(s.task_id)
            assert t is not None and t.end_at is not None and t.final == "SUCCESS", s
            s.lag = s.returned - t.end_at
            s.task = t.end_at - t.created
        queries = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
    counted = sum(s.queries for s in samples)
    print(
        table(
            ["setting", "value"],
            [
                ["tasks per class and strategy", args.tasks],
                ["jitter", f"±{args.jitter:.0%} uniform"],
                ["submit spacing", f"{args.spacing:g} x nominal duration"],
                ["wall time", f"{wall:.0f} s"],
                ["queries seen by the emulator / counted by the callers", f"{queries} / {counted}"],
            ],
        )
    )
    print()
    print(summarise(samples, classes, args.tasks))
    print()
    print("cold = the first 5 tasks of a class (no or little history); steady = tasks 11..N.")
    print("Lower bound for every class: lag 0, 1 query (a push channel; see bench_webhook.py).")


if __name__ == "__main__":
    asyncio.run(main())
