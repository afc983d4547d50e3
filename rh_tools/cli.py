"""rh-tools: RunningHub from the shell — find models, run them, follow tasks, try it all offline.

Exit codes: 0 ok · 2 bad input or missing configuration (nothing was sent) · 3 API, auth or
network error · 4 the task failed · 5 still running when the wait ended (the message says how
to resume) · 130 interrupted (Ctrl-C or SIGTERM; the message gives the task id and how to resume).

Every submitted task is in the task journal: `rh-tools tasks` lists them, `rh-tools resume`
collects the unfinished ones.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import _render as R
from . import catalogue
from ._exceptions import (
    ConfigurationError,
    InvalidInputError,
    RunningHubError,
    TaskFailedError,
    TaskTimeoutError,
)

__all__ = ["main"]

EXIT_OK, EXIT_INPUT, EXIT_API, EXIT_FAILED, EXIT_PENDING = 0, 2, 3, 4, 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells expect after Ctrl-C
_MEDIA_FLAGS = ("image", "video", "audio")


def _out(args: argparse.Namespace, text: str, data: Any) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


class _Progress:
    """One status line on stderr while waiting (rewritten in place on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, task: Any, elapsed: float) -> None:
        if not self.enabled:
            return
        line = f"task {task.task_id}: {task.status or '...'} ({elapsed:.1f}s)"
        if self.tty:
            sys.stderr.write("\r" + line.ljust(len(self.last)))
        elif task.status != self.last.split(": ")[-1].split(" ")[0]:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.last = line

    def done(self) -> None:
        if self.enabled and self.tty and self.last:
            sys.stderr.write("\n")


def _client(args: argparse.Namespace) -> Any:
    from ._client import RunningHub

    rh = RunningHub(base_url=getattr(args, "base_url", None))
    args.client = rh  # an interrupt reads the journal's last submit from it
    return rh


def _parse_extra(ep: catalogue.Endpoint, extra: list[str]) -> dict[str, Any]:
    """``--name value`` pairs for the endpoint's parameters; repeat a flag for list parameters."""
    params: dict[str, Any] = {}
    names = {p.name: p for p in ep.params} | {p.key: p for p in ep.params}
    first_media = {t: next((p for p in ep.params if p.type == t), None) for t in _MEDIA_FLAGS}
    i = 0
    while i < len(extra):
        flag = extra[i]
        if not flag.startswith("--") or i + 1 >= len(extra):
            raise InvalidInputError(
                f"expected '--name value' pairs, got {flag!r}",
                hint=f"Parameters of {ep.tool_name}: {', '.join(p.name for p in ep.params)}.",
            )
        name, value = flag[2:], extra[i + 1]
        i += 2
        p = names.get(name) or (first_media.get(name) if name in _MEDIA_FLAGS else None)
        if p is None:
            raise InvalidInputError(
                f"{ep.tool_name} has no parameter {name!r}",
                hint=f"Valid: {', '.join(q.name for q in ep.params)}.",
            )
        parsed: Any = value
        if p.type in ("json",) or (p.type in ("int", "float", "bool") and value[:1] not in ('"', "'")):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        if p.multiple:
            params.setdefault(p.name, []).append(parsed)
        else:
            params[p.name] = parsed
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

    res = describe(catalogue.get(args.name))
    _out(args, res.text.replace("run_model(name=", "example: run_model(name="), res.data)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    ep = catalogue.get(args.name)
    params = _params_from(args, ep, extra)
    progress = _Progress(not args.json and not args.quiet)
    with _client(args) as rh:
        if args.no_wait:
            task = rh.submit(ep, params, webhook_url=args.webhook_url)
            _out(
                args,
                f"Submitted task {task.task_id} ({task.status}). Follow it with: rh-tools wait {task.task_id}",
                R.task_data(task, tool=ep.tool_name),
            )
            return EXIT_OK
        try:
            result = rh.run(ep, params, timeout=args.timeout, webhook_url=args.webhook_url, on_status=progress)
        finally:
            progress.done()
        if args.download:
            rh.download(result, args.download)
        _out(args, R.result_text(result, tool=ep.tool_name), R.result_data(result, tool=ep.tool_name))
    return EXIT_OK


def _params_from(args: argparse.Namespace, ep: catalogue.Endpoint, extra: list[str]) -> dict[str, Any]:
    params = json.loads(args.params) if args.params else {}
    if not isinstance(params, dict):
        raise InvalidInputError("--params must be a JSON object")
    params.update(_parse_extra(ep, extra))
    return params


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
    _out(args, R.task_text(task), R.task_data(task))
    return EXIT_OK


def cmd_wait(args: argparse.Namespace) -> int:
    progress = _Progress(not args.json)
    with _client(args) as rh:
        try:
            result = rh.wait(args.task_id, args.timeout, on_status=progress)
        finally:
            progress.done()
        if args.download:
            rh.download(result, args.download)
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

    progress = _Progress(not args.json)
    outcomes: list[dict[str, Any]] = []
    codes = [EXIT_OK]

    def report(rec: Any, result: Any = None, err: RunningHubError | None = None) -> None:
        if err is not None:
            pending = isinstance(err, TaskTimeoutError)
            codes.append(EXIT_PENDING if pending else EXIT_FAILED if isinstance(err, TaskFailedError) else EXIT_API)
            text = f"Task {rec.task_id} is still running: rh-tools wait {rec.task_id}" if pending else R.error_text(err)
            outcomes.append({**err.to_dict(), "task_id": rec.task_id, "collected": False})
        else:
            if args.download:
                rh.download(result, args.download)
            text = R.result_text(result, tool=rec.tool)
            outcomes.append({**R.result_data(result, tool=rec.tool), "collected": True})
        if not args.json:
            print(text + "\n", flush=True)

    with _client(args) as rh:
        found = rh.tasks(unfinished=True, max_age=args.since, limit=args.limit)
        todo = [r for r in reversed(found) if r.base_url == rh.base_url]
        if not todo:
            _out(args, "Nothing to resume: the journal has no unfinished tasks here.", [])
            return EXIT_OK
        if not args.json:
            print(f"Resuming {len(todo)} unfinished task(s)...", file=sys.stderr)
        running = []
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
                try:
                    result = rh.wait(rec.task_id, args.timeout, on_status=progress)
                finally:
                    progress.done()
                report(rec, result)
            except RunningHubError as err:
                report(rec, err=err)
        args.current = None
    if args.json:
        print(json.dumps(outcomes, indent=2, ensure_ascii=False, default=str))
    return max(codes)


def cmd_download(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        target = args.dir if args.dir or rh.journal.library is not None else "."
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
    elif args.command == "run":
        resume = None
        text = (
            f"Interrupted ({how}) before a task id was received. If the submit had already been sent, "
            "the task may exist anyway: rh-tools tasks lists what the journal knows."
        )
    else:  # a command that submits nothing
        resume = None
        text = f"Interrupted ({how})."
    if getattr(args, "json", False):
        print(json.dumps({"interrupted": True, "task_id": task_id, "resume": resume}), flush=True)
    print(text, file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        rh.cancel(args.task_id)
    _out(args, f"Cancel requested for task {args.task_id}.", {"task_id": args.task_id, "cancelled": True})
    return EXIT_OK


def cmd_upload(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        up = rh.upload(Path(args.file))
    _out(args, f"download_url: {up.download_url}\nfile_name: {up.file_name}", up.model_dump(exclude_none=True))
    return EXIT_OK


def cmd_account(args: argparse.Namespace) -> int:
    with _client(args) as rh:
        acct = rh.account()
    data = acct.model_dump(exclude_none=True)
    _out(args, "\n".join(f"{k}: {v}" for k, v in data.items()), data)
    return EXIT_OK


def _fail(code: int, err: RunningHubError, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print(json.dumps(err.to_dict(), ensure_ascii=False))
    print(R.error_text(err), file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rh-tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--base-url", help="API base URL (default: RUNNINGHUB_BASE_URL or https://www.runninghub.ai)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, json_flag: bool = True) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="print JSON")
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
    add("describe", "show a model's parameters").add_argument("name")
    r = add("run", "run a model: rh-tools run NAME --prompt '...' [--image ./in.png] [--param value ...]")
    r.add_argument("name")
    r.add_argument("--params", help="parameters as a JSON object (flags override it)")
    r.add_argument("--no-wait", action="store_true", help="submit and print the task id")
    r.add_argument("--timeout", type=float, help="seconds to wait (default 900)")
    r.add_argument("--download", metavar="DIR", help="save outputs here")
    r.add_argument("--webhook-url", help="ask RunningHub to POST the result here too")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")
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
    d = add(
        "demo",
        "run grok_image_to_image end to end (emulator unless RUNNINGHUB_API_KEY is set)",
        json_flag=False,
    )
    d.add_argument("--emulator", action="store_true", help="use the built-in emulator even if a key is set")
    d.add_argument("--out", default="rh-demo-output", help="where to save results (default ./rh-demo-output)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from .emulator import main as emulator_main

        return emulator_main(argv[1:])
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("run", "price"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    handlers = {
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
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    try:
        if args.command == "run":
            return cmd_run(args, extra)
        if args.command == "price":
            return cmd_price(args, extra)
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(out_dir=Path(args.out), force_emulator=args.emulator)
        return handlers[args.command](args)
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
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
