"""Load: rh-mcp over streamable HTTP, many concurrent MCP clients, the emulator behind it.

``python benchmarks/load_mcp.py --clients 50 --duration 60`` starts the emulator (in this process,
so its task table can be read), starts ``rh-mcp --transport http`` as a child process, and runs
``--clients`` MCP sessions at once for ``--duration`` seconds. Each session loops like an agent:
run an image model (answers within the wait) or a video model (outlasts ``--max-wait``, so the
call returns the task id and the session collects it with ``wait_task``).

It checks and reports:

* every call answered (no transport error, no timeout, no protocol error);
* no task lost: the tasks the emulator created == results received + task ids still pending at
  the end (every created id is one of them, none twice);
* the server's memory: RSS sampled from /proc every 0.5 s (start of load, peak, end, and after the
  sessions closed), so a leak per call or per session shows as growth;
* call latency and throughput.

``--markdown`` prints the "Load: MCP over HTTP" section for benchmarks/RESULTS.md. The slow test
``tests/test_load_mcp.py`` runs the same code for ~10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEY = "10adc0de10adc0de10adc0de10adc0de"  # a key only this run uses, so its tasks can be told apart
IMAGE_TOOL = "grok_image_to_image"
IMAGE_ARGS = {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"}
VIDEO_TOOL = "wan_2_2_text_to_video"
VIDEO_ARGS = {"prompt": "waves at dusk", "resolution": "1280×720", "duration": "8"}


@dataclass
class Stats:
    calls: int = 0
    answered: int = 0
    unanswered: list[str] = field(default_factory=list)  # exceptions: transport, timeout, protocol
    errors: Counter[str] = field(default_factory=Counter)  # tool results with is_error, by error class
    done_ids: list[str] = field(default_factory=list)  # a result (SUCCESS) was received for these
    pending_ids: set[str] = field(default_factory=set)  # a task id was returned, no result yet at the end
    error_ids: set[str] = field(default_factory=set)  # error results that carried a task id
    latencies: list[float] = field(default_factory=list)
    by_tool: Counter[str] = field(default_factory=Counter)


@dataclass
class Report:
    clients: int
    duration: float
    max_wait: float
    calls: int
    answered: int
    unanswered: int
    unanswered_samples: list[str]
    errors: dict[str, int]
    calls_by_tool: dict[str, int]
    tasks_created: int
    results_received: int
    pending_ids: int
    error_ids: int
    duplicate_results: int
    lost: list[str]
    unknown: list[str]
    calls_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rss_idle_mb: float
    rss_start_mb: float
    rss_peak_mb: float
    rss_end_mb: float
    rss_after_mb: float
    rss_first_quarter_mb: float
    rss_last_quarter_mb: float
    server_threads_end: int
    samples: int
    machine: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.unanswered and not self.lost and not self.unknown and not self.duplicate_results


# ------------------------------------------------------------------ process helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{name} not in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return _status(pid, "VmRSS") / 1024


class RssSampler(threading.Thread):
    """Samples a process's RSS every ``interval`` seconds, with timestamps."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic(), rss_mb(self.pid)))
            except (OSError, RuntimeError):
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def between(self, t0: float, t1: float) -> list[float]:
        return [mb for t, mb in self.samples if t0 <= t <= t1]


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


def start_server(base_url: str, port: int, max_wait: float, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update({"RUNNINGHUB_API_KEY": KEY, "RUNNINGHUB_BASE_URL": base_url})
    cmd = [
        sys.executable,
        "-m",
        "mcp_server",
        "--transport",
        "http",
        "--port",
        str(port),
        "--tools",
        f"{IMAGE_TOOL},{VIDEO_TOOL}",
        "--max-wait",
        str(max_wait),
        "--heartbeat",
        "1",
    ]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"rh-mcp did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.05)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# ------------------------------------------------------------------ the sessions


async def _session(url: str, deadline: float, stats: Stats, rng: random.Random, video_share: float) -> None:
    import httpx2
    import mcp_types as types
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    async def call(name: str, args: dict[str, Any]) -> dict[str, Any] | None:
        stats.calls += 1
        stats.by_tool[name] += 1
        t0 = time.monotonic()
        try:
            result = await asyncio.wait_for(client.call_tool(name, args), timeout=120)
        except Exception as exc:  # noqa: BLE001 - every failure to answer is what we count
            stats.unanswered.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
            return None
        stats.latencies.append(time.monotonic() - t0)
        stats.answered += 1
        data = dict(result.structured_content or {})
        if result.is_error:
            stats.errors[str(data.get("error") or "error")] += 1
            if data.get("task_id"):
                stats.error_ids.add(str(data["task_id"]))
            return None
        if not any(isinstance(b, types.TextContent) for b in result.content):
            stats.unanswered.append(f"{name}: result without text")
        return data

    http = httpx2.AsyncClient(timeout=120)
    async with Client(streamable_http_client(url, http_client=http)) as client:
        while time.monotonic() < deadline:
            video = rng.random() < video_share
            data = await call(VIDEO_TOOL if video else IMAGE_TOOL, VIDEO_ARGS if video else IMAGE_ARGS)
            while data is not None and not data.get("done"):
                task_id = str(data["task_id"])
                if time.monotonic() >= deadline:
                    stats.pending_ids.add(task_id)  # handed back, not yet collected: not lost
                    break
                data = await call("wait_task", {"task_id": task_id})
            if data is not None and data.get("done"):
                stats.done_ids.append(str(data["task_id"]))


def run_load(
    clients: int = 50,
    duration: float = 60.0,
    *,
    max_wait: float = 2.0,
    video_share: float = 0.2,
    image_seconds: float = 0.5,
    video_seconds: float = 3.0,
    seed: int = 1,
    log_dir: Path | None = None,
) -> Report:
    """Run the load and return the measured report (raises nothing on a failed check: read ``ok``)."""
    from rh_tools.emulator import Emulator

    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    stats = Stats()
    with Emulator(
        port=0,
        durations={"image": image_seconds, "video": video_seconds},
        jitter=0.3,
        concurrency=max(50, clients * 2),
        seed=seed,
    ) as emu:
        port = _free_port()
        proc = start_server(emu.base_url, port, max_wait, log_dir / f"rh-mcp-load-{port}.log")
        sampler = RssSampler(proc.pid)
        try:
            time.sleep(0.5)
            rss_idle = rss_mb(proc.pid)
            sampler.start()
            url = f"http://127.0.0.1:{port}/mcp"
            t_start = time.monotonic()
            deadline = t_start + duration

            async def main() -> None:
                rngs = [random.Random(seed * 1000 + i) for i in range(clients)]
                await asyncio.gather(*(_session(url, deadline, stats, rng, video_share) for rng in rngs))

            asyncio.run(main())
            t_end = time.monotonic()
            time.sleep(2.0)  # sessions closed: what the server keeps afterwards
            rss_after = rss_mb(proc.pid)
            threads = _status(proc.pid, "Threads")
        finally:
            try:
                sampler.stop()
            finally:
                stop_server(proc)  # never leave the server running
        created = {t.task_id for t in emu.core.store if t.key == KEY}
    seen = set(stats.done_ids) | stats.pending_ids | stats.error_ids
    elapsed = t_end - t_start
    loaded = sampler.between(t_start, t_end) or [rss_idle]
    quarter = max(1, len(loaded) // 4)
    lat = sorted(stats.latencies) or [float("nan")]

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * (len(lat) - 1)))] * 1000

    return Report(
        clients=clients,
        duration=round(elapsed, 1),
        max_wait=max_wait,
        calls=stats.calls,
        answered=stats.answered,
        unanswered=len(stats.unanswered),
        unanswered_samples=stats.unanswered[:5],
        errors=dict(stats.errors),
        calls_by_tool=dict(stats.by_tool),
        tasks_created=len(created),
        results_received=len(set(stats.done_ids)),
        pending_ids=len(stats.pending_ids),
        error_ids=len(stats.error_ids),
        duplicate_results=len(stats.done_ids) - len(set(stats.done_ids)),
        lost=sorted(created - seen),
        unknown=sorted(seen - created),
        calls_per_s=round(stats.answered / elapsed, 1) if elapsed else 0.0,
        p50_ms=round(q(0.50)),
        p95_ms=round(q(0.95)),
        p99_ms=round(q(0.99)),
        max_ms=round(q(1.0)),
        rss_idle_mb=round(rss_idle, 1),
        rss_start_mb=round(loaded[0], 1),
        rss_peak_mb=round(max(loaded), 1),
        rss_end_mb=round(loaded[-1], 1),
        rss_after_mb=round(rss_after, 1),
        rss_first_quarter_mb=round(statistics.median(loaded[:quarter]), 1),
        rss_last_quarter_mb=round(statistics.median(loaded[-quarter:]), 1),
        server_threads_end=threads,
        samples=len(loaded),
        machine=machine(),
    )


def markdown(r: Report, command: str) -> str:
    m = r.machine
    return "\n".join(
        [
            "## Load: MCP over HTTP",
            "",
            f"`{command}` — rh-mcp (`--transport http`, `--max-wait {r.max_wait:g}`) in its own process, the "
            f"emulator behind it; {r.clients} MCP sessions at once for {r.duration:g} s, each looping like an "
            f"agent: an image model (done within the wait) or, one call in five, a video model that outlasts "
            f"the wait, collected with `wait_task`. {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
            f"{m['date']}.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| tool calls answered | {r.answered} of {r.calls} ({r.unanswered} unanswered) |",
            f"| calls by tool | {', '.join(f'{k} {v}' for k, v in sorted(r.calls_by_tool.items()))} |",
            f"| error results | {sum(r.errors.values())}" + (f" ({r.errors})" if r.errors else "") + " |",
            f"| throughput | {r.calls_per_s:g} calls/s |",
            f"| call latency p50 / p95 / p99 / max | {r.p50_ms:g} / {r.p95_ms:g} / {r.p99_ms:g} / "
            f"{r.max_ms:g} ms "
            f"(includes the wait for the task) |",
            f"| tasks created (emulator) | {r.tasks_created} |",
            f"| results received + task ids pending at the end | {r.results_received} + {r.pending_ids} = "
            f"{r.results_received + r.pending_ids} |",
            f"| tasks lost / duplicate results | {len(r.lost)} / {r.duplicate_results} |",
            f"| server RSS idle → start of load → peak → end of load | {r.rss_idle_mb:g} → {r.rss_start_mb:g} → "
            f"{r.rss_peak_mb:g} → {r.rss_end_mb:g} MiB |",
            f"| server RSS median, first vs last quarter of the run | {r.rss_first_quarter_mb:g} vs "
            f"{r.rss_last_quarter_mb:g} MiB ({r.samples} samples, every 0.5 s) |",
            f"| server RSS 2 s after the sessions closed; threads | {r.rss_after_mb:g} MiB; {r.server_threads_end} |",
            "",
            "Verdict: "
            + (
                "every call answered, no task lost, memory flat under load."
                if r.ok and r.rss_last_quarter_mb <= r.rss_first_quarter_mb * 1.2 + 10
                else "CHECK FAILED — see the table."
            ),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    p.add_argument("--max-wait", type=float, default=2.0, help="rh-mcp --max-wait (default 2)")
    p.add_argument("--video-share", type=float, default=0.2)
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.add_argument("--markdown", action="store_true", help="print the RESULTS.md section")
    args = p.parse_args(argv)
    report = run_load(args.clients, args.duration, max_wait=args.max_wait, video_share=args.video_share)
    data = {**asdict(report), "ok": report.ok}
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    command = "python benchmarks/load_mcp.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(markdown(report, command.strip()) if args.markdown else json.dumps(data, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
