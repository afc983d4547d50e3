"""Argument schemas for the default tools in the form every provider's strict mode accepts.

OpenAI strict function calling, Anthropic strict tool use and Gemini function declarations each
take only a subset of JSON Schema, and the converters people use (``bind_tools(strict=True)`` in
langchain-openai / langchain-anthropic, the OpenAI Agents SDK) rewrite a schema into that subset
by force: every property becomes required and every object closed. A schema that is not ready
for this is silently broken by it (a free-form ``params`` object turns into ``{}``; an optional
``category`` enum becomes a forced choice). :func:`strict_ready` writes the schema so that the
rewrite changes nothing that matters:

- optional choices, numbers and flags are nullable (``anyOf [X, null]``): forced to be present,
  they can still say "not set" (a null is read as "not set" by the argument models); optional text
  and lists say it with "" and [];
- every object is closed (``additionalProperties: false``) and has properties (no free-form
  objects: those become JSON text fields in the argument models);
- keywords a strict mode refuses (``default``, ``minimum`` …, ``maxLength`` …, ``minItems`` > 1,
  ``const``) are written into the description instead, and the argument models still enforce
  them;
- no titles, no ``$ref``: nested models are inlined (some MCP clients do not resolve ``$ref``).

Rules, as documented by each provider:
https://platform.openai.com/docs/guides/structured-outputs#supported-schemas,
https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations,
https://ai.google.dev/api/caching#Schema (the OpenAPI subset of Gemini function declarations).
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = ["StrictSchemaError", "strict_ready"]

# Anthropic's strict mode allows minItems 0 or 1 only; OpenAI allows more. The portable limit is 1.
_MAX_PORTABLE_MIN_ITEMS = 1


class StrictSchemaError(ValueError):
    """An argument model cannot be written in the portable form (a bug in the model, caught by tests)."""


def strict_ready(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` (an argument model's JSON schema) in the form every strict mode accepts."""
    defs = schema.get("$defs") or {}
    root = _inline(copy.deepcopy(schema), defs)
    root.pop("$defs", None)
    root.pop("title", None)
    root.pop("description", None)  # the tool's description says it once
    if root.get("type") != "object":
        raise StrictSchemaError("tool arguments must be an object")
    return _node(root, path="(arguments)", is_root=True)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = copy.deepcopy(defs[ref.removeprefix("#/$defs/")])
            target.pop("description", None)  # a model's docstring is for developers; the field says what it is for
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**target, **rest}, defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _limits_text(node: dict[str, Any]) -> list[str]:
    """Move what strict modes refuse out of the schema and into words (the models still enforce it)."""
    said: list[str] = []
    low = node.pop("minimum", None)
    high = node.pop("maximum", None)
    if low is not None and high is not None:
        said.append(f"{_num(low)} to {_num(high)}")
    elif low is not None:
        said.append(f"at least {_num(low)}")
    elif high is not None:
        said.append(f"at most {_num(high)}")
    for key, words in (
        ("exclusiveMinimum", "more than"),
        ("exclusiveMaximum", "less than"),
        ("multipleOf", "a multiple of"),
    ):
        if key in node:
            said.append(f"{words} {_num(node.pop(key))}")
    if "maxLength" in node:
        said.append(f"at most {node.pop('maxLength')} characters")
    if "minLength" in node:
        said.append(f"at least {node.pop('minLength')} characters")
    if "pattern" in node:
        said.append(f"matching {node.pop('pattern')}")
    if "maxItems" in node:
        said.append(f"at most {node.pop('maxItems')} items")
    if node.get("minItems", 0) > _MAX_PORTABLE_MIN_ITEMS:
        said.append(f"at least {node.pop('minItems')} items")
    default = node.pop("default", None)
    if default not in (None, "", [], {}):
        said.append(f"default {json.dumps(default, ensure_ascii=False)}")
    return said


def _num(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _with_words(description: str | None, said: list[str]) -> str | None:
    if not said:
        return description
    extra = "; ".join(said)
    if not description:
        return extra[:1].upper() + extra[1:] + "."
    if description.endswith("."):
        return f"{description[:-1]} ({extra})."
    return f"{description} ({extra})"


def _node(node: dict[str, Any], *, path: str, is_root: bool = False) -> dict[str, Any]:
    node.pop("title", None)
    if "const" in node:
        node["enum"] = [node.pop("const")]
    description = _with_words(node.pop("description", None), _limits_text(node))
    if "anyOf" in node:
        node["anyOf"] = [_node(branch, path=path) for branch in node["anyOf"]]
    elif "type" not in node and "enum" not in node:
        raise StrictSchemaError(f"{path}: no type (free-form values cannot be written for strict modes)")
    if node.get("type") == "array":
        if not isinstance(node.get("items"), dict):
            raise StrictSchemaError(f"{path}: array without typed items")
        node["items"] = _node(node["items"], path=f"{path}[]")
    if node.get("type") == "object":
        props = node.get("properties") or {}
        if not props and not is_root:
            raise StrictSchemaError(f"{path}: object without properties (use a JSON text field instead)")
        required = list(node.get("required") or [])
        node["properties"] = {
            name: _optional(_node(sub, path=f"{path}.{name}"), name in required) for name, sub in props.items()
        }
        node["additionalProperties"] = False
        if required:
            node["required"] = required
    if description:
        node["description"] = description
    return node


def _optional(node: dict[str, Any], required: bool) -> dict[str, Any]:
    """A choice, number or flag that may be left out is written nullable, so that a strict rewrite which
    requires it can still say "not set". Text and lists are not: "" and [] already say it, and every
    union counts against Anthropic's per-request limit of 16 (https://platform.claude.com/docs/en/
    build-with-claude/structured-outputs, "Explicit limits")."""
    if required or ("enum" not in node and node.get("type") in ("string", "array")):
        return node
    description = node.pop("description", None)
    if "anyOf" in node:
        branches = list(node.pop("anyOf"))
    else:
        branches = [dict(node)]
        node.clear()
    if not any(b.get("type") == "null" for b in branches):
        branches.append({"type": "null"})
    out: dict[str, Any] = {"anyOf": branches, **node}
    if description:
        out["description"] = description
    return out
