"""One-shot signals that a thread or an event loop can wait on, fired from any thread.

Both limiters hand a freed slot to the next waiter by firing its signal, and a waiter may be a
blocking call (``RunningHub``) or a coroutine (``AsyncRunningHub``): this is the one place that
knows how to wake either.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

__all__ = ["Signal"]


class Signal:
    """Fires once; :meth:`wait` blocks a thread, :meth:`await_` suspends a coroutine."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def fired(self) -> bool:
        return self._event.is_set()

    def fire(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(max(0.0, timeout))

    async def await_(self, timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(None))

        with self._lock:
            if self._event.is_set():
                return True
            self._callbacks.append(wake)
        try:
            await asyncio.wait_for(asyncio.shield(fut), max(0.0, timeout))
            return True
        except asyncio.TimeoutError:
            return self._event.is_set()
        finally:
            with self._lock:
                if wake in self._callbacks:
                    self._callbacks.remove(wake)
