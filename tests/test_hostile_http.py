"""``rh-mcp --transport http`` and the webhook receiver under attack (issue #11, "The HTTP server").

Real ``rh-mcp`` processes on loopback, driven with raw sockets and httpx:

* Host and Origin are checked on every bind address (127.0.0.1, 127.0.0.2, 0.0.0.0, [::1]) and
  every path; ``--allowed-host`` adds names. ``/.well-known/oauth-*`` answers 404, token or not.
* A session flood at the session cap does not lock out another client; idle sessions expire.
* Slow clients (half a request line, a body that never comes) are cut off after ``--read-timeout``;
  with hundreds of them open, the oldest still-sending ones are closed and a normal client is served.
* The webhook receiver judges the secret path before reading a body, refuses big bodies unread,
  and drops senders that stall.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from attack_log import record
from conftest import ROOT, TEST_KEY

from rh_tools import WebhookReceiver
from rh_tools.emulator import Emulator

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
TOKEN = "s3cret-t0ken-for-tests"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.05}, queue_seconds=0) as e:
        yield e


def _free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host.strip("[]"), 0))
        return int(s.getsockname()[1])


@contextmanager
def rh_mcp(emu: Emulator, tmp_path: Path, *args: str, host: str = "127.0.0.1", **env: str) -> Iterator[int]:
    """A real rh-mcp HTTP server; yields its port once it accepts connections."""
    port = _free_port(host if host not in ("0.0.0.0",) else "127.0.0.1")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    environ.update({"RUNNINGHUB_API_KEY": TEST_KEY, "RUNNINGHUB_BASE_URL": emu.base_url, **env})
    log = tmp_path / f"server-{port}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--transport", "http", "--host", host, "--port", str(port), *args],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    connect_to = "::1" if host in ("::1", "[::1]") else "127.0.0.2" if host == "127.0.0.2" else "127.0.0.1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((connect_to, port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        assert TEST_KEY not in log.read_text() and TOKEN not in log.read_text()


def _post(url: str, host_header: str, *, headers: dict[str, str] | None = None, body: Any = INIT) -> httpx.Response:
    with httpx.Client(timeout=15) as http:
        return http.post(url, json=body, headers={**ACCEPT, "Host": host_header, **(headers or {})})


# ------------------------------------------------------------------ Host, Origin, .well-known


BINDS = [
    # (bind address, address to connect to, Host header that names the server, extra args)
    ("127.0.0.1", "127.0.0.1", "127.0.0.1", ()),
    ("127.0.0.2", "127.0.0.2", "127.0.0.2", ()),
    ("0.0.0.0", "127.0.0.1", "mcp.example.com", ("--allowed-host", "mcp.example.com")),
    ("::1", "[::1]", "[::1]", ()),
]


# The network stays blocked except loopback; 127.0.0.2 is loopback too, and this test binds it.
@pytest.mark.block_network(allowed_hosts=["127.0.0.1", "127.0.0.2", "localhost", "::1"])
@pytest.mark.parametrize("bind,connect,name,extra", BINDS, ids=[b[0] for b in BINDS])
def test_host_and_origin_are_checked_on_every_bind(
    emu: Emulator, tmp_path: Path, bind: str, connect: str, name: str, extra: tuple[str, ...]
) -> None:
    token = {"RH_MCP_TOKEN": TOKEN} if bind == "0.0.0.0" else {}
    auth = {"Authorization": f"Bearer {TOKEN}"} if token else {}
    with rh_mcp(emu, tmp_path, *extra, host=bind, **token) as port:
        url = f"http://{connect}:{port}/mcp"
        attacks = [
            ({"Host": "evil.example"}, 421),
            ({"Host": f"evil.example:{port}"}, 421),
            ({"Host": f"{name}:{port + 1}"}, 421),  # the right name, another port
            ({"Host": f"{name}:{port}", "Origin": "http://evil.example"}, 403),
            ({"Host": f"{name}:{port}", "Origin": f"http://evil.example:{port}"}, 403),
        ]
        held = 0
        for headers, status in attacks:
            r = _post(url, headers["Host"], headers={**auth, **headers})
            assert r.status_code == status, (bind, headers, r.status_code, r.text)
            held += 1
        for path in ("/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp"):
            with httpx.Client(timeout=15) as http:
                r = http.get(f"http://{connect}:{port}{path}", headers={"Host": f"{name}:{port}"})
            assert r.status_code == 404, (path, r.status_code)  # never 401: no OAuth dance
        ok = _post(url, f"{name}:{port}", headers={**auth, "Origin": f"http://{name}:{port}"})
        assert ok.status_code == 200, ok.text
    record("http", f"foreign Host / Origin on a {bind} bind", tried=len(attacks), held=held)


# ------------------------------------------------------------------ sessions


def _open_session(url: str, host: str, **headers: str) -> str | None:
    r = _post(url, host, headers=headers)
    return r.headers.get("mcp-session-id") if r.status_code == 200 else None


async def _mcp_call(url: str, key: str) -> bool:
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"X-RunningHub-Api-Key": key}, timeout=30)
    async with Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.call_tool("get_account", {})
        return not result.is_error


def test_a_session_flood_does_not_lock_out_another_client(emu: Emulator, tmp_path: Path) -> None:
    with rh_mcp(emu, tmp_path, "--max-sessions", "6") as port:
        url, host = f"http://127.0.0.1:{port}/mcp", f"127.0.0.1:{port}"
        flood = [_open_session(url, host) for _ in range(30)]
        assert all(flood), "the flooder itself is admitted too (its own oldest idle sessions make room)"
        stop = threading.Event()

        def keep_flooding() -> None:
            while not stop.is_set():
                _open_session(url, host)

        flooder = threading.Thread(target=keep_flooding, daemon=True)
        flooder.start()
        try:
            served = [asyncio.run(_mcp_call(url, TEST_KEY)) for _ in range(3)]
        finally:
            stop.set()
            flooder.join(30)
        # The flooder's first sessions were evicted to make room: they now answer 404.
        r = _post(url, host, headers={"mcp-session-id": flood[0]}, body={"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert r.status_code == 404
    assert served == [True, True, True]
    record("http", "session flood (30 + continuous, cap 6) vs another client", tried=3, held=sum(served))


def test_idle_sessions_expire(emu: Emulator, tmp_path: Path) -> None:
    with rh_mcp(emu, tmp_path, "--session-idle-timeout", "0.5") as port:
        url, host = f"http://127.0.0.1:{port}/mcp", f"127.0.0.1:{port}"
        sid = _open_session(url, host)
        assert sid
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        # Each request restarts the idle countdown, so look again only after gaps longer than it
        # (longer each time, for a loaded machine) rather than polling.
        statuses = []
        for gap in (1.0, 2.0, 4.0, 8.0):
            time.sleep(gap)
            statuses.append(_post(url, host, headers={"mcp-session-id": sid}, body=ping).status_code)
            if statuses[-1] == 404:
                break
        assert statuses[-1] == 404, statuses


# ------------------------------------------------------------------ slow clients


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes ``sock`` within ``seconds`` (recv returns b"" or the connection resets)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_slow_clients_are_cut_off(emu: Emulator, tmp_path: Path) -> None:
    with rh_mcp(emu, tmp_path, "--read-timeout", "1") as port:
        partial = [
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port,  # headers never finish
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\n{" % port,  # body never comes
            b"",  # connects and says nothing
        ]
        socks = []
        for data in partial:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(data)
            socks.append(s)
        results = [_closed_within(s, 10) for s in socks]
        for s in socks:
            s.close()
    assert results == [True, True, True]
    record("http", "slowloris: partial headers, missing body, silent connection", tried=3, held=sum(results))


def test_many_slow_connections_do_not_starve_a_prompt_client(emu: Emulator, tmp_path: Path) -> None:
    from mcp_server.http import MAX_PENDING

    with rh_mcp(emu, tmp_path, "--read-timeout", "120") as port:
        slow = []
        for _ in range(MAX_PENDING + 44):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port)
            slow.append(s)
        started = time.monotonic()
        served = asyncio.run(_mcp_call(f"http://127.0.0.1:{port}/mcp", TEST_KEY))
        took = time.monotonic() - started
        closed = sum(_closed_within(s, 0.05) for s in slow[:44])  # the oldest ones made room
        for s in slow:
            s.close()
    assert served and took < 30, took
    assert closed >= 40, closed
    record("http", f"{MAX_PENDING + 44} slow connections vs a prompt client", tried=1, held=int(served))


# ------------------------------------------------------------------ the webhook receiver


def test_webhook_receiver_judges_the_path_before_the_body() -> None:
    with WebhookReceiver(read_timeout=0.5) as rx:
        port = rx.port
        secret_path = "/" + rx.url.split("/", 3)[3]

        def raw(data: bytes, wait: float = 5.0) -> bytes:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(data)
                s.settimeout(wait)
                chunks = b""
                try:
                    while chunk := s.recv(4096):
                        chunks += chunk
                except (TimeoutError, ConnectionResetError):
                    pass
                return chunks

        started = time.monotonic()
        wrong = raw(b"POST /rh-webhook/guess HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        assert wrong.startswith(b"HTTP/1.0 404") and time.monotonic() - started < 4  # no body was awaited
        big = raw(f"POST {secret_path} HTTP/1.1\r\nHost: x\r\nContent-Length: {2 << 20}\r\n\r\n".encode())
        assert big.startswith(b"HTTP/1.0 413")
        chunked = raw(f"POST {secret_path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        assert chunked.startswith(b"HTTP/1.0 411")
        started = time.monotonic()
        stalled = raw(b"POST /rh-webhook/", wait=10)  # a sender that stalls mid request line
        assert time.monotonic() - started < 8 and b"200" not in stalled
        stalled_body = raw(f"POST {secret_path} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{{".encode(), wait=10)
        assert b"200" not in stalled_body
        payload = json.dumps({"event": "TASK_END", "taskId": "2013508786110730241"}).encode()
        ok = raw(f"POST {secret_path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload)
        assert ok.startswith(b"HTTP/1.0 200") and rx.has_ended("2013508786110730241")
        assert rx.received == 1
    record("webhook", "wrong path with a big body, 2 MiB body, chunked, stalled sender", tried=5, held=5)


def test_allowed_host_values() -> None:
    from mcp_server.config import ServerConfig
    from mcp_server.http import allowed_hosts

    assert allowed_hosts(ServerConfig(host="127.0.0.1", port=8000)) == {
        "127.0.0.1:8000",
        "localhost:8000",
        "[::1]:8000",
    }
    assert "[::1]:9" in allowed_hosts(ServerConfig(host="::1", port=9))
    wide = allowed_hosts(ServerConfig(host="0.0.0.0", port=80, allowed_hosts=["MCP.example.com", "[2001:db8::1]:8443"]))
    assert {"mcp.example.com", "mcp.example.com:80", "[2001:db8::1]:8443", "localhost:80"} <= wide
    assert "0.0.0.0:80" not in wide and "evil.example:80" not in wide
    lan = allowed_hosts(ServerConfig(host="192.168.1.5", port=8000))
    assert lan == {"192.168.1.5:8000"}  # not loopback: loopback names are not this server's
