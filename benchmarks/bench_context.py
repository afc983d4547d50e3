"""Goal 6: what the tool definitions cost an agent's context: default surface <= 2,000 tokens.

* MCP: ``python -m mcp_server`` started over stdio by the MCP SDK client; ``tools/list`` as the
  client receives it (wire JSON of the tools); the all-tools surface (``--all-tools``) the same way.
* LangChain: ``RunningHubToolkit().get_tools()`` converted with
  ``langchain_core.utils.function_calling.convert_to_openai_tool`` (what a chat model is sent);
  all tools = the toolkit with every live endpoint named.
* Per endpoint: each endpoint's own tool definition (MCP), median and range; and the
  ``describe_model`` text an agent reads on demand from the default surface.
* Reachability: through the stdio server's default surface, ``describe_model`` answers for every
  live catalogue endpoint (and ``run_model`` takes any of those names).

Tokens: characters / 4 of the compact JSON (the convention the MCP tests use), and a real BPE
tokenizer when one loads offline: ``tiktoken`` (needs to download its BPE file: fails without
network) or ``bpe_openai`` (o200k/cl100k tables ship in the wheel; not a project dependency:
``pip install --no-deps --target /tmp/bpe bpe-openai`` and run with ``PYTHONPATH=/tmp/bpe``).

    python benchmarks/bench_context.py              # about 20 s
    PYTHONPATH=/tmp/bpe python benchmarks/bench_context.py   # with real token counts
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from _common import KEY, ROOT, median, print_header, table, verdict

BUDGET = 2_000


def tokenizers() -> tuple[dict[str, Callable[[str], int]], list[str]]:
    """Real tokenizers that work here, and what was tried."""
    found: dict[str, Callable[[str], int]] = {}
    notes: list[str] = []
    try:
        import tiktoken

        enc = tiktoken.get_encoding("o200k_base")
        found["tiktoken o200k"] = lambda s: len(enc.encode(s))
        notes.append("tiktoken: loaded o200k_base")
    except Exception as exc:  # noqa: BLE001 - anything here means "not available offline"
        notes.append(f"tiktoken: unavailable ({type(exc).__name__}: {str(exc)[:80]})")
    try:
        import bpe_openai

        for name in ("o200k_base", "cl100k_base"):
            enc = bpe_openai.get_encoding(name)
            found[f"{name.split('_')[0]}, bpe_openai"] = lambda s, enc=enc: len(enc.encode(s))
        notes.append("bpe_openai: o200k_base and cl100k_base loaded offline (tables ship in the wheel)")
    except Exception as exc:  # noqa: BLE001
        notes.append(f"bpe_openai: unavailable ({type(exc).__name__}: {str(exc)[:80]})")
    return found, notes


def wire(tools: Any) -> str:
    return json.dumps([t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools], ensure_ascii=False)


async def mcp_lists() -> tuple[str, str, list[str], int, list[str]]:
    """(default wire JSON, all-tools wire JSON, default names, endpoints described, failures)."""
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    from rh_tools import catalogue

    env = {**os.environ, "RUNNINGHUB_API_KEY": KEY, "RUNNINGHUB_BASE_URL": "http://127.0.0.1:9"}

    def params(*args: str) -> StdioServerParameters:
        return StdioServerParameters(command=sys.executable, args=["-m", "mcp_server", *args], env=env, cwd=str(ROOT))

    async with Client(params()) as client:
        default = (await client.list_tools()).tools
        failures = []
        live = [ep for ep in catalogue.all() if not ep.deprecated]
        for ep in live:
            res = await client.call_tool("describe_model", {"name": ep.tool_name})
            if res.is_error:
                failures.append(ep.tool_name)
    async with Client(params("--all-tools")) as client:
        every = (await client.list_tools()).tools
    return wire(default), wire(every), [t.name for t in default], len(live), failures


def langchain_lists() -> tuple[str, str, int, int]:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from rh_tools import AsyncRunningHub, RunningHub, catalogue
    from rh_tools.langchain import RunningHubToolkit

    rh, arh = RunningHub(api_key=KEY), AsyncRunningHub(api_key=KEY)
    default = RunningHubToolkit(client=rh, async_client=arh).get_tools()
    names = [ep.tool_name for ep in catalogue.all() if not ep.deprecated]
    every = RunningHubToolkit(client=rh, async_client=arh, tools=names).get_tools()
    dump = lambda ts: json.dumps([convert_to_openai_tool(t) for t in ts], ensure_ascii=False)  # noqa: E731
    return dump(default), dump(every), len(default), len(every)


def per_endpoint() -> tuple[list[int], list[int]]:
    """chars of each endpoint's own MCP tool definition, and of its describe_model text."""
    from mcp_server.server import tool_definition
    from rh_tools import catalogue
    from rh_tools.toolspecs import describe, endpoint_spec

    defs, texts = [], []
    for ep in catalogue.all():
        if ep.deprecated:
            continue
        defs.append(len(wire([tool_definition(endpoint_spec(ep))])))
        res = describe(ep)
        texts.append(len(getattr(res, "text", None) or str(res)))
    return defs, texts


_FIELDS = ("title", "description", "inputSchema", "outputSchema", "annotations")


def per_tool_table(wire_json: str, toks: dict[str, Callable[[str], int]]) -> str:
    """Where the default tools/list's tokens go: per tool and per field, with the first real tokenizer
    (o200k where bpe_openai loads), else chars/4. A field's cost is that of ``"key": value`` in the
    tool's JSON, so the fields and the braces/name of each tool add up to its total."""
    name, count = next(iter(toks.items()), ("chars/4", lambda s: len(s) // 4))

    def cost(key: str, value: Any) -> int:
        return count(json.dumps({key: value}, ensure_ascii=False)) - count("{}") if value is not None else 0

    rows, sums = [], dict.fromkeys(("total", *_FIELDS), 0)
    for tool in json.loads(wire_json):
        cells = {"total": count(json.dumps(tool, ensure_ascii=False)), **{f: cost(f, tool.get(f)) for f in _FIELDS}}
        rows.append([tool["name"], *(cells[k] or "" for k in sums)])
        sums = {k: sums[k] + cells[k] for k in sums}
    rows.append(["all (sum of the tools)", *sums.values()])
    return table([f"MCP default tool ({name} tokens)", *sums], rows)


def main() -> None:
    print_header("Agent context cost of the tool definitions (goal 6)")
    toks, notes = tokenizers()
    mcp_default, mcp_all, names, n_live, failures = asyncio.run(mcp_lists())
    lc_default, lc_all, lc_n, lc_all_n = langchain_lists()
    defs, texts = per_endpoint()

    def counts(text: str) -> list[str]:
        return [f"{len(text) // 4:,}"] + [f"{f(text):,}" for f in toks.values()]

    heads = [
        "surface",
        "tools",
        "chars",
        "tokens (chars/4)",
        *[f"tokens ({k})" for k in toks],
        "goal ≤ 2,000",
    ]

    def goal(text: str) -> str:
        out = f"chars/4 {verdict(len(text) // 4 <= BUDGET)}"
        for name, f in toks.items():
            n = f(text)
            over = f", over by {100 * (n - BUDGET) / BUDGET:.0f} %" if n > BUDGET else ""
            out += f"; {name.split(',')[0]} {verdict(n <= BUDGET)}{over}"
        return out

    rows = [
        [
            "MCP tools/list, default",
            len(names),
            f"{len(mcp_default):,}",
            *counts(mcp_default),
            goal(mcp_default),
        ],
        [
            "LangChain toolkit, default (OpenAI tool schemas)",
            lc_n,
            f"{len(lc_default):,}",
            *counts(lc_default),
            goal(lc_default),
        ],
        [
            "MCP tools/list, --all-tools",
            mcp_all.count('"inputSchema"'),
            f"{len(mcp_all):,}",
            *counts(mcp_all),
            "",
        ],
        ["LangChain toolkit, every endpoint", lc_all_n, f"{len(lc_all):,}", *counts(lc_all), ""],
    ]
    print(table(heads, rows))
    print()
    print(
        table(
            ["per endpoint (live endpoints)", "median tokens", "min", "max"],
            [
                [
                    "own MCP tool definition (if exposed)",
                    f"{median(defs) / 4:.0f}",
                    min(defs) // 4,
                    max(defs) // 4,
                ],
                [
                    "describe_model answer (read on demand)",
                    f"{median(texts) / 4:.0f}",
                    min(texts) // 4,
                    max(texts) // 4,
                ],
            ],
        )
    )
    print()
    parts: dict[str, int] = {}
    for tool in json.loads(mcp_default):
        for key, value in tool.items():
            parts[key] = parts.get(key, 0) + len(json.dumps({key: value}, ensure_ascii=False)) - 2
    print(
        table(
            ["MCP default tools/list by field", "chars", "tokens (chars/4)", "share"],
            [
                [k, f"{v:,}", v // 4, f"{100 * v / len(mcp_default):.0f} %"]
                for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
            ],
        )
    )
    print()
    print(per_tool_table(mcp_default, toks))
    print()
    print(f"default MCP tools: {', '.join(names)}")
    print(
        f"reachability: describe_model answered for {n_live - len(failures)} / {n_live} live endpoints "
        "over stdio" + (f"; failed: {failures[:5]}" if failures else "") + "; run_model takes the same names."
    )
    print("tokenizers: " + "; ".join(notes))


if __name__ == "__main__":
    main()
