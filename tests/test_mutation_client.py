"""The client core's decisions that the final mutation run found unguarded (issue #16, group "client").

``scripts/mutation.py _core _waiter`` plants single bugs in ``rh_tools/_core.py`` and
``rh_tools/_waiter.py``; each test here fails for some of them, and checks what a caller, an agent or
the service sees: where a redirect may go, what an error says and whether it may be retried, what a
log line or a scrubbed answer still holds, when the polling loop sleeps and what it learns. The
survivors no test can see are explained in ``scripts/mutation_notes_client.py``.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from typing import Any

import httpx
import pytest
from conftest import CANARY_KEY, TEST_KEY

from rh_tools import (
    ConfigurationError,
    ResponseFormatError,
    RunningHub,
    RunningHubError,
)
from rh_tools import _calls as calls
from rh_tools import _core as core
from rh_tools._polling import DurationHistory, PollPolicy
from rh_tools._waiter import Waiter
from rh_tools.types import Task

TASK_ID = "2013508786110730241"
GROK = "grok_image_to_image"
ARGS = {"prompt": "a red fox", "imageUrl": "https://example.com/fox.png"}
API = "https://www.runninghub.ai"


def _raised(call: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> RunningHubError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(RunningHubError) as exc:
        core.decode_response(call, status, headers or {}, content)
    return exc.value


# ------------------------------------------------------------------ redirects: where the key may travel


@pytest.mark.parametrize(
    ("url", "location", "target"),
    [
        (f"{API}/openapi/v2/x", "/openapi/v2/y", f"{API}/openapi/v2/y"),
        (f"{API}/a", f"{API}:443/b", f"{API}:443/b"),  # the default port spelt out is the same origin
        ("https://WWW.RunningHub.ai/a", "https://www.runninghub.ai/b", "https://www.runninghub.ai/b"),
        ("http://www.runninghub.ai/a", "http://www.runninghub.ai:80/b", "http://www.runninghub.ai:80/b"),
        ("http://www.runninghub.ai/a", f"{API}/a", f"{API}/a"),  # the https upgrade
        ("http://www.runninghub.ai:8080/a", f"{API}:443/a", f"{API}:443/a"),  # upgrade from any port
        ("http://127.0.0.1:8765/a", "b?x=1", "http://127.0.0.1:8765/b?x=1"),
        ("https://h.example:8443/a", "https://h.example:8443/b", "https://h.example:8443/b"),
        ("ws://h.example/a", "ws://h.example/b", "ws://h.example/b"),  # no known default port on either side
    ],
)
def test_a_redirect_within_the_origin_is_followed_to_the_joined_url(url: str, location: str, target: str) -> None:
    assert core.redirect_target(url, location) == target


@pytest.mark.parametrize(
    ("url", "location"),
    [
        (f"{API}/a", "https://evil.example/a"),
        (f"{API}/a", "//evil.example/a"),
        (f"{API}/a", "http://www.runninghub.ai/a"),  # a downgrade
        (f"{API}/a", "https://www.runninghub.ai:80/a"),
        (f"{API}/a", "https://www.runninghub.ai:8443/a"),
        (f"{API}/a", "https://www.runninghub.ai:99999/a"),  # a port that is no port
        ("http://www.runninghub.ai/a", "http://www.runninghub.ai:443/a"),
        ("http://www.runninghub.ai/a", "https://www.runninghub.ai:8443/a"),  # an upgrade, but not to 443
        ("http://127.0.0.1:8765/a", "http://127.0.0.1:8766/a"),
        ("http://127.0.0.1:8765/a", "https://127.0.0.1:8765/a"),  # scheme changed on the same port
        ("ws://h.example/a", "ws://h.example:80/b"),
        ("ws://h.example/a", "ws://h.example:443/b"),
    ],
)
def test_a_redirect_elsewhere_is_refused_and_says_what_to_do(url: str, location: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        core.redirect_target(url, location)
    err = caught.value
    assert "to another host" in err.message
    assert err.message.endswith("rh-tools does not follow it, because the API key would travel with the request")
    assert err.hint == (
        "If the API moved, set RUNNINGHUB_BASE_URL (or base_url=) to its new address. Nothing was submitted."
    )


def test_a_refused_redirect_names_the_path_and_the_foreign_host_without_the_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        core.redirect_target(f"{API}/task/openapi/ai-app/run?apiKey={TEST_KEY}", "https://Evil.Example:8443/x")
    assert caught.value.message.startswith(
        "RunningHub redirected /task/openapi/ai-app/run to another host (evil.example); "
    )
    # a target without a host is shown as the URL, cut at 60 characters
    far = "file:///" + "x" * 100
    with pytest.raises(ConfigurationError) as caught:
        core.redirect_target(f"{API}/a", far)
    assert f"to another host ({far[:60]}); " in caught.value.message


@pytest.mark.parametrize("location", [None, ""])
def test_a_redirect_without_a_location_is_a_format_error_without_the_key(location: str | None) -> None:
    with pytest.raises(ResponseFormatError) as caught:
        core.redirect_target(f"{API}/demo?apiKey={TEST_KEY}", location)
    assert caught.value.message == f"RunningHub answered a redirect without a Location from {API}/demo?apiKey=***"


# ------------------------------------------------------------------ scrubbing answers, errors and logs


def test_a_key_escaped_deep_inside_an_answer_is_scrubbed_and_signed_urls_stay_usable() -> None:
    core.register_secret(CANARY_KEY)
    escaped = "".join(f"\\u{ord(c):04x}" for c in CANARY_KEY)
    url = "https://cdn.example/a.png?sign=abc&token=t"
    raw = (
        '{"data": {"outputs": [{"url": "' + url + '", "note": "k=' + escaped + '"}, ["' + escaped + '", 7]], '
        '"' + escaped + '": "as a key", "token=t": "a key that looks like a signature", "n": null}}'
    ).encode()
    clean = json.loads(core.scrub_answer(raw))
    assert clean == {
        "data": {
            "outputs": [{"url": url, "note": "k=***"}, ["***", 7]],
            "***": "as a key",
            "token=t": "a key that looks like a signature",
            "n": None,
        }
    }


def test_a_key_quoted_literally_in_an_answer_is_scrubbed_before_it_is_read() -> None:
    core.register_secret(CANARY_KEY)
    assert core.scrub_answer(f'{{"errorMessage": "key {CANARY_KEY} refused"}}'.encode()) == (
        b'{"errorMessage": "key *** refused"}'
    )
    assert core.scrub_answer(f"<html>{CANARY_KEY}</html>".encode()) == b"<html>***</html>"


def test_an_error_s_details_are_scrubbed_all_the_way_down() -> None:
    err = RunningHubError(
        "refused",
        details=[{"field": f"Bearer {TEST_KEY}", "nested": [f"/x?apiKey={TEST_KEY}", 3]}, {f"token={TEST_KEY}": 1}],
    )
    core.scrub_error(err)
    assert err.details == [{"field": "Bearer ***", "nested": ["/x?apiKey=***", 3]}, {"token=***": 1}]


def _exception_log(name: str, exc_text: str | None = None) -> logging.LogRecord:
    try:
        raise RuntimeError(f"GET /demo?apiKey={TEST_KEY} failed")
    except RuntimeError:
        record = logging.getLogger(name).makeRecord(
            name, logging.ERROR, __file__, 1, "request failed", (), sys.exc_info()
        )
    record.exc_text = exc_text
    return record


def test_a_traceback_logged_through_a_redacted_logger_never_shows_the_key(caplog: pytest.LogCaptureFixture) -> None:
    name = f"rh-tools-test.tracebacks.{uuid.uuid4().hex}"
    core.install_log_redaction(name)
    logger = logging.getLogger(name)
    with caplog.at_level(logging.INFO, logger=name):
        logger.handle(_exception_log(name))  # formatted here for the first time
        logger.handle(_exception_log(name, exc_text=f"Traceback: apiKey={TEST_KEY}"))  # formatted earlier
    assert len(caplog.records) == 2
    assert TEST_KEY not in caplog.text
    assert "RuntimeError: GET /demo?apiKey=*** failed" in caplog.text and "Traceback: apiKey=***" in caplog.text


# ------------------------------------------------------------------ a submit whose answer proves nothing


def test_a_submit_answered_with_garbage_is_not_resent_and_may_exist() -> None:
    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"<html>upstream trouble</html>")

    with RunningHub(api_key=TEST_KEY, base_url=API, transport=httpx.MockTransport(api)) as rh:
        with pytest.raises(ResponseFormatError) as caught:
            rh.submit(GROK, ARGS)
    err = caught.value
    assert len(sent) == 1 and err.retryable is False and err.task_id is None
    assert err.hint.startswith("The submit may have reached RunningHub and created a billed task")


def test_a_legacy_refusal_with_an_empty_task_id_names_no_task() -> None:
    err = _raised(calls.workflow_call("9"), 500, {"code": 500, "msg": "oops", "data": {"taskId": ""}})
    assert err.task_id is None and err.to_dict()["task_id"] is None


# ------------------------------------------------------------------ an HTTP status the body code must not hide


@pytest.mark.parametrize(
    ("status", "cls"), [(401, "AuthenticationError"), (403, "AuthenticationError"), (429, "RateLimitError")]
)
def test_the_status_class_keeps_everything_the_body_said(status: int, cls: str) -> None:
    body = {
        "taskId": TASK_ID,
        "errorCode": "1005",
        "errorMessage": "internal error|内部错误",
        "failedReason": {"node": "3"},
    }
    err = _raised(calls.submit_call("rhart-image-g/image-to-image", {}), status, body, {"retry-after": "7"})
    assert type(err).__name__ == cls
    assert (err.status_code, err.retry_after) == (status, 7.0)
    assert err.to_dict() == {
        "error": cls,
        "code": 1005,
        "message": "internal error",
        "message_zh": "内部错误",
        "task_id": TASK_ID,
        "retryable": False,  # the answer names a task: it exists, never resubmit
        "hint": f"RunningHub created task {TASK_ID} although it answered with an error; it may run and be billed. "
        f"Check it with get_task/wait_task (task_id={TASK_ID}) before submitting again.",
        "details": {"node": "3"},
    }


# ------------------------------------------------------------------ task ids a caller types


def test_the_largest_task_id_is_the_largest_signed_64_bit_number() -> None:
    assert core.check_task_id(" 9223372036854775807 ") == "9223372036854775807"
    assert core.check_task_id(2013508786110730241) == "2013508786110730241"
    with pytest.raises(RunningHubError):
        core.check_task_id("9223372036854775808")


@pytest.mark.parametrize(
    ("bad", "shown"),
    [
        (None, "None"),
        (True, "True"),  # a bool is not a number here
        (["2013508786110730241"], "['2013508786110730241']"),
        ("1" * 78, repr("1" * 78)),  # a repr of exactly 80 characters is shown whole
        ("1" * 79, repr("1" * 79)[:77] + "..."),
        ("x" * 500, "'" + "x" * 76 + "..."),
    ],
)
def test_a_bad_task_id_is_shown_briefly_with_what_to_do(bad: Any, shown: str) -> None:
    with pytest.raises(RunningHubError) as caught:
        core.check_task_id(bad)
    err = caught.value
    assert err.message == (
        f"task_id must be the 19-digit number RunningHub returned (e.g. 2013508786110730241), got {shown}"
    )
    assert err.hint == "Use the task_id from the run/submit result exactly as given (as a string); nothing was sent."


# ------------------------------------------------------------------ errors scrubbed whatever they carry


def test_an_error_s_repr_and_too_deep_details_never_carry_the_key() -> None:
    err = RunningHubError(f"refused Bearer {TEST_KEY}")
    core.scrub_error(err)
    assert TEST_KEY not in repr(err) and "Bearer ***" in repr(err)
    deep: list[Any] = [f"apiKey={TEST_KEY}"]
    for _ in range(5000):
        deep = [deep]
    err = RunningHubError("refused", details=deep)
    core.scrub_error(err)
    assert err.details is None  # too deep to clean: dropped, not kept with the key in it


# ------------------------------------------------------------------ a submit refused for capacity is sent again


def test_a_submit_refused_as_unavailable_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """1010 ("service unavailable", a ServerError, not a rate limit) proves no task was created."""
    from rh_tools import _constants as C

    monkeypatch.setattr(C, "RETRY_BASE_DELAY", 0.01)
    answers = [
        httpx.Response(503, json={"taskId": "", "errorCode": "1010", "errorMessage": "service unavailable"}),
        httpx.Response(200, json={"taskId": TASK_ID, "status": "QUEUED", "errorCode": "", "errorMessage": ""}),
    ]
    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers[len(sent) - 1]

    with RunningHub(api_key=TEST_KEY, base_url=API, transport=httpx.MockTransport(api)) as rh:
        assert rh.submit(GROK, ARGS).task_id == TASK_ID
    assert len(sent) == 2


# ------------------------------------------------------------------ the key quoted back as plain text


def test_a_registered_key_quoted_in_plain_words_is_replaced_by_stars() -> None:
    core.register_secret(CANARY_KEY)
    err = RunningHubError(
        f"key {CANARY_KEY} is unknown", message_zh=f"密钥{CANARY_KEY}无效", hint=f"check {CANARY_KEY}"
    )
    core.scrub_error(err)
    assert (err.message, err.message_zh, err.hint) == ("key *** is unknown", "密钥***无效", "check ***")
    assert core.redact(f"{CANARY_KEY}{CANARY_KEY}") == "******"


def test_a_secret_of_eight_characters_is_scrubbed_and_shorter_ones_are_not() -> None:
    """Shorter "keys" would scrub ordinary words from every error; real keys have 32 characters."""
    fresh = uuid.uuid4().hex  # never registered before in this process (secrets are kept for its life)
    short, eight = "Z" + fresh[:6], "Y" + fresh[:7]
    for value in (None, "", short, eight):
        core.register_secret(value)
    assert core.redact(f"id {eight}, not {short}") == f"id ***, not {short}"


# ------------------------------------------------------------------ the Bearer-only retry of a refused body key


def test_the_bearer_retry_covers_the_account_call_and_only_a_refused_key() -> None:
    from rh_tools import _exceptions as E

    refused = E.error_for_code(-1, "ApiKey verification failed", status_code=401)
    assert core.legacy_auth_fallback(calls.account_call(), refused, "both") == "bearer"  # the `apikey` spelling
    assert core.legacy_auth_fallback(calls.account_call(), refused, "body") == "bearer"
    # the words may sit in either half of a two-part message
    halves = E.error_for_code(-1, "Key refused|ApiKey verification failed", status_code=401)
    assert halves.message_zh == "ApiKey verification failed"
    assert core.legacy_auth_fallback(calls.workflow_call("9"), halves, "both") == "bearer"
    # a free account's key is known but may not use the API: Bearer would not help
    free = E.error_for_code(801, "ApiKey verification failed")
    assert core.legacy_auth_fallback(calls.workflow_call("9"), free, "both") is None


# ------------------------------------------------------------------ the polling loop


class _Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class _Saved:
    """A duration store (the task journal's part): what the waiter learns is written through to it."""

    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def durations(self, key: str, limit: int) -> list[float]:
        return []

    def add_duration(self, key: str, seconds: float) -> None:
        self.added.append((key, seconds))


def _crowded_history(ran_past: float, peers: int = 60) -> DurationHistory:
    """An endpoint whose ``peers`` recent tasks were all seen still running at ``ran_past`` seconds."""
    history = DurationHistory()
    for i in range(peers):
        history.seen_running("e", f"peer{i}", ran_past)
    return history


def test_with_no_poll_interval_every_poll_is_sent_whatever_other_tasks_showed() -> None:
    """poll_interval=0 (tests, replays) never sleeps: a poll skipped there would spin until the deadline."""
    history = _crowded_history(100.0)
    clock = _Clock()
    w = Waiter(task_id="1", deadline=50, policy=PollPolicy(initial=0), history=history, history_key="e", started=0.0,
               clock=clock)  # fmt: skip
    assert w.next_delay() == 0.0 and w.sending()
    paced = Waiter(task_id="2", deadline=50, policy=PollPolicy(), history=history, history_key="e", started=0.0,
                   clock=clock)  # fmt: skip
    assert not paced.sending()  # the control: a paced wait does skip what 60 others ran past


def test_a_poll_skipped_on_the_wire_narrows_what_is_learnt_like_one_skipped_in_the_timetable() -> None:
    """The poll at 1 s is held back (60 other tasks ran past 1.5 s); at 2 s the task is done. The end is
    then only known to lie near 2 s (two poll steps of it count), not anywhere in (0, 2]."""
    saved = _Saved()
    history = DurationHistory(store=saved)
    clock = _Clock()
    policy = PollPolicy()
    w = Waiter(task_id="1", deadline=99, policy=policy, history=history, history_key="e", started=0.0, clock=clock)
    w.observe(Task(task_id="1", status="RUNNING"), polled=False)
    clock.t = w.next_delay() or 0.0
    assert clock.t == 1.0  # no evidence yet when the sleep was chosen
    for i in range(60):
        history.seen_running("e", f"peer{i}", 1.5)
    assert not w.sending()
    clock.t += w.next_delay() or 0.0
    assert clock.t == 2.0 and w.sending()  # nobody was seen running at 2 s: poll
    assert w.observe(Task(task_id="1", status="SUCCESS")) is not None
    assert saved.added == [("e", pytest.approx(2.0 - policy.step(2.0)))]


# ------------------------------------------------------------------ arguments JSON cannot carry


def test_arguments_nested_too_deeply_are_refused_with_what_to_do() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = {"k": deep}
    with pytest.raises(RunningHubError) as caught:
        core.refuse_unsendable(deep, context="Invalid arguments for x: ")
    assert caught.value.message == "Invalid arguments for x: (body): is nested too deeply; flatten the arguments"


# ------------------------------------------------------------------ a task created, then an error answer


@pytest.mark.parametrize("status", [400, 500])
def test_an_error_status_whose_body_is_a_created_task_is_an_error_that_names_it(status: int) -> None:
    """An error status with a well-formed task in the body: the task exists and may be billed. Not a clean
    submit (the caller would never hear of the error) and not "nothing was sent" (it would be bought twice)."""
    sent: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = {"taskId": TASK_ID, "status": "QUEUED", "errorCode": "1000", "errorMessage": "internal|内部错误"}
        return httpx.Response(status, json=body, headers={"Retry-After": "3"})

    with RunningHub(api_key=TEST_KEY, base_url=API, transport=httpx.MockTransport(api)) as rh:
        with pytest.raises(RunningHubError) as caught:
            rh.submit(GROK, ARGS)
    err = caught.value
    assert len(sent) == 1
    assert (err.task_id, err.code, err.status_code, err.retry_after) == (TASK_ID, 1000, status, 3.0)
    assert (err.message, err.message_zh, err.retryable) == ("internal", "内部错误", False)
    assert err.hint.startswith(f"RunningHub created task {TASK_ID} although it answered with an error")


def _cold_timetable(policy: PollPolicy, until: float) -> list[float]:
    """The ages an on-time cold wait polls at (no history), up to ``until``."""
    clock = _Clock()
    w = Waiter(task_id="1", deadline=1e9, policy=policy, started=0.0, clock=clock)
    ages: list[float] = []
    while clock.t < until:
        clock.t += w.next_delay() or 0.0
        ages.append(clock.t)
        w.observe(Task(task_id="1", status="RUNNING"))
    return ages


def test_a_poll_answered_very_late_rejoins_the_cold_timetable_where_gaps_have_grown() -> None:
    """Past ~7 s the cold gaps grow by 15 % of the age; a poll answered at 20 s (a stalled loop) is
    followed by the timetable's next age, not by a one-second step from an early part of it."""
    policy = PollPolicy(initial=1.0)
    clock = _Clock()
    w = Waiter(task_id="1", deadline=1e9, policy=policy, started=0.0, clock=clock)
    clock.t += w.next_delay() or 0.0
    w.observe(Task(task_id="1", status="RUNNING"))
    assert w.next_delay() == 1.0  # the second poll is planned at 2 s ...
    clock.t = 20.0  # ... and answered 18 s late
    w.observe(Task(task_id="1", status="RUNNING"))
    clock.t += w.next_delay() or 0.0
    timetable = _cold_timetable(policy, 30.0)
    assert clock.t == pytest.approx(min(a for a in timetable if a >= 20.0 + policy.floor))
    assert clock.t - 20.0 > 1.2  # a gap of the timetable at 20 s, not the 1 s of its start


@pytest.mark.parametrize("status", ["RUNNING", "SUCCESS"])
def test_a_status_that_did_not_come_from_a_poll_is_no_evidence_for_other_tasks(status: str) -> None:
    """A status read from the submit's answer or a webhook (polled=False) says nothing about the age
    a poll would have seen it at: it must not make the endpoint's other tasks skip polls, or poll more."""
    history = DurationHistory()
    clock = _Clock(5.0)
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(), history=history, history_key="e", started=0.0,
               clock=clock)  # fmt: skip
    w.observe(Task(task_id="1", status=status), polled=False)
    assert history.census("e", 0.0) == (0, 0)
    w.observe(Task(task_id="1", status=status))  # the control: the same status from a poll counts
    assert history.census("e", 0.0) == ((1, 0) if status == "RUNNING" else (0, 1))


def test_each_finished_task_counts_once_in_the_evidence() -> None:
    history = DurationHistory()
    clock = _Clock(2.0)
    for i in range(3):
        w = Waiter(task_id=f"t{i}", deadline=99, policy=PollPolicy(), history=history, history_key="e", started=0.0,
                   clock=clock)  # fmt: skip
        w.observe(Task(task_id=f"t{i}", status="SUCCESS"))
    assert history.census("e", 2.0) == (0, 3)


def test_a_late_answer_learns_the_age_its_poll_left_at() -> None:
    """The poll leaves at 1 s and its answer (done) arrives at 1.5 s, late in a queue: the task ended in
    (0, 1], so 0.5 s is learnt, not 0.75 s."""
    saved = _Saved()
    clock = _Clock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(), history=DurationHistory(store=saved), history_key="e",
               started=0.0, clock=clock)  # fmt: skip
    w.observe(Task(task_id="1", status="RUNNING"), polled=False)
    clock.t += w.next_delay() or 0.0
    assert w.sending()
    clock.t += 0.5
    assert w.observe(Task(task_id="1", status="SUCCESS")) is not None
    assert saved.added == [("e", pytest.approx(0.5))]


def test_polls_skipped_ahead_land_on_the_cold_timetable() -> None:
    """60 other tasks were seen running at 8.5 s: the polls up to there are skipped, and the next one is
    the timetable's (9.26 s), not a one-second step past the skipped ones."""
    history = _crowded_history(8.5)
    policy = PollPolicy(initial=1.0)
    clock = _Clock()
    w = Waiter(task_id="1", deadline=99, policy=policy, history=history, history_key="e", started=0.0, clock=clock)
    w.observe(Task(task_id="1", status="RUNNING"), polled=False)
    clock.t = w.next_delay() or 0.0
    assert clock.t == pytest.approx(min(a for a in _cold_timetable(policy, 20.0) if a > 8.5))


def test_a_poll_planned_exactly_at_the_deadline_is_the_last() -> None:
    clock = _Clock()
    w = Waiter(task_id="1", deadline=2.0, policy=PollPolicy(initial=1.0), started=0.0, clock=clock)
    for _ in range(2):
        clock.t += w.next_delay() or 0.0
        w.observe(Task(task_id="1", status="RUNNING"))
    assert clock.t == 2.0 and w.next_delay() is None and w.polls == 2


def _warm_history() -> DurationHistory:
    history = DurationHistory()
    for seconds in (9.0, 10.0, 10.5, 11.0, 9.5, 10.2):  # the endpoint's tasks took ~10 s
        history.record("e", seconds)
    return history


def _warm_schedule(until: float) -> list[float]:
    """The ages a warm wait polls at when no other task says anything (every answer: running)."""
    clock = _Clock()
    w = Waiter(task_id="0", deadline=99, policy=PollPolicy(initial=1.0), history=_warm_history(), history_key="e",
               started=0.0, clock=clock)  # fmt: skip
    ages: list[float] = []
    while clock.t < until:
        clock.t += w.next_delay() or 0.0
        assert w.sending()
        w.observe(Task(task_id="0", status="RUNNING"))
        ages.append(clock.t)
    return ages


@pytest.mark.parametrize("ran_past", [8.0, 9.5, 11.0, 13.0])
def test_warm_polls_skipped_ahead_land_on_the_learnt_schedule(ran_past: float) -> None:
    """An endpoint with learnt ~10 s tasks, whose 60 other tasks were seen running at ``ran_past``: the
    polls before that age are skipped, and the next one is the learnt window's own next poll (dense
    around the expected end), not one spaced by the cold timetable's wider steps."""
    history = _warm_history()
    for i in range(60):
        history.seen_running("e", f"peer{i}", ran_past)
    clock = _Clock()
    w = Waiter(task_id="1", deadline=99, policy=PollPolicy(initial=1.0), history=history, history_key="e",
               started=0.0, clock=clock)  # fmt: skip
    w.observe(Task(task_id="1", status="RUNNING"), polled=False)
    first = w.next_delay()
    assert first == pytest.approx(min(a for a in _warm_schedule(ran_past + 3) if a > ran_past))
