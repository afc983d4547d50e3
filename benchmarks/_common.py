"""Shared helpers of the benchmarks: machine facts, percentiles, tables, RSS, an emulator process.

Benchmarks are scripts run on demand (``python benchmarks/bench_*.py``), never part of pytest.
Everything here is standard library so the helpers cost nothing to import.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "0123456789abcdef0123456789abcdef"  # any 32-hex key is accepted by the emulator

if str(ROOT) not in sys.path:  # run from anywhere: `python benchmarks/bench_x.py`
    sys.path.insert(0, str(ROOT))

# Each benchmark run gets its own empty task journal (unless RUNNINGHUB_STORE says otherwise): the
# journal's writes are measured as users get them, but durations learnt by an earlier run (or by
# the user's own work in the real state folder) must not turn a "cold" measurement warm.
if "RUNNINGHUB_STORE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _JOURNAL_DIR = tempfile.mkdtemp(prefix="rh-bench-journal-")
    atexit.register(shutil.rmtree, _JOURNAL_DIR, ignore_errors=True)
    os.environ["RUNNINGHUB_STORE"] = os.path.join(_JOURNAL_DIR, "journal.sqlite3")


# ------------------------------------------------------------------ machine


def machine() -> dict[str, str]:
    """CPU model, cores, RAM (from /proc), Python, date: the header of every result."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]),
    }


def print_header(title: str) -> None:
    m = machine()
    print(f"# {title}")
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; Python {m['python']}, {m['os']}")
    print(f"date: {m['date']}")
    print(f"command: {m['command']}")
    print()


# ------------------------------------------------------------------ statistics


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


# ------------------------------------------------------------------ output


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (pastes straight into RESULTS.md), columns padded for the terminal."""
    body = [[_cell(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    out = [line(list(headers)), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in body]
    return "\n".join(out)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if v != v:  # nan
            return "—"
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# ------------------------------------------------------------------ memory


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size in MiB (VmRSS)."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size in MiB since start or the last :func:`reset_peak_rss` (VmHWM)."""
    return _status_kb(pid, "VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_kb(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


# ------------------------------------------------------------------ an emulator in its own process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorProcess:
    """An emulator in a child process, so the client's RSS and CPU are its own.

    ``EmulatorProcess("--image-seconds", "1")`` runs ``python -m rh_tools.emulator`` with those flags;
    ``EmulatorProcess(settings={...})`` runs ``Emulator(**settings)`` for settings the command line
    does not offer (e.g. ``upload_max_mb``). Either way the server's uploads are deleted on exit.
    """

    def __init__(self, *args: str, settings: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        if settings is None:
            self.cmd = [sys.executable, "-m", "rh_tools.emulator", "--port", str(self.port), "--quiet", *args]
        else:
            import json

            script = (
                "import json, sys\n"
                "from rh_tools.emulator import Emulator\n"
                f"emu = Emulator(port={self.port}, **json.loads(sys.argv[1])).start()\n"
                "try:\n    sys.stdin.read()\nfinally:\n    emu.close()\n"
            )
            self.cmd = [sys.executable, "-c", script, json.dumps(settings)]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator process did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the settings= script then closes the emulator and exits
        if self.cmd[1] == "-c":
            try:
                self.proc.wait(15)
                return
            except subprocess.TimeoutExpired:
                pass
        self.proc.terminate()  # the command line stops cleanly on SIGTERM
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
