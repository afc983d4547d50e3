"""Pure decisions of the client core: requests, answers, retries, polling."""

from __future__ import annotations

import json
import random

import pytest

from rh_tools import _calls as calls
from rh_tools import _core as core
from rh_tools import _exceptions as E
from rh_tools._config import ClientConfig
from rh_tools._media import MediaSource
from rh_tools._polling import DurationHistory, PollPolicy
from rh_tools._waiter import Waiter
from rh_tools.types import Task

KEY = "feedfacecafebeef0123456789abcdef"
CFG = ClientConfig.resolve(api_key=KEY, base_url="https://www.runninghub.ai", env={})


def _body(kw: dict) -> dict:
    return kw.get("json") or {}


def test_v2_submit_uses_bearer_only() -> None:
    kw = core.request_kwargs(calls.submit_call("rhart-image-g/image-to-image", {"prompt": "x"}), CFG)
    assert kw["url"] == "https://www.runninghub.ai/openapi/v2/rhart-image-g/image-to-image"
    assert kw["headers"]["Authorization"] == f"Bearer {KEY}"
    assert kw["json"] == {"prompt": "x"}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (calls.cancel_call("1"), "apiKey"),
        (calls.workflow_call("9", []), "apiKey"),
        (calls.account_call(), "apikey"),
    ],
)
def test_legacy_calls_carry_key_in_body_and_bearer(call: core.Call, field: str) -> None:
    kw = core.request_kwargs(call, CFG)
    assert _body(kw)[field] == KEY
    assert kw["headers"]["Authorization"] == f"Bearer {KEY}"


def test_ai_app_list_sends_bare_key_and_demo_sends_query_key() -> None:
    assert core.request_kwargs(calls.list_ai_apps_call(), CFG)["headers"]["Authorization"] == KEY
    kw = core.request_kwargs(calls.ai_app_demo_call("77"), CFG)
    assert kw["method"] == "GET" and kw["params"] == {"apiKey": KEY, "webappId": "77"}


def test_redact_strips_keys_and_signatures() -> None:
    url = f"/api/webapp/apiCallDemo?apiKey={KEY}&webappId=1&Rh-Comfy-Auth=abc.def&q-signature=zz"
    out = core.redact(url)
    assert KEY not in out and "abc.def" not in out and "zz" not in out and "webappId=1" in out


# ------------------------------------------------------------------ decoding

SUBMITTED = {
    "taskId": "2013508786110730241",
    "status": "RUNNING",
    "errorCode": "",
    "errorMessage": "",
    "results": None,
    "clientId": "f828",
    "promptTips": "{}",
}


def _decode(call: core.Call, body: object, status: int = 200, headers: dict | None = None) -> object:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return core.decode_response(call, status, headers or {}, content)


def test_decode_task_object() -> None:
    task = _decode(calls.submit_call("p", {}), SUBMITTED)
    assert task.task_id == "2013508786110730241" and task.status == "RUNNING" and not task.done


def test_decode_success_with_results_and_usage() -> None:
    body = {
        **SUBMITTED,
        "status": "SUCCESS",
        "results": [
            {"url": "https://cdn/x.jpg", "outputType": "jpg", "text": None},
            {"url": None, "outputType": "text", "text": "lucy.char"},
        ],
        "usage": {
            "consumeMoney": None,
            "consumeCoins": None,
            "taskCostTime": "0",
            "thirdPartyConsumeMoney": "0.14",
        },
    }
    task = _decode(calls.query_call("1"), body)
    assert task.urls == ["https://cdn/x.jpg"] and task.texts == ["lucy.char"]
    assert [o.kind for o in task.outputs] == ["image", "text"]
    assert task.usage.third_party_consume_money == "0.14"


def test_decode_submit_business_error() -> None:
    body = {
        "taskId": "",
        "status": "",
        "errorCode": "1014",
        "errorMessage": "Access Denied|访问被拒绝",
        "results": None,
    }
    with pytest.raises(E.AuthenticationError) as exc:
        _decode(calls.submit_call("p", {}), body)
    assert exc.value.code == 1014 and exc.value.message_zh == "访问被拒绝"


def test_decode_errors_with_http_status_and_retry_after() -> None:
    with pytest.raises(E.RateLimitError) as exc:
        _decode(
            calls.submit_call("p", {}),
            {"taskId": "", "errorCode": "1003", "errorMessage": "slow"},
            429,
            {"retry-after": "2"},
        )
    assert exc.value.retry_after == 2.0 and exc.value.status_code == 429
    with pytest.raises(E.ServerError):
        _decode(calls.query_call("1"), b"<html>502 Bad Gateway</html>", 502)
    with pytest.raises(E.ResponseFormatError) as exc2:
        _decode(calls.query_call("5"), b"{not json", 200)
    assert exc2.value.task_id == "5" and exc2.value.retryable


def test_decode_envelopes() -> None:
    acct = _decode(
        calls.account_call(),
        {
            "code": 0,
            "msg": "success",
            "data": {
                "remainCoins": "177814",
                "currentTaskCounts": "0",
                "remainMoney": "999",
                "currency": "CNY",
                "apiType": "NORMAL",
            },
        },
    )
    assert acct.remain_coins == "177814" and acct.currency == "CNY"
    with pytest.raises(E.AuthenticationError):
        _decode(calls.account_call(), {"code": 802, "msg": "APIKEY_UNAUTHORIZED", "data": None})
    up = _decode(
        calls.upload_call(MediaSource.from_bytes(b"\x89PNG\r\n\x1a\n....")),
        {
            "code": 0,
            "message": "success",
            "data": {
                "type": "image",
                "download_url": "https://x/y.png",
                "fileName": "openapi/a.png",
                "size": 5,
            },
        },
    )
    assert up.download_url == "https://x/y.png" and up.file_name == "openapi/a.png" and up.size == "5"


def test_legacy_outputs_status_codes() -> None:
    c = calls.legacy_outputs_call("7")
    assert _decode(c, {"code": 804, "msg": "APIKEY_TASK_IS_RUNNING", "data": None}).status == "RUNNING"
    assert _decode(c, {"code": 813, "msg": "APIKEY_TASK_IS_QUEUED", "data": None}).status == "QUEUED"
    assert _decode(c, {"code": 0, "msg": "", "data": None}).status == "RUNNING"
    failed = _decode(c, {"code": 805, "msg": "APIKEY_TASK_STATUS_ERROR", "data": {"failedReason": {"node_id": "3"}}})
    assert failed.status == "FAILED" and failed.failed_reason == {"node_id": "3"}
    done = _decode(
        c,
        {
            "code": 0,
            "msg": "success",
            "data": [{"fileUrl": "https://x/a.png", "fileType": "png", "taskCostTime": "83", "nodeId": "9"}],
        },
    )
    assert done.status == "SUCCESS" and done.outputs[0].node_id == "9" and done.usage.task_cost_time == "83"


def test_workflow_node_errors_fail_the_submit() -> None:
    tips = json.dumps({"result": False, "node_errors": {"3": {"errors": ["bad"]}}})
    with pytest.raises(E.InvalidRequestError) as exc:
        _decode(
            calls.workflow_call("9"),
            {"code": 0, "msg": "", "data": {"taskId": "1", "taskStatus": "QUEUED", "promptTips": tips}},
        )
    assert exc.value.code == 433


def test_workflow_json_is_parsed_from_string() -> None:
    wf = {"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}
    assert (
        _decode(calls.workflow_json_call("1"), {"code": 0, "msg": "SUCCESS", "data": {"prompt": json.dumps(wf)}}) == wf
    )


# ------------------------------------------------------------------ retries

RNG = random.Random(0)


def test_submit_retried_only_when_no_task_can_exist() -> None:
    not_sent = E.APIConnectionError("connect", sent=False)
    sent = E.APIConnectionError("reset", sent=True)
    assert core.retry_delay("submit", 0, 3, not_sent, RNG) is not None
    assert core.retry_delay("submit", 0, 3, sent, RNG) is None
    assert core.retry_delay("submit", 0, 3, E.error_for_code(421), RNG) is not None
    assert core.retry_delay("submit", 0, 3, E.error_for_status(429), RNG) is not None
    for code in (500, 1000, 1005, 1501, 416, 1002, 1007, 1012):
        assert core.retry_delay("submit", 0, 3, E.error_for_code(code), RNG) is None, code
    assert core.retry_delay("submit", 0, 3, E.error_for_status(503), RNG) is None


def test_queries_retry_whatever_is_retryable() -> None:
    assert core.retry_delay("query", 0, 3, E.APIConnectionError("reset", sent=True), RNG) is not None
    assert core.retry_delay("query", 0, 3, E.error_for_status(503), RNG) is not None
    assert core.retry_delay("query", 0, 3, E.error_for_code(1004), RNG) is None
    assert core.retry_delay("query", 3, 3, E.error_for_status(503), RNG) is None  # budget spent


def test_actions_retry_only_unsent() -> None:
    assert core.retry_delay("action", 0, 3, E.APIConnectionError("x", sent=False), RNG) is not None
    assert core.retry_delay("action", 0, 3, E.error_for_status(503), RNG) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    err = E.error_for_status(503)
    d = [core.retry_delay("query", n, 9, err, random.Random(1)) for n in range(6)]
    assert all(0 < x <= 8 for x in d) and d[4] > d[0]
    err.retry_after = 3.0
    assert core.retry_delay("query", 0, 3, err, RNG) == 3.0
    err.retry_after = 3600.0  # "come back in an hour" is not something to sleep through
    assert core.retry_delay("query", 0, 3, err, RNG) is None


# ------------------------------------------------------------------ polling


# The policy itself (cold timetable, learnt windows, heavy tails) is tested in tests/test_polling.py.


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _task(status: str, **kw: object) -> Task:
    return Task(task_id="1", status=status, **kw)


def test_waiter_deadline_and_final_poll() -> None:
    clock = FakeClock()
    w = Waiter(
        task_id="1",
        deadline=2.2,
        policy=PollPolicy(initial=0.5, max_interval=10),
        started=0.0,
        clock=clock,
    )
    delays = []
    while (d := w.next_delay()) is not None:
        delays.append(d)
        clock.t += d
        assert w.observe(_task("RUNNING")) is None
    assert delays == pytest.approx([0.5, 0.5, 0.5, 0.5, 0.2]) and clock.t == 2.2  # the last poll lands on the deadline
    err = w.timeout()
    assert isinstance(err, E.TaskTimeoutError) and err.task_id == "1" and err.last_status == "RUNNING"


def test_waiter_zero_timeout_checks_once() -> None:
    w = Waiter(task_id="1", deadline=0.0, policy=PollPolicy(), started=0.0, clock=FakeClock())
    assert w.next_delay() == 0.0 and w.next_delay() is None


def test_waiter_success_failure_and_callbacks() -> None:
    seen: list[str] = []
    w = Waiter(
        task_id="1",
        deadline=9,
        policy=PollPolicy(),
        started=0.0,
        clock=FakeClock(),
        on_status=lambda t, e: seen.append(t.status),
    )
    assert w.observe(_task("QUEUED")) is None
    res = w.observe(_task("SUCCESS"))
    assert res is not None and res.polls == 2 and seen == ["QUEUED", "SUCCESS"]
    with pytest.raises(E.TaskFailedError) as exc:
        w.observe(_task("FAILED", error_code="1501", error_message="Content verification failed|内容审核失败"))
    assert exc.value.code == 1501 and not exc.value.retryable and exc.value.task_id == "1"
    with pytest.raises(E.TaskFailedError):  # errorCode on a running task: fail like the official client
        w.observe(_task("RUNNING", error_code="1505"))


def test_waiter_callback_errors_do_not_lose_the_task() -> None:
    def boom(t: object, e: float) -> None:
        raise RuntimeError("callback bug")

    w = Waiter(task_id="1", deadline=9, policy=PollPolicy(), started=0.0, clock=FakeClock(), on_status=boom)
    assert w.observe(_task("SUCCESS")) is not None


def test_waiter_tolerates_transient_poll_failures_then_gives_up_with_task_id() -> None:
    w = Waiter(task_id="77", deadline=9, policy=PollPolicy(), started=0.0, clock=FakeClock())
    for _ in range(4):
        w.poll_failed(E.APIConnectionError("reset"))
    with pytest.raises(E.APIConnectionError) as exc:
        w.poll_failed(E.APIConnectionError("reset"))
    assert exc.value.task_id == "77" and "77" in exc.value.hint
    with pytest.raises(E.NotFoundError):
        Waiter(task_id="7", deadline=9, policy=PollPolicy(), clock=FakeClock()).poll_failed(E.error_for_code(1004))


def test_waiter_learns_durations() -> None:
    h = DurationHistory(min_samples=1)
    clock = FakeClock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(), history=h, history_key="ep", started=0.0, clock=clock)
    clock.t = 8.0
    w.observe(_task("RUNNING"))
    clock.t = 10.0
    w.observe(_task("SUCCESS"))  # ended in (8, 10]: learnt as 9
    exp = h.expect("ep")
    assert exp is not None and exp.median == pytest.approx(9.0) and exp.low < 9.0 < exp.high
    w2 = Waiter(task_id="2", deadline=99, policy=PollPolicy(), history=h, history_key="ep", started=10.0, clock=clock)
    first = w2.next_delay()
    assert first == pytest.approx(exp.low)  # straight to the learnt window (under max_interval: one hop)
    clock.t = 10.0 + first  # seen done at that first poll: count only two steps of the bracket
    w2.observe(_task("SUCCESS"))
    step = PollPolicy().step(first)
    assert sorted(h._data["ep"]) == [pytest.approx(first - step), pytest.approx(9.0)]


def test_cold_polls_keep_their_timetable_when_a_poll_runs_late() -> None:
    clock = FakeClock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(initial=1.0), started=0.0, clock=clock)
    ages = []
    for late in (0.0, 0.9, 0.0, 0.0):  # the second poll is answered 0.9 s late (a busy loop)
        clock.t += w.next_delay() + late
        ages.append(clock.t)
        w.observe(_task("RUNNING"))
    # planned ages 1, 2, 3, 4: the late poll does not push the later ones back (the one at 3 s, too
    # close to it, is dropped)
    assert ages == pytest.approx([1.0, 2.9, 4.0, 5.0])


def test_schedule_counts_from_task_creation_deadline_from_call_start() -> None:
    clock = FakeClock()
    clock.t = 3.0  # the submit waited 3 s for a connection slot
    w = Waiter(task_id="1", deadline=10.0, policy=PollPolicy(initial=0.5), started=0.0, anchor=3.0, clock=clock)
    assert w.next_delay() == 0.5 and w.age() == 0.0 and w.elapsed() == 3.0
    clock.t = 9.9
    assert w.next_delay() == pytest.approx(0.1)  # the deadline still counts from the call's start
