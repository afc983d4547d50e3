"""Results the service hands back: output URLs are untrusted input (issue #11, "Results").

A fake RunningHub (``hostile.FakeAPI``) finishes a task with output URLs the test chooses:

* URLs (or redirects) to loopback, private, link-local and IPv4-mapped addresses, including a name
  whose DNS answer turns private between two lookups, are refused; the internal server behind
  them receives nothing, and no fetched byte reaches a file or the model. The API's own host
  stays fetchable on any port (the emulator serves its files from a second port).
* A gzip bomb, an endless body, a 5 GB Content-Length, a one-byte-at-a-time drip, a redirect
  loop, a broken gzip stream and an error status each end as a typed ``DownloadError`` carrying
  the task id, quickly, leaving no file behind.
* On every surface a paid, finished task whose outputs cannot be fetched is still a success with
  its task id and URLs (LangChain and MCP say "Not saved").
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attack_log import record
from conftest import TEST_KEY
from hostile import TASK_ID, FakeAPI, RawServer, drip, endless, gzip_bomb, redirect, response

from rh_tools import AsyncRunningHub, DownloadError, RunningHub
from rh_tools._download import FetchPolicy, download_outputs
from rh_tools.types import Output, TaskResult

TOOL = "grok_image_to_image"
ARGS = {"prompt": "a fox", "imageUrl": "https://example.com/fox.png"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
SECRET = b"\x89PNG\r\n\x1a\nINTERNAL-ONLY"


@pytest.fixture
def internal() -> Iterator[RawServer]:
    """A service on this machine that no output URL may reach."""
    with RawServer({"/": lambda req: response(200, SECRET, {"Content-Type": "image/png"})}) as srv:
        yield srv


def _client(api: FakeAPI, **kw: Any) -> RunningHub:
    return RunningHub(api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01, **kw)


def _no_files(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


# ------------------------------------------------------------------ private addresses


def _private_urls(api: FakeAPI, internal: RawServer) -> list[str]:
    p = internal.port
    return [
        f"http://127.0.0.2:{p}/secret.png",  # loopback, another host than the API's (127.0.0.1)
        f"http://localhost:{p}/secret.png",  # a name resolving to loopback
        f"http://[::ffff:127.0.0.1]:{p}/secret.png",  # IPv4-mapped IPv6
        f"http://0.0.0.0:{p}/secret.png",
        f"http://127.1:{p}/secret.png",  # short form of 127.0.0.1
        "http://169.254.169.254/latest/meta-data/x.png",  # cloud metadata (link-local)
        "http://10.1.2.3/x.png",
        "http://192.168.0.1/x.png",
        "http://[fe80::1]/x.png",
        api.url("/files/to-internal.png"),  # the API's origin, redirecting to the internal service
    ]


def test_output_urls_to_private_addresses_are_refused(internal: RawServer, tmp_path: Path) -> None:
    api = FakeAPI(files={"/files/to-internal.png": redirect(f"http://localhost:{internal.port}/secret.png")})
    urls = _private_urls(api, internal)
    with api, _client(api) as rh:
        for i, url in enumerate(urls):
            api.outputs = [url]
            result = rh.run(TOOL, ARGS)
            assert result.urls == [api.url(url)]
            folder = tmp_path / f"out{i}"
            started = time.monotonic()
            with pytest.raises(DownloadError) as caught:
                result.download(folder)
            err = caught.value
            assert err.reason == "blocked_address" and err.task_id == TASK_ID, (url, err)
            assert "private" in str(err) and time.monotonic() - started < 10
            assert _no_files(folder)
    assert internal.hits == {}  # not one request reached the internal service
    record("outputs", "output URL / redirect to a private address (client download)", tried=len(urls), held=len(urls))


def test_the_api_host_stays_fetchable_and_redirects_are_checked(internal: RawServer, tmp_path: Path) -> None:
    api = FakeAPI(
        outputs=["/files/a.png"],
        files={"/files/a.png": lambda req: response(200, PNG), "/files/hop.png": redirect("/files/a.png")},
    )
    with api, _client(api) as rh:
        result = rh.run(TOOL, ARGS)
        assert result.download(tmp_path)[0].read_bytes() == PNG  # trusted: the API's own origin
        api.outputs = ["/files/hop.png"]  # a same-origin redirect is followed
        assert rh.run(TOOL, ARGS).download(tmp_path / "b")[0].read_bytes() == PNG
    # A result not made by this client trusts only RUNNINGHUB_BASE_URL's origin (here: none).
    orphan = TaskResult(task_id="1", status="SUCCESS", outputs=[Output(url=api.url("/files/a.png"), extension="png")])
    with pytest.raises(DownloadError, match="private"):
        download_outputs(orphan, tmp_path / "c", policy=FetchPolicy())


def test_dns_answer_that_turns_private_is_refused_at_connect(
    internal: RawServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first lookup (the early check) says public, the next (the connection) says loopback."""
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])

    def rebinding(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host == "rebind.example":
            ip = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    result = TaskResult(
        task_id=TASK_ID,
        status="SUCCESS",
        outputs=[Output(url=f"http://rebind.example:{internal.port}/secret.png", extension="png")],
    )
    with pytest.raises(DownloadError) as caught:
        download_outputs(result, tmp_path, policy=FetchPolicy())
    assert caught.value.reason == "blocked_address" and internal.hits == {}
    record("outputs", "DNS rebinding between the check and the connection", tried=1, held=1)


# ------------------------------------------------------------------ caps and broken answers

BROKEN: list[tuple[str, Any, str]] = [
    # (path, route, reason)
    ("/files/bomb.png", lambda req: response(200, gzip_bomb(256 << 20), {"Content-Encoding": "gzip"}), "decompression"),
    ("/files/endless.mp4", endless(), "too_large"),
    ("/files/huge.mp4", lambda req: response(200, b"", {"Content-Length": str(5 << 30)})[:1], "too_large"),
    ("/files/drip.png", drip(every=0.05, length=1_000_000), "timeout"),
    ("/files/loop.png", redirect("/files/loop.png"), "redirects"),
    ("/files/badgzip.png", lambda req: response(200, b"not gzip at all", {"Content-Encoding": "gzip"}), "network"),
    ("/files/gone.png", lambda req: response(404, b"no"), "http_status"),
    ("/files/oops.png", lambda req: response(500, b"<html>oops</html>"), "http_status"),
]


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_broken_outputs_end_as_typed_errors_quickly(tmp_path: Path, twin: str) -> None:
    api = FakeAPI(files={path: route for path, route, _ in BROKEN})
    limits = {"max_download_mb": 4, "download_timeout": 1.5}
    held = 0
    with api:
        for path, _, reason in BROKEN:
            api.outputs = [path]
            folder = tmp_path / f"{twin}{path.replace('/', '_')}"
            started = time.monotonic()
            if twin == "sync":
                with _client(api, **limits) as rh, pytest.raises(DownloadError) as caught:
                    rh.run(TOOL, ARGS).download(folder)
            else:

                async def go(folder: Path = folder) -> None:
                    async with AsyncRunningHub(
                        api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01, **limits
                    ) as rh:
                        await (await rh.run(TOOL, ARGS)).adownload(folder)

                with pytest.raises(DownloadError) as caught:
                    asyncio.run(go())
            took = time.monotonic() - started
            err = caught.value
            assert err.reason == reason and err.task_id == TASK_ID and err.url == api.url(path), (path, err)
            assert took < 1.5 + 8, (path, took)  # the drip is cut at the 1.5 s limit, the rest at once
            assert _no_files(folder), (path, list(folder.iterdir()))  # no partial file, no temp file
            held += 1
    record(
        "outputs", f"bomb, endless, huge, drip, loop, bad gzip, 4xx/5xx output ({twin})", tried=len(BROKEN), held=held
    )


# ------------------------------------------------------------------ every surface keeps the paid result


def test_unfetchable_outputs_still_succeed_on_every_surface(internal: RawServer, tmp_path: Path) -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server
    from rh_tools.langchain import RunningHubToolkit

    api = FakeAPI(files={"/files/bomb.png": BROKEN[0][1]})
    api.outputs = [f"http://localhost:{internal.port}/secret.png", "/files/bomb.png"]
    with api:
        sync = _client(api)
        asy = AsyncRunningHub(api_key=TEST_KEY, base_url=api.base_url, poll_interval=0.01)
        kit = RunningHubToolkit(client=sync, async_client=asy, tools=[TOOL], download_dir=tmp_path / "lc", preview=True)
        grok = next(t for t in kit.get_tools() if t.name == TOOL)
        msg = grok.invoke({"type": "tool_call", "id": "c", "name": TOOL, "args": dict(ARGS)})
        assert msg.status == "success" and msg.artifact["task_id"] == TASK_ID, msg.content
        assert isinstance(msg.content, str), msg.content  # text only: no image block from a private address
        assert "Not saved" in msg.content and all(api.url(u) in msg.content for u in api.outputs)
        assert "No preview" in msg.content
        sync.close()

        async def via_mcp() -> Any:
            config = ServerConfig(
                api_key=TEST_KEY,
                base_url=api.base_url,
                poll_interval=0.01,
                tools=[TOOL],
                output_dir=tmp_path / "mcp",
                inline_preview=True,
            )
            async with Client(build_server(config)) as client:
                return await client.call_tool(TOOL, dict(ARGS))

        result = asyncio.run(via_mcp())
    text = "\n".join(getattr(b, "text", "") for b in result.content)
    assert not result.is_error and result.structured_content["task_id"] == TASK_ID, text
    assert "Not saved" in text and "No preview" in text
    assert not any(getattr(b, "type", "") == "image" for b in result.content)  # no fetched byte for the model
    assert internal.hits == {}
    assert _no_files(tmp_path / "lc") and _no_files(tmp_path / "mcp")
    record("outputs", "paid result with unfetchable outputs (LangChain + preview, MCP + preview)", tried=2, held=2)


def test_cli_prints_the_paid_result_when_its_files_cannot_be_saved(
    internal: RawServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rh_tools.cli import main

    api = FakeAPI(outputs=[f"http://localhost:{internal.port}/secret.png"])
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.01")
    with api:
        argv = ["--base-url", api.base_url, "run", TOOL, "--prompt", "x", "--image", ARGS["imageUrl"]]
        code = main([*argv, "--download", str(tmp_path / "out"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0 and TASK_ID in out and api.outputs[0] in out, (out, err)
    assert "Not saved" in err and "private" in err and internal.hits == {}
    record("outputs", "paid result with unfetchable outputs (CLI --download)", tried=1, held=1)
