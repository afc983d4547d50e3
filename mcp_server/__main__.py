"""``rh-mcp`` / ``python -m rh_mcp``: parse flags, build the server, serve stdio or HTTP.

(``python -m mcp_server`` from a checkout: the wheel installs the ``mcp_server/`` folder as ``rh_mcp``.)
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import re
import sys
from collections.abc import Sequence

from .config import parse_args

__all__ = ["main"]

# The server is written against the mcp 2.x SDK (mcp.server.mcpserver, lowlevel); pyproject's `mcp` extra.
_MCP_NEEDED = "mcp>=2,<3"


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _mcp_dependents() -> list[str]:
    """Installed distributions that themselves require ``mcp`` (e.g. langchain-mcp-adapters, which pins mcp<2)."""
    found: set[str] = set()
    for dist in importlib.metadata.distributions():
        for req in dist.requires or []:
            name = re.match(r"\s*([A-Za-z0-9._-]+)", req)
            if name and re.sub(r"[-_.]+", "-", name.group(1)).lower() == "mcp" and "extra ==" not in req:
                found.add(f"{dist.metadata['Name']} ({req.split(';')[0].strip()})")
    return sorted(found)


def _install_source() -> str:
    """How to name this very copy of rh-tools to an installer: its wheel or checkout when installed from one."""
    spec = "rh-tools[mcp]"
    try:
        raw = importlib.metadata.distribution("rh-tools").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        raw = None
    try:
        url = json.loads(raw)["url"] if raw else None
    except (ValueError, KeyError, TypeError):
        url = None
    return f"{spec} @ {url}" if isinstance(url, str) and url.startswith("file://") else spec


def mcp_problem() -> str | None:
    """Why the MCP SDK here cannot run the server (None when it can), with a fix that breaks nothing else.

    Checked from the installed version before anything imports ``mcp``: with mcp 1.x installed (as
    langchain-mcp-adapters needs: it pins mcp<2), the usual advice "pip install 'rh-tools[mcp]'" would
    upgrade mcp and break the adapters, so the advice is an environment of rh-mcp's own instead.
    """
    have = _installed("mcp")
    source = _install_source()
    if have is None:
        return (
            f"rh-mcp needs the MCP SDK ({_MCP_NEEDED}), which is not installed here: pip install '{source}', "
            f"or run it in an environment of its own: uvx --from '{source}' rh-mcp"
        )
    if not have.startswith(("0.", "1.")):
        return None
    dependents = _mcp_dependents()
    if dependents:
        why = f"Also installed here and depending on mcp: {', '.join(dependents)}; upgrading mcp here could break it."
    else:
        why = "Something here installed mcp 1.x; upgrading it in place could break that."
    return "\n".join(
        [
            f"rh-mcp needs {_MCP_NEEDED}, but this environment has mcp {have}.",
            why,
            "Run rh-mcp from an environment of its own instead, e.g.:",
            f'  uvx --from "{source}" rh-mcp',
            f'  pipx install "{source}"        # then: rh-mcp',
            f'  python3 -m venv ~/.rh-mcp && ~/.rh-mcp/bin/pip install "{source}"   # then: ~/.rh-mcp/bin/rh-mcp',
            "An MCP client can start that rh-mcp by its absolute path (see docs/mcp.md, Client configuration).",
            "LangChain code in this environment can keep using rh_tools.langchain: it does not need mcp.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    config, ns = parse_args(argv)
    # stdout belongs to the protocol in stdio mode: logs go to stderr only, and never hold the key.
    logging.basicConfig(level=config.log_level, stream=sys.stderr, format="rh-mcp %(levelname)s %(name)s: %(message)s")
    problem = mcp_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        import anyio

        from .server import build_server, tools_list_tokens
    except ImportError as exc:  # mcp 2.x is installed but something it needs is missing or broken
        print(
            f"rh-mcp could not load the MCP SDK (mcp {_installed('mcp')}; it needs {_MCP_NEEDED}): {exc}",
            file=sys.stderr,
        )
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
