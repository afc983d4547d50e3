"""Which local files an agent may make us read, judged twice: by name, then by the opened file.

Agent tools (LangChain, MCP) take file paths from a model, and a model can be steered by whatever
it reads (a prompt injection). So a path is only read inside folders the user allowed:

1. Before anything is sent, :meth:`FolderPolicy.check_path` judges the *name*: ``..`` and symlinks
   are resolved, the result must lie under an allowed root and be a regular file. The refusal
   reads the same whether or not the file exists, so the agent cannot probe the disk.
2. When the upload starts, :func:`open_checked` opens the resolved path once with ``O_NOFOLLOW``
   and judges the *descriptor*: ``fstat`` says it is a regular file, and its real path (from
   ``/proc/self/fd`` on Linux, ``F_GETPATH`` on macOS) must still be under a root. The upload
   then reads that descriptor. A file swapped for a symlink, or a folder on the way swapped for
   one, between the check and the upload is refused instead of read.

On platforms with neither ``/proc`` nor ``F_GETPATH`` (Windows, some BSDs), step 2 falls back to
resolving the name again after opening and comparing device and inode numbers with the opened
descriptor: a swap between ``open`` and that comparison is still caught, one after it cannot
change what the descriptor reads.

A hard link inside an allowed folder to a file outside it is inside by every path check; only
whoever can create links in the allowed folders can plant one.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from ._exceptions import InvalidInputError

__all__ = ["FolderPolicy", "open_checked", "real_path_of_fd"]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class FolderPolicy:
    """A set of allowed folders and the refusals that say how to allow one.

    ``how_to_allow`` is the surface's own instruction ("start rh-mcp with --allow-dir …",
    "RunningHubToolkit(allowed_dirs=[…])"), appended to every refusal.
    """

    def __init__(self, roots: Sequence[str | os.PathLike[str]] = (), *, how_to_allow: str = "") -> None:
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.how_to_allow = how_to_allow

    def check_path(self, path: str | os.PathLike[str], roots: Sequence[Path] | None = None) -> Path:
        """The resolved path of ``path`` if it may be read; raises :class:`InvalidInputError` otherwise."""
        roots = list(self.roots if roots is None else roots)
        shown = str(path)
        if not roots:
            raise InvalidInputError(
                f"Local file {shown!r} refused: no folder is allowed for local files", hint=self._hint()
            )
        given = Path(path).expanduser()
        try:
            real: Path | None = given.resolve()  # follows .. and symlinks as far as they exist
        except (OSError, RuntimeError):  # a symlink loop
            real = None
        # Judge "inside the roots" before looking at existence: a refusal must read the same whether
        # or not the file exists, or an agent could probe the disk outside the allowed folders.
        lexical = Path(os.path.normpath(given.absolute()))
        if real is None and _inside(lexical, roots):
            raise InvalidInputError(
                f"Local file {shown!r} does not exist or cannot be resolved (symlink loop)",
                hint="Pass an existing file inside the allowed folders.",
            )
        if real is None or not _inside(real, roots):
            via = " (it is a symlink pointing outside them)" if _inside(lexical, roots) and _has_symlink(given) else ""
            raise InvalidInputError(
                f"Local file {shown!r} refused: it is outside the allowed folders{via}",
                hint="Allowed folders: " + ", ".join(str(r) for r in roots) + ". Move or copy the file there, "
                "or pass a URL. " + self._hint(),
            )
        try:
            mode = os.stat(real).st_mode
        except OSError:
            raise InvalidInputError(
                f"Local file {shown!r} does not exist or cannot be resolved",
                hint="Pass an existing file inside the allowed folders.",
            ) from None
        if not stat.S_ISREG(mode):
            raise InvalidInputError(
                f"Local file {shown!r} refused: not a regular file (device, FIFO, socket or folder)",
                hint="Pass an ordinary image, video or audio file.",
            )
        return real

    def _hint(self) -> str:
        tail = "Or pass a public URL or a data: URI instead of a path."
        return f"{self.how_to_allow} {tail}".strip()


def open_checked(path: Path, roots: Sequence[Path] | None, shown: str | None = None) -> int:
    """Open ``path`` for reading and return the descriptor, judged as described in the module docstring.

    ``roots`` None means "any regular file" (the plain client, no folder policy): the file is still
    opened once and checked to be a regular file, so a FIFO cannot block the upload.
    """
    shown = shown or str(path)
    flags = _OPEN_FLAGS if roots is not None else _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a symlink (EMLINK on FreeBSD)
            raise InvalidInputError(
                f"Local file {shown!r} refused: it was replaced by a symlink after it was checked",
                hint="Pass the file itself, inside the allowed folders.",
            ) from None
        raise InvalidInputError(f"Local file {shown!r} cannot be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInputError(
                f"Local file {shown!r} refused: not a regular file (device, FIFO, socket or folder)",
                hint="Pass an ordinary image, video or audio file.",
            )
        if roots is not None:
            real = real_path_of_fd(fd, path, st)
            if real is None or not _inside(real, roots):
                raise InvalidInputError(
                    f"Local file {shown!r} refused: it was moved outside the allowed folders after it was checked",
                    hint="Pass a file inside the allowed folders.",
                )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def real_path_of_fd(fd: int, opened: Path, st: os.stat_result) -> Path | None:
    """Where the open file really is. None when that cannot be established."""
    proc = Path(f"/proc/self/fd/{fd}")
    if sys.platform.startswith("linux") and proc.exists():
        try:
            return Path(os.readlink(proc))
        except OSError:
            return None
    if sys.platform == "darwin":
        import fcntl

        try:
            raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\0" * 1024)
            return Path(raw.rstrip(b"\0").decode())
        except OSError:
            return None
    # Elsewhere: resolve the name again and make sure it still names the opened file.
    try:
        real = opened.resolve(strict=True)
        now = os.stat(real)
    except (OSError, RuntimeError):
        return None
    return real if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino) else None


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _has_symlink(path: Path) -> bool:
    p = path if path.is_absolute() else Path.cwd() / path
    for part in (p, *p.parents):
        try:
            if part.is_symlink():
                return True
        except OSError:
            return False
    return False
