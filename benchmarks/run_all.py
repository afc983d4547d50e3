"""Run the benchmarks one after another (never part of pytest): ``python benchmarks/run_all.py [name ...]``.

Each benchmark is a standalone script printing a Markdown table; this runner only sequences them
(they must not overlap: the machine is small and the figures are timings). ``--save DIR`` also
writes each one's output to DIR/<name>.txt. benchmarks/RESULTS.md holds the latest figures.

| name        | goal | command                                      | time    |
|-------------|------|----------------------------------------------|---------|
| polling     | 1    | python benchmarks/bench_polling.py           | ~4 min  |
| heavytail   | 1b   | python benchmarks/bench_polling.py --dist lognormal:0.8 --tasks 50 | ~6 min |
| sim         | 1    | python benchmarks/sim_polling.py             | ~10 s   |
| sim-heavy   | 1b   | python benchmarks/sim_polling.py --dist lognormal:0.8 --bound | ~40 s |
| webhook     | 2    | python benchmarks/bench_webhook.py           | ~30 s   |
| overhead    | 3    | python benchmarks/bench_overhead.py          | ~1 min  |
| concurrency | 4    | python benchmarks/bench_concurrency.py       | ~2 min  |
| upload      | 5    | python benchmarks/bench_upload.py            | ~1.5 min |
| context     | 6    | python benchmarks/bench_context.py           | ~20 s   |
| startup     | 7    | python benchmarks/bench_startup.py           | ~30 s   |
| search      | —    | python benchmarks/bench_search.py            | ~2 s    |
| fresh       | #12  | python benchmarks/bench_fresh_process.py     | ~4.5 min |
| shared      | #15  | python benchmarks/bench_shared_account.py    | ~4 min (starts a redis-server) |

Not run by this runner: ``benchmarks/load_mcp.py`` (rh-mcp over HTTP under N concurrent MCP
sessions; its own docstring has the command). Goal 6 counts real tokens when ``bpe_openai`` is
importable: ``pip install --no-deps --target /tmp/bpe bpe-openai``, then ``PYTHONPATH=/tmp/bpe``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS: dict[str, str | list[str]] = {  # name -> script, or [script, arguments ...]
    "polling": "bench_polling.py",
    "heavytail": ["bench_polling.py", "--dist", "lognormal:0.8", "--tasks", "50"],
    "sim": "sim_polling.py",
    "sim-heavy": ["sim_polling.py", "--dist", "lognormal:0.8", "--bound"],
    "webhook": "bench_webhook.py",
    "overhead": "bench_overhead.py",
    "concurrency": "bench_concurrency.py",
    "upload": "bench_upload.py",
    "context": "bench_context.py",
    "startup": "bench_startup.py",
    "search": "bench_search.py",
    "fresh": "bench_fresh_process.py",
    "shared": "bench_shared_account.py",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"benchmarks to run, of {', '.join(BENCHMARKS)} (default: all)")
    ap.add_argument("--save", type=Path, help="also write each output to this folder")
    args = ap.parse_args()
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    failed = []
    for name in names:
        entry = BENCHMARKS[name]
        argv = [entry] if isinstance(entry, str) else list(entry)
        print(f"\n===== {name}: python benchmarks/{' '.join(argv)}", flush=True)
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]], capture_output=True, text=True)
        out = proc.stdout + (f"\n[stderr]\n{proc.stderr}" if proc.returncode else "")
        print(out, flush=True)
        print(f"({time.monotonic() - t0:.0f} s, exit {proc.returncode})", flush=True)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{name}.txt").write_text(out)
        if proc.returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
