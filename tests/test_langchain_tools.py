"""LangChain tools: langchain-tests standard suites, toolkit selection, argument handling, errors, waits.

Everything runs offline against the built-in emulator (a real HTTP server on loopback).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import tasks_held
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import BaseModel

from rh_tools import AsyncRunningHub, RunningHub, catalogue
from rh_tools.catalogue._examples import example_params
from rh_tools.emulator import Emulator
from rh_tools.langchain import RunningHubTool, RunningHubToolkit, make_context
from rh_tools.toolspecs import DEFAULT_WAIT, GENERIC_TOOL_NAMES, ToolSpec

KEY = "feedfacecafebeef0123456789abcdef"
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Short runs and no queueing: a result is ready by the client's first poll (0.02 s), keeping this fast.
DURATIONS = {"image": 0.01, "video": 0.01, "audio": 0.01, "3d": 0.01, "text": 0.01}

# One per family: image edit, text-to-video (workflow-backed, '##' body keys behind aliases),
# video edit, speech, 3D, LLM text.
ENDPOINT_SAMPLES = [
    "grok_image_to_image",
    "wan_2_2_text_to_video",
    "kling_video_o3_std_video_edit",
    "minimax_speech_2_8_hd",
    "hunyuan3d_v3_1_text_to_3d",
    "rhart_text_g_25_flash_text_to_text",
]


# ---- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations=DURATIONS, queue_seconds=0) as emu:
        yield emu


@pytest.fixture
def emu(shared_emu: Emulator) -> Emulator:
    shared_emu.stats.reset()
    shared_emu.set_config(keys=None)
    return shared_emu


_OPEN: list[RunningHub | AsyncRunningHub] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    # Close every client a test made, inside the test's event loop, so no socket outlives it.
    yield
    while _OPEN:
        c = _OPEN.pop()
        if isinstance(c, AsyncRunningHub):
            await c.aclose()
        else:
            c.close()


def clients(emu: Emulator, key: str = KEY) -> tuple[RunningHub, AsyncRunningHub]:
    pair = (
        RunningHub(api_key=key, base_url=emu.base_url, poll_interval=0.02),
        AsyncRunningHub(api_key=key, base_url=emu.base_url, poll_interval=0.02),
    )
    _OPEN.extend(pair)
    return pair


def toolkit(emu: Emulator, **kw: Any) -> RunningHubToolkit:
    sync, asy = clients(emu, kw.pop("key", KEY))
    return RunningHubToolkit(client=sync, async_client=asy, **kw)


def by_name(tk: RunningHubToolkit) -> dict[str, BaseTool]:
    return {t.name: t for t in tk.get_tools()}


def call(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    msg = tool.invoke({"type": "tool_call", "id": call_id, "name": tool.name, "args": args})
    assert isinstance(msg, ToolMessage)
    return msg


async def acall(tool: BaseTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    msg = await tool.ainvoke({"type": "tool_call", "id": call_id, "name": tool.name, "args": args})
    assert isinstance(msg, ToolMessage)
    return msg


def generic_example(name: str, task_id: str = "1234567890") -> dict[str, Any]:
    examples: dict[str, dict[str, Any]] = {
        "search_models": {"query": "grok image", "limit": 3},
        "describe_model": {"name": "grok_image_to_image"},
        "run_model": {"name": "grok_image_to_image", "params": {"prompt": "a neon fox"}},
        "get_task": {"task_id": task_id},
    }
    return examples[name]


# ---- langchain-tests standard suites ----------------------------------------------------------


class _GenericUnit(ToolsUnitTests):
    name = ""

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return RunningHubTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"name": self.name}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return generic_example(self.name)

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        env = {"RUNNINGHUB_API_KEY": KEY, "RUNNINGHUB_BASE_URL": "http://127.0.0.1:9"}
        return env, {"name": self.name}, {"name": self.name, "response_format": "content_and_artifact"}


class TestSearchModelsUnit(_GenericUnit):
    name = "search_models"


class TestDescribeModelUnit(_GenericUnit):
    name = "describe_model"


class TestRunModelUnit(_GenericUnit):
    name = "run_model"


class TestGetTaskUnit(_GenericUnit):
    name = "get_task"


class _EndpointUnit(_GenericUnit):
    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return example_params(catalogue.get(self.name))


class TestGrokImageToImageUnit(_EndpointUnit):
    name = "grok_image_to_image"


class TestWanTextToVideoUnit(_EndpointUnit):
    name = "wan_2_2_text_to_video"


class TestKlingVideoEditUnit(_EndpointUnit):
    name = "kling_video_o3_std_video_edit"


class TestMinimaxSpeechUnit(_EndpointUnit):
    name = "minimax_speech_2_8_hd"


class TestHunyuan3DUnit(_EndpointUnit):
    name = "hunyuan3d_v3_1_text_to_3d"


class TestTextLLMUnit(_EndpointUnit):
    name = "rhart_text_g_25_flash_text_to_text"


class _EmulatedIntegration(ToolsIntegrationTests):
    """Runs the standard invoke tests against the emulator, a fresh toolkit (and clients) per test."""

    name = ""

    @pytest.fixture(autouse=True)
    def _on_emulator(self, emu: Emulator) -> None:
        self._emu = emu
        # get_task needs a task that exists; make one the way a user would.
        with RunningHub(api_key=KEY, base_url=emu.base_url) as rh:
            self._task_id = rh.submit("grok_image_to_image", prompt="a fox").task_id

    @property
    def tool_constructor(self) -> BaseTool:
        return by_name(toolkit(self._emu, tools=[self.name]))[self.name]

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        if self.name in GENERIC_TOOL_NAMES:
            return generic_example(self.name, self._task_id)
        return example_params(catalogue.get(self.name))

    @pytest.fixture(autouse=True)
    def _no_errors(self, emu: Emulator) -> Iterator[None]:
        # The standard tests accept error ToolMessages as valid output; these examples must succeed.
        yield
        assert not emu.stats.error_codes, emu.stats.error_codes


class TestSearchModelsIntegration(_EmulatedIntegration):
    name = "search_models"


class TestDescribeModelIntegration(_EmulatedIntegration):
    name = "describe_model"


class TestRunModelIntegration(_EmulatedIntegration):
    name = "run_model"


class TestGetTaskIntegration(_EmulatedIntegration):
    name = "get_task"


class TestGrokImageToImageIntegration(_EmulatedIntegration):
    name = "grok_image_to_image"


class TestWanTextToVideoIntegration(_EmulatedIntegration):
    name = "wan_2_2_text_to_video"


class TestKlingVideoEditIntegration(_EmulatedIntegration):
    name = "kling_video_o3_std_video_edit"


class TestMinimaxSpeechIntegration(_EmulatedIntegration):
    name = "minimax_speech_2_8_hd"


class TestHunyuan3DIntegration(_EmulatedIntegration):
    name = "hunyuan3d_v3_1_text_to_3d"


class TestTextLLMIntegration(_EmulatedIntegration):
    name = "rhart_text_g_25_flash_text_to_text"


# ---- every endpoint as a tool -------------------------------------------------------------------


def test_every_endpoint_is_a_valid_tool() -> None:
    tk = RunningHubToolkit(categories=["image", "video", "audio", "3d", "text"], include_deprecated=True)
    tools = tk.get_tools()
    names = [t.name for t in tools]
    assert len(names) == len(set(names)) == len(catalogue.all()) + len(GENERIC_TOOL_NAMES)
    for tool in tools:
        assert NAME_RE.fullmatch(tool.name), tool.name
        fn = convert_to_openai_tool(tool)["function"]
        assert fn["name"] == tool.name and fn["description"] == tool.description
        props = fn["parameters"].get("properties", {})
        assert not any(re.fullmatch(r"p\d+", p) for p in props), (tool.name, list(props))
        ep = tool.metadata.get("endpoint") if tool.metadata else None
        if ep is not None:
            # Models see the API's argument names and what is required.
            row = catalogue.get(tool.name)
            # Unpublished parameters: one JSON-text argument (a property-less object is unusable on Gemini).
            assert list(props) == ([p.name for p in row.params] if not row.open_params else ["params"])
            required = {p.name for p in row.params if p.required and p.default is None}
            assert set(fn["parameters"].get("required", [])) == required
    # The openai conversion keeps the endpoint's enums and descriptions.
    grok = convert_to_openai_tool(next(t for t in tools if t.name == "grok_image_to_image"))
    assert grok["function"]["parameters"]["properties"]["model"]["enum"] == ["g-3", "g-4", "g-4.1", "g-4.2"]


def test_default_is_generic_tools_only() -> None:
    tools = RunningHubToolkit().get_tools()
    assert [t.name for t in tools] == list(GENERIC_TOOL_NAMES)
    run_model = next(t for t in tools if t.name == "run_model")
    assert run_model.metadata == {"title": "Run a model", "paid": True, "read_only": False}
    assert all(t.response_format == "content_and_artifact" and t.handle_tool_error is True for t in tools)


def test_selection_by_name_category_and_output_type() -> None:
    # an API path names the same endpoint
    named = RunningHubToolkit(tools=["grok_image_to_image", "rhart-image-g/image-to-image"], include_generic=False)
    assert [t.name for t in named.get_tools()] == ["grok_image_to_image"]

    audio = RunningHubToolkit(categories=["audio"], include_generic=False).get_tools()
    assert audio and all(catalogue.get(t.name).category == "audio" for t in audio)

    # category and output type filter together; named tools are added on top.
    mixed = RunningHubToolkit(
        categories=["video"],
        output_types=["text"],
        tools=["grok_image_to_image"],
        include_generic=["get_task", "wait_task"],
    ).get_tools()
    names = [t.name for t in mixed]
    assert names[:2] == ["get_task", "wait_task"] and "grok_image_to_image" in names
    rows = [catalogue.get(n) for n in names[2:] if n != "grok_image_to_image"]
    assert rows and all(r.category == "video" and r.output_type == "text" for r in rows)

    # deprecated endpoints only when asked for (or named)
    video = {t.name for t in RunningHubToolkit(categories=["video"]).get_tools()}
    assert "sora_2_text_to_video_pro" not in video
    named_old = RunningHubToolkit(tools=["sora_2_text_to_video_pro"]).get_tools()
    assert "sora_2_text_to_video_pro" in {t.name for t in named_old}

    # a generic name in tools= adds that generic tool
    only = RunningHubToolkit(tools=["get_task", "grok_image_to_image"], include_generic=False).get_tools()
    assert [t.name for t in only] == ["get_task", "grok_image_to_image"]


def test_bad_selection_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="Did you mean: grok_image_to_image"):
        RunningHubToolkit(tools=["grok_image_to_imag"])
    with pytest.raises(ValueError, match="unknown generic tools"):
        RunningHubToolkit(include_generic=["run_modle"])
    with pytest.raises(ValueError):
        RunningHubToolkit(categories=["images"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="needs name"):
        RunningHubTool()


def test_clients_default_from_env_and_twins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", "http://127.0.0.1:9")
    tool = RunningHubTool(name="get_task")
    assert tool.client.base_url == tool.async_client.base_url == "http://127.0.0.1:9"

    sync = RunningHub(api_key=KEY, base_url="http://127.0.0.1:7", poll_interval=0.5)
    tk = RunningHubToolkit(client=sync)
    assert tk.async_client is not None and tk.async_client.config == sync.config  # same key, URL, polling
    asy = AsyncRunningHub(api_key=KEY, base_url="http://127.0.0.1:8")
    assert RunningHubToolkit(async_client=asy).client.config == asy.config  # type: ignore[union-attr]


def test_wait_settings() -> None:
    assert make_context().wait == DEFAULT_WAIT
    ctx = make_context(wait={"video": 5}, max_wait=30, download_dir="~/rh-out")
    assert ctx.wait["video"] == 5 and ctx.wait["image"] == DEFAULT_WAIT["image"]
    assert ctx.wait_for("video") == 5 and ctx.wait_for("image", 100) == 30
    assert ctx.download_dir is not None and ctx.download_dir.is_absolute()
    one = make_context(wait=7)
    assert one.wait_for("image") == one.wait_for("video") == one.wait_for(None) == 7
    with pytest.raises(ValueError):
        make_context(wait=-1)


# ---- arguments reach the API by their real names -------------------------------------------------


def test_alias_arguments_reach_the_api(emu: Emulator) -> None:
    # wan_2_2_text_to_video's body keys are '14##positive_prompt', '133##select' …; LangChain's own
    # parsing would re-key these arguments as p0…pN or drop them.
    tool = by_name(toolkit(emu, tools=["wan_2_2_text_to_video"]))["wan_2_2_text_to_video"]
    args = {"prompt": "a fox", "resolution": "1280×720", "duration": "8", "negative_prompt": "blur"}
    msg = call(tool, args)
    assert msg.status == "success", msg.content
    task = emu.task(msg.artifact["task_id"])
    assert task is not None and task.endpoint == catalogue.get("wan_2_2_text_to_video").path
    assert task.unknown_keys == ()
    assert emu.stats.unknown_keys == {}


def test_string_input_goes_to_first_required_argument(emu: Emulator) -> None:
    tools = by_name(toolkit(emu, tools=["grok_image_to_image"]))
    out = tools["grok_image_to_image"].invoke("a neon fox")
    assert isinstance(out, str) and out.startswith("SUCCESS")
    assert "grok_image_to_image" in tools["search_models"].invoke("grok image")
    assert "grok_image_to_image" in tools["describe_model"].invoke('{"name": "grok_image_to_image"}')


def test_content_and_artifact(emu: Emulator) -> None:
    tool = by_name(toolkit(emu, tools=["grok_image_to_image"]))["grok_image_to_image"]
    msg = call(tool, {"prompt": "make it neon", "imageUrl": "https://example.com/fox.png", "model": "g-4"})
    assert msg.status == "success" and msg.name == "grok_image_to_image" and msg.tool_call_id == "call-1"
    art = msg.artifact
    assert art["status"] == "SUCCESS" and art["done"] is True and art["model"] == "grok_image_to_image"
    url = art["outputs"][0]["url"]
    assert url.startswith(emu.files_url) and url in msg.content
    assert f"task {art['task_id']}" in msg.content and "Cost:" in msg.content
    json.dumps(art)  # plain data, ready for state/checkpoints


async def test_async_uses_the_async_client(emu: Emulator) -> None:
    # The sync client points nowhere: the async path must not touch it.
    dead = RunningHub(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    _, asy = clients(emu)
    _OPEN.append(dead)
    tk = RunningHubToolkit(client=dead, async_client=asy, tools=["minimax_speech_2_8_hd"])
    tool = by_name(tk)["minimax_speech_2_8_hd"]
    msg = await acall(tool, {"text": "hello there"})
    assert msg.status == "success", msg.content
    assert msg.artifact["outputs"][0]["kind"] == "audio"
    get_task = by_name(tk)["get_task"]
    args = {"task_id": msg.artifact["task_id"]}
    results = await asyncio.gather(*(acall(get_task, args, f"c{i}") for i in range(3)))
    assert all(r.artifact["status"] == "SUCCESS" for r in results)


def test_sync_uses_the_sync_client(emu: Emulator) -> None:
    sync, _ = clients(emu)
    dead = AsyncRunningHub(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    _OPEN.append(dead)
    tool = by_name(RunningHubToolkit(client=sync, async_client=dead))["get_account"]
    msg = call(tool, {})
    assert msg.status == "success" and "Balance" in msg.content


# ---- errors ----------------------------------------------------------------------------------


def test_bad_enum_is_a_readable_error_and_creates_no_task(emu: Emulator) -> None:
    tool = by_name(toolkit(emu, tools=["grok_image_to_image"]))["grok_image_to_image"]
    msg = call(tool, {"prompt": "x", "model": "g-9"})
    assert msg.status == "error" and msg.artifact is None
    assert "model" in msg.content and all(v in msg.content for v in ("'g-3'", "'g-4'", "'g-4.1'", "'g-4.2'"))
    assert "Traceback" not in msg.content
    assert emu.stats.tasks_created == 0 and emu.stats.requests == 0


@pytest.mark.parametrize(
    ("tool_name", "args", "expected"),
    [
        ("grok_image_to_image", {"model": "g-4"}, ["prompt: required", "prompt*"]),
        ("grok_image_to_image", {"prompt": "x", "aspect": "1:1"}, ["aspect: unknown parameter", "imageUrl"]),
        ("grok_image_to_image", {"prompt": "x", "imageUrl": "./no/such/file.png"}, ["imageUrl"]),
        ("run_model", {"name": "grok_image_to_imag", "params": {}}, ["grok_image_to_image"]),
        (
            "run_model",
            {"name": "grok_image_to_image", "params": {"prompt": "x"}, "wait_seconds": -1},
            ["wait_seconds"],
        ),
        ("get_task", {}, ["task_id"]),
        ("describe_workflow", {}, ["exactly one of workflow_id or webapp_id"]),
    ],
)
def test_invalid_arguments_come_back_as_tool_errors(
    emu: Emulator, tool_name: str, args: dict[str, Any], expected: list[str]
) -> None:
    # allow_any_file: the missing local file is judged by the client (which names the field), not refused unread
    tool = by_name(toolkit(emu, tools=["grok_image_to_image"], allow_any_file=True))[tool_name]
    msg = call(tool, args)
    assert msg.status == "error", msg.content
    assert str(msg.content).startswith("Error") and "Traceback" not in msg.content
    for text in expected:
        assert text in msg.content
    assert emu.stats.tasks_created == 0


def test_validation_errors_raised_inside_langchain_are_readable() -> None:
    # A pydantic ValidationError reaching LangChain's run loop is turned into a readable tool error.
    class Strict(BaseModel):
        size: int

    def plan(args: Any, ctx: Any) -> Any:
        Strict.model_validate({"size": "big"})

    spec = ToolSpec("strict_tool", "Strict", "Raises a pydantic error.", Strict, plan)
    tool = RunningHubTool(spec=spec)
    msg = call(tool, {"size": 1})
    assert msg.status == "error"
    assert str(msg.content).startswith("Error: invalid arguments: size: Input should be a valid integer")


def test_api_errors_are_tool_errors(emu: Emulator) -> None:
    tools = by_name(toolkit(emu))
    msg = call(tools["get_task"], {"task_id": "999999999999"})
    assert msg.status == "error" and "Error" in msg.content and "Traceback" not in msg.content
    # No key configured: say how to set one, without a request.
    msg = call(RunningHubTool(name="get_account"), {})
    assert msg.status == "error" and "RUNNINGHUB_API_KEY" in msg.content


def test_unknown_key_rejected_by_api(emu: Emulator) -> None:
    emu.set_config(keys={"0" * 32})
    msg = call(by_name(toolkit(emu))["get_account"], {})
    assert msg.status == "error" and "retryable: no" in msg.content
    # the API's own key-refusal code, and what to do about the key
    assert re.match(r"Error \[(802|806|1002)\]", str(msg.content)) and "Check the API key" in msg.content, msg.content


# ---- long jobs and downloads --------------------------------------------------------------------


def test_long_video_returns_task_id_then_wait_task(emu: Emulator) -> None:
    tools = by_name(toolkit(emu, tools=["kling_video_o3_std_video_edit"], wait={"video": 0}))
    args = example_params(catalogue.get("kling_video_o3_std_video_edit"))
    with tasks_held(emu):  # the video is certainly unfinished when the tool's wait ends, on any machine
        msg = call(tools["kling_video_o3_std_video_edit"], args)
        assert msg.status == "success"
        task_id = msg.artifact["task_id"]
        assert msg.artifact["done"] is False and msg.artifact["next"] == "wait_task"
        assert f"wait_task with task_id={task_id}" in msg.content
        assert emu.task_status(task_id) == "QUEUED"

    done = call(tools["wait_task"], {"task_id": task_id, "wait_seconds": 10})
    assert done.status == "success" and done.artifact["status"] == "SUCCESS"
    assert done.artifact["outputs"][0]["kind"] == "video"


def test_agent_may_ask_for_a_shorter_wait_but_not_past_max_wait(emu: Emulator) -> None:
    tools = by_name(toolkit(emu, max_wait=0))
    args = {"name": "grok_image_to_image", "params": {"prompt": "x"}, "wait_seconds": 60}
    with tasks_held(emu):  # pending for as long as the tool could wait: only max_wait can end the wait
        msg = call(tools["run_model"], args)
    # Capped at 0 s, not the 60 s asked for (the bound leaves any loaded machine ample room).
    assert msg.artifact["done"] is False and msg.artifact["waited_seconds"] < 30


def test_download_dir_saves_outputs(emu: Emulator, tmp_path: Path) -> None:
    tk = toolkit(emu, tools=["grok_image_to_image"], download_dir=tmp_path / "out")
    tool = by_name(tk)["grok_image_to_image"]
    msg = call(tool, {"prompt": "a fox"})
    files = msg.artifact["files"]
    assert files and all(Path(f).is_file() and Path(f).is_absolute() for f in files)
    assert Path(files[0]).parent == (tmp_path / "out").resolve()
    assert f"(saved: {files[0]})" in msg.content


async def test_download_dir_async(emu: Emulator, tmp_path: Path) -> None:
    tk = toolkit(emu, tools=["hunyuan3d_v3_1_text_to_3d"], download_dir=tmp_path)
    tool = by_name(tk)["hunyuan3d_v3_1_text_to_3d"]
    msg = await acall(tool, {"prompt": "a chair"})
    assert msg.status == "success" and Path(msg.artifact["files"][0]).is_file()


def test_upload_file_then_use_url(emu: Emulator, tmp_path: Path) -> None:
    img = tmp_path / "fox.png"
    img.write_bytes(Path(catalogue.__file__).parents[1].joinpath("emulator/assets/sample.png").read_bytes())
    tools = by_name(toolkit(emu, tools=["grok_image_to_image"], allowed_dirs=[tmp_path]))
    uploads = emu.stats.uploads  # the emulator is shared by the module: count this test's uploads only
    up = call(tools["upload_file"], {"path": str(img)})
    assert up.status == "success" and up.artifact["download_url"] in up.content
    # a local path in a media field is uploaded for the agent
    msg = call(tools["grok_image_to_image"], {"prompt": "neon", "imageUrl": str(img)})
    assert msg.status == "success" and emu.stats.uploads - uploads == 2


# ---- the key never leaks ----------------------------------------------------------------------


async def test_api_key_never_appears_in_tool_output(emu: Emulator) -> None:
    secret = "0123456789abcdef0123456789abcdef"
    tk = toolkit(emu, key=secret, tools=["grok_image_to_image", "kling_video_o3_std_video_edit"], wait={"video": 0})
    tools = by_name(tk)
    seen: list[Any] = [repr(tk), *(repr(t) for t in tools.values()), tk.model_dump()]
    calls = [
        ("grok_image_to_image", {"prompt": "x"}),
        ("grok_image_to_image", {"prompt": "x", "model": "bad"}),
        ("kling_video_o3_std_video_edit", example_params(catalogue.get("kling_video_o3_std_video_edit"))),
        ("get_task", {"task_id": "404404404"}),
        ("get_account", {}),
        ("describe_model", {"name": "grok_image_to_image"}),
    ]
    for name, args in calls:
        for msg in (call(tools[name], args), await acall(tools[name], args)):
            seen += [msg.content, msg.artifact]
    emu.set_config(keys={"f" * 32})  # now the key is refused
    for msg in (call(tools["get_account"], {}), await acall(tools["get_account"], {})):
        assert msg.status == "error"
        seen += [msg.content, msg.artifact]
    blob = json.dumps(seen, default=repr)
    assert secret not in blob and secret[:8] + "…" not in blob


# ---- import hygiene -----------------------------------------------------------------------------


def test_imports_stay_separate() -> None:
    code = (
        "import sys, rh_tools; rh_tools.RunningHub; import rh_tools.toolspecs;"
        "assert not any(m.startswith('langchain') for m in sys.modules), 'core imported langchain';"
        "import rh_tools.langchain;"
        "assert not any(m == 'mcp' or m.startswith('mcp.') for m in sys.modules), 'langchain imported mcp'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_allowed_dirs_limit_local_uploads(emu: Emulator, tmp_path: Path) -> None:
    ok, private = tmp_path / "shared", tmp_path / "private"
    ok.mkdir()
    private.mkdir()
    png = Path(catalogue.__file__).parents[1].joinpath("emulator/assets/sample.png").read_bytes()
    (ok / "fox.png").write_bytes(png)
    (private / "secret.png").write_bytes(png)
    (ok / "link.png").symlink_to(private / "secret.png")
    tools = by_name(toolkit(emu, tools=["grok_image_to_image"], allowed_dirs=[ok]))

    assert call(tools["upload_file"], {"path": str(ok / "fox.png")}).status == "success"
    for path in (private / "secret.png", ok / "link.png", ok / ".." / "private" / "secret.png"):
        for tool, args in (
            (tools["upload_file"], {"path": str(path)}),
            (tools["grok_image_to_image"], {"prompt": "x", "imageUrl": str(path)}),
        ):
            msg = call(tool, args)
            assert msg.status == "error" and "refused" in msg.content, msg.content
    assert emu.stats.uploads == 1 and emu.stats.tasks_created == 0
    # URLs are unaffected; [] allows no local file at all
    none = by_name(toolkit(emu, tools=["grok_image_to_image"], allowed_dirs=[]))
    assert call(none["upload_file"], {"path": str(ok / "fox.png")}).status == "error"
    ok_url = call(none["grok_image_to_image"], {"prompt": "x", "imageUrl": "https://example.com/a.png"})
    assert ok_url.status == "success"
