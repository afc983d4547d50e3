"""Which local files a tool may read: only regular files inside the allowed roots.

Roots are the ``--allow-dir`` folders plus, where trusted, the folders the MCP client shares as
roots. A path is judged by where it really is: it is resolved first (``..`` and symlinks followed),
then it must lie under a resolved root and be a regular file (no devices, FIFOs or sockets). The
checked, resolved path replaces the one the agent gave, so what is uploaded is what was checked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from rh_tools._exceptions import InvalidInputError
from rh_tools._media import MediaSource

__all__ = ["FilePolicy", "NeedClientRoots", "roots_from_uris"]

_HOW_TO_ALLOW = (
    "Start rh-mcp with --allow-dir /path/to/folder (repeatable; or RH_MCP_ALLOW_DIRS), or share the folder "
    "as an MCP root from your client; or pass a public URL or a data: URI instead of a path."
)


class NeedClientRoots(Exception):
    """Raised while planning a call that reads local files before the client's roots were asked for.

    Not a RunningHubError on purpose: the shared executor lets it through, the server asks the
    client for its roots and plans the call again (planning sends nothing).
    """


def roots_from_uris(uris: Iterable[str]) -> list[Path]:
    """``file://`` root URIs as resolved local paths; other schemes and remote hosts are ignored."""
    roots = []
    for uri in uris:
        parsed = urlparse(str(uri))
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            continue
        path = Path(url2pathname(unquote(parsed.path)))
        if path.is_absolute():
            roots.append(path.resolve())
    return roots


class FilePolicy:
    """The server-wide allowed roots, and the check applied to each call's local media."""

    def __init__(self, allow_dirs: Sequence[Path] = ()) -> None:
        self.roots = [Path(d).expanduser().resolve() for d in allow_dirs]

    def checker(self, client_roots: list[Path] | None, *, can_ask: bool) -> Callable[[list[MediaSource]], None]:
        """A ``ToolContext.check_media`` callback for one call.

        ``client_roots`` None means "not asked yet": if the call reads a local file and the client
        can be asked (``can_ask``), :class:`NeedClientRoots` is raised so the server asks and retries.
        """

        def check(sources: list[MediaSource]) -> None:
            local = [s for s in sources if s.path is not None]
            if not local:
                return
            if client_roots is None and can_ask:
                raise NeedClientRoots()
            roots = self.roots + list(client_roots or [])
            for src in local:
                src.path = self.check_path(src.path, roots)  # type: ignore[arg-type]

        return check

    def check_path(self, path: Path, roots: Sequence[Path]) -> Path:
        shown = str(path)
        if not roots:
            raise InvalidInputError(
                f"Local file {shown!r} refused: this server reads no local files yet", hint=_HOW_TO_ALLOW
            )
        given = Path(path).expanduser()
        try:
            real = given.resolve()  # follows .. and symlinks as far as they exist; no existence check yet
        except (OSError, RuntimeError):  # a symlink loop
            real = None

        def inside(p: Path | None) -> bool:
            return p is not None and any(p.is_relative_to(root) for root in roots)

        # Judge "inside the roots" before looking at existence: a refusal must read the same whether
        # or not the file exists, or an agent could probe the disk outside the allowed folders.
        lexical = Path(os.path.normpath(given.absolute()))
        if real is None and inside(lexical):
            raise InvalidInputError(
                f"Local file {shown!r} does not exist or cannot be resolved (symlink loop)",
                hint="Pass an existing file inside the allowed folders.",
            )
        if not inside(real):
            via = " (it is a symlink pointing outside them)" if inside(lexical) and _has_symlink(given) else ""
            raise InvalidInputError(
                f"Local file {shown!r} refused: it is outside the allowed folders{via}",
                hint="Allowed folders: " + ", ".join(str(r) for r in roots) + ". Move or copy the file there, "
                "or pass a URL. " + _HOW_TO_ALLOW,
            )
        assert real is not None
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


def _has_symlink(path: Path) -> bool:
    p = path if path.is_absolute() else Path.cwd() / path
    for part in (p, *p.parents):
        try:
            if part.is_symlink():
                return True
        except OSError:
            return False
    return False
