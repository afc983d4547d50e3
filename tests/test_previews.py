"""Seeing results (issue #13): thumbnails a model can look at, on MCP (ImageContent) and LangChain
(image content blocks), for outputs of any size; and every resource link the server emits can be
read back with resources/read through the real MCP client. Runs on the emulator."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from conftest import TEST_KEY
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from mcp.client import Client
from mcp.shared.exceptions import MCPError
from PIL import Image

from mcp_server import ServerConfig, build_server
from rh_tools import AsyncRunningHub, RunningHub
from rh_tools import _preview as P
from rh_tools.emulator import Emulator, routes_files
from rh_tools.langchain import RunningHubToolkit

GROK = {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"}


def _png(width: int, height: int, mode: str = "RGB", noise: bool = True) -> bytes:
    if noise:  # incompressible: a big file, as a real 4K render is
        img = Image.frombytes(mode, (width, height), os.urandom(width * height * len(mode)))
    else:
        img = Image.new(mode, (width, height))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "render.png"
    path.write_bytes(_png(2400, 1600))  # ~11 MB, 2400x1600
    return path


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.01}, queue_seconds=0) as e:
        yield e


@pytest.fixture
def serves_big_images(monkeypatch: pytest.MonkeyPatch, big_output: Path) -> Path:
    """The emulator's image results become a 2400x1600, 11 MB PNG (it serves a 64 px sample otherwise)."""
    monkeypatch.setattr(routes_files, "asset_for", lambda ext: (big_output, "image/png"))
    return big_output


def _decoded(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


# ------------------------------------------------------------------ thumbnails


def test_a_thumbnail_of_any_size_fits_a_model(big_output: Path) -> None:
    big = big_output.read_bytes()
    for size, data in (((2400, 1600), big), ((1200, 1800), _png(1200, 1800)), ((300, 200), _png(300, 200))):
        thumb = P.make_thumbnail(data, max_bytes=200 * 1024)
        img = Image.open(io.BytesIO(thumb.data))
        assert img.format == "JPEG" and thumb.mime_type == "image/jpeg" and len(thumb.data) <= 200 * 1024
        assert max(img.size) == min(P.MAX_SIDE, max(size)) and (img.width > img.height) == (size[0] > size[1])
    tiny = P.make_thumbnail(big, max_bytes=12 * 1024)  # a tight cap: quality, then size, give way
    assert len(tiny.data) <= 12 * 1024 and max(tiny.width, tiny.height) < P.MAX_SIDE


def test_transparency_animation_garbage_and_bombs() -> None:
    rgba = P.make_thumbnail(_png(200, 100, "RGBA", noise=False))  # fully transparent: flattened on white
    assert Image.open(io.BytesIO(rgba.data)).getpixel((5, 5)) >= (250, 250, 250)
    frames = [Image.new("RGB", (64, 64), c) for c in ("red", "blue")]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    assert P.make_thumbnail(gif.getvalue()).width == 64
    with pytest.raises(ValueError, match="not an image"):
        P.make_thumbnail(b"<html>not an image</html>")
    bomb = _png(12_000, 9_000, "1", noise=False)  # a few KB on disk, 108 megapixels decoded
    assert len(bomb) < 100_000
    with pytest.raises(ValueError, match="over the 100 MP preview limit"):
        P.make_thumbnail(bomb)


# ------------------------------------------------------------------ MCP


def _config(emu: Emulator, **kw: Any) -> ServerConfig:
    return ServerConfig(
        api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02, tools=["grok_image_to_image"], **kw
    )


async def test_mcp_result_shows_a_thumbnail_of_a_big_output(emu: Emulator, serves_big_images: Path) -> None:
    async with Client(build_server(_config(emu, inline_preview=True, preview_max_kb=150))) as client:
        result = await client.call_tool("grok_image_to_image", GROK)
    assert [type(b).__name__ for b in result.content] == ["TextContent", "ResourceLink", "ImageContent"]
    image = result.content[2]
    assert isinstance(image, types.ImageContent) and image.mime_type == "image/jpeg"
    shown = _decoded(image.data)
    assert shown.size == (1024, 683) and len(base64.b64decode(image.data)) <= 150 * 1024
    assert serves_big_images.stat().st_size > 10 * 1024 * 1024  # the original was never inlined


async def test_mcp_without_pillow_says_so(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pillow() -> Any:
        raise ImportError("No module named 'PIL'")

    monkeypatch.setattr(P, "_pillow", no_pillow)
    async with Client(build_server(_config(emu, inline_preview=True))) as client:
        result = await client.call_tool("grok_image_to_image", GROK)
    assert not any(isinstance(b, types.ImageContent) for b in result.content)
    assert any(isinstance(b, types.TextContent) and "pip install 'rh-tools[preview]'" in b.text for b in result.content)


async def test_every_resource_link_the_server_emits_can_be_read(emu: Emulator, tmp_path: Path) -> None:
    """Output URLs and downloaded copies alike; nothing the server did not hand out."""
    async with Client(build_server(_config(emu, output_dir=tmp_path))) as client:
        result = await client.call_tool("grok_image_to_image", GROK)
        links = [b for b in result.content if isinstance(b, types.ResourceLink)]
        assert [link.uri.split(":", 1)[0] for link in links] == ["http", "file"]  # the output URL, the saved copy
        read = [await client.read_resource(link.uri) for link in links]
        for unknown in (
            "file:///etc/passwd",
            "https://example.com/other.png",
            links[0].uri.replace("/0.png", "/1.png"),
        ):
            with pytest.raises(MCPError, match="not found"):
                await client.read_resource(unknown)
    saved = next(tmp_path.iterdir()).read_bytes()
    for link, answer in zip(links, read, strict=True):
        content = answer.contents[0]
        assert isinstance(content, types.BlobResourceContents) and content.mime_type == "image/png"
        assert base64.b64decode(content.blob) == saved and content.uri == link.uri


# ------------------------------------------------------------------ LangChain


@pytest.fixture
async def preview_tools(emu: Emulator) -> AsyncIterator[dict[str, Any]]:
    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    tk = RunningHubToolkit(client=sync, async_client=asy, tools=["grok_image_to_image"], preview=True)
    yield {t.name: t for t in tk.get_tools()}
    await tk.aclose()


def _image_blocks(msg: ToolMessage) -> list[dict[str, Any]]:
    assert isinstance(msg.content, list), msg.content
    return [b for b in msg.content if isinstance(b, dict) and b.get("type") == "image"]


async def test_langchain_results_carry_image_blocks_claude_can_see(
    preview_tools: dict[str, Any], serves_big_images: Path
) -> None:
    from langchain_anthropic.chat_models import _format_messages

    call = {"type": "tool_call", "id": "toolu_01", "name": "grok_image_to_image", "args": GROK}
    sync_msg = preview_tools["grok_image_to_image"].invoke(call)
    async_msg = await preview_tools["grok_image_to_image"].ainvoke(call)
    for msg in (sync_msg, async_msg):
        (block,) = _image_blocks(msg)
        assert block["mime_type"] == "image/jpeg" and _decoded(block["base64"]).size == (1024, 683)
        assert msg.content[0]["type"] == "text" and "SUCCESS" in msg.content[0]["text"]
        assert msg.artifact["previews"] == [{"output": 0, "width": 1024, "height": 683}]

    # langchain-anthropic turns the standard image block into an image inside Claude's tool_result.
    ai = AIMessage(content="", tool_calls=[{"id": "toolu_01", "name": "grok_image_to_image", "args": GROK}])
    _, formatted = _format_messages([HumanMessage("paint a fox"), ai, sync_msg], model="claude-sonnet-4-5")
    result = next(b for m in formatted for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
    images = [b for b in result["content"] if b.get("type") == "image"]
    assert images and images[0]["source"]["type"] == "base64" and images[0]["source"]["media_type"] == "image/jpeg"


def test_langchain_preview_is_opt_in_and_text_only_without_pillow(
    emu: Emulator, preview_tools: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02) as rh:
        run = next(t for t in RunningHubToolkit(client=rh).get_tools() if t.name == "run_model")
        args = {"name": "grok_image_to_image", "params": GROK}
        msg = run.invoke({"type": "tool_call", "id": "c", "name": "run_model", "args": args})
    assert isinstance(msg.content, str) and "SUCCESS" in msg.content

    monkeypatch.setattr(P, "_pillow", lambda: (_ for _ in ()).throw(ImportError("no PIL")))
    call = {"type": "tool_call", "id": "c", "name": "grok_image_to_image", "args": GROK}
    text = preview_tools["grok_image_to_image"].invoke(call).content
    assert isinstance(text, str) and "SUCCESS" in text and "pip install 'rh-tools[preview]'" in text
