"""``rh-mcp`` / ``python -m mcp_server``: parse flags, build the server, serve stdio or HTTP."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from .config import parse_args

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    config, ns = parse_args(argv)
    # stdout belongs to the protocol in stdio mode: logs go to stderr only, and never hold the key.
    logging.basicConfig(level=config.log_level, stream=sys.stderr, format="rh-mcp %(levelname)s %(name)s: %(message)s")
    try:
        import anyio

        from .server import build_server, tools_list_tokens
    except ImportError as exc:
        print(f"rh-mcp needs the MCP extra: pip install 'rh-tools[mcp]' ({exc})", file=sys.stderr)
        return 2

    from rh_tools._exceptions import RunningHubError

    try:
        server = build_server(config)
    except RunningHubError as err:
        print(f"rh-mcp: {err}", file=sys.stderr)
        return 2
    if ns.list_tools:
        tools = server.rh.tools  # type: ignore[attr-defined]
        for tool in tools:
            print(tool.name)
        print(f"{len(tools)} tools, about {tools_list_tokens(tools)} tokens of tools/list", file=sys.stderr)
        return 0
    try:
        if config.transport == "http":
            from .http import serve_http

            anyio.run(serve_http, server, config)
        else:
            from .edge import stdio_transport

            async def run_stdio() -> None:
                async with stdio_transport() as (read, write):
                    await server.run(read, write, server.create_initialization_options())

            anyio.run(run_stdio)
    except KeyboardInterrupt:
        pass
    except RunningHubError as err:  # configuration problems found when the server starts
        print(f"rh-mcp: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
