"""The rh-tools command line, against the live emulator: output, exit codes, resume hints."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KEY, tasks_held

from rh_tools import __version__, catalogue
from rh_tools._cli_params import cli_example, parse_model_flags
from rh_tools.catalogue._inputs import validate_params
from rh_tools.cli import (
    EXIT_API,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PENDING,
    RUN_FLAGS,
    _parser,
    main,
)
from rh_tools.emulator import Emulator
from rh_tools.journal import SQLiteStore

SKETCH = Path(__file__).with_name("data") / "sketch.png"


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


# ---------------------------------------------------------------- flags, forms and errors (issue #14)


def _journalled(task_id: str) -> dict[str, Any]:
    rec = SQLiteStore(os.environ["RUNNINGHUB_STORE"]).get(task_id)
    assert rec is not None, task_id
    return dict(rec.params)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith(f"rh-tools {__version__} ")


def test_a_model_parameter_n_is_never_read_as_no_wait(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "wan_2_5_preview_text_to_image", "--prompt", "x", "--size", "1280*1280", "--n", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and result["status"] == "SUCCESS"  # waited: --n was not --no-wait
    assert _journalled(result["task_id"])["n"] == 2


def test_prefixes_of_flags_are_refused_not_guessed(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    before = env.stats.requests
    assert main(["run", "grok_image_to_image", "--prompt", "x", "--no-wai"]) == EXIT_INPUT
    assert "no parameter 'no-wai'" in capsys.readouterr().err
    assert main(["models", "--cat", "image"]) == EXIT_INPUT  # not --category
    assert "unrecognized arguments: --cat" in capsys.readouterr().err
    assert env.stats.requests == before


def test_key_equals_value_forms_and_a_bool_flag_alone(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "grok_image_to_image", "--prompt=neon fox", f"--image={SKETCH}", "--model=g-4", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    params = _journalled(result["task_id"])
    assert params["prompt"] == "neon fox" and params["model"] == "g-4"
    assert params["imageUrl"] == {"local_file": "sketch.png"}
    flags = ["--prompt", "x", "--size", "1280*1280", "--promptExtend", "--n=3", "--no-wait", "--json"]
    assert main(["run", "wan_2_5_preview_text_to_image", *flags]) == EXIT_OK
    params = _journalled(json.loads(capsys.readouterr().out)["task_id"])
    assert params["promptExtend"] is True and params["n"] == 3


def test_global_flags_before_or_after_the_command(
    env: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "models", "grok", "--limit", "2"]) == EXIT_OK
    before = capsys.readouterr().out
    assert main(["models", "grok", "--limit", "2", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == json.loads(before)
    monkeypatch.delenv("RUNNINGHUB_BASE_URL")
    for argv in (["--base-url", env.base_url, "--json", "account"], ["account", "--json", "--base-url", env.base_url]):
        assert main(argv) == EXIT_OK, capsys.readouterr().err
        assert "remain_money" in json.loads(capsys.readouterr().out)
    assert main(["--quiet", "run", "grok_image_to_image", "--prompt", "x", "--base-url", env.base_url]) == EXIT_OK
    assert capsys.readouterr().err == ""


def test_bad_params_json_exits_2_with_an_example_and_sends_nothing(
    env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    before = env.stats.requests
    assert main(["run", "grok_image_to_image", "--params", "{prompt: x}"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "--params is not valid JSON" in err and """--params '{"prompt": """ in err and "Traceback" not in err
    assert main(["run", "grok_image_to_image", "--params", "[1, 2]", "--json"]) == EXIT_INPUT
    answer = json.loads(capsys.readouterr().out)
    assert answer["error"] == "InvalidInputError" and "JSON object" in answer["message"]
    assert main(["run", "grok_image_to_image", "--prompt"]) == EXIT_INPUT
    assert "--prompt needs a value" in capsys.readouterr().err
    assert env.stats.requests == before


def test_unknown_model_names_the_command_that_finds_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "grok_image_to_imag", "--prompt", "x"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "Did you mean: " in err and "grok_image_to_image" in err
    assert main(["describe", "no such thing at all"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "rh-tools models" in err and "search_models" not in err


def test_a_cancelled_task_reads_as_cancelled(env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    with tasks_held(env):
        assert main(["run", "grok_image_to_image", "--prompt", "x", "--no-wait", "--json"]) == EXIT_OK
        task_id = json.loads(capsys.readouterr().out)["task_id"]
        assert main(["cancel", task_id]) == EXIT_OK
        capsys.readouterr()
        assert main(["wait", task_id]) == EXIT_FAILED
        err = capsys.readouterr().err
        assert f"Cancelled: task {task_id} was cancelled" in err
        assert "adjust the inputs" not in err and "Error" not in err
        assert main(["wait", task_id, "--json"]) == EXIT_FAILED
        answer = json.loads(capsys.readouterr().out)
        assert answer["status"] == "CANCEL" and answer["task_id"] == task_id
        assert main(["task", task_id]) == EXIT_OK
        assert capsys.readouterr().out.strip() == f"Task {task_id} was cancelled; it has no outputs."


def test_ctrl_c_outside_a_run_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(catalogue, "find", interrupted)
    assert main(["models", "kling"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "Interrupted (Ctrl-C)."
    assert main(["--json", "models", "kling"]) == EXIT_INTERRUPTED
    assert json.loads(capsys.readouterr().out) == {"interrupted": True, "task_id": None, "resume": None}


def test_a_reader_that_stops_early_is_no_error() -> None:
    # 99 kB of JSON: more than a pipe holds, so the reader's close is met mid-write (EPIPE).
    proc = subprocess.Popen(
        [sys.executable, "-m", "rh_tools.cli", "models", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.read(100).startswith(b"[")
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_OK and err == b""


def test_progress_is_plain_lines_off_a_terminal_and_absent_under_json_or_quiet(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = ["run", "grok_image_to_image", "--prompt", "x", "--image", str(SKETCH), "--download", str(tmp_path)]
    assert main(run) == EXIT_OK
    lines = capsys.readouterr().err.splitlines()
    [saved] = tmp_path.iterdir()
    assert any(re.fullmatch(r"task \d+: (QUEUED|RUNNING) \(\d+\.\ds\)", line) for line in lines), lines
    assert any(re.fullmatch(r"task \d+: SUCCESS \(\d+\.\ds\)", line) for line in lines), lines
    assert any(re.fullmatch(r"uploaded sketch\.png \(6\.3 kB, \d+\.\ds\)", line) for line in lines), lines
    assert any(line.startswith(f"downloaded {saved.name} (") for line in lines), lines
    assert not any("\r" in line or "\x1b" in line for line in lines)
    for flag in ("--json", "--quiet"):
        assert main([*run, flag]) == EXIT_OK
        assert capsys.readouterr().err == "", flag


def test_describe_examples_are_valid_commands_for_every_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model's example parses as rh-tools run arguments and passes validation, with a local
    file where the model works on an input (the image of image-to-image, image-to-video, ...)."""
    monkeypatch.chdir(tmp_path)
    checked = 0
    for ep in catalogue.all():
        example = cli_example(ep, reserved=RUN_FLAGS)
        argv = shlex.split(example)
        assert argv[:3] == ["rh-tools", "run", ep.tool_name], example
        for name in (a for a in argv if a.startswith("./input")):
            Path(name).write_bytes(SKETCH.read_bytes())
        args, extra = _parser().parse_known_args(argv[1:])
        assert args.command == "run" and not args.no_wait, example
        params = {**json.loads(args.params or "{}"), **parse_model_flags(ep, extra)}
        validate_params(ep, params)  # raises on anything the model would refuse
        if not ep.task.startswith("text-") and any(p.is_media for p in ep.params):
            assert "./input" in example, example
        checked += 1
    assert checked == len(catalogue.all()) > 300


def test_describe_example_runs_verbatim(
    env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "input.png").write_bytes(SKETCH.read_bytes())
    assert main(["describe", "grok_image_to_image"]) == EXIT_OK
    out = capsys.readouterr().out
    [example] = [line.removeprefix("Example: ") for line in out.splitlines() if line.startswith("Example: ")]
    assert example.startswith("rh-tools run grok_image_to_image ") and "--image ./input.png" in example
    assert main(shlex.split(example)[1:] + ["--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "SUCCESS" and _journalled(result["task_id"])["imageUrl"] == {"local_file": "input.png"}


def test_a_result_that_cannot_be_saved_is_still_printed(
    env: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    code = main(["run", "grok_image_to_image", "--prompt", "x", "--quiet", "--download", str(blocked / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK and captured.out.startswith("SUCCESS: task ") and "http" in captured.out
    assert f"Not saved to {blocked / 'out'}: " in captured.err and "Traceback" not in captured.err


def test_an_unexpected_error_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(catalogue, "find", broken)
    assert main(["models", "kling"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error (RuntimeError: boom)" in err and "please report" in err and "Traceback" not in err
