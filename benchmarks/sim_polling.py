"""The polling trade-off without waiting: the real Waiter/PollPolicy/DurationHistory on a simulated clock.

Not a measurement of the client (bench_polling.py is): this replays the exact decision code on
thousands of simulated tasks in seconds, to tune the policy and to compare it with fixed pollers.
Tasks of each class (medians 2, 8 and 30 s) start at i x median/5 and run a duration drawn from
``--dist``: ``uniform:0.3`` (median x U(0.7, 1.3), the emulator's old only spread) or
``lognormal:0.8`` (median x exp(0.8 N(0, 1)): real task times, queues included, are heavy-tailed).
A poll sees the task done iff it happens at or after the end; round trips are taken as zero.

Strategies, side by side on the same durations:

* ``rh-tools warm``: one client per run, learning as its tasks finish;
* ``rh-tools cold``: every task is the first of its endpoint the client has seen (a fresh process);
* ``fixed 1 s`` / ``fixed 5 s``: sleep, query, repeat (5 s: the official client);
* ``geometric``: plain back-off, 0.5 s x 1.5^n capped at 10 s (the old cold schedule).

Every row reports tasks 11..N of each run (the warm client has learnt from ten by then).
goal: median lag <= max(10 % of the median task time, 0.25 s) and mean queries <= the 1 s poller's;
the last column: the share of single runs (N tasks each, as bench_polling) that miss either part.

    python benchmarks/sim_polling.py                          # uniform ±30 %, as bench_polling
    python benchmarks/sim_polling.py --dist lognormal:0.8     # the heavy-tail table
    python benchmarks/sim_polling.py --dist lognormal:0.8 --bound   # + the best any schedule can do
    python benchmarks/sim_polling.py --set lag_ratio=0.15     # try other policy settings
"""

# ruff: noqa: B023  (the lambdas run inside the loop iteration that defines them)
from __future__ import annotations

import argparse
import heapq
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from statistics import NormalDist
from typing import Any

from _common import mean, median, pct, table

from rh_tools._polling import DurationHistory, PollPolicy
from rh_tools._waiter import Waiter
from rh_tools.types import Task

CLASSES = {"2s": 2.0, "8s": 8.0, "30s": 30.0}
Result = list[tuple[int, float, float, int]]  # (index, task seconds, lag, queries) per task
Sampler = Callable[[random.Random, float], float]


def sampler(spec: str) -> Sampler:
    """``uniform:J`` or ``lognormal:SIGMA`` (median = the class's nominal duration)."""
    kind, _, arg = spec.partition(":")
    value = float(arg or 0)
    if kind == "uniform":
        return lambda rng, d: d * (1 + rng.uniform(-value, value))
    if kind == "lognormal":
        return lambda rng, d: d * math.exp(value * rng.gauss(0.0, 1.0))
    raise SystemExit(f"--dist: expected uniform:J or lognormal:SIGMA, not {spec!r}")


def durations(draw: Sampler, d: float, n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [draw(rng, d) for _ in range(n)]


def simulate(policy: PollPolicy, d: float, durs: list[float], cold: bool, spacing: float = 0.2) -> Result:
    """Tasks of durations ``durs`` submitted ``spacing`` x d apart through the real Waiter."""
    now = [0.0]
    shared = DurationHistory()
    heap: list[tuple[float, int, int]] = []
    waiters: dict[int, tuple[Waiter, float, float]] = {}
    out = []
    for i in range(len(durs)):
        heapq.heappush(heap, (i * spacing * d, i, -1))  # -1: submit event
    while heap:
        t, i, kind = heapq.heappop(heap)
        now[0] = t
        if kind == -1:
            w = Waiter(
                task_id=str(i),
                deadline=t + 36000,
                policy=policy,
                history=DurationHistory() if cold else shared,
                history_key="ep",
                started=t,
                clock=lambda: now[0],
            )
            w.observe(Task(task_id=str(i), status="RUNNING"), polled=False)
            waiters[i] = (w, t, t + durs[i])
        else:
            w, start, end = waiters[i]
            if w.sending():  # else: other tasks showed this poll to be too early; plan the next one
                status = "SUCCESS" if t >= end else "RUNNING"
                if w.observe(Task(task_id=str(i), status=status)) is not None:
                    out.append((i, end - start, t - end, w.polls))
                    continue
        delay = w.next_delay()
        assert delay is not None
        heapq.heappush(heap, (t + delay, i, 0))
    return sorted(out)


def fixed_schedule(every: float) -> Iterator[float]:
    t = 0.0
    while True:
        t += every
        yield t


def geometric_schedule(initial: float = 0.5, factor: float = 1.5, cap: float = 10.0) -> Iterator[float]:
    t, gap = 0.0, initial
    while True:
        t += gap
        yield t
        gap = min(gap * factor, cap)


def replay(schedule: Callable[[], Iterator[float]], durs: list[float]) -> Result:
    """A schedule of task ages that knows nothing: the first age at or after the end sees the task done."""
    out = []
    for i, dur in enumerate(durs):
        for k, t in enumerate(schedule(), 1):
            if t >= dur:
                out.append((i, dur, t - dur, k))
                break
    return out


def pooled(runs: list[Result], steady_from: int) -> Result:
    """Tasks ``steady_from``.. of every run, in one list."""
    return [r for run in runs for r in run if r[0] >= steady_from]


def goal_lag(res: Result) -> float:
    return max(0.1 * median([r[1] for r in res]), 0.25)


def run_misses(runs: list[Result], one_s: list[Result], steady_from: int) -> str:
    """Share of runs whose own median lag misses the goal, and of runs with more queries than the 1 s poller."""
    lag = queries = 0
    for res, base in zip(runs, one_s, strict=True):
        s = [r for r in res if r[0] >= steady_from]
        b = [r for r in base if r[0] >= steady_from]
        lag += median([r[2] for r in s]) > goal_lag(s)
        queries += mean([r[3] for r in s]) > mean([r[3] for r in b])
    return f"{100 * lag / len(runs):.0f} % / {100 * queries / len(runs):.0f} %"


def row(cls: str, name: str, res: Result, one_s: Result | None) -> list[Any]:
    lags = [r[2] for r in res]
    goal = goal_lag(res)
    queries = mean([r[3] for r in res])
    verdict = ""
    if one_s is not None:
        ok_lag, ok_q = median(lags) <= goal, queries <= mean([r[3] for r in one_s])
        verdict = "met" if ok_lag and ok_q else "lag over" if ok_q else "queries over" if ok_lag else "both over"
    return [
        cls,
        name,
        len(res),
        median([r[1] for r in res]),
        median(lags),
        pct(lags, 95),
        f"{100 * median([r[2] / r[1] for r in res]):.1f} %",
        queries,
        f"{goal:.2f}",
        verdict,
    ]


# ------------------------------------------------------------------ the best any schedule could do


def bound(d: float, sigma: float, lag: float, queries: float, grid: int = 400) -> tuple[float, float | None]:
    """Lower bounds for log-normal(d, sigma) durations, for a schedule that knows the distribution.

    Returns (queries needed for a median lag <= ``lag``, and, when that is more than ``queries``,
    the smallest median lag reachable with ``queries`` queries per task; else None). Any
    schedule's P(lag <= L) is at most rho(L) x E[queries], where rho(L) is the largest share of
    tasks seen within L per query (dynamic programming over poll times on a grid of d/40 s,
    bisecting the price of a query); a median lag <= L needs P >= 0.5.
    """
    nd = NormalDist()
    dt = d * 10 / grid
    ts = [i * dt for i in range(grid + 1)]

    def cdf(t: float) -> float:
        return nd.cdf(math.log(t / d) / sigma) if t > 0 else 0.0

    big_f = [cdf(t) for t in ts]

    def rho(window: float) -> float:
        lo_f = [cdf(t - window) for t in ts]
        a, b = 0.0, 1.0
        for _ in range(24):
            price = (a + b) / 2
            value = [0.0] * (grid + 1)
            for i in range(grid - 1, -1, -1):
                fi, best = big_f[i], 0.0
                cost = price * (1 - fi)
                for j in range(i + 1, grid + 1):
                    v = big_f[j] - max(fi, lo_f[j]) - cost + value[j]
                    if v > best:
                        best = v
                value[i] = best
            a, b = (price, b) if value[0] > 1e-12 else (a, price)
        return a

    need = 0.5 / rho(lag)
    if need <= queries:
        return need, None
    lo, hi = lag, d
    for _ in range(10):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if rho(mid) * queries >= 0.5 else (mid, hi)
    return need, hi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dist", default="uniform:0.3", help="uniform:J or lognormal:SIGMA (default uniform:0.3)")
    ap.add_argument("--tasks", type=int, default=30, help="tasks per class and run (default 30)")
    ap.add_argument("--seeds", type=int, default=100, help="simulated runs pooled (default 100)")
    ap.add_argument("--steady-from", type=int, default=10, help="warm rows report tasks from this index on")
    ap.add_argument("--set", default="", help="policy settings to try, e.g. lag_ratio=0.15,pace=0.8")
    ap.add_argument("--bound", action="store_true", help="add lower bounds (log-normal only; ~1 min)")
    args = ap.parse_args()
    draw = sampler(args.dist)
    policy = PollPolicy()
    for name, value in (kv.split("=") for kv in args.set.split(",") if kv):
        if hasattr(DurationHistory, name):  # the window's quantiles and prior
            setattr(DurationHistory, name, float(value))
        else:
            policy = replace(policy, **{name: float(value)})
    seeds = range(args.seeds)
    rows: list[list[Any]] = []
    for cls, d in CLASSES.items():
        per_seed = [durations(draw, d, args.tasks, s) for s in seeds]
        one_s = [replay(lambda: fixed_schedule(1.0), durs) for durs in per_seed]
        for name, runs in (
            ("rh-tools warm", [simulate(policy, d, durs, cold=False) for durs in per_seed]),
            ("rh-tools cold", [simulate(policy, d, durs, cold=True) for durs in per_seed]),
        ):
            ours, base = pooled(runs, args.steady_from), pooled(one_s, args.steady_from)
            rows.append([*row(cls, name, ours, base), run_misses(runs, one_s, args.steady_from)])
        for name, schedule in (
            ("geometric 0.5×1.5ⁿ", geometric_schedule),
            ("fixed 5 s", lambda: fixed_schedule(5.0)),
            ("fixed 1 s", lambda: fixed_schedule(1.0)),
        ):
            runs = [replay(schedule, durs) for durs in per_seed]
            rows.append([*row(cls, name, pooled(runs, args.steady_from), None), ""])
    print(
        f"Simulated: durations {args.dist} around medians 2, 8, 30 s; {args.seeds} run(s) of {args.tasks} tasks "
        f"per class pooled; tasks {args.steady_from + 1}..{args.tasks} of each run; zero round trip.\n"
    )
    print(
        table(
            [
                "class",
                "policy",
                "tasks",
                "task s (med)",
                "lag s (med)",
                "lag p95",
                "lag/task (med)",
                "queries/task",
                "goal lag s",
                "goal (lag, queries ≤ 1 s)",
                "runs missing lag / queries",
            ],
            rows,
        )
    )
    if args.bound:
        kind, _, sigma = args.dist.partition(":")
        if kind != "lognormal":
            raise SystemExit("--bound needs --dist lognormal:SIGMA")
        print()
        brows = []
        for cls, d in CLASSES.items():
            durs = [x for s in seeds for x in durations(draw, d, args.tasks, s)]
            one_s_q = mean([r[3] for r in replay(lambda: fixed_schedule(1.0), durs)])
            goal = max(0.1 * d, 0.25)
            need, best = bound(d, float(sigma), goal, one_s_q)
            brows.append([cls, f"{goal:.2f}", need, one_s_q, "—" if best is None else best])
        print("The best any schedule can do, knowing the distribution exactly (not just learning it):\n")
        print(
            table(
                [
                    "class",
                    "goal lag s",
                    "queries/task needed for that median lag",
                    "1 s poller's queries",
                    "if more: smallest median lag s at the 1 s poller's queries",
                ],
                brows,
            )
        )


if __name__ == "__main__":
    main()
