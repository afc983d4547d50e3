"""The rh-tools command line, against the live emulator: output, exit codes, resume hints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_KEY

from rh_tools.cli import EXIT_API, EXIT_FAILED, EXIT_INPUT, EXIT_OK, EXIT_PENDING, main
from rh_tools.emulator import Emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.2, "video": 0.3}) as e:
        yield e


@pytest.fixture
def env(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", emu.base_url)
    monkeypatch.setenv("RUNNINGHUB_POLL_INTERVAL", "0.05")
    emu.faults.clear()
    return emu


def test_models_and_describe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "grok", "image", "--json"]) == EXIT_OK
    names = [m["name"] for m in json.loads(capsys.readouterr().out)]
    assert "grok_image_to_image" in names
    assert main(["describe", "grok_image_to_image"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "prompt (string, required)" in out and "g-4.2" in out


def test_run_with_local_image_and_download(env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = Path(__file__).with_name("data") / "sketch.png"
    code = main(["run", "grok_image_to_image", "--prompt", "neon", "--image", str(img), "--download", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert "SUCCESS" in captured.out and "Cost:" in captured.out
    assert "task " in captured.err  # progress on stderr
    assert len(list(tmp_path.iterdir())) == 1


def test_no_wait_then_wait(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "grok_image_to_image", "--prompt", "x", "--no-wait", "--json"]) == EXIT_OK
    task_id = json.loads(capsys.readouterr().out)["task_id"]
    assert main(["wait", task_id, "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["status"] == "SUCCESS"


def test_bad_input_exits_2_and_sends_nothing(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    before = env.stats.requests
    assert main(["run", "grok_image_to_image", "--prompt", "x", "--model", "g-99"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "model" in err and "g-4.2" in err
    assert main(["run", "grok_image_to_image", "--colour", "red"]) == EXIT_INPUT
    assert "no parameter 'colour'" in capsys.readouterr().err
    assert env.stats.requests == before


def test_api_error_exits_3(env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", "not-a-key")
    assert main(["run", "grok_image_to_image", "--prompt", "x"]) == EXIT_API
    err = capsys.readouterr().err
    assert "806" in err and "not-a-key" not in err


def test_failed_task_exits_4(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    env.faults.add("fail_tasks", code="1501", times=1)
    assert main(["run", "grok_image_to_image", "--prompt", "x", "--quiet"]) == EXIT_FAILED
    assert "1501" in capsys.readouterr().err


def test_wait_timeout_exits_5_and_says_how_to_resume(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    env.faults.add("never_finish", times=1)
    assert main(["run", "grok_image_to_image", "--prompt", "x", "--timeout", "0.3", "--quiet"]) == EXIT_PENDING
    err = capsys.readouterr().err
    resume = re.search(r"rh-tools wait (\d+)", err)
    assert resume and "task_id" in err, err
    assert env.task_status(resume.group(1)) == "RUNNING"  # the command names the task that is still running


def test_demo_runs_end_to_end_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RUNNINGHUB_")}
    proc = subprocess.run(
        [sys.executable, "-m", "rh_tools.cli", "demo", "--emulator", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "using the built-in RunningHub emulator" in proc.stdout
    for part in ("client", "langchain", "mcp"):
        files = list((tmp_path / part).glob("*.png"))
        assert files and files[0].read_bytes()[:4] == b"\x89PNG", part


def test_missing_key_exits_2_with_how_to(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "grok_image_to_image", "--prompt", "x"]) == EXIT_INPUT
    assert "RUNNINGHUB_API_KEY" in capsys.readouterr().err
