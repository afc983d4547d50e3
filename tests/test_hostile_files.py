"""Files a model names, and files we write: the attacks of issue #11 on the local disk.

* The LangChain toolkit reads no local file unless a folder is allowed (``allowed_dirs``) or
  ``allow_any_file=True`` says so; the refusal tells how to allow a folder, reads the same for
  every path, and nothing is uploaded.
* Check-then-open race: a thread swaps an allowed file (or a folder on its path) for a symlink to
  a secret while the tools upload it, many times; the secret is never sent (LangChain sync and
  async, MCP).
* Downloads never write through a planted hard link or symlink: they write a temporary file in
  the output folder and rename it into place.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attack_log import record
from conftest import TEST_KEY

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._download import output_filename
from rh_tools.emulator import Emulator
from rh_tools.langchain import RunningHubToolkit
from rh_tools.types import Output

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
SECRET = b"\x89PNG\r\n\x1a\n" + b"TOP-SECRET" * 6 + b"!!!!"  # as long as PNG: the race is not about sizes


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.05}, queue_seconds=0) as e:
        yield e


def _uploaded(emu: Emulator) -> list[bytes]:
    return [p.read_bytes() for p in emu.core.uploads.dir.iterdir() if p.is_file() and not p.name.startswith("part-")]


def _tools(emu: Emulator, **kw: Any) -> dict[str, Any]:
    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    tk = RunningHubToolkit(client=sync, async_client=asy, tools=["grok_image_to_image"], **kw)
    return {t.name: t for t in tk.get_tools()}


def _call(tool: Any, args: dict[str, Any]) -> Any:
    return tool.invoke({"type": "tool_call", "id": "c", "name": tool.name, "args": args})


# ------------------------------------------------------------------ default: no local files


def test_langchain_reads_no_local_file_by_default(emu: Emulator, tmp_path: Path) -> None:
    home_secret = tmp_path / "home" / ".ssh" / "id_rsa"
    home_secret.parent.mkdir(parents=True)
    home_secret.write_bytes(SECRET)
    (tmp_path / "link.png").symlink_to(home_secret)
    readable = tmp_path / "fox.png"
    readable.write_bytes(PNG)
    paths = [
        str(home_secret),
        "/etc/passwd",
        str(tmp_path / "home" / ".ssh" / ".." / ".ssh" / "id_rsa"),
        str(tmp_path / "link.png"),
        "file://" + str(home_secret),
        str(readable),
        str(tmp_path / "missing.png"),
        "~/.ssh/id_rsa",
    ]
    tools = _tools(emu)
    uploads, answers = emu.stats.uploads, set()
    for path in paths:
        for name, args in (
            ("upload_file", {"path": path}),
            ("grok_image_to_image", {"prompt": "x", "imageUrl": path}),
            ("run_model", {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": path}}),
        ):
            msg = _call(tools[name], args)
            assert msg.status == "error", (name, path, msg.content)
            assert "allowed_dirs=" in msg.content and "URL" in msg.content, msg.content  # says how to allow
            answers.add(str(msg.content).replace(path.removeprefix("file://"), "<path>"))
    assert emu.stats.uploads == uploads  # nothing left the machine
    assert len(answers) == 1, answers  # the same refusal whether the file exists or not
    record("files", "LangChain default: local paths named by the model", tried=3 * len(paths), held=3 * len(paths))

    allowed = _tools(emu, allowed_dirs=[tmp_path])  # the control: an allowed folder works
    assert _call(allowed["upload_file"], {"path": str(readable)}).status == "success"
    anything = _tools(emu, allow_any_file=True)  # and the explicit switch reads any file
    assert _call(anything["upload_file"], {"path": str(readable)}).status == "success"
    assert emu.stats.uploads == uploads + 2
    with pytest.raises(ValueError, match="not both"):
        RunningHubToolkit(allowed_dirs=[tmp_path], allow_any_file=True)


# ------------------------------------------------------------------ the check-then-open race


class Swapper:
    """Flips ``target`` between a regular file and a symlink to ``secret`` as fast as it can."""

    def __init__(self, target: Path, secret: Path, content: bytes, *, is_dir: bool = False) -> None:
        self.target, self.secret, self.content, self.is_dir = target, secret, content, is_dir
        self.flips = 0
        self.error: BaseException | None = None  # a swapper that died would make the race a no-op
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._guarded, daemon=True)

    def _guarded(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.error = exc

    def _regular(self, tmp: Path) -> None:
        if self.is_dir:
            tmp.mkdir()
            (tmp / "f.png").write_bytes(self.content)
        else:
            tmp.write_bytes(self.content)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            link = self.target.with_name(f".l{n}")
            link.symlink_to(self.secret, target_is_directory=self.is_dir)
            self._swap(link)
            real = self.target.with_name(f".r{n}")
            self._regular(real)
            self._swap(real)
            self.flips += 2

    def _swap(self, new: Path) -> None:
        if self.is_dir:  # a folder cannot be replaced by rename; move it aside first
            old = self.target.with_name(f".old{self.flips}")
            os.rename(self.target, old)
            os.rename(new, self.target)
            if old.is_symlink():
                old.unlink()
            else:
                (old / "f.png").unlink()
                old.rmdir()
        else:
            os.replace(new, self.target)

    def __enter__(self) -> Swapper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def _race_tree(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "allowed", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "f.png").write_bytes(SECRET)
    return root, outside


TRIES = 150


@pytest.mark.parametrize("swap", ["file", "folder"])
def test_swap_for_symlink_race_never_sends_the_outside_file(emu: Emulator, tmp_path: Path, swap: str) -> None:
    root, outside = _race_tree(tmp_path)
    if swap == "file":
        (root / "f.png").write_bytes(PNG)
        target, secret, path = root / "f.png", outside / "f.png", root / "f.png"
    else:
        (root / "sub").mkdir()
        (root / "sub" / "f.png").write_bytes(PNG)
        target, secret, path = root / "sub", outside, root / "sub" / "f.png"
    tools = _tools(emu, allowed_dirs=[root])
    ok = refused = 0
    with Swapper(target, secret, PNG, is_dir=swap == "folder") as swapper:
        for _ in range(TRIES):
            msg = _call(tools["upload_file"], {"path": str(path)})
            ok += msg.status == "success"
            refused += msg.status == "error"
    leaked = sum(body == SECRET for body in _uploaded(emu))
    assert swapper.error is None, repr(swapper.error)
    assert swapper.flips > 10, swapper.flips  # the race really ran
    assert leaked == 0, f"{leaked} of {TRIES} uploads sent the file outside the allowed folder"
    # every call answered (how many got through during the race depends on the machine's load: under
    # heavy load all 150 were refused once, which is safe); once the swapping stops the upload works
    assert ok + refused == TRIES, (ok, refused, swapper.flips)
    after = _call(tools["upload_file"], {"path": str(path)})
    assert after.status == "success", after.content
    record("files", f"swap a {swap} for a symlink while uploading (LangChain sync)", tried=TRIES, held=TRIES - leaked)


def test_swap_race_async_and_mcp(emu: Emulator, tmp_path: Path) -> None:
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    root, outside = _race_tree(tmp_path)
    (root / "f.png").write_bytes(PNG)
    tools = _tools(emu, allowed_dirs=[root])
    config = ServerConfig(api_key=TEST_KEY, base_url=emu.base_url, allow_dirs=[root], client_roots="off")

    async def go() -> int:
        answered = 0
        async with Client(build_server(config)) as client:
            for i in range(TRIES):
                if i % 2:
                    result = await client.call_tool("upload_file", {"path": str(root / "f.png")})
                    answered += bool(result.content)
                else:
                    msg = await tools["upload_file"].ainvoke(
                        {"type": "tool_call", "id": "c", "name": "upload_file", "args": {"path": str(root / "f.png")}}
                    )
                    answered += bool(msg.content)
        return answered

    with Swapper(root / "f.png", outside / "f.png", PNG):
        answered = asyncio.run(go())
    leaked = sum(body == SECRET for body in _uploaded(emu))
    assert answered == TRIES and leaked == 0
    record(
        "files", "swap a file for a symlink while uploading (LangChain async, MCP)", tried=TRIES, held=TRIES - leaked
    )


# ------------------------------------------------------------------ writes never go through planted links


def test_downloads_replace_planted_hard_links_and_symlinks(emu: Emulator, tmp_path: Path) -> None:
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02) as rh:
        result = rh.run("grok_image_to_image", {"prompt": "x", "imageUrl": "https://example.com/a.png"})
        text = rh.run("rhart_text_g_25_flash_text_to_text", {"prompt": "hi"})
    out = tmp_path / "out"
    out.mkdir()
    victims = []
    for i, (res, output) in enumerate(((result, result.outputs[0]), (text, text.outputs[0]))):
        victim = tmp_path / f"victim{i}.txt"
        victim.write_text("untouched")
        victims.append(victim)
        planted = out / output_filename(res.task_id, 0, output)
        if i == 0:
            os.link(victim, planted)  # a hard link: same inode as the victim
        else:
            planted.symlink_to(victim)
    result.download(out)
    text.download(out)
    assert [v.read_text() for v in victims] == ["untouched", "untouched"]
    saved = [out / output_filename(r.task_id, 0, r.outputs[0]) for r in (result, text)]
    assert saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and os.stat(saved[0]).st_nlink == 1
    assert not saved[1].is_symlink() and saved[1].read_text(encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in saved)  # no temporary file left
    record("files", "planted hard link / symlink under an output name", tried=2, held=2)


def test_output_filename_is_independent_of_the_emulator_id_format() -> None:
    # Real task ids are 19-digit numerals; ours must stay safe names whatever the format becomes.
    for task_id in ("2013508786110730241", "abc-DEF_123", "x" * 300):
        name = output_filename(task_id, 3, Output(url="https://cdn.example/a.mp4", extension="mp4"))
        assert name.endswith("-3.mp4") and "/" not in name and len(name) < 80
