"""The per-day spending limit reads the task journal (issue #13 follow-up): processes and sessions
that share a journal share the day's total; without a journal each counts its own calls.

The seam is ``Budget.spent_since`` (backend-neutral: ``Journal.costs_since`` only uses
``TaskStore.list``); here it runs on a real SQLite journal, through two toolkits on one journal
file, and through two real processes (a LangChain script, then rh-mcp over stdio) on the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, TEST_KEY
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._budget import Budget
from rh_tools._exceptions import BudgetError
from rh_tools.emulator import Emulator
from rh_tools.journal import Journal, SQLiteStore, TaskRecord, TaskUpdate, key_fingerprint
from rh_tools.langchain import RunningHubToolkit

GROK = {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"}
GROK_PRICE = 0.14  # the emulator's price of one grok_image_to_image run (CNY)
BASE = "https://www.runninghub.ai"
NOON = datetime(2026, 5, 4, 12, 0).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# ------------------------------------------------------------------ the seam on a real journal (no HTTP)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[Journal, SQLiteStore]]:
    path = tmp_path / "journal.sqlite3"
    store = SQLiteStore(path)
    yield Journal(path, base_url=BASE, key=TEST_KEY), store
    store.close()


def _task(store: SQLiteStore, task_id: str, *, cost: float | None, at: float = NOON, **fields: Any) -> None:
    """A task in the journal as a client of this key on BASE writes it (``fields`` override that)."""
    mine = {"base_url": BASE, "key_id": key_fingerprint(TEST_KEY), **fields}
    store.add(TaskRecord(task_id=task_id, created_at=at, **mine))
    if cost is not None:
        store.update(task_id, TaskUpdate(status="SUCCESS", cost=cost))


def test_each_task_counts_once_whether_the_journal_or_this_process_knows_its_cost(
    journal: tuple[Journal, SQLiteStore],
) -> None:
    jr, store = journal
    budget = Budget(per_day=1.0, clock=Clock(NOON))
    budget.read_day_from(jr)
    assert budget.spent_since == jr.costs_since

    mine = budget.admit("grok", 0.3, "CNY")  # submitted, running: only this process knows (its estimate)
    assert budget.day_spent() == pytest.approx(0.3)
    budget.created(mine, "1904152026220003301")
    _task(store, "1904152026220003301", cost=None)  # the journal has the task, no cost yet
    assert budget.day_spent() == pytest.approx(0.3)
    store.update("1904152026220003301", TaskUpdate(status="SUCCESS", cost=0.25))  # reported: 0.25, not 0.55
    assert budget.day_spent() == pytest.approx(0.25)
    budget.settle(mine, 0.25, "1904152026220003301")
    assert budget.day_spent() == pytest.approx(0.25)

    _task(store, "1904152026220003302", cost=0.5)  # another process's task, finished today
    _task(store, "1904152026220003303", cost=9.0, at=NOON - 86_400)  # yesterday's
    _task(store, "1904152026220003304", cost=9.0, base_url="https://www.runninghub.cn")  # other site, other money
    _task(store, "1904152026220003305", cost=9.0, key_id="another-key")  # another account
    assert budget.day_spent() == pytest.approx(0.75)
    budget.admit("grok", 0.2, "CNY")  # in flight: 0.95
    with pytest.raises(BudgetError, match=r"over the daily maximum of 1 CNY \(0.95 CNY spent today\)"):
        budget.admit("grok", 0.1, "CNY")
    assert "0.95 CNY of 1 CNY spent today" in budget.status("CNY")


def test_an_estimate_kept_for_a_task_still_running_is_replaced_by_its_reported_cost(
    journal: tuple[Journal, SQLiteStore],
) -> None:
    """A run that outlasted its wait keeps its estimate; when the task later finishes (wait_task, or
    another process) the journal's cost replaces it rather than adding to it."""
    jr, store = journal
    budget = Budget(per_day=1.0, clock=Clock(NOON))
    budget.read_day_from(jr)
    charge = budget.admit("kling video", 0.6, "CNY")
    _task(store, "1904152026220003310", cost=None)
    budget.settle(charge, None, "1904152026220003310")  # TaskTimeoutError: still running, estimate kept
    assert budget.day_spent() == pytest.approx(0.6)
    store.update("1904152026220003310", TaskUpdate(status="SUCCESS", cost=0.45))
    assert budget.day_spent() == pytest.approx(0.45)


def test_without_a_readable_journal_the_limit_counts_this_processs_calls(
    journal: tuple[Journal, SQLiteStore], tmp_path: Path
) -> None:
    jr, store = journal
    _task(store, "1904152026220003320", cost=0.7)
    off = Journal("none", base_url=BASE, key=TEST_KEY)
    budget = Budget(per_day=1.0, clock=Clock(NOON))
    budget.read_day_from(off)
    assert budget.spent_since is None  # journal off: nothing to share, the ledger counts
    budget.admit("grok", 0.4, "CNY")
    assert budget.day_spent() == pytest.approx(0.4)

    broken = tmp_path / "not-a-journal"
    broken.mkdir()  # a folder where the file should be: the journal cannot be opened
    unreadable = Budget(per_day=1.0, clock=Clock(NOON))
    unreadable.read_day_from(Journal(broken, base_url=BASE, key=TEST_KEY))
    assert unreadable.spent_since is not None
    unreadable.admit("grok", 0.4, "CNY")
    assert unreadable.day_spent() == pytest.approx(0.4)  # the read failed (warned once): own ledger

    given = Budget(per_day=1.0, spent_since=lambda since: 0.9, clock=Clock(NOON))
    given.read_day_from(jr)
    assert given.spent_since is not jr.costs_since  # a seam the caller chose is kept


def test_a_total_given_as_one_number_adds_this_processs_calls_in_flight() -> None:
    budget = Budget(per_day=1.0, spent_since=lambda since: 0.5, clock=Clock(NOON))
    running = budget.admit("a", 0.3, "CNY")  # not in the shared number yet
    assert budget.day_spent() == pytest.approx(0.8)
    budget.settle(running, 0.3)  # settled: the shared number now holds it
    assert budget.day_spent() == pytest.approx(0.5)


# ------------------------------------------------------------------ two clients on one journal file


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.01, "video": 0.01}, queue_seconds=0) as e:
        yield e


def _toolkit(emu: Emulator, store: str | Path, budget: Budget) -> dict[str, Any]:
    kw: dict[str, Any] = {"api_key": TEST_KEY, "base_url": emu.base_url, "poll_interval": 0.02, "store": store}
    tk = RunningHubToolkit(client=RunningHub(**kw), async_client=AsyncRunningHub(**kw), budget=budget)
    return {t.name: t for t in tk.get_tools()}


def _run(tool: Any) -> Any:
    args = {"name": "grok_image_to_image", "params": json.dumps(GROK)}
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


def test_two_toolkits_on_one_journal_share_the_days_total(emu: Emulator, tmp_path: Path) -> None:
    shared = tmp_path / "journal.sqlite3"
    first = _toolkit(emu, shared, Budget(per_day=0.3))
    created = emu.stats.tasks_created
    assert [_run(first["run_model"]).status for _ in range(2)] == ["success", "success"]

    second = _toolkit(emu, shared, Budget(per_day=0.3))  # another session, same journal
    refused = _run(second["run_model"])
    assert refused.status == "error"
    assert "over the daily maximum of 0.3 CNY (0.28 CNY spent today)" in refused.content
    assert "0.28 CNY of 0.3 CNY spent today" in str(second["get_account"].invoke({}))
    assert emu.stats.tasks_created == created + 2  # refused before submit

    alone = _toolkit(emu, "none", Budget(per_day=0.3))  # no journal: only its own calls count
    assert _run(alone["run_model"]).status == "success"


def test_a_run_counts_once_even_while_it_is_being_settled(emu: Emulator, tmp_path: Path) -> None:
    """The journal learns a task's cost (its SUCCESS status) just before the run returns and is
    settled: the status callback has named the task by then, so the day counts it once, not twice."""
    from rh_tools.toolspecs import ToolContext, execute, generic_specs

    seen: list[tuple[str, float]] = []
    budget = Budget(per_day=1.0)
    client = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02, store=tmp_path / "j.sqlite3")
    budget.read_day_from(client.journal)
    ctx = ToolContext(budget=budget, on_status=lambda task, _: seen.append((task.status, budget.day_spent())))
    run_model = next(s for s in generic_specs() if s.name == "run_model")
    result = execute(run_model, client, {"name": "grok_image_to_image", "params": GROK}, ctx)
    assert not result.is_error, result.text
    assert seen[-1] == ("SUCCESS", pytest.approx(GROK_PRICE))  # journal cost known, charge not settled yet
    assert budget.day_spent() == pytest.approx(GROK_PRICE)


# ------------------------------------------------------------------ two real processes


# Run three times with the params in argv[1]; print the three statuses.
_SPENDER = textwrap.dedent(
    """
    import json, sys
    from rh_tools.langchain import RunningHubToolkit

    run = {t.name: t for t in RunningHubToolkit().get_tools()}["run_model"]
    args = {"name": "grok_image_to_image", "params": sys.argv[1]}
    calls = [{"type": "tool_call", "id": str(i), "name": "run_model", "args": args} for i in range(3)]
    print(json.dumps([run.invoke(call).status for call in calls]))
    """
)


def _env(emu: Emulator, journal: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
    env.update(
        RUNNINGHUB_API_KEY=TEST_KEY,
        RUNNINGHUB_BASE_URL=emu.base_url,
        RUNNINGHUB_POLL_INTERVAL="0.02",
        RUNNINGHUB_STORE=str(journal),
        **extra,
    )
    return env


async def test_two_processes_spend_against_one_daily_limit(emu: Emulator, tmp_path: Path) -> None:
    """A LangChain script spends 0.28 of a 0.3 day (its third run is refused), then rh-mcp, another
    process started afterwards with the same journal, refuses a run: the day is already spent."""
    journal = tmp_path / "journal.sqlite3"
    created = emu.stats.tasks_created
    env = _env(emu, journal, RUNNINGHUB_MAX_COST_PER_DAY="0.3")
    spender = [sys.executable, "-c", _SPENDER, json.dumps(GROK)]
    done = subprocess.run(spender, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["success", "success", "error"]
    assert emu.stats.tasks_created == created + 2

    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_server", "--max-cost-per-day", "0.3"],
        env=_env(emu, journal),
        cwd=str(ROOT),
    )
    async with Client(server) as client:
        refused = await client.call_tool("run_model", {"name": "grok_image_to_image", "params": json.dumps(GROK)})
        priced = await client.call_tool("price_model", {"name": "grok_image_to_image", "params": json.dumps(GROK)})
    assert refused.is_error and refused.structured_content["error"] == "BudgetError"
    assert "over the daily maximum of 0.3 CNY (0.28 CNY spent today)" in refused.content[0].text
    assert "0.28 CNY of 0.3 CNY spent today" in priced.content[0].text
    assert emu.stats.tasks_created == created + 2
