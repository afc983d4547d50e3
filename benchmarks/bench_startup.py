"""Goal 7: start-up. ``rh-mcp`` start to first tools/list answer <= 1.0 s; ``import rh_tools`` <= 200 ms.

* rh-mcp: the ``rh-mcp`` console script is spawned with stdio pipes; the MCP handshake
  (initialize, notifications/initialized) and ``tools/list`` are written at once, as a client
  does; the time runs from spawn to the tools/list answer on stdout. Runs: ``--runs``.
* import: a fresh interpreter per run, ``perf_counter`` around ``import rh_tools`` (and, for
  comparison, around the first ``rh_tools.RunningHub`` access, which loads httpx and pydantic);
  the interpreter's own start (``python -c pass``) is reported beside it. ``-X importtime`` gives
  the cumulative import time of rh_tools and its heaviest children.
* laziness: after ``import rh_tools`` none of langchain_core, mcp, httpx, pydantic is loaded; and
  after ``import rh_tools.langchain``, no mcp.

    python benchmarks/bench_startup.py             # about 30 s
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import KEY, ROOT, median, print_header, table, verdict

PY = sys.executable


def rh_mcp_command() -> list[str]:
    script = Path(PY).with_name("rh-mcp")
    if script.exists():
        return [str(script)]
    found = shutil.which("rh-mcp")
    return [found] if found else [PY, "-m", "mcp_server"]


def time_rh_mcp(cmd: list[str]) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and the number of tools in it."""
    msgs = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
    ]
    env = {**os.environ, "RUNNINGHUB_API_KEY": KEY}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"".join(json.dumps(m).encode() + b"\n" for m in msgs))
    proc.stdin.flush()
    try:
        for line in proc.stdout:
            msg = json.loads(line)
            if msg.get("id") == 2:
                elapsed = time.perf_counter() - t0
                return elapsed, len(msg["result"]["tools"])
        raise RuntimeError("rh-mcp closed stdout before answering tools/list")
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def time_python(code: str) -> float:
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return float(out.strip().splitlines()[-1])


def wall(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([PY, *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def importtime(module: str) -> list[tuple[str, int]]:
    """(module, cumulative µs) for ``module`` and its heaviest imports, from -X importtime."""
    err = subprocess.run(
        [PY, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(2)), len(m.group(3))))
    top = [r for r in rows if r[0] == module]
    total = top[-1][1] if top else 0
    children = sorted((r for r in rows if r[0] != module), key=lambda r: -r[1])[:5]
    return [(module, total)] + [(name, us) for name, us, _ in children]


LAZY_CHECK = (
    "import sys, rh_tools\n"
    "print(','.join(m for m in ('langchain_core', 'mcp', 'httpx', 'pydantic') if m in sys.modules) or '-')\n"
    "import rh_tools.langchain\n"
    "print(','.join(m for m in ('mcp', 'mcp_server') if m in sys.modules) or '-')\n"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    print_header("Start-up times (goal 7)")
    cmd = rh_mcp_command()
    time_rh_mcp(cmd)  # warm the page cache and .pyc files once (not counted)
    mcp_runs = [time_rh_mcp(cmd) for _ in range(args.runs)]
    mcp_t = [t for t, _ in mcp_runs]
    imp = [
        time_python("import time; t = time.perf_counter(); import rh_tools; print(time.perf_counter() - t)")
        for _ in range(args.runs)
    ]
    first_use = [
        time_python(
            "import time; t = time.perf_counter(); import rh_tools; rh_tools.RunningHub; print(time.perf_counter() - t)"
        )
        for _ in range(args.runs)
    ]
    bare = [wall(["-c", "pass"]) for _ in range(args.runs)]
    proc = [wall(["-c", "import rh_tools"]) for _ in range(args.runs)]
    after_import, after_langchain = subprocess.run(
        [PY, "-c", LAZY_CHECK], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    ms = lambda v: f"{1000 * median(v):.0f} (min {1000 * min(v):.0f}, max {1000 * max(v):.0f})"  # noqa: E731
    print(
        table(
            ["measure", f"ms, median of {args.runs}", "goal"],
            [
                [
                    f"rh-mcp spawn → tools/list answer ({mcp_runs[0][1]} tools)",
                    ms(mcp_t),
                    f"≤ 1,000 ms: {verdict(median(mcp_t) <= 1.0)}",
                ],
                [
                    "import rh_tools (in-process perf_counter)",
                    ms(imp),
                    f"≤ 200 ms: {verdict(median(imp) <= 0.2)}",
                ],
                ["import rh_tools + first RunningHub access (httpx, pydantic)", ms(first_use), ""],
                ["python -c pass (interpreter start, for reference)", ms(bare), ""],
                ["python -c 'import rh_tools' (process wall)", ms(proc), ""],
            ],
        )
    )
    print()
    print(
        table(
            ["-X importtime (one run)", "cumulative ms"],
            [[name, us / 1000] for name, us in importtime("rh_tools")],
        )
    )
    print()
    print(
        f"loaded after `import rh_tools`: {after_import} (of langchain_core, mcp, httpx, pydantic); "
        f"after `import rh_tools.langchain`: {after_langchain} (of mcp, mcp_server)"
    )
    print(f"rh-mcp command: {' '.join(os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in cmd)}")


if __name__ == "__main__":
    main()
