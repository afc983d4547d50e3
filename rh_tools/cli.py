"""rh-tools: RunningHub from the shell — find models, run them, follow tasks, try it all offline.

Exit codes: 0 ok · 1 an unexpected error (a bug: please report it) · 2 bad input or missing
configuration (nothing was sent) · 3 API, auth or network error · 4 the task failed or was
cancelled · 5 still running when the wait ended (the message says how to resume) · 130
interrupted (Ctrl-C or SIGTERM; the message gives the task id and how to resume). A reader that
stops early (``rh-tools models | head -1``) is no error: the command ends with its own code.

Every submitted task is in the task journal: `rh-tools tasks` lists them, `rh-tools resume`
collects the unfinished ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import _render as R
from . import catalogue
from ._cli_display import make_display
from ._cli_params import cli_example, parse_model_flags, parse_params_json
from ._exceptions import (
    ConfigurationError,
    InvalidInputError,
    RunningHubError,
    TaskFailedError,
    TaskTimeoutError,
)
from ._version import __version__

__all__ = ["main"]

EXIT_OK, EXIT_BUG, EXIT_INPUT, EXIT_API, EXIT_FAILED, EXIT_PENDING = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells expect after Ctrl-C

# Flags every command takes, before or after the command name (rh-tools --json tasks = rh-tools tasks --json).
GLOBAL_FLAGS = ("base-url", "json", "quiet")
# run's own flags: a model parameter with one of these names can only be given in --params.
RUN_FLAGS = ("params", "no-wait", "timeout", "download", "webhook-url", "help", *GLOBAL_FLAGS)


def _emit(text: str) -> None:
    """Print to stdout; a reader that has gone (``| head -1``) ends the output, not the command."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        _stdout_gone()


def _stdout_gone() -> None:
    # Point stdout at /dev/null so the rest of the run (and the flush at exit) writes nowhere
    # instead of raising again; the command still finishes and exits with its own code.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (tests capture it)
        pass


def _out(args: argparse.Namespace, text: str, data: Any) -> None:
    if getattr(args, "json", False):
        _emit(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        _emit(text)


def _display(args: argparse.Namespace, label: str | None = None) -> Any:
    """Progress on stderr (live on a terminal, plain lines otherwise), none under --json/--quiet."""
    return make_display(silent=bool(args.json or args.quiet), label=label)


def _client(args: argparse.Namespace) -> Any:
    from ._client import RunningHub

    rh = RunningHub(base_url=getattr(args, "base_url", None))
    args.client = rh  # an interrupt reads the journal's last submit from it
    return rh


def _params_from(args: argparse.Namespace, ep: catalogue.Endpoint, extra: list[str]) -> dict[str, Any]:
    """A model's arguments: --params JSON, then the --name value flags over it."""
    params = parse_params_json(args.params)
    params.update(parse_model_flags(ep, extra))
    return params


def cmd_models(args: argparse.Namespace) -> int:
    result = catalogue.find(
        " ".join(args.query),
        category=args.category,
        output_type=args.output_type,
        task=args.task,
        variant=args.variant,
        input_type=args.input_type,
    )
    found = result.models
    shown = found[: args.limit] if args.limit else found
    text = "\n".join(f"{ep.tool_name:<52} {ep.output_type:<6} {ep.description}" for ep in shown)
    text += f"\n({len(found)} models" + (f", {len(shown)} shown)" if len(shown) < len(found) else ")")
    text += "".join(f"\nNote: {line}" for line in result.notes)
    text += "".join(f"\n{line}" for line in result.suggestions)
    _out(
        args,
        text,
        [
            {
                "name": ep.tool_name,
                "path": ep.path,
                "output_type": ep.output_type,
                "category": ep.category,
                "task": ep.task,
                "variant": ep.variant,
                "description": ep.description,
            }
            for ep in shown
        ],
    )
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    from .toolspecs import describe

    ep = catalogue.get(args.name)
    res = describe(ep)
    example = cli_example(ep, reserved=RUN_FLAGS)
    lines = [f"Example: {example}" if line.startswith("Example: ") else line for line in res.text.splitlines()]
    if "./input" in example:
        lines.insert(-1, "(./input.* stand for your own files; a URL works too.)")
    _out(args, "\n".join(lines), {**res.data, "cli_example": example})
    return EXIT_OK


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    ep = catalogue.get(args.name)
    params = _params_from(args, ep, extra)
    with _client(args) as rh:
        if args.no_wait:
            with _display(args, ep.tool_name):  # upload bars only
                task = rh.submit(ep, params, webhook_url=args.webhook_url)
            _out(
                args,
                f"Submitted task {task.task_id} ({task.status}). Follow it with: rh-tools wait {task.task_id}",
                R.task_data(task, tool=ep.tool_name),
            )
            return EXIT_OK
        with _display(args, ep.tool_name) as display:
            result = rh.run(ep, params, timeout=args.timeout, webhook_url=args.webhook_url, on_status=display.status)
            _save(rh, args, result)
        _out(args, R.result_text(result, tool=ep.tool_name), R.result_data(result, tool=ep.tool_name))
    return EXIT_OK


def _save(rh: Any, args: argparse.Namespace, result: Any) -> None:
    """``--download``: a paid result whose files cannot be saved is still printed (with its URLs)."""
    if not args.download:
        return
    try:
        rh.download(result, args.download)
    except (RunningHubError, OSError) as err:
        reason = err.message if isinstance(err, RunningHubError) else f"{err.strerror or err}"
        print(f"Not saved to {args.download}: {reason}. The output URLs still work for about 24 h.", file=sys.stderr)


def cmd_price(args: argparse.Namespace, extra: list[str]) -> int:
    """The price preview of one run (creates no task), in the currency RunningHub answers with."""
    from ._money import amount, default_currency, format_money

    ep = catalogue.get(args.name)
    params = _params_from(args, ep, extra)
    with _client(args) as rh:
        preview = rh.price_preview(ep, params)
    currency = (preview.currency or default_currency()).upper()
    price = amount(preview.estimated_price)
    free = preview.is_free_this_call is True
    said = "free this time" if free else format_money(price, currency) if price is not None else "no price given"
    data = {"name": ep.tool_name, "estimated_price": price, "currency": currency, "free_this_call": free}
    _out(args, f"{ep.tool_name}: {said} per run (estimate; nothing was submitted)", data)
    return EXIT_OK


def cmd_task(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        task = rh.get_task(args.task_id)
    text = f"Task {task.task_id} was cancelled; it has no outputs." if task.status == "CANCEL" else R.task_text(task)
    _out(args, text, R.task_data(task))
    return EXIT_OK


def cmd_wait(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        with _display(args) as display:
            result = rh.wait(args.task_id, args.timeout, on_status=display.status)
            _save(rh, args, result)
    _out(args, R.result_text(result), R.result_data(result))
    return EXIT_OK


# ------------------------------------------------------------------ the task journal


def _seconds(text: str) -> float:
    """'90s', '30m', '2h', '3d', '1w' (a bare number is seconds) -> seconds; for --since."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 30m, 2h, 3d or 1w")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def _name(rec: Any) -> str:
    return str(rec.tool or rec.endpoint or "?")


def cmd_tasks(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        if args.spend:
            return _spend(args, rh.spend(endpoint=args.model, max_age=args.since, all_keys=args.all_keys))
        found = rh.tasks(
            status=args.status,
            unfinished=args.unfinished,
            endpoint=args.model,
            max_age=args.since,
            limit=args.limit,
            all_keys=args.all_keys,
        )
        where = rh.journal.location
    now = time.time()
    rows = [
        f"{r.task_id:<20} {_name(r)[:44]:<44} {r.status:<8} {_age(r.age(now)):>5}  "
        + (f"{r.cost:g}" if r.cost is not None else "-")
        for r in found
    ]
    text = "\n".join([f"{'TASK':<20} {'MODEL':<44} {'STATUS':<8} {'AGE':>5}  COST", *rows])
    text += f"\n({len(found)} tasks; journal: {where})"
    if any(not r.done for r in found):
        text += "\nCollect unfinished ones with: rh-tools resume (or rh-tools wait <task>)"
    _out(args, text, [{**r.to_dict(), "done": r.done, "age_seconds": round(r.age(now), 1)} for r in found])
    return EXIT_OK


def _spend(args: argparse.Namespace, rows: list[Any]) -> int:
    by_day: dict[str, list[float]] = {}
    by_endpoint: dict[str, list[float]] = {}
    for r in rows:
        for table, k in ((by_day, r.day), (by_endpoint, r.endpoint)):
            acc = table.setdefault(k, [0, 0.0, 0.0])
            acc[0], acc[1], acc[2] = acc[0] + r.tasks, acc[1] + r.cost, acc[2] + r.coins
    total = [sum(a[i] for a in by_day.values()) for i in range(3)]

    def fmt(acc: list[float]) -> str:
        return f"{int(acc[0]):>5} tasks  cost {acc[1]:g}" + (f"  coins {acc[2]:g}" if acc[2] else "")

    def as_dict(acc: list[float]) -> dict[str, Any]:
        return {"tasks": int(acc[0]), "cost": round(acc[1], 6), "coins": round(acc[2], 6)}

    lines = ["Spend per day (money in your account's currency, from the tasks' reported usage):"]
    lines += [f"  {day}  {fmt(acc)}" for day, acc in by_day.items()] or ["  (no tasks)"]
    lines.append("Per endpoint:")
    lines += [f"  {ep:<44} {fmt(acc)}" for ep, acc in sorted(by_endpoint.items(), key=lambda kv: -kv[1][1])]
    lines.append(f"Total: {fmt(total)}")
    data = {
        "rows": [asdict(r) for r in rows],
        "by_day": {k: as_dict(a) for k, a in by_day.items()},
        "by_endpoint": {k: as_dict(a) for k, a in by_endpoint.items()},
        "total": as_dict(total),
    }
    _out(args, "\n".join(lines), data)
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    """Collect every unfinished task of this key and site from the journal: one look at each (the
    finished ones are reported at once), then wait for those still running, oldest first."""
    from ._waiter import _task_failed as task_failed
    from .types import TaskResult

    outcomes: list[dict[str, Any]] = []
    codes = [EXIT_OK]

    def report(rec: Any, result: Any = None, err: RunningHubError | None = None) -> None:
        if err is not None:
            pending = isinstance(err, TaskTimeoutError)
            codes.append(EXIT_PENDING if pending else EXIT_FAILED if isinstance(err, TaskFailedError) else EXIT_API)
            text = f"Task {rec.task_id} is still running: rh-tools wait {rec.task_id}" if pending else _error_text(err)
            outcomes.append({**err.to_dict(), "task_id": rec.task_id, "collected": False})
        else:
            _save(rh, args, result)
            text = R.result_text(result, tool=rec.tool)
            outcomes.append({**R.result_data(result, tool=rec.tool), "collected": True})
        if not args.json:
            _emit(text + "\n")

    with _client(args) as rh:
        found = rh.tasks(unfinished=True, max_age=args.since, limit=args.limit)
        todo = [r for r in reversed(found) if r.base_url == rh.base_url]
        if not todo:
            _out(args, "Nothing to resume: the journal has no unfinished tasks here.", [])
            return EXIT_OK
        if not (args.json or args.quiet):
            print(f"Resuming {len(todo)} unfinished task(s)...", file=sys.stderr)
        running: list[Any] = []
        for rec in todo:
            args.current = rec.task_id
            try:
                task = rh.get_task(rec.task_id)
                if not task.done:
                    running.append(rec)
                elif task.status == "SUCCESS":
                    report(rec, TaskResult(**task.model_dump()))
                else:
                    report(rec, err=task_failed(task))
            except RunningHubError as err:
                report(rec, err=err)
        for rec in running:
            args.current = rec.task_id
            try:
                with _display(args, rec.tool) as display:
                    result = rh.wait(rec.task_id, args.timeout, on_status=display.status)
                report(rec, result)
            except RunningHubError as err:
                report(rec, err=err)
        args.current = None
    if args.json:
        _emit(json.dumps(outcomes, indent=2, ensure_ascii=False, default=str))
    return max(codes)


def cmd_download(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        target = args.dir if args.dir or rh.journal.library is not None else "."
        with _display(args):
            paths = rh.download(args.task_id, target)
    files = [str(p) for p in paths]
    _out(
        args,
        "\n".join(["Saved:", *files]) if files else "The task has no outputs.",
        {"task_id": args.task_id, "files": files},
    )
    return EXIT_OK


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: say which task is running and how to resume, exit 130."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def _interrupted(args: argparse.Namespace) -> int:
    """What an interrupted command leaves behind: the task id (from the journal's last submit, or
    the id being waited on) and the command that resumes it, in every output mode."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the task id short
    try:
        return _report_interrupt(args)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _report_interrupt(args: argparse.Namespace) -> int:
    rh = getattr(args, "client", None)
    last = rh.journal.last if rh is not None else None
    task_id = getattr(args, "current", None) or getattr(args, "task_id", None) or (last.task_id if last else None)
    how = "Ctrl-C" if not isinstance(sys.exc_info()[1], _Terminated) else "SIGTERM"
    if task_id:
        resume = f"rh-tools wait {task_id}"
        text = (
            f"Interrupted ({how}). Task {task_id} keeps running and is in the task journal. "
            f"Collect it with: {resume} (or rh-tools resume for every unfinished task)."
        )
    elif getattr(args, "command", None) == "run":
        resume = None
        text = (
            f"Interrupted ({how}) before a task id was received. If the submit had already been sent, "
            "the task may exist anyway: rh-tools tasks lists what the journal knows."
        )
    else:  # a command that submits nothing
        resume = None
        text = f"Interrupted ({how})."
    if getattr(args, "json", False):
        _emit(json.dumps({"interrupted": True, "task_id": task_id, "resume": resume}))
    print(text, file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        rh.cancel(args.task_id)
    _out(args, f"Cancel requested for task {args.task_id}.", {"task_id": args.task_id, "cancelled": True})
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        with _display(args):
            up = rh.upload(Path(args.file))
    _out(args, f"download_url: {up.download_url}\nfile_name: {up.file_name}", up.model_dump(exclude_none=True))
    return EXIT_OK


def cmd_account(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        acct = rh.account()
    data = acct.model_dump(exclude_none=True)
    _out(args, "\n".join(f"{k}: {v}" for k, v in data.items()), data)
    return EXIT_OK


# Hints are written for agents (tool names); on the command line, name the command to type instead.
_CLI_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"call wait_task(?:/get_task)? with task_id=(\w+)"), r"run: rh-tools wait \1"),
    (re.compile(r"Use search_models to find the right name"), "Find the right name with: rh-tools models WORDS"),
    (re.compile(r"use describe_model to see the valid ones"), "see the valid ones with: rh-tools describe MODEL"),
    (re.compile(r"\bsearch_models\b"), "rh-tools models"),
    (re.compile(r"\bdescribe_model\b"), "rh-tools describe"),
)


def _cli_hint(hint: str) -> str:
    for pattern, replacement in _CLI_HINTS:
        hint = pattern.sub(replacement, hint)
    return hint


def _cancelled(err: RunningHubError) -> bool:
    return isinstance(err, TaskFailedError) and err.status == "CANCEL"


def _error_text(err: RunningHubError) -> str:
    """The error as the shell user reads it; a cancelled task is reported as cancelled, not as a
    generation that failed."""
    if _cancelled(err):
        return (
            f"Cancelled: task {err.task_id} was cancelled before it finished; it has no outputs.\n"
            "What to do: run it again if you still want the result."
        )
    err.hint = _cli_hint(err.hint or "")
    return R.error_text(err)


def _fail(code: int, err: RunningHubError, args: argparse.Namespace) -> int:
    text = _error_text(err)
    if getattr(args, "json", False):
        data = err.to_dict()
        if isinstance(err, TaskFailedError):
            data["status"] = err.status
        _emit(json.dumps(data, ensure_ascii=False))
    print(text, file=sys.stderr, flush=True)
    return code


class _Parser(argparse.ArgumentParser):
    """argparse with whole-word flags only: a model parameter ``--n`` must never be read as ``--no-wait``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _add_global_flags(p: argparse.ArgumentParser, *, on_command: bool) -> None:
    """--base-url, --json and --quiet, accepted before or after the command name. On the commands
    the defaults are SUPPRESS, so a flag given before the command is not reset by the command's parser."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if on_command else value

    p.add_argument(
        "--base-url",
        default=default(None),
        help="API base URL (default: RUNNINGHUB_BASE_URL or https://www.runninghub.ai)",
    )
    p.add_argument("--json", action="store_true", default=default(False), help="print JSON on stdout, no progress")
    p.add_argument("--quiet", action="store_true", default=default(False), help="no progress on stderr")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rh-tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"rh-tools {__version__} (Python {sys.version.split()[0]})")
    _add_global_flags(p, on_command=False)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        _add_global_flags(sp, on_command=True)
        return sp

    m = add(
        "models", "search/list models: rh-tools models animate a photo; rh-tools models kling --task image-to-video"
    )
    m.add_argument("query", nargs="*", help="what to do or a model name, in plain words")
    m.add_argument("--category", choices=["image", "video", "audio", "3d", "text"])
    m.add_argument("--output-type", choices=["image", "video", "audio", "3d", "text"])
    m.add_argument("--task", help="e.g. image-to-video, text-to-image, upscale (a wrong one lists them all)")
    m.add_argument("--variant", choices=["low-price", "official"])
    m.add_argument("--input-type", choices=["image", "video", "audio", "text"], help="models that take this")
    m.add_argument("--limit", type=int, default=0)
    add("describe", "show a model's parameters and an example command").add_argument("name")
    r = add(
        "run",
        "run a model: rh-tools run NAME --prompt '...' [--image ./in.png] [--param value | --param=value ...]; "
        "rh-tools describe NAME lists its parameters",
    )
    r.add_argument("name")
    r.add_argument("--params", help="parameters as a JSON object (flags override it)")
    r.add_argument("--no-wait", action="store_true", help="submit and print the task id")
    r.add_argument("--timeout", type=float, help="seconds to wait (default 900)")
    r.add_argument("--download", metavar="DIR", help="save outputs here")
    r.add_argument("--webhook-url", help="ask RunningHub to POST the result here too")
    pr = add("price", "price of one run, before paying: rh-tools price NAME --prompt '...' [--param value ...]")
    pr.add_argument("name")
    pr.add_argument("--params", help="parameters as a JSON object (flags override it)")
    add("task", "show a task's status").add_argument("task_id")
    w = add("wait", "wait for a task and print its outputs")
    w.add_argument("task_id")
    w.add_argument("--timeout", type=float)
    w.add_argument("--download", metavar="DIR")
    t = add("tasks", "list tasks from the task journal (id, model, status, age, cost)")
    t.add_argument("--status", action="append", help="SUCCESS, FAILED, CANCEL, RUNNING, QUEUED (repeatable)")
    t.add_argument("--unfinished", action="store_true", help="only tasks not seen ending")
    t.add_argument("--model", help="part of the model name or endpoint path")
    t.add_argument("--since", type=_seconds, metavar="AGE", help="only tasks newer than this (30m, 2h, 7d)")
    t.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    t.add_argument("--all-keys", action="store_true", help="tasks of every API key, not just RUNNINGHUB_API_KEY's")
    t.add_argument("--spend", action="store_true", help="cost per day and per endpoint instead")
    rs = add("resume", "collect every unfinished task in the journal (this key and site)")
    rs.add_argument("--timeout", type=float, help="seconds to wait for each task (default 900)")
    rs.add_argument("--download", metavar="DIR", help="save outputs here")
    rs.add_argument("--since", type=_seconds, default=_seconds("7d"), metavar="AGE", help="tasks newer than (7d)")
    rs.add_argument("--limit", type=int, default=100)
    dl = add("download", "save a finished task's outputs (default: the library folder, else here)")
    dl.add_argument("task_id")
    dl.add_argument("--dir", metavar="DIR", help="folder to save into")
    add("cancel", "cancel a task").add_argument("task_id")
    add("upload", "upload a file; prints its URL").add_argument("file")
    add("account", "balance and running tasks")
    sub.add_parser("emulator", help="run the RunningHub emulator (see: rh-tools emulator --help)", add_help=False)
    d = add("demo", "run grok_image_to_image end to end (emulator unless RUNNINGHUB_API_KEY is set)")
    d.add_argument("--emulator", action="store_true", help="use the built-in emulator even if a key is set")
    d.add_argument("--out", default="rh-demo-output", help="where to save results (default ./rh-demo-output)")
    return p


# The commands. Each takes the parsed arguments and returns the exit code; a command that reads a
# model's parameters as flags (--prompt ..., which argparse cannot know in advance) is listed in
# MODEL_COMMANDS and also gets the flags argparse left over. Adding a command: a cmd_* function,
# its add(...) lines in _parser(), and one entry here.
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "models": cmd_models,
    "describe": cmd_describe,
    "task": cmd_task,
    "wait": cmd_wait,
    "tasks": cmd_tasks,
    "resume": cmd_resume,
    "download": cmd_download,
    "cancel": cmd_cancel,
    "upload": cmd_upload,
    "account": cmd_account,
}
MODEL_COMMANDS: dict[str, Callable[[argparse.Namespace, list[str]], int]] = {"run": cmd_run, "price": cmd_price}


def _run_emulator(parser: argparse.ArgumentParser, args: argparse.Namespace, rest: list[str]) -> int:
    if args.json or args.base_url:
        parser.error("the emulator takes its own options: rh-tools emulator --help")
    try:
        from .emulator import main as emulator_main
    except ImportError as exc:
        raise ConfigurationError(
            f"the emulator needs packages that are not installed ({exc.name})",
            hint='Install them with: pip install "rh-tools[emulator]"',
        ) from None
    return emulator_main(rest + (["--quiet"] if args.quiet else []))


def _run_demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.json or args.base_url:
        parser.error(
            "demo prints a walk-through and picks its own server (the emulator unless RUNNINGHUB_API_KEY is set)"
        )
    from ._demo import run_demo

    return run_demo(out_dir=Path(args.out), force_emulator=args.emulator)


def _dispatch(argv: list[str], args: argparse.Namespace) -> int:
    if argv[:1] == ["emulator"]:  # all of it is the emulator's (it has a --quiet of its own)
        args.command = "emulator"
        return _run_emulator(_parser(), argparse.Namespace(json=False, base_url=None, quiet=False), argv[1:])
    parser = _parser()
    _, extra = parser.parse_known_args(argv, namespace=args)
    if args.command == "emulator":  # global flags came first: rh-tools --quiet emulator --port 0
        return _run_emulator(parser, args, extra)
    if extra and args.command not in MODEL_COMMANDS:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "demo":
        return _run_demo(parser, args)
    if args.command in MODEL_COMMANDS:
        return MODEL_COMMANDS[args.command](args, extra)
    return COMMANDS[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``rh-tools`` command; returns the exit code (argparse's own exits included)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = argparse.Namespace(command=None, json=False, quiet=False, base_url=None)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    try:
        return _dispatch(argv, args)
    except SystemExit as exc:  # argparse: --help, --version, a usage error (exit 2)
        return EXIT_OK if exc.code is None else exc.code if isinstance(exc.code, int) else EXIT_INPUT
    except KeyboardInterrupt:
        return _interrupted(args)
    except (InvalidInputError, ConfigurationError) as err:
        return _fail(EXIT_INPUT, err, args)
    except TaskTimeoutError as err:
        err.hint = f"The task keeps running. Resume with: rh-tools wait {err.task_id}"
        return _fail(EXIT_PENDING, err, args)
    except TaskFailedError as err:
        return _fail(EXIT_FAILED, err, args)
    except RunningHubError as err:
        return _fail(EXIT_API, err, args)
    except BrokenPipeError:  # a reader went away while argparse or a command was still writing
        _stdout_gone()
        return EXIT_OK
    except OSError as exc:  # a local file or folder (network errors arrive as RunningHubError)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"Error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug: one clear line rather than a traceback, and how to report it
        print(
            f"rh-tools: unexpected error ({type(exc).__name__}: {exc}). This is a bug in rh-tools; "
            "please report it with the command you ran.",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
