"""How far an upload or a download has got, for whoever shows progress (the CLI's bars).

Why a context variable and not a parameter on each call: uploads happen deep inside ``run``,
``submit``, ``run_workflow`` and ``upload``, downloads inside ``download`` and the library keep,
in the blocking and the async client alike. One observer installed around a block sees all of
them (asyncio tasks and ``asyncio.to_thread`` copy the context) without widening a dozen
signatures, and when none is installed nothing is counted or called.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

__all__ = ["Meter", "Transfer", "TransferObserver", "ametered", "metered", "observe_transfers"]

log = logging.getLogger("rh_tools")


@dataclass(frozen=True)
class Transfer:
    """One file's progress: reported when it starts (``done`` 0), after each chunk, and once finished."""

    direction: Literal["upload", "download"]
    name: str  # the local file name (uploads) or the name the output is saved under (downloads)
    done: int  # bytes so far
    total: int | None  # None when the server did not say how big the file is
    finished: bool = False


TransferObserver = Callable[[Transfer], object]

_observer: ContextVar[TransferObserver | None] = ContextVar("rh_tools_transfer_observer", default=None)


@contextmanager
def observe_transfers(observer: TransferObserver) -> Generator[None, None, None]:
    """Report every upload and download made inside the block to ``observer``."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


class Meter:
    """Counts one file's bytes for the observer installed when it was made (a no-op when none was)."""

    def __init__(self, direction: Literal["upload", "download"], name: str, total: int | None) -> None:
        self._observer = _observer.get()
        self.direction: Literal["upload", "download"] = direction
        self.name = name
        self.total = total
        self.done = 0
        self._tell(False)

    def add(self, size: int) -> None:
        self.done += size
        self._tell(False)

    def finish(self) -> None:
        self._tell(True)

    def _tell(self, finished: bool) -> None:
        if self._observer is None:
            return
        try:
            self._observer(Transfer(self.direction, self.name, self.done, self.total, finished))
        except Exception:  # a progress display must never fail a paid upload or a download
            log.exception("transfer observer failed")


def metered(
    chunks: Iterable[bytes], direction: Literal["upload", "download"], name: str, total: int | None
) -> Iterator[bytes]:
    """``chunks`` passed through unchanged; each one is counted once the consumer has taken it."""
    meter = Meter(direction, name, total)
    for chunk in chunks:
        yield chunk
        meter.add(len(chunk))
    meter.finish()


async def ametered(
    chunks: AsyncIterable[bytes], direction: Literal["upload", "download"], name: str, total: int | None
) -> AsyncIterator[bytes]:
    """Awaitable :func:`metered`."""
    meter = Meter(direction, name, total)
    async for chunk in chunks:
        yield chunk
        meter.add(len(chunk))
    meter.finish()
