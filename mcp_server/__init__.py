"""rh-mcp: RunningHub as an MCP server (stdio or streamable HTTP).

``build_server(ServerConfig(...))`` gives the lowlevel MCP server (for in-process clients and
tests); ``rh-mcp`` / ``python -m rh_mcp`` runs it (a wheel installs this folder as ``rh_mcp``; in a
checkout ``python -m mcp_server`` works too). The tools themselves are the shared specs in
``rh_tools.toolspecs``; see docs/mcp.md for client configuration and every flag.

Importing this package does not import ``mcp``; the server module does, when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import ServerConfig

if TYPE_CHECKING:
    from .server import build_server

__all__ = ["ServerConfig", "build_server", "main"]


def main(argv: Any = None) -> int:
    from .__main__ import main as _main

    return _main(argv)


def __getattr__(name: str) -> Any:
    if name == "build_server":
        from .server import build_server

        return build_server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
