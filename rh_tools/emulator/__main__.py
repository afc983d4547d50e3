"""``python -m rh_tools.emulator``: run the emulator in the foreground until Ctrl-C.

Why its own defaults: from the command line the emulator is used to try clients and agents by
hand, so tasks take a few seconds as they do for real (images ~3 s, videos ~8 s), not the
fractions of a second the Python API uses to keep test suites fast.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from .config import CLI_DURATIONS

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rh_tools.emulator",
        description="Run a local emulator of the RunningHub API (Standard Model v2 and legacy).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help="accept only this API key (repeatable; default: any 32-hex key)",
    )
    p.add_argument(
        "--wrong-kind-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a key that is not Enterprise-Shared: Standard Model calls answer 1014",
    )
    p.add_argument(
        "--consumer-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a Consumer key: pays workflows in coins; Standard Model calls answer 1014",
    )
    p.add_argument(
        "--foreign-key",
        action="append",
        default=[],
        metavar="KEY",
        help="a key of the other site: refused with HTTP 401 'ApiKey verification failed'",
    )
    p.add_argument(
        "--bearer-only-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an Enterprise-Shared key refused when it also travels in a legacy request body",
    )
    for kind, secs in CLI_DURATIONS.items():
        flag = "3d" if kind == "3d" else kind
        p.add_argument(
            f"--{flag}-seconds",
            type=float,
            default=secs,
            dest=f"dur_{kind}",
            help=f"run time of {kind} tasks (default {secs:g})",
        )
    p.add_argument("--queue-seconds", type=float, default=1.0, help="time a task shows QUEUED before RUNNING")
    p.add_argument("--jitter", type=float, default=0.2, help="run-time jitter fraction (default 0.2)")
    p.add_argument(
        "--duration-dist",
        default="uniform",
        metavar="DIST",
        help="spread of run times: uniform (+/- --jitter), uniform:J, lognormal:SIGMA (the run time is "
        "the median; heavy-tailed like real queues, e.g. lognormal:0.8) or fixed (default uniform)",
    )
    p.add_argument("--seed", type=int, default=None, help="RNG seed (default: random)")
    p.add_argument("--concurrency", type=int, default=50, help="tasks running at once per key")
    p.add_argument("--queue-limit", type=int, default=0, help="tasks allowed to wait beyond concurrency")
    p.add_argument("--rate-limit", type=float, default=None, help="requests/second per key (default off)")
    p.add_argument("--failure-rate", type=float, default=0.0, help="fraction of tasks that end FAILED")
    p.add_argument("--failure-code", default="1501", help="errorCode of failed tasks")
    p.add_argument("--instant", action="store_true", help="answer SUCCESS at submit")
    p.add_argument("--balance", type=float, default=1000.0, help="starting wallet balance per key (CNY)")
    p.add_argument("--quiet", action="store_true", help="do not log requests")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .server import Emulator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    settings: dict[str, Any] = {
        "durations": {k: getattr(args, f"dur_{k}") for k in CLI_DURATIONS},
        "queue_seconds": args.queue_seconds,
        "jitter": args.jitter,
        "duration_dist": args.duration_dist,
        "seed": args.seed,
        "concurrency": args.concurrency,
        "queue_limit": args.queue_limit,
        "keys": args.keys,
        "wrong_kind_keys": frozenset(args.wrong_kind_key),
        "key_kinds": dict.fromkeys(args.consumer_key, "consumer"),
        "foreign_keys": frozenset(args.foreign_key),
        "bearer_only_keys": frozenset(args.bearer_only_key),
        "rate_limit": args.rate_limit,
        "failure_rate": args.failure_rate,
        "failure_code": args.failure_code,
        "instant_success": args.instant,
        "balance": args.balance,
        "webhook_retry_delays": (5.0, 15.0, 30.0),
    }
    try:
        emu = Emulator(port=args.port, host=args.host, log_requests=not args.quiet, **settings)
        emu.start()
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"rh-tools emulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (embedded use): rely on KeyboardInterrupt
            pass
    keys = "pinned keys" if args.keys else "any 32-hex key"
    print(
        f"RunningHub emulator on {emu.base_url} ({len(emu.core.endpoints)} model endpoints, {keys}); Ctrl-C stops",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emu.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
