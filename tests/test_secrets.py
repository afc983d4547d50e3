"""The API key never leaves the Authorization header (or the body/query field the route requires).

A canary key runs through every code path — successes on every auth style (Bearer, body apiKey,
body apikey, bare Authorization, query apiKey, multipart), errors (bad key, 5xx, HTML, malformed
JSON, resets, timeouts, refused connections), DEBUG logs of ``rh_tools`` *and* httpx/httpcore,
repr/str/pickle of clients and configs, the CLI, LangChain tool content/artifacts/errors, MCP tool
results and the server's DEBUG stderr (stdio and HTTP), and cassettes written in record mode —
and the key, or half of it, must appear in none of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CANARY_KEY, ROOT, TEST_KEY

from rh_tools import AsyncRunningHub, RunningHub, RunningHubError, catalogue
from rh_tools._config import ClientConfig
from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

KEY = CANARY_KEY
IMG = "https://example.com/fox.png"
GROK = {"prompt": "a fox", "imageUrl": IMG}
FAST = {"image": 0.05, "video": 0.05, "audio": 0.05, "3d": 0.05, "text": 0.05}
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def assert_clean(*blobs: Any, where: str = "") -> None:
    """Neither the key nor its first half in any of ``blobs`` (rendered as text)."""
    for blob in blobs:
        text = blob if isinstance(blob, str) else repr(blob)
        for needle in (KEY, KEY[:16], KEY[16:]):
            at = text.find(needle)
            assert at < 0, f"{where}: the API key leaked: ...{text[max(0, at - 80) :][:200]}"


def _error_views(err: BaseException) -> list[str]:
    views = [str(err), repr(err), "".join(traceback.format_exception(err))]
    if isinstance(err, RunningHubError):
        views += [json.dumps(err.to_dict(), default=repr), repr(vars(err))]
    return views


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations=FAST, queue_seconds=0) as e:
        yield e


@pytest.fixture
def fresh(emu: Emulator) -> Iterator[Emulator]:
    emu.faults.clear()
    emu.set_config(keys=None)
    yield emu
    emu.faults.clear()
    emu.set_config(keys=None)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, including httpx and httpcore (which log URLs and wire events)."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "rh_tools", "mcp_server", "mcp"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _logs_clean(caplog: pytest.LogCaptureFixture, *, need: tuple[str, ...] = ("httpx", "httpcore")) -> None:
    names = {r.name.split(".")[0] for r in caplog.records}
    for n in need:
        assert n in names, f"no {n} records were captured: the check would prove nothing ({sorted(names)})"
    assert_clean(caplog.text, where="logs")
    for r in caplog.records:
        assert_clean(r.getMessage(), repr(r.args), where=f"log record {r.name}")


# ------------------------------------------------------------------ every route, logged at DEBUG


def test_successful_calls_on_every_auth_style(
    fresh: Emulator, all_logs: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"\x00" * 256)
    outputs: list[Any] = []
    with RunningHub(api_key=KEY, base_url=fresh.base_url, poll_interval=0.02) as rh:
        result = rh.run("grok_image_to_image", GROK)  # Bearer
        outputs += [result, result.download(tmp_path / "out"), rh.get_task(result.task_id)]
        outputs.append(rh.account())  # body "apikey"
        outputs.append(rh.get_ai_app(SAMPLE_WEBAPP_ID))  # query apiKey (GET)
        outputs.append(rh.list_ai_apps())  # bare Authorization
        outputs.append(rh.run_workflow(SAMPLE_WORKFLOW_ID, []))  # body apiKey
        outputs.append(rh.upload(PNG, name="a.png"))  # multipart
        outputs.append(rh.upload_lora(lora))
        outputs += [rh.queue_status(), rh.price_preview("grok_image_to_image", GROK)]
        outputs.append(rh.webhook_detail(result.task_id))
    assert_clean(*outputs, where="results")
    _logs_clean(all_logs)


def test_async_twin_logs_and_results(fresh: Emulator, all_logs: pytest.LogCaptureFixture) -> None:
    async def go() -> list[Any]:
        async with AsyncRunningHub(api_key=KEY, base_url=fresh.base_url, poll_interval=0.02) as rh:
            return [
                await rh.run("grok_image_to_image", GROK),
                await rh.get_ai_app(SAMPLE_WEBAPP_ID),
                await rh.account(),
            ]

    assert_clean(*asyncio.run(go()), where="async results")
    _logs_clean(all_logs)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


ERROR_CASES: list[tuple[str, Any]] = [
    ("bad key", None),
    ("5xx json", ("http_error", {})),
    ("5xx html", ("html_error", {})),
    ("malformed json", ("malformed_json", {})),
    ("reset after", ("reset_after", {})),
    ("read timeout", ("slow_response", {"seconds": 0.6})),
    ("rate limited", ("rate_limit", {"retry_after": 0})),
    ("refused", None),
]


@pytest.mark.parametrize("name,fault", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_never_show_the_key(
    fresh: Emulator,
    all_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    fault: Any,
) -> None:
    from rh_tools import _constants as C

    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.01)
    base = _closed_port() if name == "refused" else fresh.base_url
    if name == "bad key":
        fresh.set_config(keys={TEST_KEY})  # the canary is now an unknown key
    views: list[str] = []
    calls = [
        lambda rh: rh.run("grok_image_to_image", GROK, timeout=2),
        lambda rh: rh.account(),
        lambda rh: rh.get_ai_app(SAMPLE_WEBAPP_ID),
        lambda rh: rh.list_ai_apps(),
        lambda rh: rh.run_workflow(SAMPLE_WORKFLOW_ID, []),
        lambda rh: rh.upload(PNG, name="a.png"),
    ]
    with RunningHub(api_key=KEY, base_url=base, poll_interval=0.02, timeout=0.15, max_retries=1) as rh:
        for call in calls:
            if fault is not None:
                fresh.faults.clear()
                fresh.faults.add(fault[0], times=None, **fault[1])
            try:
                views.append(repr(call(rh)))
            except RunningHubError as err:
                views += _error_views(err)
    fresh.faults.clear()
    assert any("Error" in v for v in views), views  # the faults did produce errors
    assert_clean(*views, where=f"{name} errors")
    no_answer = name in ("refused", "reset after", "read timeout")  # httpx logs only answered requests
    _logs_clean(all_logs, need=("httpcore",) if no_answer else ("httpx", "httpcore"))


def test_the_bad_key_error_says_what_to_do_without_echoing_it(fresh: Emulator) -> None:
    fresh.set_config(keys={TEST_KEY})
    with RunningHub(api_key=KEY, base_url=fresh.base_url) as rh:
        with pytest.raises(RunningHubError) as exc:
            rh.account()
    assert type(exc.value).__name__ == "AuthenticationError" and "key" in exc.value.hint.lower()
    assert_clean(*_error_views(exc.value))


# ------------------------------------------------------------------ objects: repr, str, pickle


def test_reprs_and_pickles(fresh: Emulator) -> None:
    from mcp_server import ServerConfig, build_server
    from rh_tools.langchain import RunningHubTool, RunningHubToolkit

    config = ClientConfig.resolve(api_key=KEY, base_url=fresh.base_url)
    sync, asy = RunningHub(api_key=KEY, base_url=fresh.base_url), AsyncRunningHub(api_key=KEY)
    tool = RunningHubTool(name="grok_image_to_image", client=sync, async_client=asy)
    kit = RunningHubToolkit(client=sync, async_client=asy)
    server_config = ServerConfig(api_key=KEY, auth_token="tok-" + KEY)
    server = build_server(server_config)
    rh_server = server.rh
    objects = [config, config.api_key, sync, asy, tool, kit, server_config, rh_server, *kit.get_tools()]
    texts = [repr(o) for o in objects] + [str(o) for o in objects]
    texts += [repr(tool.model_dump()), repr(kit.model_dump()), repr(vars(sync)), repr(vars(rh_server))]
    texts += [json.dumps(tool.tool_call_schema), repr(tool.metadata)]
    assert_clean(*texts, where="repr/str")
    for secret_holder in (config, config.api_key):
        with pytest.raises(TypeError):
            pickle.dumps(secret_holder)
    sync.close()


def test_environment_key_is_not_in_the_config_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", KEY)
    rh = RunningHub()
    assert rh.config.key() == KEY  # it is there...
    assert_clean(repr(rh), str(rh.config), repr(rh.config))  # ...but never shown


# ------------------------------------------------------------------ the CLI


def test_cli_output(
    fresh: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    from rh_tools import _constants as C
    from rh_tools.cli import main

    monkeypatch.setenv("RUNNINGHUB_API_KEY", KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", fresh.base_url)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.02")
    image = tmp_path / "in.png"
    image.write_bytes(PNG)
    runs = [
        ["run", "grok_image_to_image", "--prompt", "fox", "--image", str(image), "--json"],
        ["run", "grok_image_to_image", "--prompt", "fox", "--image", IMG, "--download", str(tmp_path / "o")],
        ["run", "grok_image_to_image", "--prompt", "fox", "--image", IMG, "--no-wait"],
        ["account"],
        ["account", "--json"],
        ["upload", str(image)],
        ["task", "404404"],
        ["run", "grok_image_to_image", "--prompt", "fox", "--image", IMG, "--model", "g-99"],
    ]
    codes = [main(argv) for argv in runs]
    fresh.set_config(keys={TEST_KEY})
    codes += [main(["account"]), main(["run", "grok_image_to_image", "--prompt", "x", "--image", IMG])]
    fresh.set_config(keys=None)
    fresh.faults.add("slow_response", seconds=0.6, times=None)
    monkeypatch.setenv("RUNNINGHUB_TIMEOUT", "0.15")
    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.01)
    codes.append(main(["account"]))
    fresh.faults.clear()
    out = capsys.readouterr()
    assert codes[:3] == [0, 0, 0] and codes[-3:] == [3, 3, 3], codes
    assert_clean(out.out, out.err, where="CLI")
    _logs_clean(all_logs)


# ------------------------------------------------------------------ LangChain


def test_langchain_content_artifacts_and_errors(fresh: Emulator, all_logs: pytest.LogCaptureFixture) -> None:
    from langchain_core.messages import ToolMessage

    from rh_tools.langchain import RunningHubToolkit

    blobs: list[str] = []

    def use(kit: RunningHubToolkit) -> None:
        tools = {t.name: t for t in kit.get_tools()}
        calls = [
            ("grok_image_to_image", GROK),
            ("grok_image_to_image", {"prompt": 5}),
            ("get_account", {}),
            ("get_task", {"task_id": "404404"}),
            ("describe_workflow", {"webapp_id": SAMPLE_WEBAPP_ID}),
            ("run_workflow", {"workflow_id": SAMPLE_WORKFLOW_ID}),
            ("upload_file", {"path": "/nope.png"}),
        ]
        for name, args in calls:
            msg = tools[name].invoke({"type": "tool_call", "id": "c", "name": name, "args": args})
            assert isinstance(msg, ToolMessage)
            blobs.extend([msg.model_dump_json(), json.dumps(msg.artifact, default=repr)])
        blobs.append(asyncio.run(tools["get_account"].ainvoke({})).__repr__())

    def kit() -> RunningHubToolkit:
        return RunningHubToolkit(
            client=RunningHub(api_key=KEY, base_url=fresh.base_url, poll_interval=0.02),
            async_client=AsyncRunningHub(api_key=KEY, base_url=fresh.base_url),
            tools=["grok_image_to_image"],
        )

    use(kit())
    fresh.set_config(keys={TEST_KEY})  # every call now fails authentication
    use(kit())
    assert any('"status":"error"' in b for b in blobs)
    assert_clean(*blobs, where="LangChain")
    _logs_clean(all_logs)


# ------------------------------------------------------------------ MCP: results and the server's own stderr


async def test_mcp_in_memory_results(fresh: Emulator, all_logs: pytest.LogCaptureFixture) -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    blobs = []
    for keys in (None, {TEST_KEY}):
        fresh.set_config(keys=keys)
        config = ServerConfig(
            api_key=KEY,
            base_url=fresh.base_url,
            poll_interval=0.02,
            tools=["grok_image_to_image"],
            log_level="DEBUG",
        )
        async with Client(build_server(config)) as client:
            for name, args in (
                ("grok_image_to_image", GROK),
                ("get_account", {}),
                ("describe_workflow", {"webapp_id": SAMPLE_WEBAPP_ID}),
                ("run_model", {"name": "grok_image_to_image", "params": {"prompt": 1}}),
                ("get_task", {"task_id": "1"}),
            ):
                result = await client.call_tool(name, args)
                blobs.append(result.model_dump_json())
    assert_clean(*blobs, where="MCP results")
    _logs_clean(all_logs)


def _server_env(emu: Emulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update({"RUNNINGHUB_BASE_URL": emu.base_url, "RUNNINGHUB_POLL_INTERVAL": "0.02", **extra})
    return env


async def test_mcp_stdio_server_debug_stderr(fresh: Emulator, tmp_path: Path) -> None:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--log-level", "DEBUG", "--tools", "grok_image_to_image"],
        env=_server_env(fresh, RUNNINGHUB_API_KEY=KEY),
        cwd=str(ROOT),
    )
    log = tmp_path / "stderr.log"
    with open(log, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            ok = await client.call_tool("grok_image_to_image", GROK)
            demo = await client.call_tool("describe_workflow", {"webapp_id": SAMPLE_WEBAPP_ID})
            fresh.set_config(keys={TEST_KEY})
            denied = await client.call_tool("get_account", {})
    assert not ok.is_error and not demo.is_error and denied.is_error
    text = log.read_text()
    assert "DEBUG" in text and "apiCallDemo" in text, text[-2000:]  # the log did record the query-key route
    assert_clean(text, ok.model_dump_json(), demo.model_dump_json(), denied.model_dump_json(), where="stdio server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_mcp_http_server_debug_stderr_with_key_header(fresh: Emulator, tmp_path: Path) -> None:
    """Over HTTP a client may send its own key in a header: it must not reach the server's log either."""
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    port = _free_port()
    log = tmp_path / "http.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mcp_server",
                "--transport",
                "http",
                "--port",
                str(port),
                "--log-level",
                "DEBUG",
                "--tools",
                "grok_image_to_image",
            ],
            env=_server_env(fresh, RH_MCP_TOKEN="tok-" + KEY),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        headers = {"Authorization": f"Bearer tok-{KEY}", "X-RunningHub-Api-Key": KEY}
        http = httpx2.AsyncClient(headers=headers, timeout=60)
        async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
            ok = await client.call_tool("grok_image_to_image", GROK)
            demo = await client.call_tool("describe_workflow", {"webapp_id": SAMPLE_WEBAPP_ID})
            fresh.set_config(keys={TEST_KEY})
            denied = await client.call_tool("get_account", {})
        async with httpx2.AsyncClient() as plain:
            refused = await plain.post(f"http://127.0.0.1:{port}/mcp", json={}, headers={"Authorization": "Bearer x"})
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert not ok.is_error and not demo.is_error and denied.is_error and refused.status_code == 401
    text = log.read_text()
    assert "DEBUG" in text, text[-2000:]
    assert_clean(
        text,
        ok.model_dump_json(),
        denied.model_dump_json(),
        refused.text,
        str(refused.headers),
        where="HTTP server",
    )


# ------------------------------------------------------------------ cassettes written in record mode


def test_cassette_recorded_through_the_scrubber(fresh: Emulator, tmp_path: Path) -> None:
    import vcr
    from cassette_support import SECRET_PATTERNS, body_matcher, make_vcr_config

    recorder = vcr.VCR(cassette_library_dir=str(tmp_path), record_mode="all", **make_vcr_config(fresh.base_url))
    recorder.register_matcher("rh_body", body_matcher)
    with recorder.use_cassette("secrets.yaml"):
        with RunningHub(api_key=KEY, base_url=fresh.base_url, poll_interval=0.02) as rh:
            rh.run("grok_image_to_image", GROK)
            rh.account()
            rh.get_ai_app(SAMPLE_WEBAPP_ID)
            rh.list_ai_apps()
            rh.run_workflow(SAMPLE_WORKFLOW_ID, [])
            rh.upload(PNG, name="a.png")
            fresh.set_config(keys={TEST_KEY})
            with pytest.raises(RunningHubError):
                rh.account()
    text = (tmp_path / "secrets.yaml").read_text()
    assert "apiCallDemo" in text and "accountStatus" in text and "upload" in text  # it did record them
    assert_clean(text, where="cassette")
    for pattern in SECRET_PATTERNS:
        assert not pattern.search(text), pattern.pattern


def test_every_endpoint_body_is_keyless() -> None:
    """Bodies are built from the agent's arguments; no catalogue parameter is named like a key field."""
    for ep in catalogue.all():
        for p in ep.params:
            assert p.key.lower() not in ("apikey", "api_key", "authorization"), ep.tool_name
