"""Shared test setup: no test sees the developer's real RunningHub settings or reaches the network.

Cassette replay is the default; see ``tests/cassette_support.py`` for the build and live modes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cassette_support import REAL_HOST, OriginPersister, body_matcher, make_vcr_config, origin_of

ROOT = Path(__file__).resolve().parents[1]
# Read-only API facts beside the checkout (absent on a clean clone of the project alone).
REFERENCE = ROOT.parent / "shared" / "reference"
# 32 hexadecimal characters: the shape the emulator accepts. Not real keys.
TEST_KEY = "feedfacecafebeef0123456789abcdef"
CANARY_KEY = "c0ffee00c0ffee00c0ffee00c0ffee00"
# Read before any test clears the environment: only used when re-recording cassettes live.
LIVE_KEY = os.environ.get("RUNNINGHUB_API_KEY")
LIVE_BASE_URL = os.environ.get("RUNNINGHUB_BASE_URL") or REAL_HOST
# Ids that exist only on the emulator: a live re-recording of the tests that use them reads them
# from these variables, and skips those tests (before their cassette is touched) when unset.
LIVE_IDS = {
    "workflow": os.environ.get("RUNNINGHUB_TEST_WORKFLOW_ID"),  # a saved text-to-image workflow
    "workflow_text_node": os.environ.get("RUNNINGHUB_TEST_WORKFLOW_TEXT_NODE"),  # its prompt as "nodeId:fieldName"
    "video_workflow": os.environ.get("RUNNINGHUB_TEST_VIDEO_WORKFLOW_ID"),  # a slow one, to cancel
    "webapp": os.environ.get("RUNNINGHUB_TEST_WEBAPP_ID"),  # an AI app
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cassettes-from-emulator",
        action="store_true",
        help="record cassettes against the built-in emulator, as if from www.runninghub.ai",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator_only(why): provoked with the emulator's faults; skipped live")
    config.addinivalue_line("markers", "live_ids(*names): ids a live re-recording reads from RUNNINGHUB_TEST_*")
    config.addinivalue_line(
        "markers",
        "needs_reference: compares against ../shared/reference; without it the test skips and the run "
        "ends with a loud list of checks that did not run (RH_REQUIRE_REFERENCE=1 makes that a failure)",
    )


def _recording_mode(config: pytest.Config) -> str:
    if config.getoption("--cassettes-from-emulator"):
        return "emulator"
    return "live" if (config.getoption("--record-mode", default=None) or "none") != "none" else "replay"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a live re-recording, skip emulator-only tests and those missing their ids, at collection:
    a skip inside the test would come after pytest-recording deleted its cassette (rewrite mode)."""
    if _recording_mode(config) != "live":
        return
    for item in items:
        only = item.get_closest_marker("emulator_only")
        if only is not None:
            item.add_marker(
                pytest.mark.skip(reason=f"emulator-only ({only.args[0]}): its cassette stays emulator-built")
            )
        needs = item.get_closest_marker("live_ids")
        missing = [n for n in (needs.args if needs else ()) if not LIVE_IDS.get(n)]
        if missing:
            names = ", ".join(f"RUNNINGHUB_TEST_{n.upper()}{'' if n.endswith('node') else '_ID'}" for n in missing)
            item.add_marker(pytest.mark.skip(reason=f"live re-recording needs {names}; its cassette is kept"))


_NOT_RUN: list[str] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip reference checks on a clone without ../shared/reference, but never quietly."""
    if item.get_closest_marker("needs_reference") is None or REFERENCE.is_dir():
        return
    why = f"{item.nodeid} did NOT run: {REFERENCE} is absent, so it checked nothing"
    if os.environ.get("RH_REQUIRE_REFERENCE"):
        pytest.fail(why + " (RH_REQUIRE_REFERENCE is set)", pytrace=False)
    _NOT_RUN.append(item.nodeid)
    pytest.skip(why)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Both end-of-run reports: the hostile tests' attack counts, then the checks that did not run."""
    _attack_summary(terminalreporter)
    if not _NOT_RUN:
        return
    tr = terminalreporter
    tr.section("CHECKS THAT DID NOT RUN", sep="!", red=True, bold=True)
    tr.write_line(f"{REFERENCE} is absent (a clean clone): these compare the project with it and were skipped:")
    for nodeid in _NOT_RUN:
        tr.write_line(f"  - {nodeid}", yellow=True)
    tr.write_line("The committed catalogue and error-code table are NOT verified against the reference in this run.")
    tr.write_line("Put the reference beside the checkout (../shared/reference), or set RH_REQUIRE_REFERENCE=1 to fail.")


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("rh_body", body_matcher)
    mode = _recording_mode(config)
    OriginPersister.origin = origin_of(mode, LIVE_BASE_URL)
    vcr.register_persister(OriginPersister)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in list(os.environ):
        if name.startswith("RUNNINGHUB_"):
            monkeypatch.delenv(name)
    # The task journal: each test gets its own (learnt durations must not leak between tests), and
    # subprocesses that drop RUNNINGHUB_* still land in a temporary state folder, never the real one.
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("RUNNINGHUB_STORE", str(state / "journal.sqlite3"))
    monkeypatch.setenv("XDG_STATE_HOME", str(state))


@pytest.fixture(scope="session")
def record_mode(request: pytest.FixtureRequest) -> str:
    # Building from the emulator appends to fresh cassettes: the async twin of a test then replays
    # what the sync one recorded, so both share one cassette (scripts/record_cassettes.py clears first).
    if request.config.getoption("--cassettes-from-emulator"):
        return "new_episodes"
    return request.config.getoption("--record-mode") or "none"


@dataclass
class Target:
    """Where recorded tests send requests, and with which key."""

    mode: str  # "replay" | "emulator" | "live"
    base_url: str
    api_key: str
    emulator: Any = None
    poll_interval: float = 0.0


@pytest.fixture(scope="session")
def rh_target(request: pytest.FixtureRequest, record_mode: str) -> Iterator[Target]:
    if request.config.getoption("--cassettes-from-emulator"):
        from rh_tools.emulator import Emulator

        with Emulator(port=0, durations={"image": 0.3, "video": 0.6, "audio": 0.3, "3d": 0.4, "text": 0.2}) as emu:
            yield Target("emulator", emu.base_url, TEST_KEY, emu, poll_interval=0.1)
    elif record_mode != "none":
        if not LIVE_KEY:
            pytest.exit(
                "Re-recording needs RUNNINGHUB_API_KEY (and spends credits), or use --cassettes-from-emulator",
                returncode=2,
            )
        yield Target("live", LIVE_BASE_URL.rstrip("/"), LIVE_KEY, poll_interval=3.0)
    else:
        yield Target("replay", REAL_HOST, TEST_KEY)


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT / "cassettes" / request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def vcr_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    target: Target = request.getfixturevalue("rh_target")
    return make_vcr_config(target.base_url if target.mode == "emulator" else None)


def hold_tasks(emu: Any) -> Callable[[], None]:
    """Make tasks submitted from now on wait QUEUED until the returned ``release()`` is called.

    The emulator's own capacity control: concurrency 0 leaves no slot, so a new task waits in the
    key's queue however slow the machine is; restoring the limits promotes it and it runs its normal
    (short) duration. This is how a test gets a task that is certainly still pending when a wait
    ends, instead of racing a short emulated duration against the test machine's load.
    """
    before = emu.config
    emu.set_config(concurrency=0, queue_limit=max(before.queue_limit, 10_000))

    def release() -> None:
        emu.set_config(concurrency=before.concurrency, queue_limit=before.queue_limit)

    return release


@contextmanager
def tasks_held(emu: Any) -> Iterator[None]:
    """``hold_tasks`` for a block: tasks submitted inside stay QUEUED until the block ends."""
    release = hold_tasks(emu)
    try:
        yield
    finally:
        release()


def _attack_summary(terminalreporter: Any) -> None:
    """Print the hostile tests' attack counts (and, with RH_RELIABILITY_DOC=1, write them to the docs)."""
    import attack_log

    if attack_log.ATTACKS:
        terminalreporter.write_line(attack_log.summary())
        attack_log.write_doc_table(ROOT / "docs" / "reliability.md")
