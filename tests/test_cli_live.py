"""rh-tools on a terminal: the live progress display, seen through a pseudo-terminal (``pty``).

The child's stderr is a pty (what a shell gives it) and its stdout a pipe, as in
``rh-tools run ... > result.txt``. Durations are driven by the emulator's controls, not by sleeps:
tasks wait QUEUED while the key's concurrency is 0, and a long first poll interval shows that the
clock ticks between polls, not because of them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, TEST_KEY, hold_tasks

from rh_tools.cli import EXIT_INTERRUPTED, EXIT_OK
from rh_tools.emulator import Emulator

pytest.importorskip("rich", reason="the live display needs the cli extra (rich)")

SKETCH = Path(__file__).with_name("data") / "sketch.png"
GROK = "grok_image_to_image"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2}) as e:
        yield e


class Terminal:
    """``rh-tools ARGS`` with stderr on a pseudo-terminal 160 columns wide; everything it draws is kept."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rh_tools.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
            cwd=ROOT,
        )
        os.close(slave)
        self._master = master
        self._raw = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: the child has closed its end
                break
            if not data:
                break
            with self._lock:
                self._raw += data

    @property
    def raw(self) -> str:
        with self._lock:
            return self._raw.decode("utf-8", "replace")

    @property
    def text(self) -> str:
        """What was drawn, without the terminal control sequences."""
        return _ANSI.sub("", self.raw)

    def until(self, predicate: Callable[[str], bool], what: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while not predicate(text := self.text):
            assert self.proc.poll() is None or time.monotonic() < deadline, f"exited before {what}: {text[-2000:]}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {text[-2000:]}"
            time.sleep(0.05)
        return text

    def finish(self, timeout: float = 90.0) -> tuple[int, str]:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(10)
            os.close(self._master)
        return self.proc.returncode, out.decode()


def child_env(emu: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TTY_", "COLUMNS", "LINES", "NO_COLOR"))}
    return {
        **env,
        "RUNNINGHUB_API_KEY": TEST_KEY,
        "RUNNINGHUB_BASE_URL": emu.base_url,
        "TERM": "xterm-256color",
        **extra,
    }


def _clock_values(text: str, task_status: str) -> list[str]:
    return re.findall(rf"task \d+ · {task_status} · (\d+:\d\d)", text)


def test_the_clock_ticks_between_polls_and_ctrl_c_leaves_the_screen_clean(emu: Emulator) -> None:
    """Held in the queue, with a first poll 60 s away: the elapsed time shown still moves every
    second, the upload shows as a finished bar, and Ctrl-C ends the live rows before it says
    which task keeps running."""
    release = hold_tasks(emu)
    try:
        queries = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
        term = Terminal(
            ["run", GROK, "--prompt", "live", "--image", str(SKETCH)],
            child_env(emu, RUNNINGHUB_POLL_INTERVAL="60"),
        )
        text = term.until(lambda t: len(set(_clock_values(t, "QUEUED"))) >= 3, "three different elapsed times")
        polled = emu.stats.requests_by_path.get("/openapi/v2/query", 0) - queries
        assert len(set(_clock_values(text, "QUEUED"))) > polled  # it ticks without a poll
        assert re.search(r"↑ sketch\.png .*6\.3/6\.3 kB", text), text[-2000:]
        task_id = re.findall(r"task (\d+) · QUEUED", text)[-1]
        term.proc.send_signal(signal.SIGINT)
        code, out = term.finish()
    finally:
        release()
    raw = term.raw
    assert code == EXIT_INTERRUPTED and out == ""
    assert "Traceback" not in raw
    message = f"Interrupted (Ctrl-C). Task {task_id} keeps running"
    assert message in term.text
    assert raw.rindex("\x1b[?25h") < raw.index("Interrupted")  # cursor back, rows ended, then the message


def test_a_finished_run_shows_upload_download_and_status_then_prints_the_result(emu: Emulator, tmp_path: Path) -> None:
    term = Terminal(
        ["run", GROK, "--prompt", "live", "--image", str(SKETCH), "--download", str(tmp_path)],
        child_env(emu, RUNNINGHUB_POLL_INTERVAL="0.05"),
    )
    code, out = term.finish()
    [saved] = tmp_path.iterdir()
    text = term.text
    assert code == EXIT_OK, text[-2000:]
    assert re.search(rf"{GROK} · task \d+ · SUCCESS · \d+:\d\d", text), text[-2000:]
    size = saved.stat().st_size
    assert re.search(rf"↓ {saved.name} .*{size / 1000:.1f}/{size / 1000:.1f} kB", text), text[-2000:]
    assert out.startswith("SUCCESS: task ") and "\x1b" not in out  # the result itself stays plain


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_json_and_quiet_draw_nothing_even_on_a_terminal(emu: Emulator, flag: str) -> None:
    term = Terminal(
        ["run", GROK, "--prompt", "quiet", "--image", str(SKETCH), flag],
        child_env(emu, RUNNINGHUB_POLL_INTERVAL="0.05"),
    )
    code, out = term.finish()
    assert code == EXIT_OK and "SUCCESS" in out
    assert term.raw == ""


def test_both_forms_show_a_queue_position_when_an_answer_carries_one() -> None:
    """RunningHub documents none, so only an answer that carries one shows it (Task keeps unknown fields)."""
    import io

    from rich.console import Console

    from rh_tools._cli_display import LiveDisplay, PlainDisplay
    from rh_tools.types import Task

    tid = "2127812648048263168"
    seen = [
        Task.model_validate({"task_id": tid, "status": "QUEUED", "queuePosition": "3"}),
        Task.model_validate({"task_id": tid, "status": "QUEUED", "queuePosition": "3"}),
        Task.model_validate({"task_id": tid, "status": "QUEUED"}),
        Task.model_validate({"task_id": tid, "status": "RUNNING", "queuePosition": 0}),
        Task.model_validate({"task_id": tid, "status": "CANCEL"}),
    ]
    lines = io.StringIO()
    plain = PlainDisplay(GROK, stream=lines)
    for i, task in enumerate(seen):
        plain.status(task, float(i))
    assert lines.getvalue().splitlines() == [
        f"task {tid}: QUEUED, queue position 3 (0.0s)",  # once: the same words are not repeated
        f"task {tid}: QUEUED (2.0s)",
        f"task {tid}: RUNNING (3.0s)",  # a position means nothing once running
        f"task {tid}: CANCELLED (4.0s)",
    ]

    screen = io.StringIO()
    live = LiveDisplay(GROK, console=Console(file=screen, force_terminal=True, width=160, color_system=None))
    with live:
        live.status(seen[0], 1.0)
        live.live.refresh()
        assert f"{GROK} · task {tid} · QUEUED, queue position 3 · " in _ANSI.sub("", screen.getvalue())
        live.status(seen[-1], 5.0)
    assert f"task {tid} · CANCELLED · 0:05" in _ANSI.sub("", screen.getvalue())  # frozen at the end
