"""The keywords users try on RunningHubToolkit / RunningHubTool: sensible ones work, others fail by name.

Nothing is ignored silently: ``api_key``/``base_url``/``site`` build the client the tools use (checked
by running tools against the emulator with exactly that key), and an unknown or misspelt keyword is
a ``TypeError`` naming the argument meant, raised before any request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from rh_tools import RunningHub
from rh_tools.emulator import Emulator
from rh_tools.langchain import RunningHubTool, RunningHubToolkit

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # Only KEY authenticates: a tool that ignored api_key= (and fell back to anything else) fails.
    with Emulator(port=0, keys=[KEY], durations={"image": 0.01}, queue_seconds=0) as e:
        yield e


def account_via(tool: Any) -> ToolMessage:
    msg = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": {}})
    assert isinstance(msg, ToolMessage)
    return msg


def test_toolkit_api_key_and_base_url_build_the_clients(emu: Emulator) -> None:
    tk = RunningHubToolkit(api_key=KEY, base_url=emu.base_url, tools=["grok_image_to_image"])
    assert tk.client is not None and tk.async_client is not None
    assert tk.client.config.base_url == tk.async_client.config.base_url == emu.base_url
    tools = {t.name: t for t in tk.get_tools()}
    ok = account_via(tools["get_account"])
    assert ok.status == "success", ok.content
    run = tools["grok_image_to_image"].invoke(
        {"type": "tool_call", "id": "c2", "name": "grok_image_to_image", "args": {"prompt": "a fox"}}
    )
    assert run.status == "success" and run.artifact["status"] == "SUCCESS"
    assert KEY not in repr(tk) and KEY not in str(tk.model_dump())
    tk.close()


async def test_tool_api_key_and_base_url_reach_the_async_client_too(emu: Emulator) -> None:
    tool = RunningHubTool(name="get_account", api_key=KEY, base_url=emu.base_url)
    msg = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": "get_account", "args": {}})
    assert msg.status == "success", msg.content
    await tool.async_client.aclose()
    tool.client.close()


def test_a_wrong_api_key_is_used_not_ignored(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # The environment holds the good key; the explicit (wrong) one must win, as everywhere in rh-tools.
    monkeypatch.setenv("RUNNINGHUB_API_KEY", KEY)
    tk = RunningHubToolkit(api_key=OTHER_KEY, base_url=emu.base_url)
    err = account_via({t.name: t for t in tk.get_tools()}["get_account"])
    assert err.status == "error" and OTHER_KEY not in str(err.content)
    tk.close()


def test_site_picks_the_host() -> None:
    tk = RunningHubToolkit(api_key=KEY, site="cn")
    assert tk.client is not None and tk.client.config.base_url == "https://www.runninghub.cn"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"api_kye": KEY}, "unexpected keyword argument 'api_kye': did you mean api_key=?"),
        ({"apikey": KEY}, "did you mean api_key=?"),
        ({"downlaod_dir": "out"}, "did you mean download_dir=?"),
        ({"model": "grok_image_to_image"}, "did you mean tools=?"),
        ({"category": "video"}, "did you mean categories=?"),
        ({"timeout": 30}, "wait= (and max_wait=)"),
        ({"color": "red"}, "valid arguments: allow_any_file, allowed_dirs, api_key, async_client, base_url, budget"),
    ],
)
def test_toolkit_refuses_unknown_keywords_by_name(kwargs: dict[str, Any], expected: str, emu: Emulator) -> None:
    before = emu.stats.requests
    with pytest.raises(TypeError) as exc:
        RunningHubToolkit(base_url=emu.base_url, **kwargs)
    assert str(exc.value).startswith("RunningHubToolkit()") and expected in str(exc.value)
    assert KEY not in str(exc.value)
    assert emu.stats.requests == before


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"api_kye": KEY}, "did you mean api_key=?"),
        ({"download_folder": "out"}, "did you mean download_dir=?"),
        ({"max_wiat": 5}, "did you mean max_wait=?"),
        ({"key": KEY}, "did you mean api_key=?"),
    ],
)
def test_tool_refuses_unknown_keywords_by_name(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(TypeError) as exc:
        RunningHubTool(name="grok_image_to_image", **kwargs)
    assert str(exc.value).startswith("RunningHubTool()") and expected in str(exc.value)


@pytest.mark.parametrize("cls", [RunningHubToolkit, RunningHubTool])
def test_client_and_api_key_together_are_refused(cls: type[Any]) -> None:
    rh = RunningHub(api_key=KEY, base_url="http://127.0.0.1:9")
    extra = {"name": "get_task"} if cls is RunningHubTool else {}
    with pytest.raises(TypeError, match="pass either client=/async_client= or api_key=, not both"):
        cls(client=rh, api_key=OTHER_KEY, **extra)


def test_settings_that_already_worked_still_do(tmp_path: Any) -> None:
    tool = RunningHubTool(name="grok_image_to_image", wait=5, max_wait=10, download_dir=tmp_path, tags=["rh"])
    assert tool.context.max_wait == 10 and tool.context.download_dir == tmp_path.resolve() and tool.tags == ["rh"]
    tk = RunningHubToolkit(include_generic=["wait_task"], include_deprecated=True, allowed_dirs=[tmp_path])
    assert [t.name for t in tk.get_tools()] == ["wait_task"]
