"""The polling policy: cold timetable, learnt windows on heavy-tailed durations, the query budget,
and many tasks of one endpoint at once.

Mostly pure decisions on a fake clock (no sleeping, no HTTP); the last tests drive both clients.
benchmarks/sim_polling.py measures the same code on thousands of tasks and bench_polling.py /
bench_concurrency.py on the real emulator.
"""

from __future__ import annotations

import asyncio
import math
import random
from statistics import NormalDist

import httpx
import pytest

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools._polling import DurationHistory, Expectation, PollPolicy
from rh_tools._waiter import Waiter
from rh_tools.emulator import Emulator
from rh_tools.types import Task

NORMAL = NormalDist()


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def lognormal_samples(median: float, sigma: float, n: int) -> list[float]:
    """n durations at evenly spaced quantiles of a log-normal (a sample without sampling noise)."""
    return [median * math.exp(sigma * NORMAL.inv_cdf((i + 0.5) / n)) for i in range(n)]


def schedule(policy: PollPolicy, expected: Expectation | None, until: float) -> list[float]:
    """The task ages at which ``policy`` polls a task that is still running, up to ``until``."""
    clock = FakeClock()
    history = DurationHistory()
    w = Waiter(task_id="1", deadline=1e9, policy=policy, started=0.0, clock=clock, history=history, history_key="e")
    if expected is not None:
        history.expect = lambda key: expected  # type: ignore[method-assign]
    ages = []
    while clock.t < until:
        delay = w.next_delay()
        assert delay is not None and delay > 0
        clock.t += delay
        ages.append(clock.t)
        w.observe(Task(task_id="1", status="RUNNING"))
    return ages


def replay(ages: list[float], duration: float) -> tuple[float, int]:
    """(lag, queries) of a task of ``duration`` seconds polled at ``ages``."""
    for k, t in enumerate(ages, 1):
        if t >= duration:
            return t - duration, k
    raise AssertionError("the schedule ended before the task")


# ------------------------------------------------------------------ cold: nothing learnt


def test_cold_polls_every_second_then_every_15_percent_of_the_age_up_to_the_cap() -> None:
    ages = schedule(PollPolicy(), None, 120)
    gaps = [b - a for a, b in zip([0.0, *ages], ages, strict=False)]
    assert ages[:6] == pytest.approx([1, 2, 3, 4, 5, 6])
    for age, gap in zip([0.0, *ages], gaps, strict=False):
        assert gap == pytest.approx(min(max(1.0, 0.15 * age), 10.0))
    assert max(gaps) == 10.0


def test_cold_never_costs_more_queries_than_a_1_s_poller_and_sees_an_8_s_task_within_2_s() -> None:
    ages = schedule(PollPolicy(), None, 700)
    for duration in [0.3, 0.9, 2.0, 2.5, 7.99, 8.0, 8.01, 10.4, 31.0, 95.0, 600.0]:
        lag, queries = replay(ages, duration)
        assert queries <= math.ceil(duration)  # what polling every second costs
        assert lag <= max(1.0, 0.15 * duration, min(10.0, 0.15 * duration))
    assert replay(ages, 8.0)[0] <= 2.0  # the cold goal: a first-ever 8-s task at most 2 s late
    assert replay(ages, 7.3)[0] <= 2.0 and replay(ages, 10.0)[0] <= 2.0


def test_a_callers_poll_interval_sets_the_cold_pace() -> None:
    assert schedule(PollPolicy(initial=0.05), None, 0.3)[:4] == pytest.approx([0.05, 0.10, 0.15, 0.20])
    assert schedule(PollPolicy(initial=3.0), None, 10)[:3] == pytest.approx([3.0, 6.0, 9.0])
    assert PollPolicy(initial=0).next_delay(5, None) == 0.0


# ------------------------------------------------------------------ what is learnt


def test_the_window_is_quantiles_of_a_robust_log_normal_fit_not_the_min_and_max() -> None:
    h = DurationHistory()
    samples = lognormal_samples(8.0, 0.8, 32)
    for s in samples:
        h.record("e", s)
    exp = h.expect("e")
    assert exp is not None and exp.median == pytest.approx(8.0, rel=0.05)
    assert exp.sigma == pytest.approx(0.8, rel=0.15)  # shrunk a little towards the 0.3 prior, widened for n
    assert exp.low == pytest.approx(exp.quantile(0.10)) and exp.high == pytest.approx(exp.quantile(0.90))
    # a min/max window would span 1.2 .. 54 s; the 10..90 % window leaves both tails out
    assert min(samples) < exp.low < 8.0 < exp.high < max(samples)
    # one task stuck for an hour moves the window by little
    h.record("e", 3600.0)
    stuck = h.expect("e")
    assert stuck is not None and stuck.high < exp.high * 1.3 and stuck.low > exp.low * 0.9


def test_few_samples_lean_on_the_prior_and_the_window_narrows_as_samples_agree() -> None:
    h = DurationHistory(min_samples=2)
    h.record("e", 10.0)
    assert h.expect("e") is None
    h.record("e", 10.0)
    two = h.expect("e")
    assert two is not None and two.sigma == pytest.approx(0.3 * math.sqrt(1 + 1.57 / 2))
    for _ in range(30):
        h.record("e", 10.0)
    many = h.expect("e")
    assert many is not None and many.sigma < two.sigma / 2 and many.low < 10.0 < many.high


def test_gap_for_is_the_gap_with_that_chance_of_finishing() -> None:
    exp = Expectation(low=4.0, high=20.0, median=8.0, sigma=0.8)
    cdf = lambda t: NORMAL.cdf(math.log(t / 8.0) / 0.8)  # noqa: E731
    for age in (2.0, 8.0, 30.0):
        gap = exp.gap_for(age, 0.25)
        assert (cdf(age + gap) - cdf(age)) / (1 - cdf(age)) == pytest.approx(0.25)
    assert Expectation(low=1.0, high=2.0).gap_for(1.0, 0.5) == 0.0  # no fitted shape: no opinion
    assert exp.mean == pytest.approx(8.0 * math.exp(0.32))


# ------------------------------------------------------------------ warm: polling a learnt window


def test_warm_polls_jump_to_the_window_then_step_with_the_age_then_back_off() -> None:
    p = PollPolicy()
    exp = Expectation(low=20.0, high=40.0, median=28.0, sigma=0.25)
    assert p.next_delay(0.0, None, exp) == pytest.approx(10.0)  # 20 s away: two hops of max_interval
    assert p.next_delay(15.0, 5.0, exp) == pytest.approx(5.0)  # then the window's low end
    assert p.next_delay(25.0, 2.0, exp) == pytest.approx(0.08 * 25.0)  # lag_ratio x age inside it
    assert p.next_delay(50.0, 3.0, exp) == pytest.approx(10.0)  # past it: tail_ratio x age, capped
    assert p.next_delay(45.0, 3.0, exp) == pytest.approx(9.0)


def test_warm_beats_the_1_s_poller_on_an_8_s_heavy_tailed_endpoint() -> None:
    """Lag <= 10 % of the median task and fewer queries than polling every second, on the model."""
    exp = Expectation(
        low=8.0 * math.exp(0.8 * NORMAL.inv_cdf(0.1)),
        high=8.0 * math.exp(0.8 * NORMAL.inv_cdf(0.9)),
        median=8.0,
        sigma=0.8,
    )
    ages = schedule(PollPolicy(), exp, 400)
    durations = lognormal_samples(8.0, 0.8, 400)
    runs = [replay(ages, d) for d in durations]
    lags = sorted(lag for lag, _ in runs)
    assert lags[len(lags) // 2] <= 0.8
    assert sum(q for _, q in runs) / len(runs) < sum(math.ceil(d) for d in durations) / len(durations)


def test_short_heavy_tailed_tasks_keep_the_query_budget() -> None:
    """2-s tasks of sigma 0.8: dense polls cannot pay off, so polls thin out to one per second's worth."""
    exp = Expectation(
        low=2.0 * math.exp(0.8 * NORMAL.inv_cdf(0.1)),
        high=2.0 * math.exp(0.8 * NORMAL.inv_cdf(0.9)),
        median=2.0,
        sigma=0.8,
    )
    p = PollPolicy()
    ages = schedule(p, exp, 200)
    durations = lognormal_samples(2.0, 0.8, 400)
    runs = [replay(ages, d) for d in durations]
    one_s = [replay([float(k) for k in range(1, 400)], d) for d in durations]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert mean([q for _, q in runs]) <= mean([q for _, q in one_s])
    assert sorted(lag for lag, _ in runs)[200] <= sorted(lag for lag, _ in one_s)[200] + 0.02
    # sparser than lag_ratio x age would be, but the tail is still looked at every 20 % of the age
    gaps = [b - a for a, b in zip(ages, ages[1:], strict=False)]
    assert any(g > max(p.floor, p.lag_ratio * a) + 0.1 for a, g in zip(ages, gaps, strict=False))
    assert all(g <= max(1.0, 0.2 * a) + 1e-9 for a, g in zip(ages, gaps, strict=False))


def test_a_learnt_narrow_window_is_polled_densely() -> None:
    """Predictable 2-s tasks (±30 %): polls every 0.3 s around 2 s, still fewer than a 1 s poller's."""
    rng = random.Random(3)
    h = DurationHistory()
    for _ in range(32):
        h.record("e", 2.0 * (1 + rng.uniform(-0.3, 0.3)))
    exp = h.expect("e")
    assert exp is not None
    ages = schedule(PollPolicy(), exp, 10)
    assert 1.4 < ages[0] < 2.0 and ages[1] - ages[0] == pytest.approx(0.3, abs=0.15)
    durations = [2.0 * (1 + rng.uniform(-0.3, 0.3)) for _ in range(400)]
    runs = [replay(ages, d) for d in durations]
    assert sorted(lag for lag, _ in runs)[200] <= 0.25
    assert sum(q for _, q in runs) / 400 < sum(math.ceil(d) for d in durations) / 400


# ------------------------------------------------------------------ many tasks of one endpoint at once


def test_polls_are_skipped_only_on_enough_evidence_from_other_tasks() -> None:
    p = PollPolicy()
    assert not p.skips(5.0, survivors=49, finished=0)  # too few tasks seen running past 5 s
    assert p.skips(5.0, survivors=50, finished=0)  # none of 50 done by 5 s: at most 3/50, 95 % confident
    assert not p.skips(5.0, survivors=60, finished=1)  # (1 + 3) / 61: over 6 %
    assert p.skips(5.0, survivors=500, finished=2)
    assert not p.skips(5.0, survivors=500, finished=40)
    assert not p.skips(5.0, survivors=0, finished=0)
    assert not PollPolicy(peer_evidence=0).skips(5.0, survivors=500, finished=0)


def test_the_census_counts_each_task_once_and_stays_bounded() -> None:
    h = DurationHistory()
    for i in range(600):
        h.seen_running("e", f"t{i}", 1.0)
    h.seen_running("e", "t599", 7.0)
    h.seen_running("e", "t599", 3.0)  # a later, lower age changes nothing
    assert h.census("e", 0.5) == (512, 0) and h.census("e", 5.0) == (1, 0) and h.census("other", 0.0) == (0, 0)
    h.seen_done("e", "t599", 9.0)  # seen running at 7 s, then done at 9 s
    h.seen_done("e", "t598", 2.0)
    assert h.census("e", 1.0) == (512, 0) and h.census("e", 2.0) == (1, 1) and h.census("e", 9.0) == (0, 2)
    h.seen_running("e", "new", 1.0)  # the least recently seen task (t0) makes room
    assert h.census("e", 1.0) == (512, 0)


def simulate(policy: PollPolicy, durations: list[float], spread: float) -> tuple[list[float], list[int]]:
    """Tasks submitted ``spread`` seconds apart in all, one client; (lags, queries) through the Waiter."""
    import heapq

    now = [0.0]
    history = DurationHistory()
    heap: list[tuple[float, int]] = []
    waiters: dict[int, tuple[Waiter, float]] = {}
    lags: list[float] = []
    queries: list[int] = []
    for i, duration in enumerate(durations):
        start = i * spread / len(durations)
        w = Waiter(
            task_id=str(i), deadline=1e9, policy=policy, history=history, history_key="e", started=start,
            clock=lambda: now[0],
        )  # fmt: skip
        waiters[i] = (w, start + duration)
        heapq.heappush(heap, (start, i))
    first = set(waiters)
    while heap:
        now[0], i = heapq.heappop(heap)
        w, end = waiters[i]
        if i in first:
            first.discard(i)
        elif w.sending():
            if w.observe(Task(task_id=str(i), status="SUCCESS" if now[0] >= end else "RUNNING")):
                lags.append(now[0] - end)
                queries.append(w.polls)
                continue
        delay = w.next_delay()
        assert delay is not None
        heapq.heappush(heap, (now[0] + delay, i))
    return lags, queries


def test_a_task_whose_polls_were_skipped_learns_only_the_end_of_its_bracket() -> None:
    """Seen running at 0 s, then (polls skipped) done at 9 s: that says it ended near 9 s, not at 4.5."""
    h = DurationHistory()
    for i in range(50):
        h.seen_running("e", f"peer{i}", 8.5)
    clock = FakeClock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(), history=h, history_key="e", started=0.0, clock=clock)
    w.observe(Task(task_id="1", status="RUNNING"), polled=False)
    clock.t = w.next_delay() or 0.0
    assert clock.t > 8.5  # the ages 50 others ran past were skipped: 1, 2 ... 8.05 s
    assert w.sending()
    w.observe(Task(task_id="1", status="SUCCESS"))
    (learnt,) = h._data["e"]
    assert learnt == pytest.approx(clock.t - PollPolicy().step(clock.t))


def test_a_thousand_tasks_of_one_endpoint_do_not_all_poll_through_the_seconds_none_can_finish() -> None:
    lags, queries = simulate(PollPolicy(), [10.0] * 1000, spread=2.0)
    base_lags, base_queries = simulate(PollPolicy(peer_evidence=0), [10.0] * 1000, spread=2.0)
    assert sum(base_queries) / 1000 > 10  # every task on the cold timetable: 1, 2, ... 8.05, 9.26, 10.65 s
    assert sum(queries) / 1000 < 2  # 50 tasks show the way; the others poll once or twice, near the end
    assert max(lags) <= max(base_lags) + 1e-9


def test_skipping_costs_heavy_tailed_tasks_hardly_any_lag() -> None:
    """300 log-normal tasks in 3 s, six runs pooled: the evidence rule saves queries, not lag."""
    lags: list[float] = []
    base_lags: list[float] = []
    queries = base_queries = 0
    for seed in range(6):
        rng = random.Random(seed)
        durations = [8.0 * math.exp(0.8 * rng.gauss(0, 1)) for _ in range(300)]
        got, q = simulate(PollPolicy(), durations, spread=3.0)
        base, bq = simulate(PollPolicy(peer_evidence=0), durations, spread=3.0)
        lags, base_lags = lags + got, base_lags + base
        queries, base_queries = queries + sum(q), base_queries + sum(bq)
    lags.sort()
    base_lags.sort()
    assert lags[900] <= base_lags[900] * 1.08  # median
    assert lags[1710] <= base_lags[1710] * 1.08  # p95
    assert queries < 0.95 * base_queries


# ------------------------------------------------------------------ the same through the real clients

KEY = "feedfacecafebeef0123456789abcdef"
TASK = "2013508786110730241"


def done_after_one_query(requests: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        return httpx.Response(200, json={"taskId": TASK, "status": "SUCCESS", "errorCode": "", "results": []})

    return httpx.MockTransport(handler)


def test_both_clients_ask_the_waiter_before_each_poll_whether_it_is_still_worth_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other tasks may show a poll to be too early while it sleeps or waits for a slot: then no query
    is sent and the wait plans again (the async client asks once it holds a connection slot)."""
    answers: list[bool] = []
    asked = 0

    def sending(self: Waiter, *, check: bool = True) -> bool:
        nonlocal asked
        asked += 1
        return answers.pop(0) if answers else True

    monkeypatch.setattr(Waiter, "sending", sending)
    sent: list[str] = []
    answers[:] = [False, False]  # after the first two sleeps: not worth sending
    with RunningHub(api_key=KEY, transport=done_after_one_query(sent), poll_interval=0.01) as rh:
        assert rh.wait(TASK).status == "SUCCESS"
    assert asked == 3 and sent == ["/openapi/v2/query"]

    async def run_async() -> None:
        async with AsyncRunningHub(api_key=KEY, transport=done_after_one_query(sent), poll_interval=0.01) as rh:
            assert (await rh.wait(TASK)).status == "SUCCESS"

    # async: after the first sleep no; after the second yes, but no once holding a slot (the wait
    # there made it stale); after the third sleep yes, and in the slot yes: one query
    answers[:], asked = [False, True, False, True, True], 0
    asyncio.run(run_async())
    assert asked == 5 and not answers and sent == ["/openapi/v2/query"] * 2


def test_a_poll_that_waited_for_a_slot_is_judged_at_the_age_it_leaves_and_reports_that_age() -> None:
    h = DurationHistory()
    clock = FakeClock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(), history=h, history_key="e", started=0.0, clock=clock)
    assert w.next_delay() == 1.0
    for i in range(50):  # while this poll waited for a slot, 50 others were seen running at 8 s
        h.seen_running("e", f"peer{i}", 8.0)
    clock.t = 7.5  # the slot is free at last
    assert not w.sending()  # 50 tasks ran past 7.5 s, none was done: not worth a query
    assert w.sending(check=False)  # a webhook said it ended: poll anyway
    w.observe(Task(task_id="1", status="RUNNING"))
    assert h.census("e", 7.5) == (51, 0)  # it was running when its poll left, at 7.5 s
    clock.t = 9.0
    assert w.sending()  # nobody was seen running at 9 s: worth asking


def test_many_tasks_of_one_endpoint_at_once_over_real_http_all_complete_with_few_queries() -> None:
    """120 tasks of 0.6 s at once through AsyncRunningHub and the emulator: all complete, and far
    fewer queries than the cold timetable's 11 per task (0.05, 0.10 ... 0.53, 0.61 s) are sent.

    A sanity check of the whole over real HTTP (what is learnt from the first tasks to finish does
    most of it here); the skipping itself is tested on the fake clock above."""
    path, n = "seedream-v4/text-to-image", 120
    with Emulator(durations={"image": 0.6}, duration_dist="fixed", queue_seconds=0, concurrency=10_000) as emu:

        async def run_async() -> None:
            async with AsyncRunningHub(api_key=KEY, base_url=emu.base_url, poll_interval=0.05) as rh:
                results = await asyncio.gather(*(rh.run(path, prompt=f"a{i}") for i in range(n)))
            assert all(r.status == "SUCCESS" for r in results)

        asyncio.run(run_async())
        queries = emu.stats.requests_by_path.get("/openapi/v2/query", 0)
    assert queries < 4 * n, queries
