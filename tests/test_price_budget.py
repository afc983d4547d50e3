"""Price before paying (issue #13): price_model on both surfaces, rh-tools price, spending limits,
and every Cost: line naming its currency. Runs on the emulator (real HTTP on loopback)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from conftest import TEST_KEY
from mcp.client import Client

from mcp_server import ServerConfig, build_server
from rh_tools import AsyncRunningHub, RunningHub
from rh_tools import _render as R
from rh_tools._budget import Budget
from rh_tools._exceptions import BudgetError, ConfigurationError
from rh_tools.cli import EXIT_INPUT, EXIT_OK, main
from rh_tools.emulator import Emulator
from rh_tools.emulator.workflows import SAMPLE_WORKFLOW_ID
from rh_tools.langchain import RunningHubToolkit
from rh_tools.types import TaskResult

GROK = {"prompt": "a red fox, watercolor", "imageUrl": "https://example.com/fox.png"}
GROK_PRICE = 0.14  # what the emulator charges for one grok_image_to_image image (its default price table)


@pytest.fixture(scope="module")
def shared_emu() -> Iterator[Emulator]:
    with Emulator(port=0, durations={"image": 0.01, "video": 0.01}, queue_seconds=0) as e:
        yield e


@pytest.fixture
def emu(shared_emu: Emulator) -> Iterator[Emulator]:
    shared_emu.stats.reset()
    yield shared_emu
    shared_emu.set_config(currency="CNY")


@pytest.fixture
def clients(emu: Emulator) -> Iterator[tuple[RunningHub, AsyncRunningHub]]:
    sync = RunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    asy = AsyncRunningHub(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02)
    yield sync, asy
    sync.close()


def tools(clients: tuple[RunningHub, AsyncRunningHub], **kw: Any) -> dict[str, Any]:
    tk = RunningHubToolkit(client=clients[0], async_client=clients[1], **kw)
    return {t.name: t for t in tk.get_tools()}


def call(tool: Any, **args: Any) -> Any:
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


# ------------------------------------------------------------------ the limits themselves (no HTTP)


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_limits_come_from_arguments_then_environment_then_nowhere() -> None:
    env = {"RUNNINGHUB_MAX_COST_PER_CALL": "0.5", "RUNNINGHUB_MAX_COST_PER_DAY": "3"}
    b = Budget.resolve(per_call=0.2, env=env)
    assert (b.per_call, b.per_session, b.per_day, b.active) == (0.2, None, 3.0, True)
    assert not Budget.resolve(env={}).active
    with pytest.raises(ConfigurationError, match="RUNNINGHUB_MAX_COST_PER_SESSION='lots' is not a number"):
        Budget.resolve(env={"RUNNINGHUB_MAX_COST_PER_SESSION": "lots"})
    with pytest.raises(ConfigurationError, match=">= 0"):
        Budget.resolve(per_call=-1, env={})


def test_reserve_settle_release_and_each_limit_named() -> None:
    b = Budget(per_call=1.0, per_session=2.0)
    first = b.admit("a", 0.8, "CNY")
    second = b.admit("b", 0.8, "CNY")  # 1.6 reserved: both in flight at once still fit
    with pytest.raises(BudgetError) as exc:
        b.admit("c", 0.8, "CNY")  # 2.4 > 2.0, counting the reservations of calls still running
    assert "over the session maximum of 2 CNY (1.6 CNY spent so far)" in exc.value.message
    with pytest.raises(BudgetError, match=r"about 1.5 CNY: over the per-call maximum of 1 CNY"):
        b.admit("d", 1.5, "CNY")
    b.settle(first, 0.3)  # the task reported what it really cost
    b.release(second)  # that submit created no task
    assert b.session_spent() == pytest.approx(0.3)
    b.admit("e", 0.9, "CNY")
    assert "1.2 CNY of 2 CNY spent this session" in b.status("CNY")


def test_unpriced_calls_under_a_per_call_limit_are_refused_and_otherwise_run_while_money_is_left() -> None:
    with pytest.raises(BudgetError, match="no price preview"):
        Budget(per_call=1.0).admit("run_workflow(1)", None, "CNY")
    b = Budget(per_session=1.0)
    charge = b.admit("run_workflow(1)", None, "CNY")
    b.settle(charge, 1.0)  # the workflow's reported cost is counted afterwards
    with pytest.raises(BudgetError, match="an unknown amount"):
        b.admit("run_workflow(1)", None, "CNY")


def test_the_day_limit_reads_the_journal_seam_since_local_midnight() -> None:
    noon = datetime(2026, 5, 4, 12, 0).timestamp()
    asked: list[float] = []

    def spent_since(t: float) -> float:  # what a task journal would answer: spent by every process since t
        asked.append(t)
        return 4.5

    b = Budget(per_day=5.0, spent_since=spent_since, clock=Clock(noon))
    with pytest.raises(BudgetError, match="over the daily maximum of 5 CNY \\(4.5 CNY spent today\\)"):
        b.admit("x", 0.6, "CNY")
    assert asked == [datetime(2026, 5, 4).timestamp()]
    own = Budget(per_day=1.0, clock=(clock := Clock(noon)))  # no journal: this process's own ledger
    own.admit("x", 0.9, "CNY")
    clock.t += 24 * 3600  # the next day starts from zero
    own.admit("y", 0.9, "CNY")


def test_every_cost_line_names_its_currency_and_coins() -> None:
    usage = {"thirdPartyConsumeMoney": "0.14", "consumeMoney": "0.02", "consumeCoins": "3", "taskCostTime": "1"}
    done = TaskResult(task_id="1", status="SUCCESS", usage=usage)
    assert "Cost: 0.14 USD (API), 0.02 USD (runtime), 3 RH coins." in R.result_text(done, currency="USD")
    assert "Cost: 0.14 CNY (API)" in R.task_text(done)  # documented default
    nothing = TaskResult(task_id="1", status="SUCCESS", usage={"thirdPartyConsumeMoney": "0"})
    assert "Cost: 0 CNY." in R.result_text(nothing)


# ------------------------------------------------------------------ the tools, on the emulator


def test_price_model_prices_without_a_task_in_the_accounts_currency(emu: Emulator, clients: Any) -> None:
    t = tools(clients)
    msg = call(t["price_model"], name="grok_image_to_image", params=json.dumps(GROK))
    assert msg.status == "success" and f"about {GROK_PRICE} CNY" in msg.content
    assert msg.artifact == {"name": "grok_image_to_image", "estimated_price": GROK_PRICE, "currency": "CNY",
                            "free_this_call": False, "price_text": f"¥{GROK_PRICE:.2f}"}  # fmt: skip
    assert emu.stats.tasks_created == 0

    emu.set_config(currency="USD")  # an account billed in another currency: the answers say so
    assert "0.14 USD" in call(t["price_model"], name="grok_image_to_image", params=GROK).content
    run = call(t["run_model"], name="grok_image_to_image", params=GROK)
    assert "Cost: 0.14 USD (API)." in run.content  # learnt from the price answer


def test_price_model_refuses_bad_arguments_before_any_request(emu: Emulator, clients: Any) -> None:
    msg = call(tools(clients)["price_model"], name="grok_image_to_image", params={"prompt": "x", "model": "g-99"})
    assert msg.status == "error" and "g-4.2" in msg.content and emu.stats.requests == 0


def test_a_run_over_the_per_call_limit_is_refused_before_submit(emu: Emulator, clients: Any) -> None:
    t = tools(clients, budget=Budget(per_call=0.1))
    msg = call(t["run_model"], name="grok_image_to_image", params=GROK)
    assert msg.status == "error"
    assert f"grok_image_to_image would cost about {GROK_PRICE} CNY: over the per-call maximum of 0.1 CNY" in msg.content
    assert "Nothing was submitted" in msg.content
    assert emu.stats.tasks_created == 0 and set(emu.stats.requests_by_path) == {
        "/openapi/v2/price-preview/rhart-image-g/image-to-image"
    }
    workflow = call(t["run_workflow"], workflow_id=SAMPLE_WORKFLOW_ID)
    assert workflow.status == "error" and "no price preview" in workflow.content and emu.stats.tasks_created == 0


def test_a_session_limit_counts_what_runs_cost(emu: Emulator, clients: Any) -> None:
    budget = Budget(per_session=0.3)
    t = tools(clients, budget=budget)
    for _ in range(2):
        assert call(t["run_model"], name="grok_image_to_image", params=GROK).status == "success"
    assert budget.session_spent() == pytest.approx(2 * GROK_PRICE)
    third = call(t["run_model"], name="grok_image_to_image", params=GROK)
    assert third.status == "error" and "over the session maximum of 0.3 CNY (0.28 CNY spent so far)" in third.content
    assert emu.stats.tasks_created == 2
    assert "0.28 CNY of 0.3 CNY spent this session" in call(t["get_account"]).content


async def test_mcp_price_model_and_limits_from_server_flags(emu: Emulator) -> None:
    config = ServerConfig(api_key=TEST_KEY, base_url=emu.base_url, poll_interval=0.02, max_cost_per_call=0.1)
    async with Client(build_server(config)) as client:
        priced = await client.call_tool("price_model", {"name": "grok_image_to_image", "params": json.dumps(GROK)})
        assert not priced.is_error and priced.structured_content["estimated_price"] == GROK_PRICE
        refused = await client.call_tool("run_model", {"name": "grok_image_to_image", "params": json.dumps(GROK)})
    assert refused.is_error and refused.structured_content["error"] == "BudgetError"
    assert "per-call maximum of 0.1 CNY" in refused.content[0].text and emu.stats.tasks_created == 0


def test_cli_price(emu: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RUNNINGHUB_API_KEY", TEST_KEY)
    monkeypatch.setenv("RUNNINGHUB_BASE_URL", emu.base_url)
    assert main(["price", "grok_image_to_image", "--prompt", "a fox", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "name": "grok_image_to_image",
        "estimated_price": GROK_PRICE,
        "currency": "CNY",
        "free_this_call": False,
    }
    assert main(["price", "grok_image_to_image", "--prompt", "a fox"]) == EXIT_OK
    assert f"grok_image_to_image: {GROK_PRICE} CNY per run" in capsys.readouterr().out
    assert main(["price", "grok_image_to_image", "--nope", "x"]) == EXIT_INPUT
    assert emu.stats.tasks_created == 0
