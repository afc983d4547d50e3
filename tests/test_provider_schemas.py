"""Tool definitions every model provider accepts, strict modes included (issue #13).

Every tool of both surfaces (LangChain and MCP) goes through each provider's rules: OpenAI and
Anthropic (non-strict for all, strict for the default surface), Gemini for all. LangChain tools go
through the provider's own converter first, as ``bind_tools`` sends them. The rules live in
``provider_rules.py``, each with the page that states it; the second group of tests shows that
every rule catches what it names. Then strict mode end to end: a strict model's call (every key
present, nulls and empties for "not set") runs a real model on the emulator.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import provider_rules as P
import pytest
from jsonschema import Draft202012Validator
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from mcp_server import ServerConfig, build_server
from mcp_server.server import select_specs, tool_definition
from rh_tools import AsyncRunningHub, RunningHub, catalogue
from rh_tools.emulator import Emulator
from rh_tools.langchain import RunningHubToolkit
from rh_tools.toolspecs import GENERIC_TOOL_NAMES, generic_specs, parse_arguments

KEY = "feedfacecafebeef0123456789abcdef"
GROK = {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"}

DEFAULT_RULES = [
    "LangChain OpenAI", "LangChain Anthropic", "LangChain Gemini", "MCP OpenAI", "MCP Anthropic", "MCP Gemini",
    "LangChain OpenAI strict", "LangChain Anthropic strict", "MCP OpenAI strict", "MCP Anthropic strict",
    "Anthropic strict, one request",
]  # fmt: skip
ENDPOINT_RULES = [
    "LangChain OpenAI",
    "LangChain Anthropic",
    "LangChain Gemini",
    "MCP OpenAI",
    "MCP Anthropic",
    "MCP Gemini",
]


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, str], P.Report]:
    # ~5 s of CPU: 2,100 tool definitions through converters, google-genai types and a metaschema.
    return P.check_all()


@pytest.mark.parametrize(
    ("surface", "rules"),
    [("default", r) for r in DEFAULT_RULES] + [("per-endpoint", r) for r in ENDPOINT_RULES],
)
def test_every_tool_passes_the_provider_rules(
    reports: dict[tuple[str, str], P.Report], surface: str, rules: str
) -> None:
    report = reports[(surface, rules)]
    failing = {name: problems for name, problems in report.items() if problems}
    assert not failing, json.dumps(failing, indent=1, ensure_ascii=False)[:4000]
    if rules != "Anthropic strict, one request":  # every tool was checked, not a sample
        expected = len(GENERIC_TOOL_NAMES) if surface == "default" else len(catalogue.all())
        assert len(report) == expected


def test_every_tool_name_fits_claude_codes_prefix() -> None:
    """Claude Code calls a tool mcp__<server>__<tool> and refuses names over 64: with the server named
    "rh" (as the docs say), every tool name must keep within 55 characters."""
    names = [t.name for t in (tool_definition(s) for s in select_specs(ServerConfig(all_tools=True)))]
    names += [ep.tool_name for ep in catalogue.all()]
    too_long = [n for n in names if len(n) > P.CLAUDE_CODE_MAX]
    assert not too_long and P.CLAUDE_CODE_MAX == 55
    assert all(P.OPENAI_NAME.fullmatch(n) and P.GEMINI_NAME.fullmatch(n) for n in names)


def test_more_tools_than_openai_accepts_is_said_with_guidance(caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default surface and a category that fits: no warning
        RunningHubToolkit().get_tools()
        RunningHubToolkit(categories=["3d"]).get_tools()
    with pytest.warns(UserWarning, match=r"OpenAI refuses a request with more than 128") as caught:
        tools = RunningHubToolkit(output_types=["video"]).get_tools()
    text = str(caught[0].message)
    assert len(tools) > 128 and re.search(r"video \d+", text) and "categories=[...]" in text and "run_model" in text

    caplog.set_level(logging.WARNING, logger="mcp_server")
    build_server(ServerConfig(all_tools=True))
    assert any("more than 128" in r.getMessage() and "--categories" in r.getMessage() for r in caplog.records)
    caplog.clear()
    build_server(ServerConfig(categories=["image"]))
    assert not caplog.records


# ------------------------------------------------------------------ the rules catch what they name

OK = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"], "additionalProperties": False}


def _params(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (_params(kind={"const": "x", "type": "string"}), "const"),
        (_params(anything={"description": "any value"}), "no type"),
        (_params(extra={"type": "object", "additionalProperties": True}), "object parameter without properties"),
        ({**OK, "description": "Runs a model."}, "repeats a title/description"),
        (_params(n={"type": ["string", "null"]}), "type array"),
        ({"anyOf": [OK, OK]}, "'anyOf' at the top level"),
        ({"type": "object", "properties": {"q": {"type": "nonsense"}}}, "not valid JSON Schema"),
    ],
)
def test_common_rules_catch_each_defect(params: dict[str, Any], expected: str) -> None:
    assert P.common_problems("t", "d", OK) == []
    assert any(expected in p for p in P.common_problems("t", "d", params)), P.common_problems("t", "d", params)


def test_openai_strict_rules_catch_open_objects_optional_keys_and_refused_keywords() -> None:
    fn = {"name": "t", "description": "d", "parameters": OK, "strict": True}
    assert P.openai_strict_problems(fn) == []
    bad = {
        "type": "object",
        "properties": {"q": {"type": "string", "default": "x", "maxLength": 5}, "n": {"type": "integer"}},
        "required": ["q"],
    }
    found = " | ".join(P.openai_strict_problems({**fn, "parameters": bad}))
    assert "additionalProperties must be false" in found and "every property must be required" in found
    assert "'default'" in found and "'maxLength'" in found
    assert "name must match" in " ".join(P.openai_problems({**fn, "name": "bad name!"}))


def test_anthropic_strict_rules_use_the_sdk_transform_and_the_request_limits() -> None:
    tool = {"name": "t", "description": "d", "input_schema": OK, "strict": True}
    assert P.anthropic_strict_problems([tool]) == []
    bounded = _params(n={"type": "integer", "minimum": 1})
    assert "outside the strict subset" in " ".join(P.anthropic_strict_problems([{**tool, "input_schema": bounded}]))
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    many_unions = [{**tool, "name": f"t{i}", "input_schema": _params(a=nullable, b=nullable)} for i in range(9)]
    assert "union-typed parameters" in " ".join(P.anthropic_strict_problems(many_unions))
    optional = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string"} for i in range(25)},
        "additionalProperties": False,
    }
    assert "optional parameters" in " ".join(P.anthropic_strict_problems([{**tool, "input_schema": optional}]))
    assert "strict tools in one request" in " ".join(
        P.anthropic_strict_problems([{**tool, "name": f"t{i}"} for i in range(21)])
    )


def test_gemini_rules_use_google_genai_types() -> None:
    assert P.gemini_problems("t", "d", OK) == []
    assert "google-genai refuses" in " ".join(P.gemini_problems("t", "d", _params(k={"const": "x", "type": "string"})))
    assert "enum values must be strings" in " ".join(
        P.gemini_problems("t", "d", _params(k={"type": "integer", "enum": [1, 2]}))
    )
    assert "name must match" in " ".join(P.gemini_problems("1tool", "d", OK))


# ------------------------------------------------------------------ strict mode, end to end


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.01, "video": 0.01}, queue_seconds=0) as e:
        yield e


@pytest.fixture
def toolkit(emu: Emulator) -> Iterator[RunningHubToolkit]:
    sync = RunningHub(api_key=KEY, base_url=emu.base_url, poll_interval=0.02)
    asy = AsyncRunningHub(api_key=KEY, base_url=emu.base_url, poll_interval=0.02)
    tk = RunningHubToolkit(client=sync, async_client=asy)
    yield tk
    sync.close()


def _not_set(schema: dict[str, Any]) -> Any:
    """What a strict model sends for an argument it means to leave out."""
    branches = schema.get("anyOf") or [schema]
    if any(b.get("type") == "null" for b in branches):
        return None
    return {"string": "", "array": []}[schema["type"]]


def test_every_generic_tool_takes_a_strict_models_not_set_values() -> None:
    """Under strict mode every key is sent. For each generic tool, the call that leaves every optional
    argument "not set" fits the strict schema the converter produces and validates to "not set"."""
    filled = {"name": "grok_image_to_image", "task_id": "1234567890", "path": "/tmp/x.png"}
    filled |= {"workflow_id": "123", "webapp_id": "456"}
    for spec in generic_specs():
        strict = convert_to_openai_tool(
            {"name": spec.name, "description": spec.description, "parameters": spec.input_model.model_json_schema()},
            strict=True,
        )["function"]["parameters"]
        required = set(spec.input_model.model_json_schema().get("required") or [])
        args = {k: (filled[k] if k in required else _not_set(s)) for k, s in strict["properties"].items()}
        if spec.name == "describe_workflow":
            args["workflow_id"] = "123"  # exactly one of the two ids
        Draft202012Validator(strict).validate(args)  # a strict model can say this
        parsed = parse_arguments(spec, args)
        for field in set(strict["properties"]) - required - {"workflow_id"}:
            value = getattr(parsed, field)
            assert value in (None, "", [], {}) or value == type(parsed).model_fields[field].default, (spec.name, field)


def _tool_call_answer(request: httpx.Request, seen: dict[str, Any]) -> httpx.Response:
    """A stand-in for OpenAI's chat completions: it reads the request langchain-openai built and answers
    with a strict model's call of run_model, checked against the very schema that was sent."""
    body = json.loads(request.content)
    seen["body"] = body
    fn = next(t["function"] for t in body["tools"] if t["function"]["name"] == "run_model")
    args = {"name": "grok_image_to_image", "params": json.dumps(GROK), "wait_seconds": None}
    Draft202012Validator(fn["parameters"]).validate(args)
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "run_model", "arguments": json.dumps(args)},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return httpx.Response(200, json=answer)


def test_bind_tools_strict_openai_then_run_model_end_to_end(toolkit: RunningHubToolkit) -> None:
    """langchain-openai builds the real request (strict tools); a strict model's run_model call comes back
    and runs the real tool against the emulator."""
    from langchain_openai import ChatOpenAI

    seen: dict[str, Any] = {}
    transport = httpx.MockTransport(lambda request: _tool_call_answer(request, seen))
    llm = ChatOpenAI(model="gpt-4o", api_key="sk-test", http_client=httpx.Client(transport=transport), max_retries=0)
    tools = {t.name: t for t in toolkit.get_tools()}
    ai = llm.bind_tools(list(tools.values()), strict=True).invoke("Paint a fox from this photo")
    sent = {t["function"]["name"]: t["function"] for t in seen["body"]["tools"]}
    assert all(fn["strict"] is True for fn in sent.values()) and set(sent) == set(GENERIC_TOOL_NAMES)
    assert sent["run_model"]["parameters"]["properties"]["params"]["type"] == "string"  # not an object allowing no keys
    assert isinstance(ai, AIMessage) and ai.tool_calls[0]["name"] == "run_model"

    msg = tools["run_model"].invoke({**ai.tool_calls[0], "type": "tool_call"})
    assert isinstance(msg, ToolMessage) and msg.status == "success", msg.content
    assert "SUCCESS" in str(msg.content) and msg.artifact["status"] == "SUCCESS"


def test_bind_tools_strict_anthropic_then_run_model(toolkit: RunningHubToolkit) -> None:
    """langchain-anthropic's strict conversion; a call that fits it (every key, nulls for 'not set')
    runs the real tool, and an object for params (what a lenient model may send) works too."""
    from langchain_anthropic import ChatAnthropic

    tools = {t.name: t for t in toolkit.get_tools()}
    bound = ChatAnthropic(model="claude-sonnet-4-5", api_key="sk-ant-test").bind_tools(
        list(tools.values()), strict=True
    )
    sent = {t["name"]: t for t in bound.kwargs["tools"]}  # type: ignore[attr-defined]
    assert all(t["strict"] is True for t in sent.values())
    assert P.anthropic_strict_problems(list(sent.values())) == []
    args = {"name": "grok_image_to_image", "params": json.dumps(GROK), "wait_seconds": None}
    Draft202012Validator(sent["run_model"]["input_schema"]).validate(args)
    for call_args in (args, {**args, "params": GROK}):
        msg = tools["run_model"].invoke({"type": "tool_call", "id": "toolu_1", "name": "run_model", "args": call_args})
        assert msg.status == "success" and msg.artifact["status"] == "SUCCESS", msg.content


def test_params_that_are_not_a_json_object_are_refused_before_any_request(
    toolkit: RunningHubToolkit, emu: Emulator
) -> None:
    run_model = next(t for t in toolkit.get_tools() if t.name == "run_model")
    emu.stats.reset()
    for bad, says in (("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")):
        msg = run_model.invoke(
            {
                "type": "tool_call",
                "id": "c",
                "name": "run_model",
                "args": {"name": "grok_image_to_image", "params": bad},
            }
        )
        assert msg.status == "error" and says in str(msg.content)
    assert emu.stats.snapshot()["requests"] == 0
