"""Why the surviving mutants of the agent surfaces may survive (issue #16, group "surfaces").

Modules: ``rh_tools/_paths.py`` (the folder policy of the LangChain tools and rh-mcp),
``mcp_server/paths.py``, ``mcp_server/progress.py``, the LangChain ``_only_inside`` and
``rh_tools/toolspecs.py``. Same shapes as ``scripts/mutation_notes.py``, which merges this file in:
``NOTES`` keyed by ``<file>::<function>::<line before> => <line after>``, ``PATTERNS`` as
(file, function glob, regex over "<before> => <after>", note). Each note says why the mutant is
equivalent, or why the behaviour it changes is not one a caller can see.
"""

from __future__ import annotations

_P = "rh_tools/_paths.py"
_FLAGS = 'flags = _OPEN_FLAGS if roots is not None else _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", 0)'
_FCNTL = 'raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\\0" * 1024)'
_REAL = "real = real_path_of_fd(fd, path, st)"

_NOFOLLOW_DEFAULT = (
    "Equivalent on every POSIX system: os.O_NOFOLLOW exists on Linux, macOS and the BSDs, so getattr's "
    "default is never used there (the plain client's open without O_NOFOLLOW is checked by "
    "tests/test_mutation_surfaces.py::test_the_plain_client_uploads_through_a_symlink). Only on Windows, "
    "which has no O_NOFOLLOW and which the suite does not run on, would this default be read."
)
_F_GETPATH = (
    "Equivalent: F_GETPATH is 50 in macOS's <sys/fcntl.h>; a missing or misspelt name falls back to that "
    "same number (the F_GETPATH branch itself is checked against a simulated macOS kernel in "
    "tests/test_mutation_surfaces.py::test_macos_asks_the_kernel_for_the_descriptors_path)."
)

NOTES: dict[str, str] = {
    f"{_P}::_has_symlink::p = path if path.is_absolute() else Path.cwd() / path => "
    "p = path if (path.is_absolute()) and False else Path.cwd() / path": (
        "Equivalent: Path.cwd() / an absolute path is that absolute path (pathlib drops the left side)."
    ),
    f"{_P}::_has_symlink::p = path if path.is_absolute() else Path.cwd() / path => "
    "p = path if (path.is_absolute()) or True else Path.cwd() / path": (
        "Equivalent: a relative name's components are looked up relative to the working folder either way, "
        "and the working folder's own path (os.getcwd) is physical, so the folders above it hold no symlink."
    ),
    f"{_P}::_has_symlink::return False => return True": (
        "Not a behaviour a caller can rely on either way: both returns decide only the aside "
        "'(it is a symlink pointing outside them)' of a refusal that happens anyway. The last return is "
        "reached only when a name inside the folders resolves outside without any symlink on its way, which "
        "(roots resolved, '..' normalised) needs the link to vanish between the two looks; the one in "
        "`except OSError` only when lstat fails with an error pathlib does not swallow (ENAMETOOLONG, EACCES)."
    ),
    f"{_P}::open_checked::{_FLAGS} => "
    'flags = _OPEN_FLAGS if roots is not None else _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", None)': _NOFOLLOW_DEFAULT,
    f"{_P}::open_checked::{_FLAGS} => "
    'flags = _OPEN_FLAGS if roots is not None else _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", )': _NOFOLLOW_DEFAULT,
    f"{_P}::open_checked::{_FLAGS} => "
    'flags = _OPEN_FLAGS if roots is not None else _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", 1)': _NOFOLLOW_DEFAULT,
    f"{_P}::open_checked::{_REAL} => real = real_path_of_fd(None, path, st)": (
        "Equivalent in outcome: without the descriptor, /proc/self/fd/None does not exist and the check falls "
        "back to re-resolving the name and comparing device and inode with the opened file's, which reaches "
        "the same verdict (the swap tests pass through it) except for a swap in the microseconds between "
        "open() and that comparison, a window no test can hit on purpose."
    ),
    f"{_P}::real_path_of_fd::{_FCNTL} => "
    'raw = fcntl.fcntl(fd, getattr(None, "F_GETPATH", 50), b"\\0" * 1024)': _F_GETPATH,
    f"{_P}::real_path_of_fd::{_FCNTL} => "
    'raw = fcntl.fcntl(fd, getattr(fcntl, "XXF_GETPATHXX", 50), b"\\0" * 1024)': _F_GETPATH,
    f"{_P}::real_path_of_fd::{_FCNTL} => "
    'raw = fcntl.fcntl(fd, getattr(fcntl, "f_getpath", 50), b"\\0" * 1024)': _F_GETPATH,
    f'{_P}::real_path_of_fd::{_FCNTL} => raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\\0" * 1025)': (
        "Equivalent: F_GETPATH needs a buffer of at least MAXPATHLEN (1024) bytes; a larger one holds the "
        "same NUL-terminated path."
    ),
    f"{_P}::real_path_of_fd::real = opened.resolve(strict=True) => real = opened.resolve(strict=None)": (
        "Equivalent: a name that does not resolve makes the os.stat on the next line fail the same way "
        "(OSError, answered None); a symlink loop raises in both modes."
    ),
    f"{_P}::real_path_of_fd::real = opened.resolve(strict=True) => real = opened.resolve(strict=False)": (
        "Equivalent: a name that does not resolve makes the os.stat on the next line fail the same way "
        "(OSError, answered None); a symlink loop raises in both modes."
    ),
}

_T = "rh_tools/toolspecs.py"
_AT_IMPORT = (
    "Out of mutmut's reach: {func} runs only at import, to build the argument models' validators, before "
    "mutmut switches a mutant on (its workers fork from a process that imported the original), so no test "
    "can meet this mutant. What it decides is checked by tests/test_mutation_surfaces.py::{test}."
)
_NO_ASCII_ESCAPES = "Equivalent: ensure_ascii=None is falsy, like False (non-ASCII text is kept readable)."

NOTES.update(
    {
        f"{_T}::_finish_tasks::now = time.time() => now = None": (
            "Equivalent: TaskRecord.age(None) reads time.time() itself; passing one `now` only keeps the rows "
            "of one listing on the same clock, which minute-rounded ages do not show."
        ),
        f"{_T}::_finish_tasks::age = r.age(now) => age = r.age(None)": (
            "Equivalent: TaskRecord.age(None) reads time.time() itself (one clock per listing only keeps "
            "minute-rounded ages of the same listing consistent)."
        ),
        f"{_T}::_settle::ctx.budget.settle(charge, usage_cost(outcome.usage), outcome.task_id) => "
        "ctx.budget.settle(charge, usage_cost(outcome.usage), None)": (
            "Equivalent: Budget.settle keeps the charge's task id when given none, and every step that "
            "returns a Task has a status callback, through which _kwargs already named the task "
            "(budget.created) as soon as the submit answered."
        ),
        f"{_T}::_Args.model_json_schema::return strict_ready(super().model_json_schema(*args, **kwargs)) => "
        "return strict_ready(super().model_json_schema(**kwargs))": (
            "Equivalent for every caller: LangChain, rh-mcp and our tests call model_json_schema with "
            "keywords only (or nothing); positional arguments are never passed."
        ),
        f"{_T}::_download_budget::"
        "return max(0.0, started + float(wait) + DEADLINE_GRACE - time.monotonic()) => "
        "return max(1.0, started + float(wait) + DEADLINE_GRACE - time.monotonic())": (
            "Not observable in a test: the floor differs from zero only when the run's own call overran its "
            "wait by more than the 2 s grace (the waiter stops at the wait, so only a network slower than "
            "that does it); the mutant would then let the saving overrun the promised wait by up to 1 s more."
        ),
        f"{_T}::describe::"
        'f"Example: run_model(name={ep.tool_name!r}, params={json.dumps(example, ensure_ascii=False)})", => '
        'f"Example: run_model(name={ep.tool_name!r}, params={json.dumps(example, ensure_ascii=None)})",': (
            _NO_ASCII_ESCAPES
        ),
        f"{_T}::_plan_describe_workflow::json.dumps(nodes, ensure_ascii=False), => "
        "json.dumps(nodes, ensure_ascii=None),": _NO_ASCII_ESCAPES,
    }
)

_BEAT = "progress = max(round(time.monotonic() - self.started, 1), round(self._last_progress + 0.1, 1))"
_HUNDREDTHS = (
    "Equivalent for an MCP client: the spec asks only that progress increase with each notification, "
    "which it still does (seconds in hundredths instead of tenths); nothing reads the precision. "
    "tests/test_mutation_surfaces.py::test_progress_counts_seconds_in_tenths catches it whenever the "
    "elapsed time is not a whole tenth."
)
NOTES.update(
    {
        f"mcp_server/progress.py::Heartbeat.beat::{_BEAT} => "
        "progress = max(round(time.monotonic() - self.started, 1), round(self._last_progress + 0.1, 2))": (
            "Equivalent: the last progress always has one decimal (both terms are rounded to tenths), so "
            "adding 0.1 and rounding to hundredths gives the same tenth."
        ),
        f"mcp_server/progress.py::Heartbeat.beat::{_BEAT} => "
        "progress = max(round(time.monotonic() - self.started, 2), round(self._last_progress + 0.1, 1))": (_HUNDREDTHS),
    }
)

_NAMED_ALREADY = (
    "Equivalent: only the task id handed to Budget.settle changes, and settle keeps the charge's own "
    "task id when given none; every paid step has a status callback, through which _kwargs named the "
    "task (budget.created) as soon as the submit answered (tests/test_budget_journal.py and "
    "tests/test_mutation_surfaces.py::test_the_async_run_counts_once_even_while_it_is_being_settled "
    "check that naming)."
)

NOTES.update(
    {
        f"{_T}::parse_arguments::for e in exc.errors(include_url=False) => for e in exc.errors(include_url=True)": (
            "Equivalent: include_url only adds a 'url' key to each error dict; the message is built from "
            "'loc' and 'msg' alone."
        ),
        f"{_T}::_kwargs::return watch(task, elapsed) if watch is not None else None => "
        "return watch(task, None) if watch is not None else None": (
            "Equivalent: the only status watcher (rh-mcp's Heartbeat.on_status) ignores the elapsed time; "
            "the heartbeat measures its own."
        ),
        f"{_T}::_kwargs::return watch(task, elapsed) if watch is not None else None => "
        "return watch(task, elapsed) if (watch is not None) or True else None": (
            "Equivalent for callers: without a watcher the call raises inside the status callback after the "
            "charge was named, and the waiter catches and logs any callback error (a progress callback must "
            "never lose the task), so only a debug log line differs."
        ),
    }
)
for _after in ('"status": outcome.last_status and "RUNNING",', '"status": outcome.last_status or "XXRUNNINGXX",',
               '"status": outcome.last_status or "running",'):  # fmt: skip
    NOTES[f'{_T}::_finish_run::"status": outcome.last_status or "RUNNING", => {_after}'] = (
        "Not reachable through the client: a wait that times out has always seen the submit's answer, which "
        "carries a status, so last_status is never empty here (the pending answers in "
        "tests/test_mutation_surfaces.py show the status seen)."
    )
for _after in ('"waited_seconds": round(outcome.waited, None),', '"waited_seconds": round(outcome.waited, ),'):
    NOTES[f'{_T}::_finish_run::"waited_seconds": round(outcome.waited, 1), => {_after}'] = (
        "Precision only: whole seconds instead of tenths in the pending answer's waited_seconds; the agent "
        "acts on 'next: wait_task' and the task id (the value itself is checked against the wait)."
    )

NOTES[
    f"{_T}::ToolContext.wait_for::"
    'wait = requested if requested is not None else self.wait.get(output_type or "", _FALLBACK_WAIT) => '
    'wait = requested if requested is not None else self.wait.get(output_type or "XXXX", _FALLBACK_WAIT)'
] = 'Equivalent: no wait table has a "" (or "XXXX") key, so both look-ups fall back to the same default.'

for _after in ("return _finish_task(ctx)(None)", "return _finish_task(None)(outcome)"):
    NOTES[f"{_T}::_finish_run::return _finish_task(ctx)(outcome) => {_after}"] = (
        "Not reachable through the tools: their run and wait steps never pass wait=False, so the client "
        "returns a TaskResult or raises (a TaskTimeoutError is rendered above); this plain-Task branch is "
        "a defensive fallback no tool call can reach."
    )

PATTERNS: list[tuple[str, str, str, str]] = [
    (
        _T,
        "_local_paths_first",
        r"=> ctx\.check_media\(\[MediaSource\(name=(None|Path\(p\)\.name), size=(None|0|1), "
        r'content_type=(None|""|"XXXX"), path=Path\(p\)\)',
        "Equivalent: this early check builds throwaway MediaSource objects only to hand their paths to the "
        "folder policy, which reads nothing but .path (name, size and content type are never read).",
    ),
    (
        _T,
        "_settle",
        r"settle\(charge, usage_cost\(outcome\.usage\), \)$"
        r"|settle\(charge, None, (None|getattr\((None|outcome), \"(task_id|XXtask_idXX|TASK_ID)\", \)|"
        r"getattr\(None, \"task_id\", None\)|getattr\(outcome, \"(XXtask_idXX|TASK_ID)\", None\)|)\)$",
        _NAMED_ALREADY,
    ),
    (
        _T,
        "_as_local_path",
        r"\[A-Z\]\[A-Z0-9\+\.-\]\*://\", v, re\.I\)",
        "Equivalent: the pattern is matched with re.I, so [A-Z] and [a-z] accept the same letters.",
    ),
    (
        _T,
        "_within",
        r".",
        _AT_IMPORT.format(func="_within", test="test_wait_seconds_range_is_inclusive_and_named"),
    ),
    (
        _T,
        "_json_object_of",
        r".",
        _AT_IMPORT.format(func="_json_object_of", test="test_params_arrive_as_json_text_and_errors_say_what_is_wrong"),
    ),
    (
        _T,
        "_param_line",
        r"p\.min if \(p\.min is not None\) or True else|else 'XXXX'\}\.\.\{p\.max",
        "Not reachable with the catalogue: only a parameter with a maximum and no minimum renders the empty "
        "lower bound, and no endpoint has one (minimum-only ranges are checked by "
        "tests/test_mutation_surfaces.py::test_describe_model_renders_each_kind_of_parameter).",
    ),
    (
        _T,
        "_plan_describe_workflow",
        r"or '(XXunnamedXX|UNNAMED)'",
        "Wording of a placeholder shown only when RunningHub's answer lacks the app's name (the emulator "
        "always names its apps); the agent acts on the node list on the next line, not on this word.",
    ),
]
