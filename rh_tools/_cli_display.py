"""What ``rh-tools`` shows on stderr while it works: task status, upload and download progress.

Three forms, picked by :func:`make_display`:

* **live** (stderr is a terminal and ``rich`` is installed, ``rh-tools[cli]``): one row per task
  whose elapsed time ticks between polls, with its status and queue position where the answer
  gives one, and a bar per file uploaded or downloaded;
* **plain** (a pipe, a CI log, ``TERM=dumb``, or no ``rich``): a line per status change and per
  file moved, nothing rewritten in place, so logs stay readable;
* **silent** (``--json`` or ``--quiet``): nothing, so stdout and stderr hold only results and errors.

Why rich: a live region that redraws cleanly (cursor handling, terminal width, refresh thread,
Ctrl-C restoring the cursor) is what it does well, and it is an optional extra, so the core
install stays httpx + pydantic.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Mapping
from typing import IO, Any

from ._transfer import Transfer, observe_transfers

__all__ = ["Display", "LiveDisplay", "PlainDisplay", "make_display", "queue_position", "size_text"]

_SHOWN_STATUS = {"CANCEL": "CANCELLED"}


def queue_position(task: Any) -> int | None:
    """The task's place in RunningHub's queue, when the answer carries one.

    RunningHub's v2 query documents no queue position (reference §2.2: taskId, status, errorCode,
    errorMessage, results, clientId, promptTips, failedReason, usage). The task model keeps
    unknown fields, so if an answer ever carries an integer field named like a position
    (``queuePosition``, ``queueIndex``, ``position``, ``rank``...), it is shown; otherwise nothing is.
    """
    extra: Mapping[str, Any] = getattr(task, "model_extra", None) or {}
    for key, value in extra.items():
        name = key.lower().replace("_", "")
        if not any(word in name for word in ("queue", "position", "rank")):
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return None


def size_text(n: float) -> str:
    """Bytes in decimal units, as file managers and rich's bars show them: '6.3 kB', '1.2 MB'."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _status_words(task: Any) -> str:
    status = _SHOWN_STATUS.get(task.status, task.status or "...")
    pos = queue_position(task) if task.status in ("QUEUED", "CREATE") else None
    return status + (f", queue position {pos}" if pos is not None else "")


class Display:
    """Shows nothing (``--json``, ``--quiet``); the other forms override what they show.

    Use as a context manager around the work: inside it, uploads and downloads are reported to
    :meth:`transfer`; pass :meth:`status` as the client's ``on_status``. Leaving the block (also
    by Ctrl-C) ends any live region, so what is printed next starts on a clean line.
    """

    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self._transfers: Any = None

    def __enter__(self) -> Display:
        self._transfers = observe_transfers(self.transfer)
        self._transfers.__enter__()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self._transfers.__exit__(None, None, None)

    def start(self) -> None:
        """Begin showing (the live form starts its redraw thread)."""

    def stop(self) -> None:
        """Stop showing; what is on screen stays."""

    def status(self, task: Any, elapsed: float) -> None:
        """A status seen at a poll (the client's ``on_status``)."""

    def transfer(self, t: Transfer) -> None:
        """An upload's or a download's progress."""


class PlainDisplay(Display):
    """A line per status change and per file moved; for pipes and logs."""

    def __init__(self, label: str | None = None, stream: IO[str] | None = None) -> None:
        super().__init__(label)
        self.stream = stream or sys.stderr
        self._last: dict[str, str] = {}
        self._started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def status(self, task: Any, elapsed: float) -> None:
        words = _status_words(task)
        if self._last.get(task.task_id) != words:
            self._last[task.task_id] = words
            self._line(f"task {task.task_id}: {words} ({elapsed:.1f}s)")

    def transfer(self, t: Transfer) -> None:
        key = f"{t.direction}:{t.name}"
        if not t.finished:
            self._started.setdefault(key, time.monotonic())
            return
        took = time.monotonic() - self._started.pop(key, time.monotonic())
        verb = "uploaded" if t.direction == "upload" else "downloaded"
        self._line(f"{verb} {t.name} ({size_text(t.done)}, {took:.1f}s)")


class LiveDisplay(Display):
    """Rows redrawn in place on a terminal (rich): elapsed time ticks between polls."""

    REFRESH_PER_SECOND = 4  # enough for a clock in seconds; light on a busy machine

    def __init__(self, label: str | None = None, console: Any = None) -> None:
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
            TransferSpeedColumn,
        )
        from rich.text import Text

        super().__init__(label)

        class Clock(ProgressColumn):
            """Time since the task was submitted (the client's count), ticking between polls."""

            def render(self, task: Any) -> Text:
                since = task.fields.get("since")
                seconds = task.fields.get("final") or (time.monotonic() - since if since is not None else 0.0)
                minutes, secs = divmod(int(seconds), 60)
                return Text(f"{minutes}:{secs:02d}", style="progress.elapsed")

        class Speed(TransferSpeedColumn):
            """Bytes per second while a file moves; nothing before rich has a measure or once done."""

            def render(self, task: Any) -> Text:
                return Text("") if task.finished or task.speed is None else super().render(task)

        self.console = console or Console(stderr=True)
        self.tasks = Progress(
            SpinnerColumn(finished_text=" "), TextColumn("{task.description} ·"), Clock(), console=self.console
        )
        self.files = Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            DownloadColumn(),
            Speed(),
            console=self.console,
        )
        self.live = Live(
            Group(self.tasks, self.files),
            console=self.console,
            refresh_per_second=self.REFRESH_PER_SECOND,
            transient=False,
            redirect_stdout=False,  # results go to stdout only after the live region has ended
            redirect_stderr=True,  # a warning logged meanwhile is printed above the rows
        )
        self._task_rows: dict[str, Any] = {}
        self._file_rows: dict[str, Any] = {}

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def status(self, task: Any, elapsed: float) -> None:
        text = " · ".join([*([self.label] if self.label else []), f"task {task.task_id}", _status_words(task)])
        row = self._task_rows.get(task.task_id)
        if row is None:
            row = self._task_rows[task.task_id] = self.tasks.add_task(text, total=1)
        fields: dict[str, Any] = {"since": time.monotonic() - elapsed}
        if task.done:
            fields["final"] = max(elapsed, 0.001)
        self.tasks.update(row, description=text, completed=1 if task.done else 0, **fields)

    def transfer(self, t: Transfer) -> None:
        key = f"{t.direction}:{t.name}"
        arrow = "↑" if t.direction == "upload" else "↓"
        row = self._file_rows.get(key)
        if row is None:
            row = self._file_rows[key] = self.files.add_task(f"{arrow} {t.name}", total=t.total)
        total = t.total if t.total is not None else (t.done if t.finished else None)
        self.files.update(row, completed=t.done, total=total)


def _live_possible(stream: IO[str]) -> bool:
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        if not stream.isatty():
            return False
    except (ValueError, AttributeError):  # closed, or not a real stream
        return False
    return importlib.util.find_spec("rich") is not None  # the optional extra is installed


def make_display(*, silent: bool, label: str | None = None) -> Display:
    """The display for this run: silent, live on a terminal with rich, plain lines otherwise."""
    if silent:
        return Display(label)
    if _live_possible(sys.stderr):
        return LiveDisplay(label)
    return PlainDisplay(label)
