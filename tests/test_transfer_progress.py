"""Upload and download progress (``rh_tools._transfer``): what the CLI's bars are drawn from.

Real requests to the emulator on loopback, through the blocking and the async client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_KEY

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._transfer import Transfer, observe_transfers
from rh_tools.emulator import Emulator

SKETCH = Path(__file__).with_name("data") / "sketch.png"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.1}) as e:
        yield e


def _one_file(events: list[Transfer], direction: str) -> list[Transfer]:
    mine = [e for e in events if e.direction == direction]
    assert mine, f"no {direction} was reported"
    assert len({e.name for e in mine}) == 1
    return mine


def _check_whole(events: list[Transfer], size: int) -> None:
    assert events[0].done == 0 and not events[0].finished  # the start, before any byte
    assert [e.done for e in events] == sorted(e.done for e in events)  # only ever forward
    assert events[-1].finished and events[-1].done == size
    assert sum(e.finished for e in events) == 1


def test_run_reports_the_upload_and_download_reports_each_output(emu: Emulator, tmp_path: Path) -> None:
    events: list[Transfer] = []
    with (
        RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as rh,
        observe_transfers(events.append),
    ):
        result = rh.run("grok_image_to_image", prompt="x", imageUrl=str(SKETCH))
        [saved] = rh.download(result, tmp_path)
    up = _one_file(events, "upload")
    assert up[0].name == "sketch.png" and up[0].total == SKETCH.stat().st_size
    _check_whole(up, SKETCH.stat().st_size)
    down = _one_file(events, "download")
    assert down[0].name == saved.name and down[0].total == saved.stat().st_size
    _check_whole(down, saved.stat().st_size)


async def test_the_async_client_reports_the_same(emu: Emulator, tmp_path: Path) -> None:
    events: list[Transfer] = []
    async with AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as rh:
        with observe_transfers(events.append):
            up = await rh.upload(SKETCH)
            result = await rh.run("grok_image_to_image", prompt="x", imageUrl=up.download_url)
            [saved] = await rh.download(result, tmp_path)
    _check_whole(_one_file(events, "upload"), SKETCH.stat().st_size)
    _check_whole(_one_file(events, "download"), saved.stat().st_size)


def test_a_failing_observer_never_fails_the_run_and_none_is_called_outside_the_block(
    emu: Emulator, tmp_path: Path
) -> None:
    calls: list[Transfer] = []

    def broken(t: Transfer) -> None:
        calls.append(t)
        raise RuntimeError("display bug")

    with RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.05) as rh:
        with observe_transfers(broken):
            result = rh.run("grok_image_to_image", prompt="x", imageUrl=str(SKETCH))
        assert result.succeeded and calls
        seen = len(calls)
        rh.download(result, tmp_path)  # outside the block: nobody is told
    assert len(calls) == seen and len(list(tmp_path.iterdir())) == 1
