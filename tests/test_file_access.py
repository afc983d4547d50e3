"""What an agent can touch on the machine running the tools: local inputs, downloads, the HTTP port.

* Local media inputs through the MCP server (per-model tool, run_model, upload_file) are read only
  inside the allowed folders: ``..``, absolute paths, ``file://`` URIs, ``~``, relative paths,
  symlinked files and folders pointing out are refused; so are devices, FIFOs (without blocking),
  sockets and folders inside them. Nothing is uploaded and no task is created.
* Downloads land only in the output folder, under names built from ``[A-Za-z0-9_-]`` whatever the
  task id, URL or ``outputType`` say; a symlink planted under an output name is replaced, not followed.
* ``rh-mcp --transport http`` listens on loopback unless told otherwise, refuses a non-loopback
  address without a token unless ``--allow-unauthenticated`` says so, and with a token refuses
  every request that does not carry it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from conftest import ROOT, TEST_KEY

from rh_tools import RunningHub
from rh_tools._download import FetchPolicy, download_outputs, output_filename
from rh_tools.emulator import Emulator
from rh_tools.types import Output, TaskResult

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
TOOL = "grok_image_to_image"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}-\d+\.[a-z0-9]{1,5}$")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.05}, queue_seconds=0) as e:
        yield e


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "allowed"
    root.mkdir()
    (root / "ok.png").write_bytes(PNG)
    (root / "sub").mkdir()
    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    secret = secret_dir / "secret.png"
    secret.write_bytes(PNG + b"secret")
    (root / "link.png").symlink_to(secret)
    (root / "linkdir").symlink_to(secret_dir, target_is_directory=True)
    (root / "loop.png").symlink_to(root / "loop.png")
    os.mkfifo(root / "pipe.png")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(root / "sock.png"))
    sock.close()  # the socket file stays
    return {"root": root, "secret": secret, "tmp": tmp_path}


@asynccontextmanager
async def mcp(emu: Emulator, **config: Any) -> AsyncIterator[Any]:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    settings = {
        "api_key": TEST_KEY,
        "base_url": emu.base_url,
        "poll_interval": 0.02,
        "tools": [TOOL],
        **config,
    }
    async with Client(build_server(ServerConfig(**settings))) as client:
        yield client


def _text(result: Any) -> str:
    return "\n".join(getattr(b, "text", "") for b in result.content)


def _hostile_paths(t: dict[str, Path]) -> list[tuple[str, str, str]]:
    """(id, path as the agent writes it, what the refusal must say)."""
    root, secret = t["root"], t["secret"]
    rel = os.path.relpath(secret, Path.cwd())
    return [
        ("dotdot", str(root / ".." / "secret" / "secret.png"), "outside the allowed folders"),
        ("dotdot-deep", str(root / "sub" / ".." / ".." / "secret" / "secret.png"), "outside the allowed"),
        ("absolute", str(secret), "outside the allowed folders"),
        ("file-uri", "file://" + str(secret), "outside the allowed folders"),
        ("relative", rel, "outside the allowed folders"),
        ("home", "~/x.png", ""),
        ("etc", "/etc/passwd", "outside the allowed folders"),
        ("symlink-file", str(root / "link.png"), "symlink"),
        ("symlink-dir", str(root / "linkdir" / "secret.png"), "symlink"),
        ("symlink-loop", str(root / "loop.png"), "cannot be resolved"),
        ("fifo", str(root / "pipe.png"), "not a regular file"),
        ("socket", str(root / "sock.png"), "not a regular file"),
        ("directory", str(root / "sub"), ""),
        ("missing", str(root / "missing.png"), "does not exist"),
    ]


async def test_hostile_local_paths_are_refused_on_every_tool(emu: Emulator, tree: dict[str, Path]) -> None:
    uploads, tasks = emu.stats.uploads, emu.stats.tasks_created
    async with mcp(emu, allow_dirs=[tree["root"]]) as client:
        for case_id, path, says in _hostile_paths(tree):
            calls = [
                (TOOL, {"prompt": "x", "imageUrl": path}),
                ("run_model", {"name": TOOL, "params": {"prompt": "x", "imageUrl": path}}),
                ("run_model", {"name": TOOL, "params": json.dumps({"prompt": "x", "imageUrl": path})}),  # strict form
                ("price_model", {"name": TOOL, "params": {"prompt": "x", "imageUrl": path}}),
                ("upload_file", {"path": path}),
            ]
            for name, args in calls:
                with anyio.fail_after(10):  # a FIFO must be refused, never opened (that would block)
                    result = await client.call_tool(name, args)
                text = _text(result)
                assert result.is_error, (case_id, name, text)
                assert says in text, (case_id, name, text)
                assert "Traceback" not in text
        ok = await client.call_tool(TOOL, {"prompt": "x", "imageUrl": str(tree["root"] / "ok.png")})
    assert not ok.is_error, _text(ok)  # the control: a file inside the folder is uploaded and used
    assert (emu.stats.uploads - uploads, emu.stats.tasks_created - tasks) == (1, 1)


async def test_devices_are_refused_even_inside_an_allowed_folder(emu: Emulator) -> None:
    uploads = emu.stats.uploads
    async with mcp(emu, allow_dirs=[Path("/dev")]) as client:
        for dev in ("/dev/zero", "/dev/null", "/dev/urandom"):
            for name, args in ((TOOL, {"prompt": "x", "imageUrl": dev}), ("upload_file", {"path": dev})):
                with anyio.fail_after(10):
                    result = await client.call_tool(name, args)
                assert result.is_error and "not a regular file" in _text(result), (dev, _text(result))
    assert emu.stats.uploads == uploads


async def test_no_folders_means_no_local_files(emu: Emulator, tree: dict[str, Path]) -> None:
    async with mcp(emu) as client:  # in-memory clients share no roots here; no --allow-dir
        result = await client.call_tool("upload_file", {"path": str(tree["root"] / "ok.png")})
    assert result.is_error and "--allow-dir" in _text(result)


def test_langchain_allowed_dirs_refuse_the_same_way(emu: Emulator, tree: dict[str, Path]) -> None:
    """With allowed_dirs, a refused path gets one answer whether it exists, is a folder or is missing."""
    from rh_tools import AsyncRunningHub
    from rh_tools.langchain import RunningHubTool

    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url)
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url)
    tool = RunningHubTool(name="upload_file", client=sync, async_client=asy, allowed_dirs=[tree["root"]])
    answers = set()
    for path in (
        tree["secret"],
        tree["secret"].parent,
        tree["tmp"] / "nope.png",
        "/etc/passwd",
        "/root/x.png",
    ):
        call = {"type": "tool_call", "id": "c", "name": "upload_file", "args": {"path": str(path)}}
        msg = tool.invoke(call)
        assert msg.status == "error"
        answers.add(str(msg.content).replace(str(path), "<path>"))
    sync.close()
    assert len(answers) == 1, answers  # no probing of the disk outside the folders


async def test_mcp_refusals_do_not_reveal_what_exists_outside(emu: Emulator, tree: dict[str, Path]) -> None:
    answers = set()
    async with mcp(emu, allow_dirs=[tree["root"]]) as client:
        for path in (
            tree["secret"],
            tree["secret"].parent,
            tree["tmp"] / "nope.png",
            "/etc/passwd",
            "/root/x.png",
        ):
            result = await client.call_tool("upload_file", {"path": str(path)})
            answers.add(_text(result).replace(str(path), "<path>"))
    assert len(answers) == 1, answers


# ------------------------------------------------------------------ downloads


HOSTILE_OUTPUTS: list[tuple[str, dict[str, Any]]] = [
    ("../../etc/cron.d/x", {"url": "https://cdn.example/a.png", "extension": "png"}),
    ("1", {"url": "https://cdn.example/a.png", "extension": "../../../../tmp/evil"}),
    ("1", {"url": "https://cdn.example/../../x.sh?y=.png", "extension": "image"}),
    ("1", {"url": "https://cdn.example/a%2e%2e%2fb.sh", "extension": None}),
    ("1", {"url": "https://cdn.example/x.p/../ng", "extension": "sh\x00png"}),
    ("/abs/olute", {"url": "https://cdn.example/a", "extension": "png/../../x"}),
    ("C:\\Windows\\x", {"url": "https://cdn.example/a.PNG#../../b", "extension": ""}),
    ("\u202etxt.exe", {"url": "https://cdn.example/a.mp4", "extension": "mp4"}),
    ("a" * 500, {"url": "https://cdn.example/a.mp4", "extension": "toolongext"}),
    ("", {"url": None, "text": "an LLM answer", "extension": "../x"}),
    ("..", {"url": "file:///etc/passwd", "extension": "passwd"}),
]


@pytest.mark.parametrize("task_id,fields", HOSTILE_OUTPUTS)
def test_output_filenames_are_sanitised(tmp_path: Path, task_id: str, fields: dict[str, Any]) -> None:
    for i in (0, 7):
        name = output_filename(task_id, i, Output(**fields))
        assert SAFE_NAME.match(name), name
        assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_from_api_hostile_output_types() -> None:
    for item in (
        {"url": "https://x/a", "outputType": "../../sh"},
        {"fileUrl": "https://x/a.png", "fileType": "/"},
        {"url": "https://x/a", "outputType": "png\r\nX-Evil: 1"},
        {"text": "t", "outputType": "../txt"},
    ):
        name = output_filename("123", 0, Output.from_api(item))
        assert SAFE_NAME.match(name), (item, name)


def test_download_stays_in_the_folder_and_does_not_follow_planted_links(emu: Emulator, tmp_path: Path) -> None:
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02) as rh:
        real = rh.run(TOOL, {"prompt": "x", "imageUrl": "https://example.com/a.png"})
    url = real.outputs[0].url
    assert url
    hostile = TaskResult(
        task_id="../../escape",
        status="SUCCESS",
        outputs=[
            Output(url=url + "&x=/../../y.sh", extension="../../sh", kind="image"),
            Output(url=None, text="answer", extension="../../../x"),
        ],
    )
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    planted = out / output_filename(hostile.task_id, 0, hostile.outputs[0])
    planted.symlink_to(victim)
    paths = download_outputs(hostile, out, policy=FetchPolicy.for_api(emu.base_url))  # the emulator's origin
    assert victim.read_text() == "untouched"  # the link was replaced, not written through
    assert {p.parent for p in paths} == {out.resolve()} and all(SAFE_NAME.match(p.name) for p in paths)
    assert not planted.is_symlink() and planted.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "victim.txt"]


async def test_mcp_output_dir_receives_every_file_and_nothing_else(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with mcp(emu, output_dir=out) as client:
        result = await client.call_tool(TOOL, {"prompt": "x", "imageUrl": "https://example.com/a.png"})
        text = await client.call_tool(
            "run_model", {"name": "rhart_text_g_25_flash_text_to_text", "params": {"prompt": "hi"}}
        )
    assert not result.is_error and not text.is_error, (_text(result), _text(text))
    files = list(out.iterdir())
    assert files and all(SAFE_NAME.match(f.name) and f.is_file() and not f.is_symlink() for f in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


async def test_a_result_that_cannot_be_saved_is_still_delivered(emu: Emulator, tmp_path: Path) -> None:
    """A paid result must reach the agent even when saving it fails: the download fails (HTTP 500), the
    folder is a file (refused by our own check), or the file system refuses to create it (an OSError:
    its parent is a file)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    for folder, fault in ((tmp_path / "out", True), (blocker, False), (blocker / "out", False)):
        if fault:
            emu.faults.add("http_error", path="/media/*", times=None)
        try:
            async with mcp(emu, output_dir=folder) as client:
                result = await client.call_tool(TOOL, {"prompt": "x", "imageUrl": "https://example.com/a.png"})
        finally:
            emu.faults.clear()
        data = result.structured_content
        assert not result.is_error and data["done"] and data["outputs"][0]["url"], _text(result)
        assert data["download_error"] and "Not saved" in _text(result)


# ------------------------------------------------------------------ the HTTP transport


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on ``port``, from /proc/net/tcp{,6}."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, _, hexport = local.partition(":")
            if state == "0A" and int(hexport, 16) == port and len(addr) == width:
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(addr[i : i + 8])[::-1] for i in range(0, 32, 8))
                    found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--transport", "http", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 20
    while not _listening_addresses(port):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_http_defaults_to_loopback_and_requires_the_token(emu: Emulator, tmp_path: Path) -> None:
    from mcp_server.config import ServerConfig, parse_args
    from mcp_server.http import is_loopback

    assert ServerConfig().host == "127.0.0.1"
    assert parse_args(["--transport", "http"], {})[0].host == "127.0.0.1"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update({"RUNNINGHUB_API_KEY": TEST_KEY, "RUNNINGHUB_BASE_URL": emu.base_url, "RH_MCP_TOKEN": "s3cret-t0ken"})
    log = tmp_path / "server.log"
    proc = _start(["--port", str(port)], env, log)
    try:
        _wait_listening(proc, port, log)
        addresses = _listening_addresses(port)
        assert addresses and all(is_loopback(a) for a in addresses), addresses
        url = f"http://127.0.0.1:{port}/mcp"
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        accept = {"Accept": "application/json, text/event-stream"}
        refused = [
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "s3cret-t0ken"},
            {"Authorization": "Basic czNjcmV0LXQwa2Vu"},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer s3cret-t0ken-and-more"},
            {"X-Auth-Token": "s3cret-t0ken"},
        ]
        with httpx.Client(timeout=10) as http:
            for headers in refused:
                r = http.post(url, json=init, headers={**accept, **headers})
                assert r.status_code == 401, (headers, r.status_code, r.text)
            assert http.post(url + "?token=s3cret-t0ken", json=init, headers=accept).status_code == 401
            assert http.get(url, headers=accept).status_code == 401
            ok = http.post(url, json=init, headers={**accept, "Authorization": "Bearer s3cret-t0ken"})
        assert ok.status_code == 200, ok.text
        assert "s3cret-t0ken" not in log.read_text()
    finally:
        _stop(proc)


def test_http_on_all_interfaces_without_a_token_refuses_unless_told(emu: Emulator, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    log = tmp_path / "server.log"
    refused = _start(["--host", "0.0.0.0", "--port", str(_free_port())], env, log)
    assert refused.wait(20) == 2
    assert "refusing to listen on 0.0.0.0 without a token" in log.read_text() and "RH_MCP_TOKEN" in log.read_text()
    port = _free_port()
    proc = _start(["--host", "0.0.0.0", "--port", str(port), "--allow-unauthenticated"], env, log)
    try:
        _wait_listening(proc, port, log)
        assert "WARNING" in log.read_text() and "--auth-token" in log.read_text()
    finally:
        _stop(proc)
