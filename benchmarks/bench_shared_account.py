"""Issue #15: several processes on one account limited to 5 tasks in flight, with and without the
shared limiter (``RUNNINGHUB_MAX_CONCURRENCY`` + ``RUNNINGHUB_STORE=redis://``).

Setup: one emulator (in this process) whose account runs 5 tasks at once and queues none beyond,
so a 6th submit is refused with 421 TASK_QUEUE_MAXED as on RunningHub's shared API; a real
``redis-server`` on a free loopback port; 3 worker processes x 200 tasks (0.5 s each), all
submitted at once, each worker with a ``WebhookReceiver`` so a finished task is seen in
milliseconds (polling alone would add its lag to every slot hand-over).

Modes:

* ``shared``: every worker with ``max_concurrency=5`` on the same Redis (one FIFO queue);
* ``local-5``: no shared limiter, each worker keeps itself to 5 (what a careful single-process
  user does today): 15 in flight against 5 slots; the client retries the 421s, callers resubmit
  what still fails;
* ``local-1``: each worker keeps itself to 1 (never refused, but 2 of 5 slots idle).

Measured: wall time against the ideal for 5 slots (600 x 0.5 s / 5 = 60 s), 421 refusals the
emulator answered, RateLimitErrors that reached callers, status queries per task, peak tasks in
flight at the emulator, and Redis round trips per task made for slots and the fan-in (the
journal's writes are counted apart). Goals: <= 1.1x ideal, 0 refusals, <= 2 round trips.

    python benchmarks/bench_shared_account.py                  # ~4 min: the three modes
    python benchmarks/bench_shared_account.py --modes shared --tasks 50

Also the worker the tests start (``tests/test_replicas.py``): ``bench_shared_account.py worker ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import KEY, ROOT, print_header, table, verdict

PATH = "seedream-v4/text-to-image"


# ---------------------------------------------------------------------------- the worker process


async def _work(args: argparse.Namespace) -> dict[str, Any]:
    from rh_tools import AsyncRunningHub, RateLimitError, RunningHub, SlotTimeoutError, WebhookReceiver
    from rh_tools.coordination import RedisLimiter
    from rh_tools.journal import resolve_store

    receiver = WebhookReceiver(fallback_poll=5.0).start() if args.webhooks else None
    refused = 0  # RateLimitErrors that reached this caller (after the client's own retries)
    failed: list[str] = []
    done: list[str] = []
    polls = 0
    local = asyncio.Semaphore(args.local_limit) if args.local_limit else None
    kwargs: dict[str, Any] = {
        "api_key": args.key,
        "base_url": args.base_url,
        "store": args.store,
        "max_concurrency": args.limit or None,
        "webhook_receiver": receiver,
        "poll_interval": args.poll,
    }

    async def one(rh: Any, i: int) -> None:
        nonlocal refused, polls
        while True:
            try:
                async with local if local is not None else contextlib.nullcontext():
                    result = await rh.run(PATH, prompt=f"{args.name} #{i}", timeout=args.timeout)
                done.append(result.task_id)
                polls += result.polls
                return
            except SlotTimeoutError as exc:
                failed.append(f"SlotTimeoutError: {exc.message}")
                return
            except RateLimitError:
                refused += 1
                await asyncio.sleep(1.0)  # what a caller does with "too many tasks": wait, resubmit
            except Exception as exc:  # reported, not raised: the driver counts them
                failed.append(f"{type(exc).__name__}: {exc}")
                return

    started = time.monotonic()
    async with AsyncRunningHub(**kwargs) as rh:
        jobs = [one(rh, i) for i in range(args.tasks)]
        if args.sync_threads:  # the blocking twin too: a few tasks from threads, same limiter
            with RunningHub(**kwargs) as blocking:
                sync_jobs = [asyncio.to_thread(_sync_one, blocking, args, i, done) for i in range(args.sync_threads)]
                await asyncio.gather(*jobs, *sync_jobs)
        else:
            await asyncio.gather(*jobs)
        limiter = rh._coord.limiter
        events = rh._coord.events
        slot_calls = limiter.round_trips if isinstance(limiter, RedisLimiter) else 0
        renewals = limiter.renewals if isinstance(limiter, RedisLimiter) else 0
        relays = events.relayed if events is not None else 0
        link_calls = rh._coord.redis.calls if rh._coord.redis is not None else 0
    if receiver is not None:
        receiver.close()
    store = resolve_store(args.store) if args.store else None
    return {
        "name": args.name,
        "pid": os.getpid(),
        "done": len(done),
        "task_ids": done,
        "failed": failed,
        "refused": refused,
        "polls": polls,
        "wall": time.monotonic() - started,
        "slot_round_trips": slot_calls - renewals,
        "lease_renewals": renewals,
        "fanin_round_trips": relays,
        "journal_round_trips": link_calls - slot_calls - relays,
        "store": repr(store) if store is not None else None,
    }


def _sync_one(rh: Any, args: argparse.Namespace, i: int, done: list[str]) -> None:
    result = rh.run(PATH, prompt=f"{args.name} sync #{i}", timeout=args.timeout)
    done.append(result.task_id)


def worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_shared_account.py worker")
    p.add_argument("--base-url", required=True)
    p.add_argument("--key", default=KEY)
    p.add_argument("--store", default=None, help="redis://... (shared), a file, or none")
    p.add_argument("--limit", type=int, default=0, help="shared max_concurrency (0: none)")
    p.add_argument("--local-limit", type=int, default=0, help="a per-process semaphore instead (baseline)")
    p.add_argument("--tasks", type=int, default=200)
    p.add_argument("--sync-threads", type=int, default=0)
    p.add_argument("--webhooks", action="store_true")
    p.add_argument("--poll", type=float, default=None)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--name", default="w")
    p.add_argument("--go-at", type=float, default=0.0, help="wall-clock time to start at (all workers at once)")
    args = p.parse_args(argv)
    if args.go_at:
        time.sleep(max(0.0, args.go_at - time.time()))
    print(json.dumps(asyncio.run(_work(args))), flush=True)
    return 0


# ---------------------------------------------------------------------------- the driver


def start_workers(
    base_url: str, n: int, extra: list[str], env: dict[str, str] | None = None
) -> list[subprocess.Popen[str]]:
    """``n`` worker processes that all begin at the same moment (after their imports)."""
    go_at = time.time() + 3.0
    return [
        subprocess.Popen(
            [sys.executable, __file__, "worker", "--base-url", base_url, "--name", f"w{i}", "--go-at", str(go_at)]
            + extra,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for i in range(n)
    ]


def collect(procs: list[subprocess.Popen[str]], timeout: float) -> list[dict[str, Any]]:
    out = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"worker exited {proc.returncode}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def run_mode(mode: str, args: argparse.Namespace, redis_url: str) -> dict[str, Any]:
    from rh_tools.emulator import Emulator

    slots = args.slots
    flags = {"shared": ["--limit", str(slots), "--store", redis_url], "local-5": ["--local-limit", str(slots)],
             "local-1": ["--local-limit", str(max(1, slots // args.processes))]}[mode]  # fmt: skip
    # queue_seconds=0: a task that gets a slot runs at once, so the ideal is exactly tasks x duration / slots.
    with Emulator(port=0, durations={"image": args.duration}, concurrency=slots, queue_limit=0, queue_seconds=0) as emu:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "RUNNINGHUB_STORE_FALLBACK": str(Path(tmp) / "fallback.sqlite3")}
            if mode != "shared":
                env["RUNNINGHUB_STORE"] = str(Path(tmp) / "journal.sqlite3")
            procs = start_workers(emu.base_url, args.processes, ["--tasks", str(args.tasks), "--webhooks", *flags], env)
            t0 = time.time() + 3.0  # the workers' common start
            results = collect(procs, timeout=3600)
            wall = max(time.time(), t0) - t0
        stats = emu.stats
        tasks = args.processes * args.tasks
        queries = stats.requests_by_path.get("/openapi/v2/query", 0)
        return {
            "mode": mode,
            "tasks": tasks,
            "done": sum(r["done"] for r in results),
            "failed": sum(len(r["failed"]) for r in results),
            "wall": max(r["wall"] for r in results),
            "driver_wall": wall,
            "ideal": tasks * args.duration / slots,
            "refusals": stats.error_codes.get("421", 0),
            "caller_refusals": sum(r["refused"] for r in results),
            "queries_per_task": queries / tasks,
            "peak": max(stats.peak_in_flight.values() or [0]),
            "slot_rt": sum(r["slot_round_trips"] for r in results) / tasks,
            "renewals": sum(r["lease_renewals"] for r in results),
            "fanin_rt": sum(r["fanin_round_trips"] for r in results) / tasks,
            "journal_rt": sum(r["journal_round_trips"] for r in results) / tasks,
        }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        return worker_main(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=3)
    p.add_argument("--tasks", type=int, default=200, help="per process")
    p.add_argument("--slots", type=int, default=5)
    p.add_argument("--duration", type=float, default=0.5)
    p.add_argument("--modes", default="shared,local-5,local-1")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from redis_support import RedisServer

    print_header(f"Shared account: {args.processes} processes x {args.tasks} tasks, {args.slots} slots")
    rows = []
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp) / "redis", persist=False) as redis:
        for mode in args.modes.split(","):
            r = run_mode(mode.strip(), args, redis.url)
            redis.client().flushdb()
            ratio = r["wall"] / r["ideal"]
            rows.append(
                [
                    r["mode"],
                    f"{r['done']}/{r['tasks']}",
                    f"{r['wall']:.1f} s",
                    f"{ratio:.2f}x",
                    r["refusals"],
                    r["caller_refusals"],
                    r["peak"],
                    f"{r['queries_per_task']:.2f}",
                    f"{r['slot_rt'] + r['fanin_rt']:.2f} (+{r['renewals']} renewals)" if r["mode"] == "shared" else "-",
                    f"{r['journal_rt']:.2f}" if r["mode"] == "shared" else "-",
                ]
            )
            if r["mode"] == "shared":
                ok = ratio <= 1.1 and r["refusals"] == 0 and r["slot_rt"] + r["fanin_rt"] <= 2 and not r["failed"]
                print(
                    f"shared limiter: {verdict(ok)} ({ratio:.2f}x of the ideal {r['ideal']:.0f} s, goal <= 1.1x; "
                    f"{r['refusals']} refusals, goal 0; {r['slot_rt'] + r['fanin_rt']:.2f} Redis round trips per "
                    f"task, goal <= 2, plus {r['renewals']} lease renewals for all {r['tasks']} tasks)"
                )
    print(
        table(
            [
                "mode",
                "done",
                "wall",
                "vs ideal",
                "421s",
                "to callers",
                "peak",
                "queries/task",
                "Redis RT/task (slots, fan-in)",
                "journal RT/task",
            ],  # fmt: skip
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
