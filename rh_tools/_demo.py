"""``rh-tools demo``: grok_image_to_image three ways — the client, a LangChain tool, the MCP server.

With no ``RUNNINGHUB_API_KEY`` (or with ``--emulator``) it starts the built-in emulator on loopback
and says so, so the whole path runs on a fresh machine without credits. With a key it calls
RunningHub for real (three runs: it costs credits).
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["run_demo"]

DEMO_KEY = "0123456789abcdef0123456789abcdef"  # any 32-hex key satisfies the emulator
PROMPT = "Turn this sketch into a neon-lit cyberpunk poster, keep the layout"


def _say(text: str) -> None:
    print(text, flush=True)


def _sample_image(out_dir: Path) -> Path:
    """A small local PNG to edit: local paths are uploaded by the tools, as an agent's would be."""
    target = out_dir / "input-sketch.png"
    target.write_bytes(resources.files("rh_tools.emulator").joinpath("assets/sample.png").read_bytes())
    return target


def _via_client(image: Path, out_dir: Path) -> None:
    from ._client import RunningHub
    from ._money import cost_text, default_currency

    _say("\n[1/3] Python client: RunningHub().run('grok_image_to_image', ...)")
    with RunningHub() as rh:
        result = rh.run(
            "grok_image_to_image",
            model="g-4.2",
            prompt=PROMPT,
            imageUrl=str(image),
            on_status=lambda t, e: _say(f"      {t.status:<8} {e:5.1f}s"),
        )
        files = result.download(out_dir / "client")
    _say(f"      task {result.task_id}: {result.urls[0] if result.urls else '(no url)'}")
    _say(f"      cost: {cost_text(result.usage, default_currency())}; saved {files[0] if files else '-'}")


def _via_langchain(image: Path, out_dir: Path) -> None:
    try:
        from .langchain import RunningHubToolkit
    except ImportError:
        _say("\n[2/3] LangChain: skipped (pip install 'rh-tools[langchain]')")
        return
    _say("\n[2/3] LangChain tool: RunningHubToolkit(tools=['grok_image_to_image']) → tool.invoke(tool_call)")
    toolkit = RunningHubToolkit(
        tools=["grok_image_to_image"],
        include_generic=False,
        download_dir=out_dir / "langchain",
        allowed_dirs=[image.parent],  # the tools read no local file outside the folders allowed here
    )
    tool = toolkit.get_tools()[0]
    msg = tool.invoke(
        {
            "type": "tool_call",
            "id": "demo-1",
            "name": tool.name,
            "args": {"prompt": PROMPT, "imageUrl": str(image)},
        }
    )
    _say("      ToolMessage content:\n" + "\n".join("        " + line for line in str(msg.content).splitlines()))
    toolkit.close()


async def _mcp_call(image: Path, out_dir: Path) -> str:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "rh_mcp",  # the MCP server package as installed (mcp_server/ in the repository)
            "--tools",
            "grok_image_to_image",
            "--allow-dir",
            str(image.parent),
            "--output-dir",
            str(out_dir / "mcp"),
        ],
        env={**os.environ},
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        _say(f"      tools/list: {len(listed.tools)} tools ({', '.join(t.name for t in listed.tools[:4])}, …)")
        result = await session.call_tool("grok_image_to_image", {"prompt": PROMPT, "imageUrl": str(image)})
        return "\n".join(getattr(c, "text", f"<{c.type}: {getattr(c, 'uri', '')}>") for c in result.content)


def _via_mcp(image: Path, out_dir: Path) -> None:
    try:
        import mcp  # noqa: F401
    except ImportError:
        _say("\n[3/3] MCP: skipped (pip install 'rh-tools[mcp]')")
        return
    _say("\n[3/3] MCP server over stdio: rh-mcp --tools grok_image_to_image → tools/call")
    text = asyncio.run(_mcp_call(image, out_dir))
    _say("      result content:\n" + "\n".join("        " + line for line in text.splitlines()))


def run_demo(out_dir: Path, force_emulator: bool = False) -> int:
    out_dir = out_dir.expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    live = bool(os.environ.get("RUNNINGHUB_API_KEY")) and not force_emulator
    with ExitStack() as stack:
        saved = {
            k: os.environ.get(k) for k in ("RUNNINGHUB_API_KEY", "RUNNINGHUB_BASE_URL", "RUNNINGHUB_POLL_INTERVAL")
        }
        stack.callback(
            lambda: [os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v) for k, v in saved.items()]
        )
        if live:
            _say(
                "Using RunningHub at "
                + (os.environ.get("RUNNINGHUB_BASE_URL") or "https://www.runninghub.ai")
                + " with your RUNNINGHUB_API_KEY: this demo makes 3 paid runs."
            )
        else:
            from .emulator import CLI_DURATIONS, Emulator

            emu = stack.enter_context(Emulator(port=0, durations={**CLI_DURATIONS, "image": 2.0}))
            _say(
                "No RUNNINGHUB_API_KEY set: using the built-in RunningHub emulator at "
                f"{emu.base_url} (no network, no credits; results are sample files)."
            )
            os.environ.update(
                {
                    "RUNNINGHUB_API_KEY": DEMO_KEY,
                    "RUNNINGHUB_BASE_URL": emu.base_url,
                    "RUNNINGHUB_POLL_INTERVAL": "0.2",
                }
            )
        image = _sample_image(out_dir)
        steps: list[Any] = [_via_client, _via_langchain, _via_mcp]
        for step in steps:
            step(image, out_dir)
    _say(f"\nDone. Results are under {out_dir}")
    return 0
