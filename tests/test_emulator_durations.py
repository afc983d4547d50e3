"""The emulator's task run times: uniform, log-normal (heavy-tailed, as real queues) or fixed, seeded.

Submits go through real HTTP; the run time each task got is read from the emulator's own record,
so nothing here waits for a task to finish.
"""

from __future__ import annotations

import math
import statistics

import httpx
import pytest

from rh_tools.emulator import Emulator
from rh_tools.emulator.__main__ import main as emulator_main
from rh_tools.emulator.config import parse_duration_dist

KEY = "feedfacecafebeef0123456789abcdef"
OTHER_KEY = "0123456789abcdef0123456789abcdef"
PATH = "/openapi/v2/seedream-v4/text-to-image"


def run_times(emu: Emulator, n: int, prompt: str = "x", key: str = KEY, path: str = PATH) -> list[float]:
    """Submit n tasks over HTTP; the run time the emulator planned for each."""
    out = []
    with httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as http:
        for i in range(n):
            body = http.post(path, json={"prompt": f"{prompt} {i}"}).json()
            task = emu.task(body["taskId"])
            assert task is not None
            out.append(task.duration)
    return out


def test_lognormal_run_times_have_the_median_and_spread_asked_for_and_repeat_for_a_seed() -> None:
    settings = {"durations": {"image": 8.0}, "duration_dist": "lognormal:0.8", "seed": 11, "concurrency": 10_000}
    with Emulator(**settings) as emu:
        first = run_times(emu, 300)
    with Emulator(**settings) as emu:
        # other draws (task ids, other keys' and endpoints' tasks in between) do not shift them
        emu.core.hex32()
        again = run_times(emu, 150, prompt="other")
        run_times(emu, 20, key=OTHER_KEY)
        run_times(emu, 20, path="/openapi/v2/seedream-v4.5/text-to-image")
        again += run_times(emu, 150, prompt="other")
        # and another key gets the same run times: clients can be compared on identical tasks
        assert run_times(emu, 20, key=OTHER_KEY) == first[20:40]
    assert first == again
    logs = [math.log(d / 8.0) for d in first]
    assert statistics.median(first) == pytest.approx(8.0, rel=0.15)
    assert statistics.stdev(logs) == pytest.approx(0.8, rel=0.15)
    assert max(first) > 3 * 8.0 and min(first) < 8.0 / 3  # a heavy tail, not +/- 30 %


def test_uniform_and_fixed_run_times_and_changing_the_spread_at_runtime() -> None:
    with Emulator(durations={"image": 2.0}, jitter=0.3, seed=1, concurrency=10_000) as emu:
        uniform = run_times(emu, 50)
        assert all(1.4 <= d <= 2.6 for d in uniform) and len(set(uniform)) > 40
        emu.set_config(duration_dist="uniform:0.1")
        assert all(1.8 <= d <= 2.2 for d in run_times(emu, 20))
        emu.set_config(duration_dist="fixed")
        assert run_times(emu, 5) == [2.0] * 5
        emu.set_config(duration_dist="lognormal:1.5")
        assert len(set(run_times(emu, 5))) == 5
        with pytest.raises(ValueError, match="lognormal:SIGMA"):
            emu.set_config(duration_dist="lognormal")
        assert emu.config.duration_dist == "lognormal:1.5"  # a refused change leaves the setting as it was


@pytest.mark.parametrize("spec", ["gamma:2", "lognormal", "lognormal:0", "lognormal:x", "uniform:1.5", "fixed:2"])
def test_bad_duration_specs_are_refused_with_what_is_accepted(spec: str) -> None:
    with pytest.raises(ValueError, match=r"uniform\[:J\].*lognormal:SIGMA.*fixed"):
        parse_duration_dist(spec)
    with pytest.raises(ValueError):
        Emulator(duration_dist=spec)


def test_the_command_line_takes_a_duration_dist_and_refuses_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_duration_dist("LogNormal:0.8") == ("lognormal", 0.8)
    assert parse_duration_dist("uniform", jitter=0.2) == ("uniform", 0.2)
    assert emulator_main(["--port", "0", "--duration-dist", "weibull:1"]) == 2
    assert "duration_dist must be" in capsys.readouterr().err
