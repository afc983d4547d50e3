"""The agent surfaces' decisions that the final mutation run found unguarded (issue #16, group "surfaces").

Which local files an agent may make us upload (``rh_tools/_paths.py``, shared by the LangChain tools
and rh-mcp), the MCP progress heartbeat (``mcp_server/progress.py``) and the tool definitions both
surfaces execute (``rh_tools/toolspecs.py``). Each test checks what the agent, the user or the service
sees: the refusal and its hint, the bytes that reach the (emulated) service, the notifications sent.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import TEST_KEY

from rh_tools import InvalidInputError, RunningHub
from rh_tools._media import MediaSource
from rh_tools._paths import FolderPolicy, open_checked, real_path_of_fd
from rh_tools.emulator import Emulator

PNG = b"\x89PNG\r\n\x1a\n" + b"inside" * 8
SECRET = b"\x89PNG\r\n\x1a\n" + b"SECRET" * 8


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.05, "video": 600}, queue_seconds=0) as e:
        yield e


def _uploaded(emu: Emulator) -> list[bytes]:
    return [p.read_bytes() for p in emu.core.uploads.dir.iterdir() if p.is_file() and not p.name.startswith("part-")]


# ------------------------------------------------------------------ the folder policy of both surfaces


def _langchain_check(root: Path) -> Callable[[list[MediaSource]], None]:
    from rh_tools.langchain import make_context

    check = make_context(allowed_dirs=[root]).check_media
    assert check is not None
    return check


def _mcp_check(root: Path) -> Callable[[list[MediaSource]], None]:
    from mcp_server.paths import FilePolicy

    return FilePolicy([root]).checker(None, can_ask=False)


SURFACES = {"langchain": _langchain_check, "mcp": _mcp_check}


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """An allowed folder with ``sub/clip.png`` in it, and a folder outside with a secret of the same name."""
    root, outside = tmp_path / "allowed", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "clip.png").write_bytes(PNG)
    (outside / "clip.png").write_bytes(SECRET)
    return {"root": root.resolve(), "outside": outside.resolve(), "file": (root / "sub" / "clip.png").resolve()}


def _checked(surface: str, tree: dict[str, Path], *more: MediaSource) -> MediaSource:
    """The file as the surface's folder policy leaves it for the upload (checked by name, not yet opened)."""
    src = MediaSource.from_path(tree["file"])
    SURFACES[surface](tree["root"])([*more, src])
    return src


def _read(src: MediaSource) -> bytes:
    return b"".join(src.iter_chunks())  # what the upload streams


@pytest.mark.parametrize("surface", SURFACES)
def test_a_folder_swapped_for_a_link_to_outside_after_the_check_is_not_uploaded(
    surface: str, tree: dict[str, Path], emu: Emulator
) -> None:
    """The name was inside when checked; by upload time a folder on its way points outside. The upload
    re-checks the opened file against the surface's folders: nothing reaches the service."""
    src = _checked(surface, tree)
    sub = tree["root"] / "sub"
    sub.rename(tree["root"] / "sub.old")
    sub.symlink_to(tree["outside"], target_is_directory=True)
    before = len(_uploaded(emu))
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as client, pytest.raises(InvalidInputError) as info:
        client.upload(src)
    err = info.value
    assert "refused: it was moved outside the allowed folders after it was checked" in err.message
    assert str(tree["file"]) in err.message  # names the file the agent asked for
    assert err.hint is not None and err.hint.startswith("Pass a file inside the allowed folders")
    assert not err.retryable
    assert len(_uploaded(emu)) == before and SECRET not in _uploaded(emu)


@pytest.mark.parametrize("surface", SURFACES)
def test_a_file_swapped_for_a_symlink_after_the_check_is_refused_as_such(surface: str, tree: dict[str, Path]) -> None:
    """Even a link that points inside is refused once the checked name became a link: the refusal says
    what happened, so the agent passes the file itself."""
    other = tree["root"] / "other.png"
    other.write_bytes(PNG)
    src = _checked(surface, tree)
    tree["file"].unlink()
    tree["file"].symlink_to(tree["outside"] / "clip.png")
    with pytest.raises(InvalidInputError) as info:
        _read(src)
    assert "refused: it was replaced by a symlink after it was checked" in info.value.message
    assert str(tree["file"]) in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith("Pass the file itself, inside the allowed")
    tree["file"].unlink()
    tree["file"].symlink_to(other)  # pointing inside changes nothing: the checked name is no longer the file
    with pytest.raises(InvalidInputError, match="replaced by a symlink"):
        _read(src)


def test_a_url_before_a_local_file_does_not_skip_the_files_check(tree: dict[str, Path]) -> None:
    """LangChain: sources that are not local files (data, URLs) are passed over, not the end of the list."""
    url_like = MediaSource.from_bytes(PNG, name="inline.png")
    outside = MediaSource.from_path(tree["outside"] / "clip.png")
    with pytest.raises(InvalidInputError, match="outside the allowed folders"):
        _langchain_check(tree["root"])([url_like, outside])
    src = _checked("langchain", tree, url_like)
    assert src.roots == (tree["root"],) and _read(src) == PNG


def test_the_plain_client_uploads_through_a_symlink(tmp_path: Path, emu: Emulator) -> None:
    """Without a folder policy (the Python client) any regular file may be read, links included."""
    real = tmp_path / "real.png"
    real.write_bytes(PNG + b"plain")
    link = tmp_path / "link.png"
    link.symlink_to(real)
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as client:
        up = client.upload(str(link))
    assert up.file_name
    assert PNG + b"plain" in _uploaded(emu)


def test_a_file_deleted_after_the_check_cannot_be_opened(tree: dict[str, Path]) -> None:
    src = _checked("mcp", tree)
    tree["file"].unlink()
    with pytest.raises(InvalidInputError) as info:
        _read(src)
    assert f"Local file {str(tree['file'])!r} cannot be opened: No such file or directory" == info.value.message


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
@pytest.mark.parametrize("plain", [False, True], ids=["policy", "plain-client"])
def test_a_file_swapped_for_a_fifo_is_refused_without_blocking(tree: dict[str, Path], plain: bool) -> None:
    """A FIFO with no writer would block a read forever: refused as not a regular file, with or without a
    folder policy, and the descriptor opened to look at it is closed again."""
    src = MediaSource.from_path(tree["file"]) if plain else _checked("mcp", tree)
    tree["file"].unlink()
    os.mkfifo(tree["file"])
    fds = _open_fds()
    for _ in range(2):
        with pytest.raises(InvalidInputError):
            _read(src)
    with pytest.raises(InvalidInputError) as info:
        _read(src)
    assert "refused: not a regular file (device, FIFO, socket or folder)" in info.value.message
    assert str(tree["file"]) in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith("Pass an ordinary image, video or audio file")
    assert _open_fds() == fds  # no descriptor leaked per refusal


def test_the_opened_file_is_handed_over_blocking(tree: dict[str, Path]) -> None:
    """The file is opened non-blocking (a FIFO must not hang the open) and set back before it is read."""
    fd = open_checked(tree["file"], [tree["root"]])
    try:
        assert os.get_blocking(fd)
        assert os.read(fd, 100) == PNG
    finally:
        os.close(fd)


# Where an open file really is: from /proc on Linux, F_GETPATH on macOS, else by re-resolving its name.


@pytest.fixture
def moved(tmp_path: Path) -> Iterator[tuple[int, Path, os.stat_result, Path]]:
    """An open file whose name, after opening, was taken by another file (the original moved away)."""
    name = tmp_path / "clipX"  # ends in X: a path is not stripped of its last letters
    name.write_bytes(PNG)
    fd = os.open(name, os.O_RDONLY)
    st = os.fstat(fd)
    away = tmp_path / "moved-awayX"
    name.rename(away)
    name.write_bytes(SECRET)
    try:
        yield fd, name, st, away
    finally:
        os.close(fd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: /proc/self/fd")
def test_linux_follows_the_descriptor_not_the_name(moved: tuple[int, Path, os.stat_result, Path]) -> None:
    fd, name, st, away = moved
    assert real_path_of_fd(fd, name, st) == away


def test_without_proc_a_name_now_naming_another_file_is_not_trusted(
    moved: tuple[int, Path, os.stat_result, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Platforms without /proc or F_GETPATH (the BSDs): the name is resolved again and must still be the
    opened file (same device and inode); otherwise the location is unknown, and the upload refused."""
    fd, name, st, away = moved
    monkeypatch.setattr(sys, "platform", "freebsd14")
    assert real_path_of_fd(fd, name, st) is None
    same = os.open(away, os.O_RDONLY)
    try:
        assert real_path_of_fd(same, away, os.fstat(same)) == away
    finally:
        os.close(same)
    assert real_path_of_fd(fd, name.with_name("gone"), st) is None  # a name that no longer exists


_F_GETPATH = 50  # <sys/fcntl.h> on macOS; MAXPATHLEN is 1024


def _macos_fcntl(fd: Any, cmd: Any, arg: Any = 0) -> bytes:
    """fcntl(2) as macOS answers F_GETPATH: the path, NUL-terminated, written over the caller's buffer."""
    if not isinstance(fd, int) or cmd != _F_GETPATH or not isinstance(arg, bytes) or len(arg) < 1024:
        raise OSError(22, "Invalid argument")
    where = os.readlink(f"/proc/self/fd/{fd}").encode()
    return where + b"\0" + arg[len(where) + 1 :]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the simulated F_GETPATH reads /proc")
def test_macos_asks_the_kernel_for_the_descriptors_path(
    moved: tuple[int, Path, os.stat_result, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    fd, name, st, away = moved
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(fcntl, "fcntl", _macos_fcntl)
    assert real_path_of_fd(fd, name, st) == away

    def refusing(fd: Any, cmd: Any, arg: Any = 0) -> bytes:
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(fcntl, "fcntl", refusing)
    assert real_path_of_fd(fd, name, st) is None


# The refusals by name: what the agent reads decides what it does next.


def test_without_allowed_folders_the_hint_offers_urls(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        FolderPolicy().check_path(tmp_path / "a.png")
    assert "no folder is allowed for local files" in info.value.message
    assert info.value.hint == "Or pass a public URL or a data: URI instead of a path."


def test_the_refusal_lists_every_allowed_folder(tree: dict[str, Path], tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    policy = FolderPolicy([tree["root"], second], how_to_allow="Allow it with --allow-dir.")
    with pytest.raises(InvalidInputError) as info:
        policy.check_path(tree["outside"] / "clip.png")
    hint = info.value.hint or ""
    assert f"Allowed folders: {tree['root']}, {second.resolve()}. Move or copy the file there" in hint
    assert hint.endswith("Allow it with --allow-dir. Or pass a public URL or a data: URI instead of a path.")


def test_a_missing_file_inside_says_to_pass_an_existing_one(tree: dict[str, Path]) -> None:
    with pytest.raises(InvalidInputError) as info:
        FolderPolicy([tree["root"]]).check_path(tree["root"] / "missing.png")
    assert "does not exist or cannot be resolved" in info.value.message
    assert info.value.hint == "Pass an existing file inside the allowed folders."


def test_only_a_name_inside_the_folders_is_called_a_symlink_pointing_out(tree: dict[str, Path], tmp_path: Path) -> None:
    """The aside "it is a symlink pointing outside them" explains why a name *inside* is refused; for a
    name that is outside anyway it would mislead the agent into looking for a link to fix."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.symlink_to(tree["outside"], target_is_directory=True)
    policy = FolderPolicy([tree["root"]])
    with pytest.raises(InvalidInputError) as info:
        policy.check_path(elsewhere / "clip.png")
    assert "outside the allowed folders" in info.value.message and "symlink" not in info.value.message
    (tree["root"] / "link").symlink_to(tree["outside"], target_is_directory=True)
    with pytest.raises(InvalidInputError) as info:
        policy.check_path(tree["root"] / "link" / "clip.png")
    assert "(it is a symlink pointing outside them)" in info.value.message


# ------------------------------------------------------------------ the MCP progress heartbeat


def _task(task_id: str, status: str) -> Any:
    from rh_tools.types import Task

    return Task(task_id=task_id, status=status)


async def _settle() -> None:
    for _ in range(50):  # let the heartbeat's task run (no wall clock involved)
        await anyio.sleep(0)


async def test_each_change_of_status_or_task_wakes_one_beat_and_repeats_do_not() -> None:
    """A long interval, so only status changes send: a new status of the same task, and the same status
    of a new task (a resubmitted run), each send one notification; a repeated status sends none."""
    from mcp_server.progress import Heartbeat

    sent: list[str | None] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        sent.append(message)

    beat = Heartbeat(report, interval=3600)

    async def work() -> int:
        counts = []
        steps = [("t1", "QUEUED"), ("t1", "QUEUED"), ("t1", "RUNNING"), ("t1", "RUNNING"), ("t2", "RUNNING")]
        for task_id, status in steps:
            beat.on_status(_task(task_id, status), 0.0)
            await _settle()
            counts.append(len(sent))
        return counts[-1] if counts == [1, 1, 2, 2, 3] else -1

    assert await beat.run(work) == 3, sent
    assert sent[0] is not None and sent[0].startswith("task t1 QUEUED")
    assert sent[-1] is not None and sent[-1].startswith("task t2 RUNNING")


async def test_progress_counts_seconds_in_tenths() -> None:
    from mcp_server.progress import Heartbeat

    seen: list[float] = []

    async def report(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    beat = Heartbeat(report, interval=3600)
    beat.started -= 2.46  # as if the call began 2.46 s ago
    await beat.beat()
    await beat.beat()
    assert 2.4 <= seen[0] < 60 and seen[0] == round(seen[0], 1)
    assert seen[1] > seen[0] and seen[1] == round(seen[1], 1)


async def test_a_failed_notification_stops_the_heartbeat_for_good(caplog: pytest.LogCaptureFixture) -> None:
    """After the client refused one notification, later status changes send nothing and log nothing more;
    the operator's debug log says why it stopped, with the error."""
    from mcp_server.progress import Heartbeat

    calls = 0

    async def broken(progress: float, total: float | None, message: str | None) -> None:
        nonlocal calls
        calls += 1
        raise anyio.BrokenResourceError("client went away")

    beat = Heartbeat(broken, interval=3600)

    async def work() -> str:
        for status in ("QUEUED", "RUNNING", "SUCCESS"):
            beat.on_status(_task("t1", status), 0.0)
            await _settle()
        return "the paid result"

    with caplog.at_level(logging.DEBUG, logger="mcp_server"):
        assert await beat.run(work) == "the paid result"
    stopped = [r for r in caplog.records if "heartbeat stopped" in r.getMessage()]
    assert calls == 1 and beat.sent == 0
    assert len(stopped) == 1
    assert stopped[0].exc_info and isinstance(stopped[0].exc_info[1], anyio.BrokenResourceError)  # with the cause


# ------------------------------------------------------------------ the tools both surfaces share


def _toolkit(emu: Emulator, **settings: Any) -> dict[str, Any]:
    from rh_tools import AsyncRunningHub
    from rh_tools.langchain import RunningHubToolkit

    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    tk = RunningHubToolkit(client=sync, async_client=asy, **settings)
    return {t.name: t for t in tk.get_tools()}


@pytest.fixture
def tools(emu: Emulator, tmp_path: Path) -> dict[str, Any]:
    """The default LangChain tools on the emulator; ``tmp_path`` is the one folder they may read."""
    return _toolkit(emu, allowed_dirs=[tmp_path])


def _tool(name: str, **settings: Any) -> Any:
    """One LangChain tool by name, with toolkit settings (client, budget, allowed_dirs …) as keywords."""
    from rh_tools.langchain import RunningHubTool

    return RunningHubTool(name=name, **settings)


def _call(tool: Any, args: dict[str, Any]) -> Any:
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


def _error(tool: Any, args: dict[str, Any]) -> str:
    msg = _call(tool, args)
    assert msg.status == "error", msg.content
    return str(msg.content)


# The default tools as every agent reads them (paid for in each tools/list): a change here is a change
# of what models see, and of the money hints (a paid tool is held to spending limits; a read-only one is
# marked safe to call by MCP clients). Change this table only on purpose.
DEFAULT_TOOLS = {
    "search_models": (
        "Search RunningHub models",
        "Find RunningHub models by what they do, in plain words, or by name: ranked names, one line each.",
        False,
        True,
    ),
    "describe_model": (
        "Describe a model",
        "Parameters of one model (types, allowed values, limits) and a valid example.",
        False,
        True,
    ),
    "run_model": (
        "Run a model",
        "Run any RunningHub model by name with the params describe_model lists. Waits up to wait_seconds, then "
        "returns the task id for wait_task. Media params take URLs or local paths. Costs RunningHub credits.",
        True,
        False,
    ),
    "price_model": (
        "Price a model run",
        "Price of a run_model call with these params, before paying. Creates no task.",
        False,
        True,
    ),
    "get_task": ("Check a task", "Current status of a task, with outputs once finished.", False, True),
    "wait_task": (
        "Wait for a task",
        "Wait for a task; returns its outputs, or its status if still running.",
        False,
        True,
    ),
    "list_tasks": (
        "List past tasks",
        "Tasks already paid for, also in earlier sessions. Check before running again.",
        False,
        True,
    ),
    "cancel_task": ("Cancel a task", "Cancel a queued or running task.", False, False),
    "upload_file": (
        "Upload a file",
        "Upload a local file (image, video, audio, zip); returns a URL for media params.",
        False,
        False,
    ),
    "get_account": ("Account balance", "Wallet balance, coins and running task count.", False, True),
    "run_workflow": (
        "Run a ComfyUI workflow",
        "Run a saved ComfyUI workflow with node inputs as describe_workflow lists them. Costs RunningHub credits.",
        True,
        False,
    ),
    "run_ai_app": (
        "Run an AI app",
        "Run a RunningHub AI app with node inputs as describe_workflow lists them. Costs RunningHub credits.",
        True,
        False,
    ),
    "describe_workflow": (
        "Describe a workflow or AI app",
        "Nodes and inputs of a workflow (workflow_id) or AI app (webapp_id), for node_info_list.",
        False,
        True,
    ),
}


def test_the_default_tools_read_as_agreed(tools: dict[str, Any]) -> None:
    seen = {
        name: (t.metadata["title"], t.description, t.metadata["paid"], t.metadata["read_only"])
        for name, t in tools.items()
    }
    assert seen == DEFAULT_TOOLS


def test_describe_workflow_lists_the_nodes_an_agent_can_set(tools: dict[str, Any]) -> None:
    from rh_tools.emulator.workflows import SAMPLE_WORKFLOW_ID

    msg = _call(tools["describe_workflow"], {"workflow_id": SAMPLE_WORKFLOW_ID})
    lines = str(msg.content).splitlines()
    assert lines[0] == (
        f"Workflow {SAMPLE_WORKFLOW_ID} nodes (nodeId: class_type, inputs you can set via node_info_list):"
    )
    # inputs wired to another node (lists) are not settable, literal ones are
    assert (
        "- 6: CLIPTextEncode ['text']" in lines and "- 5: EmptyLatentImage ['width', 'height', 'batch_size']" in lines
    )
    assert lines[-1].startswith("Optional run options, as options='{...}' JSON text: instance_type")
    assert msg.artifact["workflow_id"] == SAMPLE_WORKFLOW_ID and msg.artifact["nodes"]["6"]["class_type"] == (
        "CLIPTextEncode"
    )


def test_describe_workflow_shows_an_ai_apps_node_list_ready_to_edit(tools: dict[str, Any]) -> None:
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WEBAPPS

    app = SAMPLE_WEBAPPS[SAMPLE_WEBAPP_ID]
    msg = _call(tools["describe_workflow"], {"webapp_id": SAMPLE_WEBAPP_ID})
    lines = str(msg.content).splitlines()
    assert lines[0] == (
        f"AI app {SAMPLE_WEBAPP_ID} ({app['name']}): edit fieldValue and pass as node_info_list to run_ai_app:"
    )
    assert json.loads(lines[1]) == app["nodeInfoList"] and "上传图片" in lines[1]  # readable, not \u-escaped
    assert lines[2].startswith("Optional run options")
    assert msg.artifact == {"webapp_id": SAMPLE_WEBAPP_ID, "nodeInfoList": app["nodeInfoList"]}


@pytest.mark.parametrize("args", [{}, {"workflow_id": "1", "webapp_id": "2"}], ids=["neither", "both"])
def test_describe_workflow_wants_exactly_one_id(tools: dict[str, Any], args: dict[str, Any]) -> None:
    assert _error(tools["describe_workflow"], args).startswith("Error: Give exactly one of workflow_id or webapp_id\n")


def _describe(tools: dict[str, Any], name: str) -> tuple[list[str], dict[str, Any]]:
    msg = _call(tools["describe_model"], {"name": name})
    assert msg.status == "success", msg.content
    return str(msg.content).splitlines(), msg.artifact


def test_describe_model_says_what_a_model_makes_and_how_to_call_it(tools: dict[str, Any]) -> None:
    from rh_tools import catalogue
    from rh_tools.catalogue._examples import example_params

    ep = catalogue.get("grok_image_to_image")
    lines, data = _describe(tools, "grok_image_to_image")
    assert lines[1] == "Makes: image (image-to-image); model grok-image, low-price variant"
    assert lines[2] == "Parameters:"
    assert "- prompt (string, required): Text prompt describing the desired output." in lines
    assert lines[-3:] == [
        "Media fields take a public URL, a data URI or a local file path (uploaded for you).",
        f"Example: run_model(name='grok_image_to_image', params={json.dumps(example_params(ep))})",
        "Running it costs RunningHub credits.",
    ]
    assert {k: v for k, v in data.items() if k not in ("input_schema", "example")} == {
        "name": "grok_image_to_image",
        "path": ep.path,
        "sidebar_name": ep.sidebar_name,
        "category": "image",
        "task": "image-to-image",
        "output_type": "image",
        "variant": "low-price",
        "description": ep.description,
    }
    assert data["example"] == example_params(ep) and data["input_schema"]["properties"]["prompt"]

    lines, _ = _describe(tools, "vidu_image_to_video_q3_pro_fast")
    assert lines[1] == "Makes: video (image-to-video); model vidu-q3-pro-fast"  # no variant, no aside


def test_describe_model_renders_each_kind_of_parameter(tools: dict[str, Any]) -> None:
    lines, _ = _describe(tools, "kling_video_o3_pro_reference_to_video")
    assert any(line.startswith("- imageUrls (image[], max 7 items): ") for line in lines)
    assert any(line.startswith("- duration (int, range 3.0..15.0, default 5): ") for line in lines)
    lines, _ = _describe(tools, "kling_lip_sync_lip_sync_video")  # a minimum without a maximum
    assert any(line.startswith("- soundStartTime (int, required, range 0.0..): ") for line in lines)
    lines, _ = _describe(tools, "wan_2_2_text_to_video")  # the example as the agent should type it
    assert '"resolution": "1280×720"' in lines[-2]
    lines, data = _describe(tools, "kling_v3_0_4k_motion_control")
    assert lines[2] == "Parameters: not published; pass what RunningHub documents for it."
    assert lines[3].startswith("Media fields take") and data["example"] == {}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("   ", "Invalid arguments for grok_image_to_image: prompt: required"),  # blank text: an empty object
        ('{"prompt": ', "params is not valid JSON (Expecting value at character 10)"),
        ("[1, 2]", 'params must be a JSON object, e.g. {"prompt": "a red fox"}'),
    ],
)
def test_params_arrive_as_json_text_and_errors_say_what_is_wrong(
    tools: dict[str, Any], params: str, expected: str
) -> None:
    text = _error(tools["price_model"], {"name": "grok_image_to_image", "params": params})
    assert expected in text


def test_run_options_arrive_as_json_text(tools: dict[str, Any], emu: Emulator) -> None:
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID

    text = _error(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID, "options": "plus"})
    assert "options is not valid JSON" in text
    text = _error(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID, "options": '"plus"'})
    assert 'options must be a JSON object, e.g. {"instance_type": "plus"}' in text
    text = _error(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID, "options": '{"gpu": "big"}'})
    assert (
        "unknown options ['gpu']; known: ['instance_type', 'use_personal_queue', 'retain_seconds', 'access_password']"
        in text
    )


def test_valid_params_text_is_used_as_given(tools: dict[str, Any]) -> None:
    msg = _call(tools["price_model"], {"name": "grok_image_to_image", "params": '{"prompt": "a red fox"}'})
    assert msg.status == "success", msg.content
    assert msg.artifact["name"] == "grok_image_to_image"


@pytest.mark.parametrize(("seconds", "ok"), [(0, True), (3600, True), (3600.5, False), (-1, False)])
def test_wait_seconds_range_is_inclusive_and_named(tools: dict[str, Any], seconds: float, ok: bool) -> None:
    msg = _call(tools["wait_task"], {"task_id": "1" * 19, "wait_seconds": seconds})
    text = str(msg.content)
    if ok:  # accepted: the unknown task is what fails, at RunningHub
        assert "must be 0 to 3600" not in text
    else:
        assert f"wait_seconds: must be 0 to 3600 seconds (got {seconds:g})" in text


def test_search_limit_range_has_no_unit(tools: dict[str, Any]) -> None:
    assert "limit: must be 1 to 50 (got 51)" in _error(tools["search_models"], {"query": "video", "limit": 51})
    assert _call(tools["search_models"], {"query": "video", "limit": 50}).status == "success"


def test_upload_file_names_the_argument_and_returns_only_set_fields(emu: Emulator, tmp_path: Path) -> None:
    tools = _toolkit(emu, allow_any_file=True)  # no folder policy: the client itself judges the path
    text = _error(tools["upload_file"], {"path": str(tmp_path / "missing.png")})
    assert f"Error: path: {str(tmp_path / 'missing.png')!r} is not a URL, data URI or existing file" in text
    (tmp_path / "fox.png").write_bytes(PNG)
    msg = _call(tools["upload_file"], {"path": str(tmp_path / "fox.png")})
    assert msg.status == "success", msg.content
    assert msg.artifact["download_url"] in msg.content and None not in msg.artifact.values()


def test_without_proc_a_checked_file_still_uploads(tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The portable check (re-resolve the name, compare device and inode) passes an untouched file."""
    src = _checked("mcp", tree)
    monkeypatch.setattr(sys, "platform", "freebsd14")
    assert _read(src) == PNG


def test_a_per_model_tool_says_what_it_makes_and_its_key_inputs(emu: Emulator) -> None:
    def tool(name: str) -> Any:
        return _toolkit(emu, tools=[name], include_generic=False)[name]

    many = tool("kling_video_o3_pro_reference_to_video")
    assert many.metadata["title"] == "kling-video-o3-pro reference-to-video"
    assert many.description.endswith(
        "Makes video. Key inputs: prompt*, videoUrl, imageUrls, keepOriginalSound, sound, aspectRatio (+5 more) "
        "(* required). Media fields take URLs or local paths. Costs RunningHub credits. Returns output URLs, cost "
        "and task id."
    )
    grok = tool("grok_image_to_image")
    assert grok.metadata["title"] == "grok-image image-to-image (low-price)"
    assert grok.metadata["paid"] is True and grok.metadata["read_only"] is False
    assert "Makes image. Key inputs: model, prompt*, imageUrl (* required)." in grok.description
    assert "Key inputs: see schema (* required)." in tool("kling_v3_0_4k_motion_control").description


def test_too_many_tools_says_how_many_per_category_and_how_to_choose() -> None:
    from rh_tools import catalogue
    from rh_tools.toolspecs import endpoint_spec, generic_specs, too_many_tools

    video = [endpoint_spec(e) for e in catalogue.all() if e.category == "video"][:100]
    image = [endpoint_spec(e) for e in catalogue.all() if e.category == "image"][:20]
    specs = [*generic_specs(), *image, *video]  # 133; the generic ones belong to no category
    assert too_many_tools(specs[:128]) is None
    said = too_many_tools(specs)
    assert said is not None and said.startswith(
        "133 tools selected: OpenAI refuses a request with more than 128 (other clients use fewer; Cursor about 40). "
        "Per-model tools by category: video 100, image 20. Select fewer by category or output type, or by name"
    )
    assert said.endswith("the generic tools (search_models, run_model …) reach every model with a dozen schemas.")
    assert too_many_tools(specs, limit=133) is None
    assert (too_many_tools(specs, limit=132) or "").startswith(
        "133 tools selected: OpenAI refuses a request with more than 132"
    )


def test_what_the_task_and_account_tools_answer(emu: Emulator, tools: dict[str, Any]) -> None:
    account = _call(tools["get_account"], {})
    a = account.artifact  # the emulator's account (other tests spend from it)
    assert account.content == (
        f"Balance: {a['remain_money']} CNY; RH coins: {a['remain_coins']}; running tasks: {a['current_task_counts']}; "
        f"key type: {a['api_type']}."
    )
    assert float(a["remain_money"]) > 0 and a["api_type"] == "NORMAL" and None not in a.values()

    previews = sum(n for path, n in emu.stats.requests_by_path.items() if "price-preview" in path)
    ran = _call(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    task_id = ran.artifact["task_id"]
    assert (
        f"task {task_id} (grok_image_to_image) finished" in ran.content
        and ran.artifact["model"] == "grok_image_to_image"
    )
    assert sum(n for path, n in emu.stats.requests_by_path.items() if "price-preview" in path) == previews  # no limits
    assert "Not saved" not in ran.content  # no download folder: no attempt to save
    listed = _call(tools["list_tasks"], {})
    assert str(listed.content).splitlines() == [
        "1 task(s), newest first:",
        f'- {task_id} grok_image_to_image SUCCESS, 0 min ago, cost 0.14, prompt "a fox", 1 output(s)',
        "get_task(task_id) gives fresh output URLs (they expire about a day after the run).",
    ]
    row = listed.artifact["tasks"][0]
    assert listed.artifact["total"] == 1 and row["model"] == "grok_image_to_image" and row["done"] is True
    assert row["age_seconds"] == 0 and row["cost"] == 0.14 and len(row["outputs"]) == 1
    assert row["status"] == "SUCCESS" and row["params"]["prompt"] == "a fox"
    assert row["files"] == []  # no download folder: nothing was saved anywhere
    assert _call(tools["list_tasks"], {"unfinished": True}).content == "No tasks in the journal match."

    cancelled = _call(tools["cancel_task"], {"task_id": task_id})
    assert cancelled.content == f"Cancel requested for task {task_id}."
    assert cancelled.artifact == {"task_id": task_id, "cancelled": True}


def test_a_run_that_outlasts_its_wait_hands_back_the_task(emu: Emulator, tools: dict[str, Any]) -> None:
    from rh_tools import catalogue
    from rh_tools.catalogue._examples import example_params

    name = "kling_video_o3_std_video_edit"
    pending = _call(
        tools["run_model"], {"name": name, "params": example_params(catalogue.get(name)), "wait_seconds": 0}
    )
    task_id = pending.artifact["task_id"]
    assert pending.artifact == {
        "task_id": task_id,
        "status": "RUNNING",
        "done": False,
        "waited_seconds": pending.artifact["waited_seconds"],
        "next": "wait_task",
    }
    assert pending.artifact["waited_seconds"] < 30  # the agent's wait, not the video default (45 s)
    assert f"Call wait_task with task_id={task_id}" in pending.content
    listed = _call(tools["list_tasks"], {"unfinished": True, "name": "kling"})
    assert str(listed.content).splitlines() == [
        "1 task(s), newest first:",
        f'- {task_id} {name} RUNNING, 0 min ago, prompt "A red fox in fresh snow, golden hour, detailed"',
        "Unfinished tasks keep running: collect them with wait_task(task_id); never resubmit.",
    ]
    assert _call(tools["list_tasks"], {"unfinished": True, "name": "grok"}).content == (
        "No tasks in the journal match."
    )
    waited = _call(tools["wait_task"], {"task_id": task_id, "wait_seconds": 2})
    assert waited.artifact["status"] == "RUNNING" and waited.artifact["next"] == "wait_task"
    assert 1.5 <= waited.artifact["waited_seconds"] < 30  # what was waited, in seconds
    capped = _toolkit(emu, max_wait=0)["wait_task"]
    assert _call(capped, {"task_id": task_id, "wait_seconds": 600}).artifact["waited_seconds"] < 30
    assert _call(capped, {"task_id": task_id}).artifact["next"] == "wait_task"  # the default wait, capped too
    assert waited.artifact["waited_seconds"] < 30  # the agent's wait, not the default minute


def test_search_says_how_many_match_and_what_was_asked(tools: dict[str, Any]) -> None:
    import re

    found = _call(tools["search_models"], {"query": "grok image", "category": "image", "limit": 2})
    lines = str(found.content).splitlines()
    assert re.fullmatch(r"\d+ models match 'grok image' category=image; showing the best 2:", lines[0]), lines[0]
    assert len(found.artifact["models"]) == 2 and found.artifact["total"] > 2
    assert lines[1] == f"- {found.artifact['models'][0]['name']} [image]: {found.artifact['models'][0]['description']}"
    assert lines[-1] == "Next: describe_model(name) for parameters, then run_model(name, params)."
    assert set(found.artifact) == {"total", "models"}  # no empty notes or suggestions
    assert set(found.artifact["models"][0]) == {"name", "output_type", "category", "task", "variant", "description"}
    none = _call(tools["search_models"], {"query": "zzzzqqq", "output_type": "3d"})
    assert str(none.content).startswith("No models match 'zzzzqqq' output_type=3d.\n")
    assert none.artifact["total"] == 0 and none.artifact["suggestions"]


def test_a_workflow_run_needs_an_id_or_a_workflow(tools: dict[str, Any]) -> None:
    text = _error(tools["run_workflow"], {"node_info_list": [{"nodeId": "6", "fieldName": "text", "fieldValue": "x"}]})
    assert text.startswith("Error: Give workflow_id, or a workflow in API format (or both)\n")


def _preview_client(answer: dict[str, Any]) -> Any:
    """A client whose price preview answers ``answer`` (as RunningHub would), through httpx."""
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errorCode": "", "errorMessage": "", "currency": "CNY", **answer})

    return RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(handle))


@pytest.mark.parametrize(
    ("answer", "said", "price", "free"),
    [
        ({"estimatedPrice": 0.14, "isFreeThisCall": True}, "free this time (a free allowance covers it)", 0.14, True),
        ({"isFreeThisCall": False}, "not given by RunningHub for these arguments", None, False),
    ],
    ids=["free", "unknown"],
)
def test_price_model_says_free_or_unknown(
    answer: dict[str, Any], said: str, price: Any, free: bool, tmp_path: Path
) -> None:

    client = _preview_client(answer)
    tool = _tool("price_model", client=client, allowed_dirs=[tmp_path])
    (tmp_path / "fox.png").write_bytes(PNG)
    params = {"prompt": "a fox", "imageUrl": str(tmp_path / "fox.png")}
    msg = _call(tool, {"name": "grok_image_to_image", "params": params})
    assert str(msg.content).splitlines() == [
        f"Price of one grok_image_to_image run with these params: {said}. Pricing a call creates no task.",
        "Local files were left out of the estimate (prices depend on options, not the media).",
    ]
    assert msg.artifact == {
        "name": "grok_image_to_image",
        "estimated_price": price,
        "currency": "CNY",
        "free_this_call": free,
    }


def _saved(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_ai_apps_and_workflows_run_through_the_tools_and_save_their_outputs(emu: Emulator, tmp_path: Path) -> None:
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

    out = tmp_path / "out"
    tools = _toolkit(emu, download_dir=out)
    nodes = [{"nodeId": "6", "fieldName": "text", "fieldValue": "a fox in watercolour"}]
    app = _call(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID, "node_info_list": nodes, "wait_seconds": 60})
    assert app.status == "success" and app.artifact["status"] == "SUCCESS", app.content
    assert f"(ai-app {SAMPLE_WEBAPP_ID})" in app.content and len(_saved(out)) == len(app.artifact["outputs"]) > 0
    flow = _call(tools["run_workflow"], {"workflow_id": SAMPLE_WORKFLOW_ID, "options": '{"instance_type": "plus"}'})
    assert flow.status == "success" and flow.artifact["status"] == "SUCCESS", flow.content
    assert f"(workflow {SAMPLE_WORKFLOW_ID})" in flow.content
    assert len(_saved(out)) == len(app.artifact["outputs"]) + len(flow.artifact["outputs"])


def test_slow_ai_apps_and_workflows_hand_back_their_task_within_the_wait(tmp_path: Path) -> None:
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID, SAMPLE_WORKFLOWS

    with Emulator(port=0, durations={"image": 600, "video": 600}, queue_seconds=0) as slow:
        tools = _toolkit(slow)
        app = _call(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID, "wait_seconds": 0})
        inline = json.dumps(SAMPLE_WORKFLOWS[SAMPLE_WORKFLOW_ID]["prompt"])
        flow = _call(tools["run_workflow"], {"workflow": inline, "wait_seconds": 0})
    for msg in (app, flow):  # asked for no wait: handed back at once (not after a default minute)
        assert msg.status == "success" and msg.artifact["next"] == "wait_task", msg.content
        assert msg.artifact["done"] is False and msg.artifact["waited_seconds"] < 30
    assert f"(ai-app {SAMPLE_WEBAPP_ID}) is still RUNNING" in app.content
    assert "(workflow inline) is still RUNNING" in flow.content


def test_unpriced_runs_under_a_per_call_limit_name_the_run(emu: Emulator) -> None:
    from rh_tools._budget import Budget
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID, SAMPLE_WORKFLOW_ID

    tools = _toolkit(emu, budget=Budget(per_call=1.0))
    before = emu.stats.tasks_created
    for tool, args, label in [
        ("run_ai_app", {"webapp_id": SAMPLE_WEBAPP_ID}, f"run_ai_app({SAMPLE_WEBAPP_ID})"),
        ("run_workflow", {"workflow_id": SAMPLE_WORKFLOW_ID}, f"run_workflow({SAMPLE_WORKFLOW_ID})"),
        ("run_workflow", {"workflow": '{"1": {"class_type": "SaveImage", "inputs": {}}}'}, "run_workflow(inline)"),
    ]:
        assert f"Error: {label} has no price preview" in _error(tools[tool], args)
    assert emu.stats.tasks_created == before


def test_a_price_that_cannot_be_read_under_a_limit_stops_the_run() -> None:
    """With a spending limit, a run is priced first; when pricing fails nothing is submitted, and the
    agent is told why and what to do."""
    import httpx

    from rh_tools._budget import Budget

    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"errorCode": "1007", "errorMessage": "Invalid parameter: model"})

    client = RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(handle))
    tool = _tool("run_model", client=client, budget=Budget(per_call=1.0))
    msg = _call(tool, {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    assert msg.status == "error"
    first, *rest = str(msg.content).splitlines()
    assert first.startswith("Error: grok_image_to_image could not be priced (") and first.endswith(
        "), and a spending limit is set"
    )
    assert "What to do: Nothing was submitted. Try again later, or run it without spending limits." in rest
    assert paths and all("price" in p or "preview" in p for p in paths), paths  # no submit


def test_a_workflow_runs_with_the_node_inputs_given(emu: Emulator) -> None:
    """The node list reaches RunningHub: one naming a node the workflow lacks is refused there (803)."""
    from rh_tools.emulator.workflows import SAMPLE_WORKFLOW_ID

    before = emu.stats.tasks_created
    nodes = [{"nodeId": "999", "fieldName": "text", "fieldValue": "x"}]
    text = _error(_toolkit(emu)["run_workflow"], {"workflow_id": SAMPLE_WORKFLOW_ID, "node_info_list": nodes})
    assert text.startswith("Error [803]") and "nodeId=999" in text and emu.stats.tasks_created == before


def test_price_model_without_a_folder_policy_and_with_spending_limits(emu: Emulator, tmp_path: Path) -> None:
    from rh_tools._budget import Budget

    tools = _toolkit(emu, allow_any_file=True, budget=Budget(per_session=2.0))
    (tmp_path / "fox.png").write_bytes(PNG)
    local = {"prompt": "a fox", "imageUrl": str(tmp_path / "fox.png")}  # any file may be read: no folder policy
    assert _call(tools["run_model"], {"name": "grok_image_to_image", "params": local}).status == "success"
    msg = _call(tools["price_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    assert str(msg.content).splitlines() == [
        "Price of one grok_image_to_image run with these params: about 0.14 CNY. Pricing a call creates no task.",
        "Spending limits: 0.14 CNY of 2 CNY spent this session.",  # the run above
    ]
    assert msg.artifact["price_text"] == "¥0.14"


def test_search_reads_one_match_filters_and_notes(tools: dict[str, Any]) -> None:
    one = _call(tools["search_models"], {"task": "video-to-video", "variant": "official"})
    assert str(one.content).splitlines()[0] == "1 model matches task=video-to-video variant=official:"
    assert one.artifact["models"][0]["variant"] == "official" and one.artifact["total"] == 1
    few = _call(tools["search_models"], {"query": "minimax", "output_type": "audio", "limit": 50})
    head = str(few.content).splitlines()[0]
    assert head.endswith(" models match 'minimax' output_type=audio:")  # all shown: no "showing the best"
    assert {m["output_type"] for m in few.artifact["models"]} == {"audio"}  # minimax also makes videos
    two = _call(tools["search_models"], {"task": "text-to-3d"})
    assert str(two.content).startswith("2 models match task=text-to-3d:")
    noted = _call(tools["search_models"], {"query": "change the outfit", "limit": 1})
    note = "No model here is built only for this; image editors (task image-to-image) do it when the prompt asks"
    assert any(line.startswith(f"Note: {note}") for line in str(noted.content).splitlines())
    assert noted.artifact["notes"][0].startswith(note)


def test_a_task_is_told_in_the_accounts_currency(emu: Emulator) -> None:
    """Once the account said it pays in USD, task costs are shown in USD (not the documented CNY default)."""
    from rh_tools._budget import Budget

    tools = _toolkit(emu)
    ran = _call(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    emu.set_config(currency="USD")
    try:
        assert "USD" in _call(tools["get_account"], {}).content
        got = _call(tools["get_task"], {"task_id": ran.artifact["task_id"]})
        limited = _toolkit(emu, budget=Budget(per_call=1.0))  # learns the currency from the run's price
        priced_run = _call(limited["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
        free_tools = [_call(limited[name], {}).status for name in ("get_account", "list_tasks")]
    finally:
        emu.set_config(currency="CNY")
    assert "Cost: 0.14 USD (API)" in got.content and got.artifact["status"] == "SUCCESS"
    assert "Cost: 0.14 USD (API)" in priced_run.content
    assert free_tools == ["success", "success"]  # tools that cost nothing are not held to a per-call maximum


async def test_mcp_get_task_links_the_outputs_of_a_finished_task(emu: Emulator) -> None:
    from test_mcp_server import connect

    async with connect(emu) as client:
        ran = await client.call_tool("run_model", {"name": "grok_image_to_image", "params": '{"prompt": "a fox"}'})
        task_id = ran.structured_content["task_id"]
        assert any(getattr(c, "type", "") == "resource_link" for c in ran.content)
        got = await client.call_tool("get_task", {"task_id": task_id})
    from mcp import types

    links = [c for c in got.content if isinstance(c, types.ResourceLink)]
    assert not got.is_error and len(links) == len(got.structured_content["outputs"]) > 0
    assert str(links[0].uri) == got.structured_content["outputs"][0]["url"]


def test_list_tasks_shows_age_in_minutes_and_only_a_text_prompt(tools: dict[str, Any]) -> None:
    import time

    from rh_tools.journal import SQLiteStore, TaskRecord
    from rh_tools.journal._journal import key_fingerprint

    store = SQLiteStore(Path(os.environ["RUNNINGHUB_STORE"]))
    mine = {"tool": "some_model", "key_id": key_fingerprint(TEST_KEY)}  # this key's own tasks are listed
    store.add(TaskRecord("7001", status="RUNNING", params={"prompt": ["not", "text"]}, **mine))
    store.add(TaskRecord("7002", created_at=time.time() - 3000, params={"prompt": "p" * 100}, **mine))
    listed = _call(tools["list_tasks"], {"name": "some_model"})
    lines = str(listed.content).splitlines()
    assert "- 7001 some_model RUNNING, 0 min ago" in lines  # no prompt: it is not text
    assert f'- 7002 some_model QUEUED, 50 min ago, prompt "{"p" * 80}"' in lines
    assert lines[-1] == "Unfinished tasks keep running: collect them with wait_task(task_id); never resubmit."
    for i in range(25):
        store.add(TaskRecord(f"80{i:02d}", **mine))
    assert _call(tools["list_tasks"], {}).artifact["total"] == 20  # the newest 20


def test_saving_outputs_is_bounded_by_the_calls_wait(emu: Emulator, tmp_path: Path) -> None:
    """The wait bounds the whole call, saving included (plus a short grace): a download slower than
    that ends as "not saved" with the URLs kept; one that fits is saved."""
    out = tmp_path / "out"
    tools = _toolkit(emu, download_dir=out)
    args = {"name": "grok_image_to_image", "params": {"prompt": "a fox"}}
    slow = emu.faults.add("latency", path="/media/output/*", times=None, seconds=4.0)
    try:
        late = _call(tools["run_model"], {**args, "wait_seconds": 1})
    finally:
        emu.faults.remove(slow)
    assert late.status == "success" and late.artifact["status"] == "SUCCESS", late.content
    assert f"Not saved to {out}: " in late.content and late.artifact["download_error"] and not _saved(out)
    fits = emu.faults.add("latency", path="/media/output/*", times=None, seconds=1.5)
    try:
        saved = _call(tools["run_model"], {**args, "wait_seconds": 3})
    finally:
        emu.faults.remove(fits)
    assert "Not saved" not in saved.content and len(_saved(out)) == 1, saved.content


def test_wait_task_saves_the_outputs_of_a_task_it_collects(
    emu: Emulator, tools: dict[str, Any], tmp_path: Path
) -> None:
    ran = _call(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    out = tmp_path / "collected"
    collected = _call(_toolkit(emu, download_dir=out)["wait_task"], {"task_id": ran.artifact["task_id"]})
    assert collected.artifact["status"] == "SUCCESS" and len(_saved(out)) == len(collected.artifact["outputs"]) > 0


def test_get_account_says_what_the_service_left_out_and_the_limits() -> None:
    import httpx

    from rh_tools._budget import Budget

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": 0, "msg": "success", "data": {"remainCoins": "", "currency": "USD"}})

    client = RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(handle))
    msg = _call(_tool("get_account", client=client, budget=Budget(per_session=2.0)), {})
    assert msg.content == (
        "Balance: n/a; RH coins: n/a; running tasks: 0; key type: unknown. "
        "Spending limits: 0 USD of 2 USD spent this session."
    )
    assert msg.artifact == {"remain_coins": "", "currency": "USD"}


def test_a_refused_run_under_a_limit_gives_its_reservation_back(emu: Emulator) -> None:
    from rh_tools._budget import Budget

    budget = Budget(per_session=0.2)
    tools = _toolkit(emu, budget=budget)
    refused = emu.faults.add("http_error", path="/openapi/v2/rhart-image-g/image-to-image", status=400, code="1007")
    try:
        text = _error(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    finally:
        emu.faults.remove(refused)
    assert text.startswith("Error [1007]") and budget.session_spent() == 0
    assert _call(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}}).status == "success"


NOWHERE = "/nowhere/secret.png"  # does not exist: a refusal by validation would say so (a probe)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("run_model", {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": NOWHERE}}),
        (
            "run_model",
            {"name": "grok_image_to_image", "params": json.dumps({"prompt": "x", "imageUrl": "FILE://" + NOWHERE})},
        ),
        ("price_model", {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": f"  file://{NOWHERE} "}}),
        ("grok_image_to_image", {"prompt": "x", "imageUrl": NOWHERE}),
        ("kling_video_o3_pro_reference_to_video", {"prompt": "x", "imageUrls": ["https://example.com/a.png", NOWHERE]}),
        ("wan_2_2_image_to_video", {"219##image": NOWHERE, "prompt": "x", "duration": "8", "resolution": "auto"}),
        ("run_model", {"name": "wan_2_2_image_to_video", "params": {"image": NOWHERE, "prompt": "x"}}),
        ("grok_image_to_image", {"prompt": "x", "imageUrl": NOWHERE, "name": "not_a_model"}),
        ("upload_file", {"path": NOWHERE}),
    ],
    ids=[
        "params",
        "json-text-FILE-uri",
        "price-file-uri",
        "per-model-tool",
        "list-item",
        "body-key",
        "field-name-of-body-key",
        "per-model-tool-with-a-name-argument",
        "upload",
    ],
)
def test_a_path_outside_is_refused_before_anything_reads_it(
    emu: Emulator, tmp_path: Path, tool: str, args: Any
) -> None:
    """In every form an agent may write a local path, a path outside the allowed folders gets the one
    refusal that does not say whether the file exists."""
    tools = _toolkit(
        emu,
        allowed_dirs=[tmp_path],
        tools=["grok_image_to_image", "kling_video_o3_pro_reference_to_video", "wan_2_2_image_to_video"],
    )
    text = _error(tools[tool], args)
    assert text.startswith(f"Error: Local file {NOWHERE!r} refused: it is outside the allowed folders\n"), text


def test_an_uploaded_file_name_is_not_taken_for_a_local_path(emu: Emulator, tmp_path: Path) -> None:
    """A field that takes a RunningHub file name (from upload_file) passes it through, not to the folder policy."""
    tools = _toolkit(emu, allowed_dirs=[tmp_path], tools=["wan_2_2_image_to_video"])
    (tmp_path / "fox.png").write_bytes(PNG)
    uploaded = _call(tools["upload_file"], {"path": str(tmp_path / "fox.png")}).artifact["file_name"]
    params = {"image": uploaded, "prompt": "x", "duration": "8", "resolution": "auto"}
    msg = _call(tools["run_model"], {"name": "wan_2_2_image_to_video", "params": params, "wait_seconds": 0})
    assert msg.status == "success" and msg.artifact["task_id"], msg.content


def test_a_file_in_place_of_the_download_folder_leaves_the_result_usable(emu: Emulator, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    msg = _call(
        _toolkit(emu, download_dir=blocker)["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a"}}
    )
    why = f"download directory {str(blocker)!r} exists and is not a directory"
    assert msg.status == "success" and msg.artifact["download_error"] == why
    assert str(msg.content).endswith(
        f"\nNot saved to {blocker}: {why}. The output URLs above still work (for about 24 h); download them from there."
    )


def test_each_kind_of_output_waits_its_own_time(emu: Emulator) -> None:
    from rh_tools import catalogue
    from rh_tools.catalogue._examples import example_params

    tools = _toolkit(emu, wait={"video": 0, "image": 60})  # videos hand back their task at once
    name = "kling_video_o3_std_video_edit"
    video = _call(tools["run_model"], {"name": name, "params": example_params(catalogue.get(name))})
    assert video.artifact["next"] == "wait_task" and video.artifact["waited_seconds"] < 30
    assert video.artifact["waited_seconds"] == round(video.artifact["waited_seconds"], 1)
    per_model = _toolkit(emu, wait={"video": 0}, tools=[name], include_generic=False)[name]
    assert _call(per_model, example_params(catalogue.get(name))).artifact["next"] == "wait_task"


def test_argument_errors_name_every_field_and_the_arguments_as_a_whole(emu: Emulator) -> None:
    from rh_tools.toolspecs import ToolContext, execute, generic_specs

    specs = {s.name: s for s in generic_specs()}
    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as client:
        both = execute(specs["search_models"], client, {"limit": 0, "category": "food"}, ToolContext())
        whole = execute(specs["search_models"], client, ["video"], ToolContext())
        nothing = execute(specs["describe_workflow"], client, None, ToolContext())  # no arguments at all: {}
        nested = execute(specs["run_workflow"], client, {"node_info_list": [{"fieldName": "t"}]}, ToolContext())
        guarded = execute(specs["search_models"], client, ["video"], ToolContext(check_media=lambda sources: None))
    assert "node_info_list.0.nodeId: Field required" in nested.text
    assert guarded.is_error and "(arguments): " in guarded.text
    assert both.is_error and both.data["hint"] == "Fix the arguments and call again."
    assert both.text.startswith("Error: Invalid arguments for search_models: category: Input should be ")
    assert "; limit: must be 1 to 50 (got 0)" in both.text  # the "Value error, " prefix dropped
    assert whole.is_error and whole.text.startswith("Error: Invalid arguments for search_models: (arguments): ")
    assert nothing.is_error and nothing.text.startswith("Error: Give exactly one of workflow_id or webapp_id")


def test_money_is_counted_for_a_run_that_may_exist(emu: Emulator) -> None:
    """Under a limit, a submit whose answer was lost may have created a paid task, and a run handed back
    still running will be paid: both keep their estimate in the session's total."""
    from rh_tools import catalogue
    from rh_tools._budget import Budget
    from rh_tools.catalogue._examples import example_params

    budget = Budget(per_session=100.0)
    tools = _toolkit(emu, budget=budget)
    lost = emu.faults.add("reset_after", path="/openapi/v2/rhart-image-g/image-to-image")
    try:
        text = _error(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "a fox"}})
    finally:
        emu.faults.remove(lost)
    assert "a task may have been created and billed" in text and "retryable: no" in text, text
    assert budget.session_spent() == pytest.approx(0.14)
    name = "kling_video_o3_std_video_edit"
    running = _call(
        tools["run_model"], {"name": name, "params": example_params(catalogue.get(name)), "wait_seconds": 0}
    )
    assert running.artifact["next"] == "wait_task" and budget.session_spent() > 0.14


async def test_the_async_tools_hold_the_same_money_and_saving_rules(emu: Emulator, tmp_path: Path) -> None:
    """The async executor (MCP, LangChain ainvoke) prices, refuses, releases and saves like the sync one."""
    from rh_tools._budget import Budget
    from rh_tools.emulator.workflows import SAMPLE_WEBAPP_ID

    async def acall(tool: Any, args: dict[str, Any]) -> Any:
        return await tool.ainvoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})

    budget = Budget(per_call=1.0, per_session=0.2)
    tools = _toolkit(emu, budget=budget, download_dir=tmp_path / "out")
    grok = {"name": "grok_image_to_image", "params": {"prompt": "a fox"}}
    unpriced = await acall(tools["run_ai_app"], {"webapp_id": SAMPLE_WEBAPP_ID})
    assert unpriced.status == "error" and f"run_ai_app({SAMPLE_WEBAPP_ID}) has no price preview" in unpriced.content
    refused = emu.faults.add("http_error", path="/openapi/v2/rhart-image-g/image-to-image", status=400, code="1007")
    try:
        failed = await acall(tools["run_model"], grok)
    finally:
        emu.faults.remove(refused)
    assert failed.status == "error" and str(failed.content).startswith("Error [1007]") and budget.session_spent() == 0
    ran = await acall(tools["run_model"], grok)
    assert ran.status == "success" and budget.session_spent() == pytest.approx(0.14)
    assert len(_saved(tmp_path / "out")) == len(ran.artifact["outputs"]) > 0 and "Not saved" not in ran.content
    plain = _toolkit(emu)  # no download folder: the async run saves nothing anywhere
    assert "Not saved" not in (await acall(plain["run_model"], grok)).content
    listed = _call(plain["list_tasks"], {})
    newest, first = listed.artifact["tasks"]
    assert newest["files"] == [] and len(first["files"]) == len(ran.artifact["outputs"])
    over = await acall(tools["run_model"], grok)
    assert over.status == "error" and "over the session maximum of 0.2 CNY (0.14 CNY spent so far)" in over.content


async def test_async_saving_is_bounded_by_the_calls_wait(emu: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "out"
    tool = _toolkit(emu, download_dir=out)["run_model"]
    slow = emu.faults.add("latency", path="/media/output/*", times=None, seconds=4.0)
    try:
        args = {"name": "grok_image_to_image", "params": {"prompt": "a fox"}, "wait_seconds": 1}
        late = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": "run_model", "args": args})
    finally:
        emu.faults.remove(slow)
    assert late.artifact["status"] == "SUCCESS" and f"Not saved to {out}: " in late.content and not _saved(out)


async def test_async_price_failure_under_a_limit_submits_nothing() -> None:
    import httpx

    from rh_tools import AsyncRunningHub
    from rh_tools._budget import Budget

    def handle(request: httpx.Request) -> httpx.Response:
        assert "price" in request.url.path, request.url.path  # a submit would fail the test here
        return httpx.Response(200, json={"errorCode": "1007", "errorMessage": "Invalid parameter: model"})

    transport = httpx.MockTransport(handle)
    client = AsyncRunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=transport)
    tool = _tool("run_model", async_client=client, budget=Budget(per_call=1.0))
    args = {"name": "grok_image_to_image", "params": {"prompt": "a fox"}}
    msg = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": "run_model", "args": args})
    assert msg.status == "error" and "could not be priced" in msg.content and "Nothing was submitted" in msg.content


def test_per_model_tools_mark_required_inputs_and_count_the_rest(emu: Emulator) -> None:
    from rh_tools import catalogue

    def description(name: str) -> str:
        return str(_toolkit(emu, tools=[name], include_generic=False)[name].description)

    six = description("vidu_start_end_to_video_q3_pro_fast")  # exactly six: all listed, nothing "more"
    assert "Key inputs: prompt, firstImageUrl*, lastImageUrl*, duration, resolution, audio (* required)." in six
    with_default = description("vidu_start_end_to_video_q2_turbo")  # required but defaulted: not starred
    assert "Key inputs: prompt*, firstImageUrl*, lastImageUrl*, duration, resolution, movementAmplitude (+1 more)" in (
        with_default
    )
    grok = _toolkit(emu, tools=["grok_image_to_image"], include_generic=False)["grok_image_to_image"]
    assert grok.metadata["endpoint"] == catalogue.get("grok_image_to_image").path
    from rh_tools.toolspecs import ToolContext, endpoint_spec, execute

    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as client:
        empty = execute(endpoint_spec(catalogue.get("grok_image_to_image")), client, None, ToolContext())
    assert empty.is_error and empty.text.startswith(
        "Error: Invalid arguments for grok_image_to_image: prompt: required"
    )


def test_urls_and_data_uris_are_not_local_paths(emu: Emulator, tmp_path: Path) -> None:
    import base64

    tools = _toolkit(emu, allowed_dirs=[tmp_path])
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    ran = _call(tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": data_uri}})
    assert ran.status == "success", ran.content
    s3 = _error(
        tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": "s3://b/a.png"}}
    )
    assert "unsupported URL scheme in 's3://b/a.png'" in s3 and "Local file" not in s3
    upper = _error(
        tools["run_model"], {"name": "grok_image_to_image", "params": {"prompt": "x", "imageUrl": "S3://b/a"}}
    )
    assert "Local file" not in upper, upper  # a scheme in capitals is a scheme too


@pytest.mark.parametrize("limits", [True, False], ids=["limits", "no-limits"])
async def test_mcp_progress_keeps_flowing_under_spending_limits(emu: Emulator, limits: bool) -> None:
    """With limits set, the status callback also books the task; the heartbeat still hears every status."""
    from mcp.client.client import Client

    from mcp_server.config import ServerConfig
    from mcp_server.server import build_server

    config = ServerConfig(
        api_key=TEST_KEY,
        base_url=emu.base_url,
        poll_interval=0.02,
        heartbeat=3600,
        max_cost_per_session=5.0 if limits else None,
    )
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with Client(build_server(config)) as client:
        ran = await client.call_tool(
            "run_model", {"name": "grok_image_to_image", "params": '{"prompt": "a fox"}'}, progress_callback=on_progress
        )
    assert not ran.is_error, ran.content
    assert any(m and m.startswith(f"task {ran.structured_content['task_id']}") for m in seen), seen


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_run_without_a_preview_counts_what_it_reported(emu: Emulator, mode: str) -> None:
    """A workflow has no price preview (reserved at 0 under a session limit); once it ends, the cost the
    task reported is what counts."""
    from rh_tools._budget import Budget
    from rh_tools.emulator.workflows import SAMPLE_WORKFLOW_ID

    budget = Budget(per_session=5.0)
    tool = _toolkit(emu, budget=budget)["run_workflow"]
    args = {"workflow_id": SAMPLE_WORKFLOW_ID}
    if mode == "sync":
        msg = _call(tool, args)
    else:
        msg = await tool.ainvoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert msg.status == "success", msg.content
    assert budget.session_spent() == pytest.approx(0.14)  # the reported runtime cost


def test_upload_file_leaves_out_what_the_service_did_not_say(tmp_path: Path) -> None:
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        data = {"download_url": "https://cdn.example.com/u/fox.png", "fileName": "api/fox.png"}
        return httpx.Response(200, json={"code": 0, "message": "success", "data": data})

    client = RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(handle))
    (tmp_path / "fox.png").write_bytes(PNG)
    msg = _call(_tool("upload_file", client=client, allowed_dirs=[tmp_path]), {"path": str(tmp_path / "fox.png")})
    assert msg.artifact == {"download_url": "https://cdn.example.com/u/fox.png", "file_name": "api/fox.png"}


def test_tool_schemas_carry_no_auto_titles(tools: dict[str, Any]) -> None:
    """Every tools/list pays for the argument schemas: no generated titles, one name per field."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from mcp_server.server import tool_definition
    from rh_tools.toolspecs import generic_specs

    for name in ("run_model", "search_models", "run_workflow"):
        parameters = convert_to_openai_tool(tools[name])["function"]["parameters"]
        assert '"title"' not in json.dumps(parameters), (name, parameters)
        assert parameters["additionalProperties"] is False
    for spec in generic_specs():  # what rh-mcp lists (LangChain strips titles on its own)
        assert '"title"' not in json.dumps(tool_definition(spec).input_schema), spec.name
    listing = next(s for s in generic_specs() if s.name == "list_tasks")
    assert tool_definition(listing).input_schema["properties"]["name"] == {"type": "string"}  # not "X or null"


async def test_the_async_run_counts_once_even_while_it_is_being_settled(emu: Emulator, tmp_path: Path) -> None:
    """The async twin of tests/test_budget_journal.py's check: the status callback names the task as
    soon as it is seen, so a day total read from the journal (which learns the cost at SUCCESS) never
    counts the running charge a second time."""
    from rh_tools import AsyncRunningHub
    from rh_tools._budget import Budget
    from rh_tools.toolspecs import ToolContext, aexecute, generic_specs

    seen: list[tuple[str, float]] = []
    budget = Budget(per_day=1.0)
    client = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02, store=tmp_path / "j.sqlite3")
    budget.read_day_from(client.journal)
    ctx = ToolContext(budget=budget, on_status=lambda task, _: seen.append((task.status, budget.day_spent())))
    run_model = next(s for s in generic_specs() if s.name == "run_model")
    try:
        result = await aexecute(run_model, client, {"name": "grok_image_to_image", "params": {"prompt": "a"}}, ctx)
    finally:
        await client.aclose()
    assert not result.is_error, result.text
    assert seen[-1] == ("SUCCESS", pytest.approx(0.14))
    assert budget.day_spent() == pytest.approx(0.14)


def test_a_free_call_is_not_held_to_a_per_call_maximum() -> None:
    """A preview that says this call is free (a free allowance) counts 0 against the limits, whatever
    its list price: the run is submitted."""
    import httpx

    from rh_tools._budget import Budget

    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if "price-preview" in request.url.path:
            answer = {
                "errorCode": "",
                "errorMessage": "",
                "currency": "CNY",
                "estimatedPrice": 5.0,
                "isFreeThisCall": True,
            }
            return httpx.Response(200, json=answer)
        return httpx.Response(200, json={"errorCode": "1007", "errorMessage": "Invalid parameter: model"})

    client = RunningHub(api_key=TEST_KEY, base_url="https://www.runninghub.ai", transport=httpx.MockTransport(handle))
    msg = _call(
        _tool("run_model", client=client, budget=Budget(per_call=0.5)),
        {"name": "grok_image_to_image", "params": {"prompt": "a"}},
    )
    assert "per-call maximum" not in msg.content, msg.content
    assert "/openapi/v2/rhart-image-g/image-to-image" in paths  # submitted (the stub then refuses it)
