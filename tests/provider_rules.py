"""Each model provider's rules for tool definitions, checked offline.

Where a provider ships its own converter or validator it is used (the Anthropic SDK's strict-schema
transform, google-genai's ``JSONSchema``/``Schema`` types, langchain-google-genai's converter); where a
rule is only documented, it is written here with the page that states it. Every check returns a
list of problems (empty: the tool passes), so one failing run names every tool and rule at once.

Run ``python tests/provider_rules.py`` for the pass matrix (tools x providers) of both surfaces.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

# Tool names. OpenAI: https://platform.openai.com/docs/api-reference/chat/create (tools[].function.name,
# "a-z, A-Z, 0-9, underscores and dashes, with a maximum length of 64"); Anthropic:
# https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use ("^[a-zA-Z0-9_-]{1,64}$");
# Gemini: google-genai FunctionDeclaration.name ("must start with a letter or an underscore ... a-z, A-Z,
# 0-9, underscores, dots, colons and dashes"; 128 there, 64 in older docs: we hold the stricter one).
OPENAI_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ANTHROPIC_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
GEMINI_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
# Claude Code names MCP tools mcp__<server>__<tool> and refuses names over 64 characters
# (https://docs.claude.com/en/docs/claude-code/mcp): with the server registered as "rh", 55 are left.
CLAUDE_CODE_SERVER = "rh"
CLAUDE_CODE_MAX = 64 - len(f"mcp__{CLAUDE_CODE_SERVER}__")

# OpenAI strict mode, https://platform.openai.com/docs/guides/structured-outputs#supported-schemas:
# supported types and keywords; "additionalProperties: false must always be set in objects"; "all
# fields must be required"; the root must be an object, not anyOf; at most 10 levels of nesting,
# 5,000 properties and 1,000 enum values. `default` is left out: Azure OpenAI refuses it in strict
# schemas (https://github.com/openai/openai-agents-python/issues/4390).
OPENAI_STRICT_KEYWORDS = frozenset(
    {
        "type", "description", "title", "properties", "required", "additionalProperties", "items", "enum",
        "const", "anyOf", "$ref", "$defs", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    }
)  # fmt: skip
OPENAI_MAX_DEPTH, OPENAI_MAX_PROPERTIES, OPENAI_MAX_ENUM_VALUES = 10, 5000, 1000

# Anthropic strict tool use, https://platform.claude.com/docs/en/build-with-claude/structured-outputs
# ("Explicit limits"): per request at most 20 strict tools, 24 optional parameters (every property not
# in `required`, at any depth) and 16 parameters using anyOf or type arrays.
ANTHROPIC_MAX_STRICT_TOOLS, ANTHROPIC_MAX_OPTIONAL, ANTHROPIC_MAX_UNIONS = 20, 24, 16

_SUBSCHEMA_MAPS = ("properties", "$defs")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties")


def walk(schema: Any, path: str = "$", depth: int = 0) -> Iterator[tuple[str, dict[str, Any], int]]:
    """Every schema node: (path, node, depth of object nesting)."""
    if not isinstance(schema, dict):
        return
    yield path, schema, depth
    inner = depth + (1 if schema.get("type") == "object" else 0)
    for key in _SUBSCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            yield from walk(sub, f"{path}.{name}", inner)
    for key in _SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            yield from walk(sub, f"{path}.{key}[{i}]", depth)
    for key in _SUBSCHEMA_ONE:
        if isinstance(schema.get(key), dict):
            yield from walk(schema[key], f"{path}.{key}", inner if key != "not" else depth)


@functools.cache
def _metaschema_error(schema_json: str) -> str | None:
    """Draft 2020-12 metaschema check, once per distinct schema (it is the slow part of these checks)."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as exc:
        return exc.message
    return None


def _is_union(node: dict[str, Any]) -> bool:
    return "anyOf" in node or isinstance(node.get("type"), list)


# ------------------------------------------------------------------ rules every surface keeps (issue #13)


def common_problems(name: str, description: str, params: dict[str, Any]) -> list[str]:
    """What every provider needs and MCP Inspector's --strict lint checks: typed, no const, no
    property-less nested objects, no type arrays, root description not repeated, valid JSON Schema."""
    out: list[str] = []
    invalid = _metaschema_error(json.dumps(params, sort_keys=True))
    if invalid:
        out.append(f"{name}: not valid JSON Schema: {invalid}")
    if params.get("type") != "object":
        out.append(f"{name}: parameters must be an object schema")
    for key in ("anyOf", "oneOf", "allOf", "enum", "not"):
        if key in params:
            out.append(f"{name}: '{key}' at the top level")  # refused by OpenAI and Anthropic
    if params.get("description") or params.get("title"):
        out.append(f"{name}: the schema root repeats a title/description (the tool's own say it)")
    for path, node, _ in walk(params):
        if "const" in node:
            out.append(f"{name} {path}: const (use a one-value enum)")
        if isinstance(node.get("type"), list):
            out.append(f"{name} {path}: type array {node['type']} (use anyOf)")
        if path != "$" and not any(k in node for k in ("type", "anyOf", "enum", "$ref")):
            out.append(f"{name} {path}: no type")
        if path != "$" and node.get("type") == "object" and not node.get("properties"):
            out.append(f"{name} {path}: object parameter without properties")
    return out


# ------------------------------------------------------------------ OpenAI


def openai_problems(fn: dict[str, Any]) -> list[str]:
    """Non-strict function calling: https://platform.openai.com/docs/guides/function-calling."""
    name = fn.get("name", "?")
    out = [] if OPENAI_NAME.fullmatch(name) else [f"{name}: name must match {OPENAI_NAME.pattern}"]
    params = fn.get("parameters") or {"type": "object", "properties": {}}
    return out + common_problems(name, fn.get("description", ""), params)


def openai_strict_problems(fn: dict[str, Any]) -> list[str]:
    """Strict function calling (``strict: true``) on top of the non-strict rules."""
    name = fn.get("name", "?")
    out = openai_problems(fn)
    if fn.get("strict") is not True:
        out.append(f"{name}: not marked strict")
    params = fn.get("parameters") or {}
    properties = enums = 0
    for path, node, depth in walk(params):
        unsupported = set(node) - OPENAI_STRICT_KEYWORDS
        if unsupported:
            out.append(f"{name} {path}: keywords strict mode refuses: {sorted(unsupported)}")
        if depth > OPENAI_MAX_DEPTH:
            out.append(f"{name} {path}: nested deeper than {OPENAI_MAX_DEPTH} objects")
        enums += len(node.get("enum") or [])
        if node.get("type") == "object":
            props = node.get("properties") or {}
            properties += len(props)
            if node.get("additionalProperties") is not False:
                out.append(f"{name} {path}: additionalProperties must be false")
            if sorted(node.get("required") or []) != sorted(props):
                out.append(f"{name} {path}: every property must be required")
    if properties > OPENAI_MAX_PROPERTIES or enums > OPENAI_MAX_ENUM_VALUES:
        out.append(f"{name}: {properties} properties / {enums} enum values exceed strict-mode limits")
    return out


# ------------------------------------------------------------------ Anthropic


def anthropic_problems(tool: dict[str, Any]) -> list[str]:
    """Non-strict tool use: https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use
    (name pattern; input_schema a JSON Schema object, no oneOf/anyOf/allOf at the top level)."""
    name = tool.get("name", "?")
    out = [] if ANTHROPIC_NAME.fullmatch(name) else [f"{name}: name must match {ANTHROPIC_NAME.pattern}"]
    return out + common_problems(name, tool.get("description", ""), tool.get("input_schema") or {})


def anthropic_strict_problems(tools: list[dict[str, Any]]) -> list[str]:
    """Strict tool use, judged by the Anthropic SDK's own transform: a schema inside the supported
    subset comes out unchanged (anything unsupported is moved into a description), plus the
    documented per-request limits."""
    from anthropic.lib._parse._transform import transform_schema

    out: list[str] = []
    optional = unions = 0
    strict = [t for t in tools if t.get("strict")]
    for tool in tools:
        name, schema = tool.get("name", "?"), tool.get("input_schema") or {}
        out += anthropic_problems(tool)
        if not tool.get("strict"):
            out.append(f"{name}: not marked strict")
        transformed = transform_schema(copy.deepcopy(schema))
        if transformed != _with_closed_objects(schema):
            out.append(f"{name}: outside the strict subset (the SDK would rewrite it): {_diff(schema, transformed)}")
        for path, node, _ in walk(schema):
            if node.get("type") == "object" and node.get("additionalProperties") is not False:
                out.append(f"{name} {path}: additionalProperties must be false")
            props = node.get("properties") or {}
            optional += len(set(props) - set(node.get("required") or []))
            unions += sum(1 for sub in props.values() if isinstance(sub, dict) and _is_union(sub))
    if len(strict) > ANTHROPIC_MAX_STRICT_TOOLS:
        out.append(f"{len(strict)} strict tools in one request (limit {ANTHROPIC_MAX_STRICT_TOOLS})")
    if optional > ANTHROPIC_MAX_OPTIONAL:
        out.append(f"{optional} optional parameters across strict tools (limit {ANTHROPIC_MAX_OPTIONAL})")
    if unions > ANTHROPIC_MAX_UNIONS:
        out.append(f"{unions} union-typed parameters across strict tools (limit {ANTHROPIC_MAX_UNIONS})")
    return out


def _with_closed_objects(schema: Any) -> Any:
    """What transform_schema would give for an already-supported schema (it always writes
    additionalProperties: false on objects and keeps keys in its own order)."""
    if isinstance(schema, dict):
        out = {k: _with_closed_objects(v) for k, v in schema.items()}
        if "enum" in out or "const" in out:
            out.pop("type", None)  # the SDK states a literal's type by its values alone
        if out.get("type") == "object":
            out["additionalProperties"] = False
            out.setdefault("properties", {})
        return out
    if isinstance(schema, list):
        return [_with_closed_objects(v) for v in schema]
    return schema


def _diff(before: Any, after: Any, path: str = "$") -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _diff(before.get(key), after.get(key), f"{path}.{key}")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            if b != a:
                return _diff(b, a, f"{path}[{i}]")
    return f"{path}: {before!r} -> {after!r}"


# ------------------------------------------------------------------ Gemini


def gemini_problems(name: str, description: str, params: dict[str, Any]) -> list[str]:
    """Gemini function declarations, judged by google-genai's own types: the parameters must parse as
    its ``JSONSchema`` (unknown keywords such as const are refused) and convert to the ``Schema`` of the
    API with ``raise_error_on_unsupported_field``; plus the documented OpenAPI-subset rules
    (https://ai.google.dev/api/caching#Schema): string enums, one type per node, non-empty properties
    on objects (a parameterless function is declared with no parameters, as google-genai's own
    ``FunctionDeclaration.from_callable`` does)."""
    from google.genai import types

    out = [] if GEMINI_NAME.fullmatch(name) else [f"{name}: name must match {GEMINI_NAME.pattern}"]
    out += common_problems(name, description, params)
    for path, node, _ in walk(params):
        if any(not isinstance(v, str) for v in node.get("enum") or []):
            out.append(f"{name} {path}: enum values must be strings")
    try:
        js = types.JSONSchema.model_validate(params)
        schema = types.Schema.from_json_schema(
            json_schema=js, api_option="GEMINI_API", raise_error_on_unsupported_field=True
        )
        has_params = bool(params.get("properties"))
        types.FunctionDeclaration(name=name, description=description, parameters=schema if has_params else None)
    except Exception as exc:  # pydantic ValidationError or the SDK's ValueError: both mean "refused"
        out.append(f"{name}: google-genai refuses the parameters: {str(exc).splitlines()[0]}")
    return out


def gemini_langchain_problems(tools: list[Any]) -> list[str]:
    """langchain-google-genai's converter (what ChatGoogleGenerativeAI sends) must keep every argument and
    log no "not supported in schema, ignoring" warning."""
    from langchain_google_genai._function_utils import convert_to_genai_function_declarations

    out: list[str] = []
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Catch(level=logging.WARNING)
    logger = logging.getLogger("langchain_google_genai")
    logger.addHandler(handler)
    try:
        converted = convert_to_genai_function_declarations(tools)
    finally:
        logger.removeHandler(handler)
    # Gemini's schema subset has no additionalProperties: the converter drops it (and says so); a
    # closed object is what Gemini assumes anyway. Any other dropped keyword is a lost constraint.
    out += [f"langchain-google-genai: {m}" for r in records if "'additionalProperties'" not in (m := r.getMessage())]
    decls = {d.name: d for tool in converted for d in (tool.function_declarations or [])}
    for tool in tools:
        decl = decls.get(tool.name)
        wanted = set((tool.tool_call_schema.get("properties") or {}) if isinstance(tool.tool_call_schema, dict) else ())
        got = set((decl.parameters.properties or {}) if decl is not None and decl.parameters else ())
        if decl is None or wanted != got:
            out.append(f"{tool.name}: langchain-google-genai kept {sorted(got)} of {sorted(wanted)}")
    return out


# ------------------------------------------------------------------ every tool of both surfaces

Report = dict[str, list[str]]  # tool name -> problems


def check_all() -> dict[tuple[str, str], Report]:
    """Problems of every tool, by (surface, rule set). Default surface: strict and non-strict rules and
    Gemini; per-endpoint tools (all of them, deprecated included): non-strict rules and Gemini. Each
    LangChain tool goes through the provider's own converter first, as ``bind_tools`` would send it."""
    from langchain_anthropic.chat_models import convert_to_anthropic_tool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from mcp_server import ServerConfig
    from mcp_server.config import CATEGORIES
    from mcp_server.server import select_specs, tool_definition
    from rh_tools import catalogue
    from rh_tools.langchain import RunningHubToolkit
    from rh_tools.toolspecs import endpoint_spec

    default = RunningHubToolkit().get_tools()
    every = RunningHubToolkit(categories=list(CATEGORIES), include_generic=False, include_deprecated=True).get_tools()
    mcp_default = [tool_definition(s) for s in select_specs(ServerConfig())]
    mcp_every = [tool_definition(endpoint_spec(ep)) for ep in catalogue.all()]

    def oai(tool: Any, strict: bool | None = None) -> dict[str, Any]:
        return convert_to_openai_tool(tool, strict=strict)["function"]  # type: ignore[no-any-return]

    def mcp_fn(t: Any) -> dict[str, Any]:
        return {"name": t.name, "description": t.description or "", "parameters": t.input_schema}

    def mcp_anthropic(t: Any, strict: bool = False) -> dict[str, Any]:
        return {"name": t.name, "description": t.description or "", "input_schema": t.input_schema, "strict": strict}

    def lc_params(t: Any) -> dict[str, Any]:
        return {k: v for k, v in oai(t)["parameters"].items() if k not in ("title", "description")}

    def lc_gemini(t: Any) -> list[str]:
        return gemini_langchain_problems([t]) + gemini_problems(t.name, t.description, lc_params(t))

    def each(tools: list[Any], problems: Any) -> Report:
        return {t.name: problems(t) for t in tools}

    out: dict[tuple[str, str], Report] = {}
    for surface, lc_tools, mcp_tools in (("default", default, mcp_default), ("per-endpoint", every, mcp_every)):
        out[(surface, "LangChain OpenAI")] = each(lc_tools, lambda t: openai_problems(oai(t)))
        out[(surface, "LangChain Anthropic")] = each(
            lc_tools, lambda t: anthropic_problems(dict(convert_to_anthropic_tool(t)))
        )
        out[(surface, "LangChain Gemini")] = each(lc_tools, lc_gemini)
        out[(surface, "MCP OpenAI")] = each(mcp_tools, lambda t: openai_problems(mcp_fn(t)))
        out[(surface, "MCP Anthropic")] = each(mcp_tools, lambda t: anthropic_problems(mcp_anthropic(t)))
        out[(surface, "MCP Gemini")] = each(
            mcp_tools, lambda t: gemini_problems(t.name, t.description or "", t.input_schema)
        )
    lc_strict_anthropic = [dict(convert_to_anthropic_tool(t, strict=True)) for t in default]
    out[("default", "LangChain OpenAI strict")] = each(default, lambda t: openai_strict_problems(oai(t, True)))
    out[("default", "LangChain Anthropic strict")] = {
        t["name"]: anthropic_strict_problems([t]) for t in lc_strict_anthropic
    }
    out[("default", "MCP OpenAI strict")] = each(
        mcp_default, lambda t: openai_strict_problems(convert_to_openai_tool(mcp_fn(t), strict=True)["function"])
    )
    out[("default", "MCP Anthropic strict")] = each(
        mcp_default, lambda t: anthropic_strict_problems([mcp_anthropic(t, True)])
    )
    # Anthropic's limits are per request: the whole default surface in one request, both ways.
    out[("default", "Anthropic strict, one request")] = {
        "LangChain (all default tools)": anthropic_strict_problems(lc_strict_anthropic),
        "MCP (all default tools)": anthropic_strict_problems([mcp_anthropic(t, True) for t in mcp_default]),
    }
    return out


def matrix() -> dict[tuple[str, str], tuple[int, int]]:
    """(passing, total) tools per surface and rule set, for the docs and reports."""
    return {key: (sum(1 for p in report.values() if not p), len(report)) for key, report in check_all().items()}


if __name__ == "__main__":  # pragma: no cover - a report for people
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for (surface, rules), (ok, total) in matrix().items():
        print(f"{surface:<13} {rules:<32} {ok:>4}/{total}")
