"""On-demand mutation run over the modules that decide money, data and secrets; writes tests/MUTATION.md.

    pip install -e ".[test,mutation]"
    python scripts/mutation.py                      # every module below, 2 workers
    python scripts/mutation.py _core _waiter        # some of them
    python scripts/mutation.py --save-baseline      # also record this run as the "before" column

Why mutmut 3: it compiles every mutant of a file into one copy of the package ("trampolines"
switched by an environment variable), collects which tests reach which function once, then forks a
worker per mutant that runs only those tests. On two shared cores that is ~10 mutants a second
for the pure modules, where re-importing the package per mutant (cosmic-ray, a runner of our own)
costs 2-3 s each. Mutants live in function bodies only (module-level tables such as ``CODES`` are
tested by tests/test_errors.py directly).

Each module runs in its own scratch copy of the project (``.mutation/<module>/``, git-ignored) with
a ``[tool.mutmut]`` section naming the file to mutate and the fast tests that cover it (``TARGETS``
below). Subprocesses started by those tests (the CLI, rh-mcp over stdio) import the mutated copy
too: they run with the copy as their working directory and inherit mutmut's mutant variable.

Every surviving mutant must be killed by a test or explained: the explanations live in
``scripts/mutation_notes.py``, keyed by function and mutated line, so they survive renumbering. The
table lists survivors that have no explanation yet as "unexplained".
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"
RESULTS = WORK / "results"  # one JSON per module from its latest run; the table is rendered from all of them
TABLE = ROOT / "tests" / "MUTATION.md"
BASELINE = ROOT / "tests" / "mutation_baseline.json"
COPY = ("rh_tools", "mcp_server", "tests", "scripts", "cassettes", "docs", "benchmarks", "README.md", "pyproject.toml")
# A mutant is "detected" when a test failed or ran out of time (an infinite poll loop is a bug caught).
DETECTED = {"killed", "timeout", "segfault"}


@dataclass(frozen=True)
class Target:
    """One module to mutate, and the fast tests that exercise it (subprocess-heavy and slow tests left out)."""

    file: str
    tests: tuple[str, ...]
    #: mutmut mutant-name globs limiting the run to some functions (the LangChain path policy only).
    only: tuple[str, ...] = ()
    label: str = ""


# What each module's mutants run against: the fast tests that reach it. A surviving mutant costs a
# whole run of its tests, so slow subprocess tests and the fault matrix stay out (they repeat what
# these check, through other surfaces); ``SKIP`` below deselects the subprocess ones inside the files.
_CLIENT = ("tests/test_core.py", "tests/test_client.py", "tests/test_errors.py", "tests/test_mutation_audit.py")
# The corpus of real RunningHub answers, replayed through the decoding (fast, and the only tests of
# how failed tasks, key refusals and Chinese-only messages are read).
_ANSWERS = ("tests/test_real_answers.py", "tests/test_api_fidelity.py")
TARGETS: dict[str, Target] = {
    "_core": Target(
        "rh_tools/_core.py",
        (
            *_CLIENT,
            *_ANSWERS,
            "tests/test_secrets.py",
            "tests/test_mutation_client.py",
            # the redirect rule and answer scrubbing, pure and over loopback (the rest of the file waits
            # for hung servers or starts rh-mcp: seconds each, and repeats what these check)
            "tests/test_hostile_api.py::test_redirect_rule",
            "tests/test_hostile_api.py::test_scrubbing_keeps_signed_urls_and_other_text",
            "tests/test_hostile_api.py::test_api_redirects_to_another_origin_are_not_followed",
            "tests/test_hostile_api.py::test_same_origin_redirects_are_followed",
            # the two fast tests of the fault matrix file that judge transport errors directly
            "tests/test_reliability_faults.py::test_only_connection_failures_before_sending_count_as_unsent",
            "tests/test_reliability_faults.py::test_async_twin_does_not_resend_a_lost_submit",
        ),
    ),
    "_exceptions": Target("rh_tools/_exceptions.py", (*_CLIENT, *_ANSWERS, "tests/test_mutation_decoding.py")),
    "_waiter": Target(
        "rh_tools/_waiter.py",
        (*_CLIENT, "tests/test_e2e_emulator.py", "tests/test_polling.py", "tests/test_mutation_client.py"),
    ),
    "_polling": Target(
        "rh_tools/_polling.py",
        (
            "tests/test_core.py",
            "tests/test_mutation_audit.py",
            "tests/test_polling.py",
            "tests/test_mutation_decoding.py",
        ),
    ),
    "_media": Target(
        "rh_tools/_media.py",
        (
            *_CLIENT,
            "tests/test_e2e_emulator.py",
            "tests/test_file_access.py",
            "tests/test_bad_input.py",
            "tests/test_mutation_decoding.py",
        ),
    ),
    "_download": Target(
        "rh_tools/_download.py",
        (
            "tests/test_file_access.py",
            "tests/test_mutation_audit.py",
            "tests/test_e2e_emulator.py",
            "tests/test_hostile_outputs.py",
            # (not the symlink-swap races of that file: they never reach this module, and can flake under load)
            "tests/test_hostile_files.py::test_downloads_replace_planted_hard_links_and_symlinks",
            "tests/test_hostile_files.py::test_output_filename_is_independent_of_the_emulator_id_format",
            "tests/test_previews.py",
            "tests/test_transfer_progress.py",
            "tests/test_mutation_transfer.py",
        ),
    ),
    # the receiver's own tests, the real callbacks of the corpus, and the few end-to-end ones that wait on it
    "_webhooks": Target(
        "rh_tools/_webhooks.py",
        (
            "tests/test_mutation_transfer.py",
            "tests/test_mutation_audit.py",
            "tests/test_real_answers.py",
            "tests/test_e2e_emulator.py::test_webhook_receiver_ends_the_wait_with_one_query",
            "tests/test_e2e_emulator.py::test_forged_callback_only_triggers_a_poll",
            "tests/test_hostile_http.py::test_webhook_receiver_judges_the_path_before_the_body",
            "tests/test_replicas.py::test_the_webhook_route_checks_before_it_reads",
        ),
    ),
    "toolspecs": Target(
        "rh_tools/toolspecs.py",
        (
            "tests/test_langchain_tools.py",
            "tests/test_mcp_server.py",
            "tests/test_mutation_audit.py",
            "tests/test_mutation_surfaces.py",
            # the tests of the tools added since (prices and limits, the journal, previews, search)
            "tests/test_file_access.py",
            "tests/test_price_budget.py",
            "tests/test_budget_journal.py::test_two_toolkits_on_one_journal_share_the_days_total",
            "tests/test_budget_journal.py::test_a_run_counts_once_even_while_it_is_being_settled",
            # (the list_tasks tests only: the others of that file drive the CLI in subprocesses)
            "tests/test_journal_surfaces.py::test_langchain_list_tasks_sees_what_run_model_paid_for",
            "tests/test_journal_surfaces.py::test_langchain_async_list_tasks_filters",
            "tests/test_journal_surfaces.py::test_mcp_list_tasks_and_task_resources",
            "tests/test_journal_surfaces.py::test_a_new_mcp_server_finds_what_an_earlier_one_paid_for",
            "tests/test_journal_surfaces.py::test_a_shared_http_server_lists_tasks_only_for_a_caller_with_a_key",
            "tests/test_langchain_arguments.py",
            "tests/test_bad_input.py",
            "tests/test_previews.py",
            "tests/test_search.py",
        ),
    ),
    "mcp_paths": Target(
        "mcp_server/paths.py",
        (
            "tests/test_mcp_server.py",
            "tests/test_file_access.py",
            "tests/test_mutation_audit.py",
            "tests/test_mutation_surfaces.py",
        ),
    ),
    "mcp_progress": Target(
        "mcp_server/progress.py",
        ("tests/test_mcp_server.py", "tests/test_mutation_audit.py", "tests/test_mutation_surfaces.py"),
    ),
    "langchain_paths": Target(
        "rh_tools/langchain.py",
        (
            "tests/test_langchain_tools.py",
            "tests/test_file_access.py",
            "tests/test_mutation_audit.py",
            "tests/test_mutation_surfaces.py",
        ),
        only=("rh_tools.langchain.x__only_inside__mutmut_*",),
        label="rh_tools/langchain.py (path policy: `_only_inside`)",
    ),
    # Since issue #11 the LangChain tools and rh-mcp share one folder policy, here.
    "folder_policy": Target(
        "rh_tools/_paths.py",
        (
            "tests/test_mcp_server.py",
            "tests/test_file_access.py",
            "tests/test_langchain_tools.py",
            "tests/test_mutation_audit.py",
            "tests/test_mutation_surfaces.py",
        ),
        label="rh_tools/_paths.py (folder policy of the LangChain tools and rh-mcp)",
    ),
}
# Deselected inside those files (exact node ids: a -k pattern also drops tests that merely mention
# a word): tests that start rh-mcp or the CLI as a process (mutmut replaces sys.stderr while tests
# run, and the MCP SDK's stdio client hands sys.stderr to the process it starts), and the few that
# take seconds each. They run in the normal suite.
DESELECT = (
    "tests/test_secrets.py::test_mcp_stdio_server_debug_stderr",
    "tests/test_secrets.py::test_mcp_http_server_debug_stderr_with_key_header",
    "tests/test_secrets.py::test_cli_output",
    "tests/test_mcp_server.py::TestStdio",
    "tests/test_mcp_server.py::TestHTTP",
    "tests/test_mcp_server.py::TestToolSurface::test_module_entry_point_lists_tools_and_rejects_unknown_names",
    "tests/test_mcp_server.py::TestToolSurface::test_importing_rh_tools_or_the_package_never_imports_mcp",
    "tests/test_file_access.py::test_http_defaults_to_loopback_and_requires_the_token",
    "tests/test_file_access.py::test_http_on_all_interfaces_without_a_token_refuses_unless_told",
    "tests/test_langchain_tools.py::test_imports_stay_separate",
    "tests/test_reliability_faults.py::test_stdio_server_survives_the_faults",
)


@dataclass
class Survivor:
    name: str
    function: str
    line: int | None
    before: str
    after: str
    status: str
    note: str | None = None


@dataclass
class ModuleResult:
    module: str
    label: str
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[Survivor] = field(default_factory=list)
    seconds: float = 0.0
    when: str = ""
    commit: str = ""

    def save(self) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        data = {**self.__dict__, "counts": dict(self.counts), "survivors": [s.__dict__ for s in self.survivors]}
        (RESULTS / f"{self.module}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, module: str) -> ModuleResult | None:
        path = RESULTS / f"{module}.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_text("utf-8"))
        data["counts"] = Counter(data["counts"])
        data["survivors"] = [Survivor(**s) for s in data["survivors"]]
        return cls(**data)

    @property
    def detected(self) -> int:
        return sum(n for status, n in self.counts.items() if status in DETECTED)

    @property
    def counted(self) -> int:
        """Mutants that ran (skipped ones and type-check catches are neither kills nor survivors)."""
        return self.total - self.counts["skipped"] - self.counts["caught by type check"]

    @property
    def percent(self) -> float:
        return 100.0 * self.detected / self.counted if self.counted else 100.0


# ------------------------------------------------------------------ running mutmut


def _scratch(name: str, target: Target, source: Path) -> Path:
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mutation", "mutants")
    for item in COPY:
        src = source / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=ignore, symlinks=True)
        elif src.exists():
            shutil.copy2(src, work / item)
    settings = {
        "source_paths": ["rh_tools", "mcp_server"],
        "only_mutate": [target.file],
        "also_copy": [p for p in COPY if p not in ("rh_tools", "mcp_server", "tests", "pyproject.toml")],
        # (a test file named here may not exist yet on an older checkout: the baseline ran without it)
        "pytest_add_cli_args_test_selection": [t for t in target.tests if (source / t.split("::")[0]).is_file()],
        "pytest_add_cli_args": [
            "-p",
            "no:cacheprovider",
            "-q",
            "-m",
            "not slow and not node",
            *(arg for nodeid in DESELECT for arg in ("--deselect", nodeid)),
        ],
    }
    with open(work / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[tool.mutmut]\n")
        for key, value in settings.items():
            fh.write(f"{key} = {json.dumps(value)}\n")
    return work


def _mutmut(work: Path, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNINGHUB_")}
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", *args], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def run_module(name: str, target: Target, jobs: int, source: Path = ROOT) -> ModuleResult:
    # imported by name: mutmut is the `mutation` extra, so the type checker may or may not see it
    status_by_exit_code: dict[int | None, str] = importlib.import_module("mutmut.stats").status_by_exit_code

    started = time.monotonic()
    commit = _git("rev-parse", "--short", "HEAD")  # the code as copied, not as it may be when the run ends
    work = _scratch(name, target, source)
    _mutmut(work, "run", "--max-children", str(jobs), *target.only)
    meta = work / "mutants" / f"{target.file}.meta"
    codes: dict[str, int | None] = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    if target.only:
        codes = {k: v for k, v in codes.items() if any(_glob(k, pattern) for pattern in target.only)}
    result = ModuleResult(name, target.label or target.file, total=len(codes), commit=commit)
    text = (source / target.file).read_text("utf-8")
    for key, code in sorted(codes.items(), key=lambda kv: _natural(kv[0])):
        status = status_by_exit_code[code]
        result.counts[status] += 1
        if status in DETECTED or status in ("skipped", "caught by type check"):
            continue
        diff = _mutmut(work, "show", key, check=False)
        result.survivors.append(_survivor(key, status, diff, text))
    result.seconds = time.monotonic() - started
    return result


def _glob(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def _natural(name: str) -> tuple[str, int]:
    head, _, num = name.rpartition("__mutmut_")
    return head, int(num) if num.isdigit() else 0


# ------------------------------------------------------------------ reading a mutant


def qualname(mutant: str) -> str:
    """The function a mutant lives in: ``…x_retry_delay__mutmut_3`` -> ``retry_delay``,
    ``…xǁPollPolicyǁstep__mutmut_1`` -> ``PollPolicy.step``."""
    tail = mutant.rsplit(".", 1)[-1]
    tail = re.sub(r"__mutmut_\d+$", "", tail)
    if tail.startswith("xǁ"):
        return ".".join(part for part in tail[2:].split("ǁ") if part)
    return tail.removeprefix("x_")


def changed_lines(diff: str) -> tuple[str, str]:
    """The first removed and added source lines of a mutmut diff (without the +/- and indentation)."""
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return (minus[0] if minus else ""), (plus[0] if plus else "")


def function_span(source: str, qual: str) -> tuple[int, int] | None:
    """First and last line of ``qual`` (``f`` or ``Class.method``) in ``source``."""
    parts = qual.split(".")
    nodes: list[ast.AST] = list(ast.parse(source).body)
    found: ast.AST | None = None
    for i, part in enumerate(parts):
        match = next((n for n in nodes if getattr(n, "name", None) == part), None)
        if match is None:
            return None
        found = match
        nodes = list(getattr(match, "body", [])) if i < len(parts) - 1 else []
    if found is None:
        return None
    if not isinstance(found, (ast.stmt, ast.expr)):
        return None
    return found.lineno, found.end_lineno or found.lineno


def line_of(source: str, qual: str, before: str) -> int | None:
    """The line in ``source`` where the mutated text ``before`` sits inside ``qual``."""
    span = function_span(source, qual)
    if span is None or not before:
        return span[0] if span else None
    lines = source.splitlines()
    for n in range(span[0], span[1] + 1):
        if lines[n - 1].strip() == before:
            return n
    return span[0]


def _survivor(key: str, status: str, diff: str, source: str) -> Survivor:
    qual = qualname(key)
    before, after = changed_lines(diff)
    return Survivor(key, qual, line_of(source, qual, before), before, after, status)


def note_key(file: str, function: str, before: str, after: str) -> str:
    return f"{file}::{function}::{before} => {after}"


# ------------------------------------------------------------------ the table


def _cell(text: str, limit: int = 90) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def render(results: list[ModuleResult], baseline: dict[str, Any], command: str, started: dt.datetime) -> str:
    mutmut = importlib.import_module("mutmut")  # the `mutation` extra (see run_module)

    out = [
        "# Mutation testing of the decision modules",
        "",
        "Single bugs planted one at a time by [mutmut](https://github.com/boxed/mutmut) "
        f"{getattr(mutmut, '__version__', '3')} in the modules that decide money, data and secrets; each mutant is "
        "run against the fast tests that cover its module (`TARGETS` in `scripts/mutation.py`).",
        "A mutant counts as killed when a test fails or times out. Survivors are listed below with an explanation "
        "from `scripts/mutation_notes.py` (equivalent mutant, or why the behaviour does not matter); the ones "
        "without one are marked **unexplained**.",
        "",
        f"Command: `{command}` (each module's latest run; `--render` redraws this from them) · table written "
        f"{started:%Y-%m-%d %H:%M} UTC · 2 workers on a 2-core machine shared with other jobs.",
        "",
        *([_status(), ""] if _status() else []),
        "| module | mutants | killed | survived | killed % | before (baseline) | seconds | run at (commit) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        base = baseline.get(r.module)
        before = f"{base['percent']:.0f} % ({base['detected']}/{base['counted']})" if base else "–"
        out.append(
            f"| {r.label} | {r.counted} | {r.detected} | {r.counted - r.detected} | {r.percent:.0f} % | {before} "
            f"| {r.seconds:.0f} | {r.when} ({r.commit}) |"
        )
    shown = {r.module for r in results}
    for name, target in TARGETS.items():
        base = baseline.get(name)
        if name not in shown and base:
            out.append(
                f"| {target.label or target.file} | – | – | – | not re-run | {base['percent']:.0f} % "
                f"({base['detected']}/{base['counted']}) | – | – |"
            )
    if baseline.get("_meta"):
        m = baseline["_meta"]
        out += ["", f"Baseline: {m['date']} at commit {m['commit']}, before the tests of issue #16 were added."]
    for r in results:
        if not r.survivors:
            continue
        out += ["", f"## {r.label}: {len(r.survivors)} survivors", ""]
        out += ["| line | function | mutation | why it survives |", "|---:|---|---|---|"]
        for s in r.survivors:
            why = s.note or "**unexplained**"
            if s.status != "survived":
                why = f"({s.status}) {why}"
            out.append(f"| {s.line or ''} | `{s.function}` | {_cell(s.before)} → {_cell(s.after)} | {why} |")
    return "\n".join(out) + "\n"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _load_notes() -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from mutation_notes import NOTES, PATTERNS
    finally:
        sys.path.pop(0)
    return dict(NOTES), list(PATTERNS)


def _status() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import mutation_notes
    finally:
        sys.path.pop(0)
    return str(getattr(mutation_notes, "STATUS", ""))


def explain(file: str, s: Survivor, notes: dict[str, str], patterns: list[tuple[str, str, str, str]]) -> str | None:
    """The note for a survivor: an exact one, else the first pattern (file, function glob, regex) that fits."""
    import fnmatch

    exact = notes.get(note_key(file, s.function, s.before, s.after))
    if exact:
        return exact
    change = f"{s.before} => {s.after}"
    for p_file, p_func, regex, note in patterns:
        if p_file == file and fnmatch.fnmatchcase(s.function, p_func) and re.search(regex, change):
            return note
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default all: {', '.join(TARGETS)})")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut workers (default 2)")
    parser.add_argument("--save-baseline", action="store_true", help="record this run as the 'before' column")
    parser.add_argument("--table", type=Path, default=TABLE, help=f"where to write the table (default {TABLE})")
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="take code and tests from this folder, e.g. `git archive REV | tar -x -C DIR` of an older commit "
        "for a baseline (default: this checkout)",
    )
    parser.add_argument("--source-rev", default=None, help="the commit --source was exported from (for the table)")
    parser.add_argument("--render", action="store_true", help="run nothing: redraw the table from the saved results")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(TARGETS))
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {list(TARGETS)}")
    names = [] if args.render else args.modules or list(TARGETS)
    started = dt.datetime.now(dt.timezone.utc)
    notes, patterns = _load_notes()
    results = []
    for name in names:
        print(f"mutating {TARGETS[name].file} ...", file=sys.stderr, flush=True)
        r = run_module(name, TARGETS[name], args.jobs, args.source.resolve())
        r.when = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}"
        r.commit = args.source_rev or r.commit
        if not args.save_baseline:
            r.save()
        print(f"  {r.detected}/{r.counted} killed ({r.percent:.0f} %), {len(r.survivors)} survivors, {r.seconds:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        results.append(r)
    baseline = json.loads(BASELINE.read_text("utf-8")) if BASELINE.is_file() else {}
    if args.save_baseline:
        for r in results:
            baseline[r.module] = {"detected": r.detected, "counted": r.counted, "percent": round(r.percent, 1)}
        commit = args.source_rev or _git("rev-parse", "--short", "HEAD")
        baseline["_meta"] = {"date": f"{started:%Y-%m-%d}", "commit": commit}
        BASELINE.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", "utf-8")
    if not args.save_baseline:  # the table shows every module's latest run, not only this one's
        results = [r for r in (ModuleResult.load(name) for name in TARGETS) if r is not None]
    for r in results:
        for s in r.survivors:
            s.note = explain(TARGETS[r.module].file, s, notes, patterns)
    command = "python scripts/mutation.py"
    args.table.write_text(render(results, baseline, command, started), "utf-8")
    unexplained = [(r.module, s) for r in results for s in r.survivors if s.note is None]
    for module, s in unexplained:
        print(f"unexplained: {module} {s.name} line {s.line}: {s.before!r} -> {s.after!r}", file=sys.stderr)
        print(f"  note key: {note_key(TARGETS[module].file, s.function, s.before, s.after)!r}", file=sys.stderr)
    print(f"wrote {args.table}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
