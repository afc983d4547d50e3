"""Drive rh-mcp from langchain-mcp-adapters (which pins mcp<2): proof that older-SDK clients work.

Runs inside its own virtual environment (see tests/test_mcp_adapters.py), so it imports nothing
from this repository. It starts the server over stdio, loads its tools as LangChain tools, runs
one model, sends one bad call, and prints a JSON summary on stdout for the test to check.

Usage: python mcp_adapters_client.py '<server command as a JSON list>'
The server's environment (API key, emulator URL) is inherited from this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from langchain_mcp_adapters.client import MultiServerMCPClient


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        parts.append(block.get("text", "") if isinstance(block, dict) else str(block))
    return "\n".join(parts)


async def main(command: list[str]) -> dict[str, Any]:
    client = MultiServerMCPClient(
        {
            "runninghub": {
                "transport": "stdio",
                "command": command[0],
                "args": command[1:],
                "env": dict(os.environ),
            },
        }
    )
    tools = {t.name: t for t in await client.get_tools()}
    tool = tools["grok_image_to_image"]
    call = {
        "type": "tool_call",
        "id": "call-1",
        "name": tool.name,
        "args": {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"},
    }
    message = await tool.ainvoke(call)
    artifact = message.artifact or {}
    bad = await tools["run_model"].ainvoke(
        {
            "type": "tool_call",
            "id": "call-2",
            "name": "run_model",
            "args": {"name": "grok_image_to_image", "params": {"prompt": "x", "model": "g-99"}},
        }
    )
    return {
        "tools": sorted(tools),
        "schema_properties": sorted(tool.args),
        "text": _text(message.content),
        "content_types": [b.get("type") for b in message.content] if isinstance(message.content, list) else ["str"],
        "structured": artifact.get("structured_content") if isinstance(artifact, dict) else None,
        "bad_status": getattr(bad, "status", None),
        "bad_text": _text(bad.content),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
