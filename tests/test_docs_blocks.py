"""Every fenced Python and shell block in README.md and docs/*.md runs as written, or says why not.

The markers (documented for contributors in tests/README.md) are one HTML comment on the line
right before a fence, invisible on GitHub:

* ``<!-- docs-test: skip (why) -->``: not run; the reason is required.
* ``<!-- docs-test: continues -->``: a Python block that goes on from the previous Python block of
  the same file (same names). Any other Python block runs alone, so a missing import is caught.
* ``<!-- docs-test: needs MODULE -->``: runs where MODULE imports, reported as skipped elsewhere.
* ``<!-- docs-test: fresh-clone -->``: a shell block run verbatim in a fresh copy of the repository
  with a clean environment (the slow test at the end: it installs the package from the index).

Blocks run against a live emulator: ``RUNNINGHUB_API_KEY`` and ``RUNNINGHUB_BASE_URL`` point at it, in a
scratch folder holding ``sketch.png``, ``fox.png`` and ``photo.jpg``. Shell blocks run under
``bash -e -o pipefail`` with this environment's scripts first on PATH and a stand-in ``claude``
(Claude Code's CLI) that starts the server command a ``claude mcp add`` line registers, with
``--list-tools``, so the flags and tool names in it are checked. JSON blocks must parse; MCP client
configs (``mcpServers``) must start rh-mcp by an absolute path or ``uvx --from``, under a short name,
with the key in their ``env`` block and flags rh-mcp accepts. Blocks without a language, ``text``
and ``console`` output are not run. docs/langchain.md's Python blocks run in
tests/test_langchain_agent.py, which gives them a scripted chat model.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
from conftest import ROOT, TEST_KEY

from rh_tools.emulator import Emulator

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_ELSEWHERE = {
    "docs/langchain.md": "tests/test_langchain_agent.py (test_docs_examples_run, test_docs_create_agent_example)"
}
PYTHON = {"python", "py"}
SHELL = {"bash", "sh", "shell", "zsh"}
NOT_CODE = {"", "text", "console", "json", "jsonc", "toml", "yaml", "diff"}
MARKER = re.compile(r"^<!-- docs-test: (?P<mark>.*?) -->$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)[^\n]*$")
SAMPLE = ROOT / "rh_tools" / "emulator" / "assets"
SERVER_NAME_MAX = 12  # "rh": MCP clients prefix tool names with the server's, and cap the total length


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first code line
    lang: str
    code: str
    mark: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        if self.lang in PYTHON:
            return "python"
        if self.lang in SHELL:
            return "shell"
        return "json" if self.lang in ("json", "jsonc") else "other"


def parse(path: Path) -> tuple[list[Block], list[str]]:
    """The fenced blocks of one Markdown file, and any marker that does not sit right before a fence."""
    lines = path.read_text("utf-8").splitlines()
    blocks: list[Block] = []
    stray: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if MARKER.match(lines[i].strip()) and not (i + 1 < len(lines) and FENCE.match(lines[i + 1])):
                stray.append(f"{path.relative_to(ROOT)}:{i + 1}: a docs-test marker must be the line before a fence")
            i += 1
            continue
        close = m.group("fence")
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(close):
            j += 1
        marker = MARKER.match(lines[i - 1].strip()) if i > 0 else None
        code = textwrap.dedent("\n".join(lines[start:j])) + "\n"
        blocks.append(Block(path, start + 1, m.group("lang").lower(), code, marker.group("mark") if marker else ""))
        i = j + 1
    return blocks, stray


def all_blocks() -> list[Block]:
    return [b for path in DOCS for b in parse(path)[0]]


def mark_problem(block: Block) -> str | None:
    mark = block.mark
    if not mark:
        return None
    if mark.startswith("skip"):
        return None if re.fullmatch(r"skip \(.+\)", mark) else "write the reason: skip (why)"
    if mark == "continues":
        return None if block.kind == "python" else "continues is for Python blocks"
    if mark == "fresh-clone":
        return None if block.kind == "shell" else "fresh-clone is for shell blocks"
    if re.fullmatch(r"needs [\w.]+", mark):
        return None
    return f"unknown marker {mark!r} (skip (why) | continues | needs MODULE | fresh-clone)"


def test_every_block_is_run_or_says_why_not() -> None:
    problems: list[str] = []
    counted = 0
    for path in DOCS:
        blocks, stray = parse(path)
        problems += stray
        for b in blocks:
            counted += 1
            if b.lang not in PYTHON | SHELL | NOT_CODE:
                problems.append(f"{b.where}: language {b.lang!r}: use python, bash, json or text")
            if (problem := mark_problem(b)) is not None:
                problems.append(f"{b.where}: {problem}")
    assert counted > 20 and not problems, "\n".join(problems)


def test_docs_langchain_blocks_are_the_ones_the_agent_tests_run() -> None:
    import test_langchain_agent

    ours = [b.code for b in all_blocks() if b.path == ROOT / "docs" / "langchain.md" and b.kind == "python"]
    theirs = [code for _, code in test_langchain_agent.doc_blocks()]
    assert [c.strip() for c in ours] == [c.strip() for c in theirs] and ours


# ---- running the blocks -----------------------------------------------------------------------


def chains() -> list[list[Block]]:
    """Python blocks grouped with the ``continues`` blocks that follow them; shell blocks alone."""
    out: list[list[Block]] = []
    last_python: dict[Path, list[Block]] = {}
    for b in all_blocks():
        if str(b.path.relative_to(ROOT)) in RUN_ELSEWHERE or b.kind not in ("python", "shell"):
            continue
        if b.mark == "fresh-clone":  # run by test_fresh_clone_follows_the_readme
            continue
        if b.kind == "python" and b.mark == "continues":
            last_python[b.path].append(b)
            continue
        chain = [b]
        out.append(chain)
        if b.kind == "python":
            last_python[b.path] = chain
    return out


def chain_id(chain: list[Block]) -> str:
    return f"{chain[0].where}-{chain[0].kind}"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    durations = {"image": 0.05, "video": 0.1, "audio": 0.05, "3d": 0.05, "text": 0.05}
    with Emulator(port=0, durations=durations, queue_seconds=0) as e:
        yield e


@pytest.fixture
def scratch(tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder and environment like a reader's: sample inputs, the emulator standing in for the API."""
    for name, sample in (("sketch.png", "sample.png"), ("fox.png", "sample.png"), ("photo.jpg", "sample.jpg")):
        shutil.copy(SAMPLE / sample, tmp_path / name)
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", emu.base_url)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.02")
    monkeypatch.chdir(tmp_path)
    return tmp_path


_CLAUDE = """\
#!{python}
# Stand-in for Claude Code's `claude mcp add` (docs tests only): instead of registering the server, it
# starts the command given after `--` with --list-tools, so the flags and tool names are checked.
import os, subprocess, sys

args = sys.argv[1:]
if args[:2] != ["mcp", "add"]:
    sys.exit(f"stand-in claude: only `claude mcp add` is supported, not {{args}}")
args, env, positional = args[2:], dict(os.environ), []
command = args[args.index("--") + 1 :] if "--" in args else []
options = args[: args.index("--")] if "--" in args else args
i = 0
while i < len(options):
    opt = options[i]
    if opt in ("-e", "--env"):
        key, _, value = options[i + 1].partition("=")
        env[key] = value
        i += 2
    elif opt in ("-s", "--scope", "-t", "--transport", "-H", "--header"):
        i += 2
    else:
        positional.append(opt)
        i += 1
if command:
    if len(positional) != 1:
        sys.exit(f"stand-in claude: expected one server name before --, got {{positional}}")
    sys.exit(subprocess.run([*command, "--list-tools"], env=env, stdout=subprocess.DEVNULL).returncode)
if len(positional) != 2 or not positional[1].startswith(("http://", "https://")):
    sys.exit(f"stand-in claude: expected NAME URL for an HTTP server, got {{positional}}")
"""


def run_python(chain: list[Block]) -> str:
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for b in chain:
            # Pad so that a traceback names the Markdown file and the line in it.
            exec(compile("\n" * (b.line - 1) + b.code, str(b.path), "exec"), namespace)  # noqa: S102 - our docs
    for value in namespace.values():  # close what the snippets left open (clients, toolkits)
        close = getattr(value, "close", None)
        if callable(close) and type(value).__module__.startswith("rh_tools"):
            close()
    return out.getvalue()


def run_shell(block: Block, where: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = where / ".docs-bin"
    bin_dir.mkdir()
    claude = bin_dir / "claude"
    claude.write_text(_CLAUDE.format(python=sys.executable), encoding="utf-8")
    claude.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "RH_MCP_"))}
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
    script = "set -e -o pipefail\n" + block.code
    return subprocess.run(["bash", "-c", script], cwd=where, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("chain", chains(), ids=chain_id)
def test_block_runs(chain: list[Block], scratch: Path) -> None:
    first = chain[0]
    if first.mark.startswith("skip"):
        pytest.skip(f"{first.where}: {first.mark}")
    if first.mark.startswith("needs "):
        pytest.importorskip(first.mark.split()[1], reason=f"{first.where} needs {first.mark.split()[1]}")
    if first.kind == "python":
        run_python(chain)
    else:
        proc = run_shell(first, scratch)
        assert proc.returncode == 0, f"{first.where} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"


# ---- MCP client configurations ----------------------------------------------------------------


def mcp_configs() -> list[tuple[Block, str, dict[str, Any]]]:
    found = []
    for b in all_blocks():
        if b.kind != "json" or b.mark.startswith("skip"):
            continue
        data = json.loads(b.code)
        for name, server in (data.get("mcpServers") or {}).items():
            found.append((b, name, server))
    return found


def test_json_blocks_parse() -> None:
    bad = []
    for b in all_blocks():
        if b.kind == "json" and not b.mark.startswith("skip"):
            try:
                json.loads(b.code)
            except ValueError as exc:
                bad.append(f"{b.where}: {exc}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(("block", "name", "server"), mcp_configs(), ids=lambda v: getattr(v, "where", None))
def test_mcp_client_config_starts_rh_mcp_the_way_a_desktop_app_can(block: Block, name: str, server: Any) -> None:
    from mcp_server.config import parse_args

    assert len(name) <= SERVER_NAME_MAX, f"{block.where}: server name {name!r} is long; clients prefix every tool"
    command, args = server["command"], list(server.get("args", []))
    if Path(command).name in ("uvx", "uvx.exe"):
        assert args[:1] == ["--from"] and "rh-mcp" in args, f"{block.where}: uvx --from <rh-tools[mcp]> rh-mcp ..."
        assert "[mcp]" in args[1], f"{block.where}: uvx must install the mcp extra"
        args = args[args.index("rh-mcp") + 1 :]
    else:
        assert Path(command).name == "rh-mcp", f"{block.where}: command {command!r}"
    # Desktop apps start servers without the user's shell PATH: the command must be absolute.
    assert PurePosixPath(command).is_absolute() or PureWindowsPath(command).is_absolute(), (
        f"{block.where}: {command!r} is not an absolute path"
    )
    assert "RUNNINGHUB_API_KEY" in server.get("env", {}), f"{block.where}: the key belongs in the env block"
    parse_args(args, env={})  # rh-mcp accepts these flags (argparse exits on a bad one)


# ---- the newcomer's path, verbatim --------------------------------------------------------------


@pytest.mark.slow
def test_fresh_clone_follows_the_readme(tmp_path: Path) -> None:
    """The README's first command, run as written in a fresh copy of the repository (about a minute).

    Slow because it creates a virtual environment and installs the package and its extras from the
    package index, as a newcomer does; it is the issue's "a fresh clone works line by line" check.
    """
    blocks = [b for b in all_blocks() if b.mark == "fresh-clone"]
    assert blocks, "README.md's setup command should be marked fresh-clone"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    clone = tmp_path / "rh-tools"
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    ours = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNNINGHUB_", "RH_MCP_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"))
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != ours)
    for b in blocks:
        proc = subprocess.run(
            ["bash", "-c", "set -e -o pipefail\n" + b.code],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, (
            f"{b.where} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    assert "Done. Results are under" in proc.stdout
    assert any((clone / "rh-demo-output" / "mcp").iterdir())  # the MCP leg ran from the fresh install


# ---- facts the docs publish -------------------------------------------------------------------


def _claims(pattern: str) -> list[int]:
    """Every number ``pattern`` (one group) finds in README.md and docs/mcp.md."""
    text = (ROOT / "README.md").read_text("utf-8") + (ROOT / "docs" / "mcp.md").read_text("utf-8")
    return [int(n.replace(",", "")) for n in re.findall(pattern, text)]


def _surface(*argv: str) -> tuple[int, int, str]:
    """(tools, characters/4 tokens, wire JSON) of the tools/list rh-mcp serves with these flags."""
    from mcp_server.config import parse_args
    from mcp_server.server import build_server, tools_list_tokens

    config, _ = parse_args(list(argv), env={})
    tools = build_server(config).rh.tools  # type: ignore[attr-defined]
    wire = json.dumps([t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools], ensure_ascii=False)
    return len(tools), tools_list_tokens(tools), wire


def _near(claimed: int, measured: float, tolerance: float = 0.06) -> bool:
    return abs(claimed - measured) <= tolerance * measured


def test_published_tool_counts_and_token_estimates_match_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    _, default_chars4, _ = _surface()
    every, _, _ = _surface("--all-tools")
    estimates = _claims(r"characters/4 estimate, about ([\d,]+)")
    counts = _claims(r"about \*\*([\d,]+) tools, ~") + _claims(r"`--all-tools`\s+\(~([\d,]+) tools")
    assert estimates and counts
    assert all(_near(c, default_chars4) for c in estimates), (estimates, default_chars4)
    assert all(_near(c, every, 0.02) for c in counts), (counts, every)


def test_published_token_counts_match_the_o200k_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The figures the docs give are o200k tokens, as benchmarks/bench_context.py measures them. Its
    # offline tokenizer (bpe-openai, a 40 MB wheel) is no project dependency: install it to check.
    bpe = pytest.importorskip("bpe_openai", reason="pip install bpe-openai to check the docs' o200k token counts")
    enc = bpe.get_encoding("o200k_base")
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    default = len(enc.encode(_surface()[2]))
    every = len(enc.encode(_surface("--all-tools")[2]))
    small = _claims(r"~([\d,]+) tokens of `tools/list`") + _claims(r"about \*\*([\d,]+) tokens\*\* of `tools/list`")
    large = _claims(r"tools, ~([\d,]+) tokens")
    assert small and large
    assert all(_near(c, default) for c in small), (small, default)
    assert all(_near(c, every) for c in large), (large, every)
