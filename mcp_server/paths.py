"""Which local files a tool may read: only regular files inside the allowed roots.

Roots are the ``--allow-dir`` folders plus, where trusted, the folders the MCP client shares as
roots. A path is judged by where it really is: it is resolved first (``..`` and symlinks followed),
then it must lie under a resolved root and be a regular file (no devices, FIFOs or sockets). The
checked, resolved path replaces the one the agent gave, and the upload opens it once without
following symlinks and checks the opened descriptor again (``rh_tools._paths``), so what is
uploaded is what was checked even if the file is swapped in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from rh_tools._media import MediaSource
from rh_tools._paths import FolderPolicy

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
    """The server-wide allowed roots, and the check applied to each call's local media.

    The checks themselves live in :class:`rh_tools._paths.FolderPolicy`, shared with the LangChain
    toolkit; this adds the MCP client's roots, asked for once per call when needed.
    """

    def __init__(self, allow_dirs: Sequence[Path] = ()) -> None:
        self._policy = FolderPolicy(allow_dirs, how_to_allow=_HOW_TO_ALLOW)
        self.roots = self._policy.roots

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
                assert src.path is not None
                src.path = self.check_path(src.path, roots)
                src.roots = tuple(roots)  # the upload re-checks the opened descriptor against these

        return check

    def check_path(self, path: Path, roots: Sequence[Path]) -> Path:
        return self._policy.check_path(path, roots)
