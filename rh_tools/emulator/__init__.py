"""A faithful emulator of the RunningHub API, for offline tests, benchmarks and demos.

It is a real HTTP server on loopback (Starlette on uvicorn) that follows RunningHub's public API
reference rather than any client's assumptions: the Standard Model API (``/openapi/v2``: submit to
every catalogue endpoint with server-side parameter validation, query, binary upload, queue status,
price preview, AI-app/workflow runs), the legacy workflow/AI-app API (``/task/openapi``,
``/api/openapi``, ``/uc/openapi``), TASK_END webhooks with retries, per-key concurrency and queue
limits, an optional rate limit, and fault injection down to TCP resets.

Behaviour the public material leaves open is configurable; see ``EmulatorConfig``.

::

    from rh_tools.emulator import Emulator

    with Emulator(durations={"image": 0.2}) as emu:
        emu.base_url                      # "http://127.0.0.1:<port>"
        emu.faults.add("reset_after", path="/openapi/v2/rhart-image-g/image-to-image")
        emu.stats.tasks_created

Command line: ``python -m rh_tools.emulator --port 8765``. Task run times are the configured ones
spread by ``duration_dist``: ``Emulator(duration_dist="lognormal:0.8", seed=1)`` (or
``--duration-dist lognormal:0.8 --seed 1``) draws heavy-tailed times, as real queues give.
"""

from __future__ import annotations

from .config import API_DURATIONS, CLI_DURATIONS, EmulatorConfig
from .faults import FAULT_KINDS, Fault, Faults
from .server import Emulator
from .stats import Stats

__all__ = [
    "API_DURATIONS",
    "CLI_DURATIONS",
    "FAULT_KINDS",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "Faults",
    "Stats",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground (the ``rh-tools emulator`` subcommand calls this)."""
    from .__main__ import main as _main

    return _main(argv)
