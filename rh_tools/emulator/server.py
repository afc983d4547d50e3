"""``Emulator``: a real HTTP server on loopback, run from a background thread.

Why a thread with its own event loop: tests and benchmarks (sync or async) need a server they can
start in one line and that keeps running — moving tasks along and sending webhooks — while the
caller blocks or awaits. One loop hosts uvicorn, the task clock and webhook delivery, so no task
ever needs a thread of its own. ``restart()`` stops only the HTTP listener and starts a new one on
the same port; the engine (tasks, accounts, uploads, faults, counters) lives on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

import uvicorn

from .app import build_app, build_files_app
from .config import API_DURATIONS, EmulatorConfig
from .core import Core
from .faults import Faults
from .state import Task
from .stats import Stats
from .webhooks import WebhookRecord

__all__ = ["Emulator"]

_log = logging.getLogger("rh_tools.emulator")


def _default_catalogue() -> Any:
    from rh_tools import catalogue

    try:
        return catalogue.load()
    except FileNotFoundError as exc:  # the generated catalogue is missing from this checkout
        raise RuntimeError(
            "rh_tools/catalogue/endpoints.json is missing; generate it, or pass Emulator(catalogue=[...])"
        ) from exc


class Emulator:
    """A faithful RunningHub API emulator (see the package docstring for the surface).

    ``catalogue``: a ``rh_tools.catalogue.Catalogue`` or a list of ``Endpoint`` rows (default: the
    packaged catalogue). Every other keyword is an ``EmulatorConfig`` setting and can be changed
    later with ``set_config``.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        durations: dict[str, float] | None = None,
        jitter: float = 0.0,
        concurrency: int = 50,
        queue_limit: int = 0,
        keys: Iterable[str] | None = None,
        seed: int | None = 0,
        catalogue: Any = None,
        log_requests: bool = False,
        **settings: Any,
    ) -> None:
        config = EmulatorConfig(
            durations={**API_DURATIONS, **(durations or {})},
            jitter=jitter,
            concurrency=concurrency,
            queue_limit=queue_limit,
            keys=frozenset(keys) if keys is not None else None,
            seed=seed,
            **settings,
        )
        self.host = host
        self.port = port
        self.core = Core(config, catalogue if catalogue is not None else _default_catalogue())
        self._log_requests = log_requests
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._files: tuple[uvicorn.Server, asyncio.Task[None]] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

    # ---- what tests read ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def files_url(self) -> str:
        """Origin of the storage ("CDN") listener that result and upload links point at."""
        return self.core.cdn_origin or self.base_url

    @property
    def faults(self) -> Faults:
        return self.core.faults

    @property
    def stats(self) -> Stats:
        return self.core.stats

    @property
    def config(self) -> EmulatorConfig:
        return self.core.config

    @property
    def running(self) -> bool:
        return self._server is not None and self._serve_task is not None and not self._serve_task.done()

    def set_config(self, **changes: Any) -> EmulatorConfig:
        """Change settings at runtime (thread-safe); ``durations`` merges with the current ones."""
        if "keys" in changes and changes["keys"] is not None:
            changes["keys"] = frozenset(changes["keys"])
        return self.core.set_config(**changes)

    def set_catalogue(self, catalogue: Any) -> None:
        self.core.set_catalogue(catalogue)

    def task(self, task_id: str) -> Task | None:
        """The emulator's record of a task (status via ``task.status(emu.core.store.clock())``)."""
        return self.core.store.get(task_id)

    def task_status(self, task_id: str) -> str | None:
        t = self.task(task_id)
        return t.status(self.core.store.clock()) if t else None

    def set_balance(self, key: str, balance: float) -> None:
        self.core.store.set_balance(key, balance)

    @property
    def webhooks(self) -> list[WebhookRecord]:
        return self.core.webhooks.records

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
        """Poll ``predicate`` until true or ``timeout``; returns its last value (handy in tests)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Start serving; returns once the port accepts connections."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name=f"rh-emulator-{id(self):x}", daemon=True)
                self._thread.start()
                ready.wait(5)
                self._loop = loop
            if not self.running:
                self._call(self._astart(), timeout=15)
        return self

    def stop(self) -> None:
        """Stop the server, the clock and webhook delivery; state is kept until the object goes."""
        with self._lock:
            loop = self._loop
            if loop is None:
                return
            try:
                self._call(self._astop(), timeout=15)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                if self._thread is not None:
                    self._thread.join(5)
                loop.close()
                self._loop = None
                self._thread = None

    def close(self) -> None:
        """Stop and delete uploaded files."""
        self.stop()
        self.core.close()

    def restart(self, downtime: float = 0.0) -> None:
        """Stop the HTTP server and start it again on the same port, keeping all task state.

        In-flight requests get about a second to finish; during ``downtime`` connections are refused.
        Tasks keep progressing throughout (their clock is timestamps, not the server).
        """
        with self._lock:
            if self._loop is None:
                raise RuntimeError("the emulator is not running")
            self._call(self._arestart(downtime), timeout=30 + downtime)

    async def arestart(self, downtime: float = 0.0) -> None:
        """``restart`` for async callers (runs it in a worker thread)."""
        await asyncio.to_thread(self.restart, downtime)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> Emulator:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.close)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Emulator {self.base_url} {state} tasks={len(self.core.store)}>"

    # ---- loop side ----------------------------------------------------------------------------
    def _call(self, coro: Any, timeout: float) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _astart(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self.core.run_ticker())
        await self._serve()
        if self._files is None and self.core.config.separate_cdn:
            # A second listener for files, like the storage hosts real result links point at. It
            # survives restart(): links handed out before a restart keep working, as CDN links do.
            sock = self._bind(0)
            port = sock.getsockname()[1]
            self._files = await self._start_server(build_files_app(self.core), sock)
            host = self.base_url.split("://", 1)[1].rsplit(":", 1)[0]
            self.core.cdn_origin = f"http://{host}:{port}"

    def _bind(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP, and without it every keep-alive answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    async def _serve(self) -> None:
        sock = self._bind(self.port)
        self.port = sock.getsockname()[1]
        self._server, self._serve_task = await self._start_server(
            build_app(self.core, access_log=_log if self._log_requests else None), sock
        )

    async def _start_server(self, app: Any, sock: socket.socket) -> tuple[uvicorn.Server, asyncio.Task[None]]:
        config = uvicorn.Config(
            app,
            lifespan="off",
            http="h11",  # faults.abort_connection relies on uvicorn's per-request cycle object
            ws="none",
            access_log=False,  # uvicorn's access log prints query strings, which can carry keys
            log_config=None,
            log_level="warning",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
            backlog=4096,
        )
        server = uvicorn.Server(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()  # re-raise the startup error
                raise RuntimeError("the emulator's HTTP server stopped during startup")
            await asyncio.sleep(0.005)
        return server, task

    async def _shutdown_server(self) -> None:
        server, task = self._server, self._serve_task
        self._server = self._serve_task = None
        await self._stop_server(server, task)

    @staticmethod
    async def _stop_server(server: uvicorn.Server | None, task: asyncio.Task[None] | None) -> None:
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except asyncio.TimeoutError:
            server.force_exit = True
            await asyncio.wait_for(task, timeout=5)

    async def _arestart(self, downtime: float) -> None:
        await self._shutdown_server()
        if downtime > 0:
            await asyncio.sleep(downtime)
        await self._serve()

    async def _astop(self) -> None:
        await self._shutdown_server()
        if self._files is not None:
            files, self._files = self._files, None
            self.core.cdn_origin = None
            await self._stop_server(*files)
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None
        await self.core.webhooks.aclose()
