"""The polling trade-off without waiting: the real Waiter/PollPolicy/DurationHistory on a simulated clock.

Not a measurement of the client (bench_polling.py is): this replays the exact decision code on
thousands of simulated tasks in a second, to tune the policy and to show the lag-vs-queries curve
(``--sweep``). Tasks of each class start at i x duration/5 and run duration x U(1 - j, 1 + j);
a poll sees the task done iff it happens at or after the end; round trips are taken as zero.

    python benchmarks/sim_polling.py                 # tasks 11..30 of 100 simulated runs (as bench_polling)
    python benchmarks/sim_polling.py --tasks 2000 --seeds 1   # the long-run steady state
    python benchmarks/sim_polling.py --sweep         # lag_ratio values side by side
"""

# ruff: noqa: B023  (the lambdas run inside the loop iteration that defines them)
from __future__ import annotations

import argparse
import heapq
import random
from dataclasses import replace
from typing import Any

from _common import mean, median, pct, table

from rh_tools._polling import DurationHistory, PollPolicy
from rh_tools._waiter import Waiter
from rh_tools.types import Task

CLASSES = {"2s": 2.0, "8s": 8.0, "30s": 30.0}


def simulate(
    policy: PollPolicy, d: float, n: int, jitter: float, seed: int, spacing: float = 0.2
) -> list[tuple[int, float, float, int]]:
    """(index, task seconds, lag, queries) of n tasks of nominal duration d."""
    rng = random.Random(seed)
    now = [0.0]
    history = DurationHistory()
    heap: list[tuple[float, int, int]] = []
    waiters: dict[int, tuple[Waiter, float, float]] = {}
    out = []
    for i in range(n):
        heapq.heappush(heap, (i * spacing * d, i, -1))  # -1: submit event
    while heap:
        t, i, kind = heapq.heappop(heap)
        now[0] = t
        if kind == -1:
            dur = d * (1 + rng.uniform(-jitter, jitter))
            w = Waiter(
                task_id=str(i),
                deadline=t + 3600,
                policy=policy,
                history=history,
                history_key="ep",
                started=t,
                clock=lambda: now[0],
            )
            w.observe(Task(task_id=str(i), status="RUNNING"), polled=False)
            waiters[i] = (w, t, t + dur)
        else:
            w, start, end = waiters[i]
            status = "SUCCESS" if t >= end else "RUNNING"
            if w.observe(Task(task_id=str(i), status=status)) is not None:
                out.append((i, end - start, t - end, w.polls))
                continue
        delay = w.next_delay()
        assert delay is not None
        heapq.heappush(heap, (t + delay, i, 0))
    return sorted(out)


def fixed(every: float, d: float, n: int, jitter: float, seed: int) -> list[tuple[int, float, float, int]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        dur = d * (1 + rng.uniform(-jitter, jitter))
        k = int(dur // every) + 1
        out.append((i, dur, k * every - dur, k))
    return out


Result = list[tuple[int, float, float, int]]


def run_misses(runs: list[Result], one_s: list[Result], steady_from: int) -> str:
    """Share of runs whose own median lag misses the goal, and of runs not beating the 1 s poller."""
    lag = queries = 0
    for res, base in zip(runs, one_s, strict=True):
        s = [r for r in res if r[0] >= steady_from]
        b = [r for r in base if r[0] >= steady_from]
        lag += median([r[2] for r in s]) > max(0.1 * median([r[1] for r in s]), 0.25)
        queries += mean([r[3] for r in s]) >= mean([r[3] for r in b])
    return f"{100 * lag / len(runs):.0f} % / {100 * queries / len(runs):.0f} %"


def rows_for(name: str, res: Result, cls: str, steady_from: int) -> list[Any]:
    s = [r for r in res if r[0] >= steady_from]
    lags = [r[2] for r in s]
    goal = max(0.1 * median([r[1] for r in s]), 0.25)
    return [
        cls,
        name,
        len(s),
        median(lags),
        pct(lags, 95),
        f"{100 * median([r[2] / r[1] for r in s]):.1f} %",
        mean([r[3] for r in s]),
        f"{goal:.2f}",
        "ok" if median(lags) <= goal else "over",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=30, help="tasks per class and run (default 30)")
    ap.add_argument("--seeds", type=int, default=100, help="simulated runs pooled (default 100)")
    ap.add_argument("--jitter", type=float, default=0.3)
    ap.add_argument("--sweep", action="store_true", help="compare lag_ratio values")
    args = ap.parse_args()
    base = PollPolicy()
    policies = {f"rh-tools ({base.lag_ratio:g})": base}
    if args.sweep:
        policies = {f"lag_ratio {r:g}": replace(base, lag_ratio=r) for r in (0.1, 0.15, 0.2, 0.3, 0.5)}
    rows = []
    seeds = range(args.seeds)

    def pooled(fn: Any) -> list[tuple[int, float, float, int]]:
        return [r for seed in seeds for r in fn(seed)]

    for cls, d in CLASSES.items():
        one_s = [fixed(1.0, d, args.tasks, args.jitter, s) for s in seeds]
        for name, pol in policies.items():
            runs = [simulate(pol, d, args.tasks, args.jitter, s) for s in seeds]
            rows.append([*rows_for(name, [r for run in runs for r in run], cls, 10), run_misses(runs, one_s, 10)])
        for every in (5.0, 1.0):
            rows.append(
                [
                    *rows_for(
                        f"fixed {every:g} s",
                        pooled(lambda s: fixed(every, d, args.tasks, args.jitter, s)),
                        cls,
                        10,
                    ),
                    "",
                ]
            )
    print(
        f"Simulated: tasks 11..{args.tasks} of each class, {args.seeds} run(s) pooled, "
        f"jitter ±{args.jitter:.0%}, "
        "zero round trip\n"
    )
    print(
        "Last column: share of the simulated runs (30 tasks each, as bench_polling) whose own tasks 11..N\n"
        "have a median lag over the goal / no fewer queries than the 1 s poller of the same run.\n"
    )
    print(
        table(
            [
                "class",
                "policy",
                "tasks",
                "lag s (med)",
                "lag p95",
                "lag/task (med)",
                "queries/task",
                "goal lag s",
                "lag goal",
                "runs missing lag / query goal",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
