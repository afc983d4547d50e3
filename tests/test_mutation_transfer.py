"""What moves bytes in and out: the webhook receiver and output downloads (issue #16, final mutation run).

Each test here was written against a mutant of ``rh_tools/_webhooks.py`` or ``rh_tools/_download.py``
that the rest of the suite let through: it checks what RunningHub, the agent or the user sees (the
status and headers a callback gets back, which waits end, the error class, ``reason``,
``retryable`` and hint words, the files on disk, what was requested over HTTP). The mutants that
no behaviour can tell apart are explained in ``scripts/mutation_notes_transfer.py``.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile import TASK_ID, RawServer, Request, Route, drip, hang, response

from rh_tools import DownloadError, WebhookReceiver
from rh_tools import _download as download_module
from rh_tools._download import FetchPolicy, adownload_outputs, afetch_output, download_outputs, fetch_output
from rh_tools._transfer import Transfer, observe_transfers
from rh_tools.types import Output, TaskResult

TASK_END = {"event": "TASK_END", "taskId": "2013508786110730241"}


# ------------------------------------------------------------------ webhooks: what a sender gets back


def _raw(port: int, data: bytes, wait: float = 10.0) -> tuple[bytes, bool]:
    """Send ``data`` over a plain socket; the answer, and whether the server closed within ``wait``."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        s.settimeout(wait)
        got = b""
        try:
            while chunk := s.recv(65536):
                got += chunk
        except TimeoutError:
            return got, False
        except ConnectionResetError:
            pass
        return got, True


def test_callback_answers_are_exact_and_refusals_close_the_connection() -> None:
    """RunningHub (or a proxy) retries on what it gets back: the codes and headers are the contract."""
    # a secret that ends in a letter the trailing-slash trim must not eat
    with WebhookReceiver(secret="s3cret-path-X", read_timeout=30) as rx:
        for url in (rx.url, rx.url + "/"):
            ok = httpx.post(url, json=TASK_END)
            assert ok.status_code == 200 and ok.headers["content-length"] == "0"
            assert ok.headers.get("connection") is None  # a callback's answer does not end the connection
        refusals = {
            404: httpx.post(rx.url.rsplit("/", 1)[0] + "/guess", json=TASK_END),
            411: httpx.post(rx.url, content=b""),  # empty: not a callback
            400: httpx.post(rx.url, content=b"not json"),
        }
        for status, resp in refusals.items():
            assert resp.status_code == status and resp.headers["connection"] == "close"
            assert resp.headers["content-length"] == "0"
        assert httpx.post(rx.url, content=b"{").status_code == 400  # one byte, read and judged
        assert rx.deliver_bytes(b"not json") is False and rx.deliver_bytes(b"[1]") is False
        assert rx.received == 2  # the two good callbacks, nothing else


def test_bodies_up_to_one_mebibyte_are_read_and_bigger_ones_refused_unread() -> None:
    with WebhookReceiver(read_timeout=30) as rx:
        head = json.dumps({**TASK_END, "pad": ""}).encode()
        exact = head[:-2] + b"x" * (1024 * 1024 - len(head)) + head[-2:]
        assert len(exact) == 1024 * 1024
        assert httpx.post(rx.url, content=exact).status_code == 200 and rx.received == 1
        path = "/" + rx.url.split("/", 3)[3]
        # declared 1 MiB + 1, body never sent: refused at once, the connection closed, nothing awaited
        answer, closed = _raw(
            rx.port, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {1024 * 1024 + 1}\r\n\r\n".encode()
        )
        assert answer.startswith(b"HTTP/1.0 413") and closed
        chunked, closed = _raw(
            rx.port, f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        assert chunked.startswith(b"HTTP/1.0 411") and closed
        # a refusal ends the connection at once: the receiver does not wait 30 s for another request
        wrong, closed = _raw(rx.port, b"POST /rh-webhook/guess HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        assert wrong.startswith(b"HTTP/1.0 404") and closed
        assert rx.received == 1


def test_a_sender_that_stalls_is_dropped_after_the_read_timeout() -> None:
    with WebhookReceiver(read_timeout=0.2) as rx:
        answer, closed = _raw(rx.port, b"POST /rh-webhook/", wait=10)
    assert closed and b"200" not in answer


def test_a_public_url_keeps_its_own_path() -> None:
    rx = WebhookReceiver(public_url="https://tunnel.example/hookX/", secret="abc")
    assert rx.url == "https://tunnel.example/hookX/rh-webhook/abc" and rx.path == "/rh-webhook/abc"
    rx.close()


def test_a_closed_receiver_stops_listening_and_closing_twice_is_fine() -> None:
    before = set(threading.enumerate())
    rx = WebhookReceiver().start()
    [thread] = set(threading.enumerate()) - before
    assert thread.daemon  # a receiver left open never keeps the program from exiting
    assert httpx.post(rx.url, json=TASK_END).status_code == 200
    url = rx.url
    rx.close()
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json=TASK_END, timeout=5)
    rx.close()
    thread.join(5)
    assert not thread.is_alive()


def test_every_callback_is_counted_and_the_newest_ten_thousand_tasks_remembered() -> None:
    rx = WebhookReceiver(serve=False)
    for n in range(10_000):
        assert rx.deliver({"event": "TASK_END", "taskId": str(n)})
    assert rx.received == 10_000 and rx.has_ended("0") and rx.has_ended("9999")
    rx.deliver({"taskId": "new"})  # no "event": older RunningHub callbacks
    assert rx.received == 10_001 and rx.has_ended("new") and rx.has_ended("1")
    assert not rx.has_ended("0")  # the oldest made room
    assert rx.sleep("new", 30) is True  # already ended: no waiting
    rx.forget("never-seen")  # forgetting an unknown task is not an error
    rx.forget("new")
    assert not rx.has_ended("new")


def test_listeners_get_each_accepted_callback_and_a_failing_one_harms_nothing() -> None:
    """What the Redis fan-in relays to the other replicas: the payload as RunningHub sent it."""
    rx = WebhookReceiver(serve=False)
    got: list[dict[str, Any]] = []

    def broken(payload: dict[str, Any]) -> None:
        raise ConnectionError("redis is down")

    rx.listeners += [broken, got.append]
    payload = {**TASK_END, "eventData": {"status": "SUCCESS"}}
    assert rx.deliver(payload) is True and got == [payload]
    assert rx.deliver({"event": "TASK_START", "taskId": "1"}) is False and got == [payload]  # refused: not relayed


# ------------------------------------------------------------------ downloads: one file server, every answer


PNG = b"\x89PNG\r\n\x1a\n" + bytes(92)  # 100 bytes
TRUST_LOOPBACK = FetchPolicy(trusted=("127.0.0.1",))  # as the client trusts the API's own host


def _hops(req: Request) -> list[bytes]:
    """/r/N redirects (relatively) to /r/N-1; /r/0 is the file: N redirects in all."""
    n = int(req.path.rsplit("/", 1)[1])
    return response(302, b"", {"Location": str(n - 1)}) if n else response(200, PNG)


def _chunked(req: Request) -> list[bytes]:
    """100 bytes without a Content-Length: only counting what arrives can stop it."""
    return [
        b"HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        b"64\r\n" + PNG + b"\r\n0\r\n\r\n",
    ]


def _status(req: Request) -> list[bytes]:
    return response(int(req.path.rsplit("/", 1)[1]), b"<html>no</html>")


def _gzip(size: int) -> Route:
    """``size`` zero bytes, gzip-compressed (about 1000:1) whatever the client asked for."""
    body = gzip.compress(bytes(size), compresslevel=9)
    return lambda req: response(200, body, {"Content-Encoding": "gzip"})


MIB = 1024 * 1024


@pytest.fixture(scope="module")
def files() -> Iterator[RawServer]:
    routes: dict[str, Route] = {
        "/gz/1m": _gzip(MIB),
        "/gz/4m": _gzip(4 * MIB),
        "/gz/16m": _gzip(16 * MIB),
        "/ok.png": lambda req: response(200, PNG, {"Content-Type": "image/png"}),
        "/located.png": lambda req: response(200, PNG, {"Location": "/status/404"}),
        "/chunked": _chunked,
        "/r/": _hops,
        "/status/": _status,
        "/drip.png": drip(every=0.05, length=40),  # 2 s in all: a 0.3 s limit must cut it
        "/silent.png": hang(20),  # reads the request, then says nothing for 20 s
    }
    with RawServer(routes) as srv:
        yield srv


async def _fetch(twin: str, url: str, **kw: Any) -> bytes:
    kw.setdefault("max_bytes", 1000)
    kw.setdefault("policy", TRUST_LOOPBACK)
    if twin == "async":
        return await afetch_output(url, **kw)
    return fetch_output(url, **kw)


TWINS = pytest.mark.parametrize("twin", ["sync", "async"])


@TWINS
async def test_fetching_sends_a_plain_get_and_follows_at_most_five_redirects(files: RawServer, twin: str) -> None:
    seen = len(files.requests)
    assert await _fetch(twin, files.origin + "/r/5") == PNG
    asked = files.requests[seen:]
    assert [r.path for r in asked] == [f"/r/{n}" for n in range(5, -1, -1)]  # relative Locations resolved
    # media barely compresses: ask for the bytes as they are (a compressed answer is suspect)
    assert all(r.method == "GET" and r.headers.get("accept-encoding") == "identity" for r in asked)
    with pytest.raises(DownloadError) as loop:
        await _fetch(twin, files.origin + "/r/6")
    assert loop.value.reason == "redirects" and "more than 5 redirects" in str(loop.value)
    assert loop.value.retryable is False and loop.value.index == 0
    # a Location header on a plain 200 is not a redirect: the answer is the file
    assert await _fetch(twin, files.origin + "/located.png") == PNG


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (403, False), (429, True), (500, True), (503, True)])
async def test_a_file_server_error_says_its_status_and_whether_to_retry(
    files: RawServer, status: int, retryable: bool
) -> None:
    url = f"{files.origin}/status/{status}"
    for twin in ("sync", "async"):
        with pytest.raises(DownloadError) as caught:
            await _fetch(twin, url)
        err = caught.value
        assert err.reason == "http_status" and err.status_code == status and err.retryable is retryable
        assert f"answered HTTP {status}" in str(err) and err.url == url and err.index == 0


@TWINS
async def test_a_body_over_the_limit_is_refused_with_what_to_raise(files: RawServer, twin: str) -> None:
    assert await _fetch(twin, files.origin + "/ok.png", max_bytes=100) == PNG  # exactly the limit: fine
    assert await _fetch(twin, files.origin + "/chunked", max_bytes=100) == PNG
    for path in ("/ok.png", "/chunked"):  # declared up front, or only counted as it arrives
        url = files.origin + path
        with pytest.raises(DownloadError) as caught:
            await _fetch(twin, url, max_bytes=99, what="The preview")
        err = caught.value
        assert err.reason == "too_large" and err.url == url and err.index == 0 and err.task_id is None
        assert str(err).startswith("The preview is larger than the limit (100 > 99 bytes)")
        hint = err.hint or ""  # what to raise, and that nothing is lost: the words an agent acts on
        assert hint.startswith("Raise the limit (RUNNINGHUB_MAX_DOWNLOAD_MB or max_download_mb=) if you expect")
        assert "files this big; the task succeeded" in hint and hint.endswith(
            "its output URLs still work for about 24 h."
        )
    with pytest.raises(DownloadError, match=r"^the output is larger than the limit"):  # the default label
        await _fetch(twin, files.origin + "/ok.png", max_bytes=99)


@TWINS
async def test_compressed_bodies_are_judged_by_what_they_expand_to(files: RawServer, twin: str) -> None:
    # under the 8 MiB floor any ratio is fine (a small image may compress well), up to the limit exactly
    assert await _fetch(twin, files.origin + "/gz/4m", max_bytes=2 * 1024 * MIB) == bytes(4 * MIB)
    assert await _fetch(twin, files.origin + "/gz/1m", max_bytes=MIB) == bytes(MIB)
    url = files.origin + "/gz/16m"
    with pytest.raises(DownloadError) as caught:  # past the floor at ~1000:1: a bomb, however big the limit
        await _fetch(twin, url, max_bytes=2 * 1024 * MIB)
    err = caught.value
    assert err.reason == "decompression" and err.url == url and err.index == 0 and err.retryable is False
    assert str(err).startswith("the output is a compressed body that expands more than 100x (")
    assert "refused as a decompression bomb" in str(err)


@TWINS
async def test_a_slow_file_is_cut_at_the_time_limit_the_caller_gave(files: RawServer, twin: str) -> None:
    url = files.origin + "/drip.png"
    with pytest.raises(DownloadError) as caught:
        await _fetch(twin, url, timeout=0.3)
    err = caught.value
    assert err.reason == "timeout" and err.retryable is True and err.url == url and err.index == 0
    assert "within the download time limit (0.3 s)" in str(err)


@TWINS
async def test_private_addresses_are_refused_and_dead_servers_are_network_errors(files: RawServer, twin: str) -> None:
    hits = files.hits["/ok.png"]
    with pytest.raises(DownloadError) as blocked:
        await _fetch(twin, files.origin + "/ok.png", policy=FetchPolicy())
    assert blocked.value.reason == "blocked_address" and blocked.value.retryable is False
    assert blocked.value.url == files.origin + "/ok.png" and blocked.value.index == 0
    hint = blocked.value.hint or ""
    assert hint.startswith("Output URLs must point at public addresses; this one points at this machine")
    assert "a private network. The task succeeded; report the URL" in hint and hint.endswith("it is legitimate.")
    assert files.hits["/ok.png"] == hits  # nothing was sent
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x.png"
    with pytest.raises(DownloadError) as down:
        await _fetch(twin, dead)
    assert down.value.reason == "network" and down.value.retryable is True
    assert down.value.url == dead and down.value.index == 0
    assert str(down.value).startswith("Output 0 not fetched: ConnectError: ")  # the kind of failure, then its cause
    assert re.search(
        r"ConnectError: (\[Errno \d+\] Connection refused|All connection attempts failed)", str(down.value)
    )


def test_a_server_that_stops_answering_is_dropped_after_one_read_timeout(
    files: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-download limit is generous (600 s for video); a socket that goes silent is cut far sooner."""
    monkeypatch.setattr(download_module, "_READ_TIMEOUT", 0.2)  # 60 s in real use
    with pytest.raises(DownloadError) as caught:
        fetch_output(files.origin + "/silent.png", max_bytes=1000, timeout=30, policy=TRUST_LOOPBACK)
    assert caught.value.reason == "timeout" and caught.value.retryable is True


def test_only_the_api_host_is_trusted_and_only_when_there_is_one() -> None:
    assert FetchPolicy.for_api("http://LocalHost:8080/openapi").trusted == ("localhost",)  # any port
    assert FetchPolicy.for_api(None).trusted == () and FetchPolicy.for_api("").trusted == ()
    assert FetchPolicy.for_api("not a url").trusted == () and FetchPolicy.for_api("ftp://files.example").trusted == ()


def test_without_a_policy_the_api_host_of_the_environment_is_trusted(
    files: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = files.origin + "/ok.png"
    with pytest.raises(DownloadError, match="not fetched"):
        fetch_output(url, max_bytes=1000)  # the default API is public: loopback is not trusted
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", files.origin)
    assert fetch_output(url, max_bytes=1000) == PNG
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", "ftp://127.0.0.1")  # a bad setting trusts nothing, and does not raise
    with pytest.raises(DownloadError) as caught:
        fetch_output(url, max_bytes=1000)
    assert caught.value.reason == "blocked_address"


async def test_a_pool_the_caller_passes_is_used_and_left_open() -> None:
    asked: list[httpx.Request] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=PNG)

    async with httpx.AsyncClient(transport=httpx.MockTransport(cdn)) as pool:
        url = "https://cdn.invalid/o.png"  # resolves nowhere: only the caller's pool can answer
        assert await afetch_output(url, max_bytes=1000, client=pool, policy=FetchPolicy()) == PNG
        assert not pool.is_closed and [str(r.url) for r in asked] == [url]
        assert await afetch_output(url, max_bytes=1000, client=pool, policy=FetchPolicy()) == PNG  # still usable


# ------------------------------------------------------------------ downloads to disk


def _result(files: RawServer, *paths: str) -> TaskResult:
    return TaskResult(
        task_id=TASK_ID,
        status="SUCCESS",
        outputs=[Output(url=files.origin + p, extension="png") for p in paths],
    )


async def _save(twin: str, result: TaskResult, folder: Path, **kw: Any) -> list[Path]:
    kw.setdefault("policy", TRUST_LOOPBACK)
    if twin == "async":
        return await adownload_outputs(result, folder, **kw)
    return download_outputs(result, folder, **kw)


@TWINS
async def test_a_failed_output_leaves_no_file_and_names_the_ones_saved(
    files: RawServer, tmp_path: Path, twin: str
) -> None:
    result = _result(files, "/ok.png", "/status/500")
    with pytest.raises(DownloadError) as caught:
        await _save(twin, result, tmp_path)
    err = caught.value
    first = tmp_path / f"{TASK_ID}-0.png"
    assert err.index == 1 and err.task_id == TASK_ID and err.reason == "http_status" and err.retryable is True
    assert err.details == {"saved": [str(first)]}  # what the caller still has
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name] and first.read_bytes() == PNG
    with pytest.raises(DownloadError) as alone:  # nothing saved before the failure: no "saved" list
        await _save(twin, _result(files, "/status/404"), tmp_path / "other")
    assert not alone.value.details and alone.value.index == 0


@TWINS
async def test_a_bomb_among_the_outputs_is_named_by_its_index(files: RawServer, tmp_path: Path, twin: str) -> None:
    with pytest.raises(DownloadError) as caught:
        await _save(twin, _result(files, "/ok.png", "/gz/16m"), tmp_path)
    err = caught.value
    assert err.reason == "decompression" and err.index == 1 and err.task_id == TASK_ID
    assert str(err).startswith("Output 1 is a compressed body") and err.details == {
        "saved": [str(tmp_path / f"{TASK_ID}-0.png")]
    }


@TWINS
async def test_a_folder_removed_during_a_download_is_a_disk_error(files: RawServer, tmp_path: Path, twin: str) -> None:
    folder = tmp_path / "out"

    def remove(t: Transfer) -> None:
        if t.done and folder.exists():
            shutil.rmtree(folder)  # the user cleans up while the file is still arriving

    with observe_transfers(remove), pytest.raises(DownloadError) as caught:
        await _save(twin, _result(files, "/ok.png"), folder)
    assert caught.value.reason == "disk" and caught.value.retryable is False and caught.value.index == 0
    assert not folder.exists()


@TWINS
async def test_the_callers_timeout_is_the_one_applied_and_named(files: RawServer, tmp_path: Path, twin: str) -> None:
    with pytest.raises(DownloadError) as caught:
        await _save(twin, _result(files, "/drip.png"), tmp_path, timeout=0.3)
    err = caught.value
    assert err.reason == "timeout" and err.task_id == TASK_ID and "(0.3 s)" in str(err)
    assert not any(tmp_path.iterdir())
    slow_policy = replace(TRUST_LOOPBACK, timeout=0.3)  # or the client's download_timeout, when none is given
    with pytest.raises(DownloadError, match=r"\(0\.3 s\)"):
        await _save(twin, _result(files, "/drip.png"), tmp_path, policy=slow_policy)


@TWINS
async def test_a_file_that_cannot_be_written_is_a_disk_error(files: RawServer, tmp_path: Path, twin: str) -> None:
    (tmp_path / f"{TASK_ID}-0.png" / "occupied").mkdir(parents=True)  # a folder where the file goes
    with pytest.raises(DownloadError) as caught:
        await _save(twin, _result(files, "/ok.png"), tmp_path)
    err = caught.value
    assert err.reason == "disk" and err.retryable is False and err.task_id == TASK_ID and err.index == 0
    assert str(err).startswith("Output 0 could not be saved: Is a directory")  # the reason, short
    assert "[Errno" not in str(err)
    text = TaskResult(task_id=TASK_ID, status="SUCCESS", outputs=[Output(url=None, text="hi")])
    (tmp_path / f"{TASK_ID}-0.txt" / "occupied").mkdir(parents=True)
    with pytest.raises(DownloadError) as no_url:
        await _save(twin, text, tmp_path)
    assert no_url.value.reason == "disk" and no_url.value.url == ""  # a text output has no URL to name
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{TASK_ID}-0.png", f"{TASK_ID}-0.txt"]  # no .part left
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for folder, words in ((blocker, "exists and is not a directory"), (blocker / "sub", "cannot be created")):
        with pytest.raises(DownloadError) as bad:
            await _save(twin, _result(files, "/ok.png"), folder)
        assert bad.value.reason == "disk" and bad.value.retryable is False and bad.value.task_id == TASK_ID
        assert words in str(bad.value) and str(folder) in str(bad.value)


@TWINS
async def test_a_download_in_progress_is_a_hidden_part_file(files: RawServer, tmp_path: Path, twin: str) -> None:
    """Killed mid-download, a program leaves a hidden '.part' file, never a truncated output under its name."""
    during: list[list[str]] = []
    events: list[Transfer] = []

    def look(t: Transfer) -> None:
        events.append(t)
        if t.done and not t.finished:
            during.append(sorted(p.name for p in tmp_path.iterdir()))

    with observe_transfers(look):
        [saved] = await _save(twin, _result(files, "/ok.png"), tmp_path)
    assert during and all(len(names) == 1 and re.fullmatch(r"\.rh-.+\.part", names[0]) for names in during)
    assert [p.name for p in tmp_path.iterdir()] == [saved.name] and saved.read_bytes() == PNG
    assert {(t.direction, t.name, t.total) for t in events} == {("download", saved.name, 100)}
