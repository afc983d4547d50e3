"""What an agent reads when RunningHub refuses, fails or garbles, and what media inputs turn into.

Written for issue #16's final mutation run of the "decoding" modules (``_exceptions``, ``_polling``,
``_media``): each test pins a behaviour a surviving mutant showed no test checked. Errors are
driven through the real client over httpx.MockTransport where an answer of the service produces
them (the class, ``code``, ``retryable`` and the text LangChain and MCP show the model), and
built directly where they are raised by rh-tools itself (downloads, timeouts). The exact text of
a hint is asserted where an agent acts on its words.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.parser
import email.policy
import gc
import io
import json
import math
import os
import re
import warnings
from pathlib import Path
from statistics import NormalDist
from typing import Any

import httpx
import pytest

from rh_tools import AsyncRunningHub, RunningHub
from rh_tools import _render as R
from rh_tools._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ContentPolicyError,
    DownloadError,
    FileTooLargeError,
    InsufficientBalanceError,
    InvalidInputError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    RunningHubError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    error_for_code,
    error_for_status,
    is_key_refusal,
    split_message,
    trim_failed_reason,
)
from rh_tools._media import MediaSource, Multipart, classify_media
from rh_tools._polling import DurationHistory, Expectation, PollPolicy
from rh_tools._transfer import Transfer, observe_transfers

KEY = "0123456789abcdef0123456789abcdef"
TID = "2013508786110730241"

# ---------------------------------------------------------------------------------------------------
# helpers: one answer of the service, replayed through the real client


def _answer(status: int, body: Any) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler)


def queried(body: Any, status: int = 200) -> RunningHubError:
    """The error ``get_task`` raises when the service answers the status query with ``body``."""
    with RunningHub(api_key=KEY, transport=_answer(status, body), max_retries=0) as rh:
        try:
            rh.get_task(TID)
        except RunningHubError as err:
            return err
    raise AssertionError(f"no error for {body!r}")


def failed(**task: Any) -> TaskFailedError:
    """The error ``wait`` raises when the first poll finds the task ended (FAILED unless ``status``)."""
    body = {"taskId": TID, "status": "FAILED", **task}
    with RunningHub(api_key=KEY, transport=_answer(200, body), max_retries=0, poll_interval=0) as rh:
        with pytest.raises(TaskFailedError) as info:
            rh.wait(TID, timeout=30)
    return info.value


# ---------------------------------------------------------------------------------------------------
# _exceptions: how an error reads (str(), the agent's text, the structured result)


def test_an_error_reads_code_message_chinese_task_and_hint_in_one_line() -> None:
    err = queried({"errorCode": "1011", "errorMessage": "System busy|系统繁忙"})
    assert type(err) is RateLimitError and err.retryable is True and err.code == 1011
    assert str(err) == f"[1011] System busy (系统繁忙) task_id={TID}. RunningHub is busy; wait and resubmit."
    assert R.error_text(err) == (
        f"Error [1011]: System busy (系统繁忙)\ntask_id: {TID}\nretryable: yes\n"
        "What to do: RunningHub is busy; wait and resubmit."
    )


def test_a_message_ending_in_a_full_stop_is_not_given_a_second_one_and_no_empty_code_is_shown() -> None:
    assert (
        str(error_for_status(500, "The server said no.")) == "The server said no. RunningHub-side error; retry later."
    )
    assert str(RunningHubError("Plain", code="")) == "Plain"
    assert str(RunningHubError("Plain", code=0, hint="Act")) == "[0] Plain. Act"


def test_an_error_shown_in_a_list_or_a_console_shows_its_message() -> None:
    assert repr(error_for_status(404, "Task gone")) == "NotFoundError('Task gone')"
    assert repr([TaskTimeoutError("7", 2)]) == "[TaskTimeoutError('Task still running after waiting 2s')]"


@pytest.mark.parametrize("empty", [None, "", {}, []])
def test_the_structured_error_leaves_out_empty_details(empty: Any) -> None:
    err = RunningHubError("m", code=7, details=empty)
    assert err.to_dict() == {
        "error": "RunningHubError",
        "code": 7,
        "message": "m",
        "message_zh": None,
        "task_id": None,
        "retryable": False,
        "hint": "",
    }
    assert RunningHubError("m", details={"node": "3"}).to_dict()["details"] == {"node": "3"}


def test_a_transport_error_counts_as_possibly_sent_unless_said_otherwise() -> None:
    assert APIConnectionError("lost").sent is True
    assert APIConnectionError("refused", sent=False).sent is False
    assert APIConnectionError("lost").retryable is True


def test_a_wait_timeout_says_the_task_keeps_running_and_how_to_fetch_it() -> None:
    err = TaskTimeoutError("77", 12.4, "QUEUED")
    assert (err.task_id, err.waited, err.last_status, err.retryable) == ("77", 12.4, "QUEUED", True)
    assert str(err) == (
        "Task still QUEUED after waiting 12s task_id=77. "
        "The task keeps running; call wait_task/get_task with task_id=77 later to fetch the result."
    )
    assert TaskTimeoutError("77", 3).message == "Task still running after waiting 3s"


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [("network", True), ("timeout", True), ("http_status", True), ("disk", False), ("too_large", False)],
)
def test_a_download_error_is_retryable_only_for_passing_causes(reason: str, retryable: bool) -> None:
    err = DownloadError("saving failed", reason=reason, url="https://cdn.example/x.png", index=2, task_id="9")
    assert (err.reason, err.url, err.index, err.retryable) == (reason, "https://cdn.example/x.png", 2, retryable)
    assert "The task succeeded (and is paid for)" in err.hint


def test_a_download_error_defaults_to_a_network_cause() -> None:
    err = DownloadError("connection reset")
    assert (err.reason, err.url, err.index, err.retryable) == ("network", None, None, True)
    assert DownloadError("disk full", reason="disk", retryable=True).retryable is True  # the caller's word wins


# ---------------------------------------------------------------------------------------------------
# _exceptions: codes and words of the service mapped to the error an agent acts on


def test_a_known_code_keeps_every_fact_of_the_answer() -> None:
    err = error_for_code(" 421 ", "queue full", task_id="5", status_code=200, retry_after=7.0, details={"a": 1})
    assert type(err) is RateLimitError
    assert (err.code, err.message, err.task_id, err.status_code, err.retry_after, err.details) == (
        421,
        "queue full",
        "5",
        200,
        7.0,
        {"a": 1},
    )
    assert err.retryable is True and err.hint == RateLimitError.default_hint  # no hint of its own: the class's
    assert error_for_code(-1, "x").code == -1 and error_for_code("-1", "x").code == -1


def test_an_unknown_code_keeps_every_fact_of_the_answer() -> None:
    err = error_for_code("E42", "mystery", task_id="5", status_code=200, retry_after=3.0, details=[1])
    assert type(err) is APIError
    assert (err.code, err.message, err.task_id, err.status_code, err.retry_after, err.details) == (
        "E42",
        "mystery",
        "5",
        200,
        3.0,
        [1],
    )
    assert err.retryable is False
    assert error_for_code(99999, None).message == "RunningHub returned an error"
    assert error_for_code(True, "mystery").code is True  # a JSON true is no code


def test_a_legacy_identifier_in_msg_is_read_as_its_code() -> None:
    err = error_for_code(None, " TASK_QUEUE_MAXED ")
    assert type(err) is RateLimitError and err.code == 421
    assert err.message == "Concurrency limit reached: too many tasks running for this key"


@pytest.mark.parametrize("message", ["ApiKey verification failed", "APIKEY VERIFICATION FAILED"])
def test_a_gateway_key_refusal_without_a_code_is_the_other_site_hint(message: str) -> None:
    err = queried({"errorCode": "", "errorMessage": message})
    assert type(err) is AuthenticationError and err.code == -1 and err.retryable is False
    assert err.hint.startswith("RunningHub refused the key: it must be the key of the same site")
    assert is_key_refusal(err)


def test_a_chinese_only_message_of_a_known_code_gets_english_and_keeps_the_chinese() -> None:
    err = queried({"errorCode": "1011", "errorMessage": "系统繁忙"})
    assert (err.message, err.message_zh) == ("System busy", "系统繁忙")
    bare = queried({"errorCode": "1011", "errorMessage": ""})
    assert (bare.message, bare.message_zh) == ("System busy", None)
    named = error_for_code(1504, "MODEL_TIMEOUT")
    assert (named.message, named.message_zh, named.retryable) == ("Model timeout", None, True)


def test_a_known_code_without_a_hint_of_its_own_says_what_its_class_says() -> None:
    err = error_for_code(416, "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET")
    assert type(err) is InsufficientBalanceError
    assert err.message == "The wallet balance is too low to create the task"
    assert err.hint == "Top up the RunningHub wallet/coins, then submit again."


@pytest.mark.parametrize(
    ("message", "cls", "retryable"),
    [
        ("Unauthorized key", AuthenticationError, False),
        ("Wallet too low", InsufficientBalanceError, False),
        ("Too many requests", RateLimitError, True),
        ("NSFW content", ContentPolicyError, False),
        ("Provider timed out", ServerError, True),
        ("Could not fetch the file", InvalidRequestError, True),
        ("Something else", APIError, False),
        ("Oops|余额不足", InsufficientBalanceError, False),  # the words are in the Chinese half only
    ],
)
def test_an_unknown_code_is_classified_by_its_words(message: str, cls: type[APIError], retryable: bool) -> None:
    err = error_for_code(99999, message)
    assert type(err) is cls and err.retryable is retryable
    assert err.code == 99999


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, InvalidRequestError), (401, AuthenticationError), (499, InvalidRequestError), (503, ServerError)],
)
def test_an_unknown_code_on_an_error_status_follows_the_status_not_the_words(status: int, cls: type[APIError]) -> None:
    err = error_for_code(99999, "Too many requests", status_code=status)
    assert type(err) is cls and err.retryable is cls.default_retryable and err.status_code == status


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (402, InsufficientBalanceError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, InvalidRequestError),
        (413, FileTooLargeError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
    ],
)
def test_a_bare_http_error_status_is_the_error_it_names(status: int, cls: type[APIError]) -> None:
    err = queried(b"<html>nope</html>", status=status)
    assert type(err) is cls and err.status_code == status
    assert err.retryable is cls.default_retryable
    assert err.message == f"HTTP {status} with a non-JSON body"


def test_a_status_below_400_without_a_code_is_a_format_error_named_by_its_status() -> None:
    for status in (None, 0, 200, 399):
        err = error_for_status(status, retry_after=2.0)
        assert type(err) is ResponseFormatError and err.retry_after == 2.0
        assert err.message == f"HTTP {status or 0}"
    assert type(error_for_status(400)) is InvalidRequestError and error_for_status(500).message == "HTTP 500"


@pytest.mark.parametrize(
    ("err", "refused"),
    [
        (AuthenticationError("x", code=802), True),
        (AuthenticationError("x", code="1002"), True),
        (AuthenticationError("x", code=1014, status_code=401), False),  # a known code decides
        (AuthenticationError("x", code=801), False),
        (AuthenticationError("x", code=99999, status_code=401), True),  # an unknown one: the status
        (AuthenticationError("x", status_code=403), True),
        (AuthenticationError("x", status_code=400), False),
        (AuthenticationError("x", status_code=404), False),
        (AuthenticationError("x", status_code=402), False),
        (AuthenticationError("ApiKey Verification Failed"), True),
        (AuthenticationError(""), False),
        (ServerError("verification failed", status_code=401), False),
    ],
)
def test_only_a_refusal_of_the_key_itself_counts_as_a_key_refusal(err: RunningHubError, refused: bool) -> None:
    assert is_key_refusal(err) is refused


@pytest.mark.parametrize(
    ("text", "halves"),
    [
        ("Busy|繁忙", ("Busy", "繁忙")),
        ("繁忙 | Busy", ("Busy", "繁忙")),
        ("繁忙|", ("繁忙", None)),
        ("繁忙|忙", ("繁忙", "忙")),
        ("a | b", ("a", "b")),
        ("  plain  ", ("plain", None)),
        (None, ("", None)),
    ],
)
def test_bilingual_messages_are_split_english_first(text: str | None, halves: tuple[str, str | None]) -> None:
    assert split_message(text) == halves


# ---------------------------------------------------------------------------------------------------
# _exceptions: a task that ended FAILED or CANCEL, as the agent reads it


def test_a_failed_task_with_a_known_code_takes_that_codes_class_words() -> None:
    err = failed(errorCode="1501", errorMessage="Content security audit did not pass | 内容安全审查未通过")
    assert (err.code, err.message, err.message_zh, err.retryable, err.status) == (
        1501,
        "Content security audit did not pass",
        "内容安全审查未通过",
        False,
        "FAILED",
    )
    assert err.hint == ContentPolicyError.default_hint
    timeout = failed(errorCode="1504", errorMessage="MODEL_TIMEOUT")
    assert (timeout.message, timeout.retryable, timeout.hint) == ("Model timeout", True, ServerError.default_hint)
    own = failed(errorCode="1006", errorMessage="")
    assert own.hint == "The task timed out on RunningHub; submit it again." and own.retryable is True


def test_a_cancelled_task_says_so_and_how_to_get_the_result_anyway() -> None:
    err = failed(status="CANCEL")
    assert (err.message, err.retryable, err.status, err.code) == ("The task was cancelled", False, "CANCEL", None)
    assert err.hint == "The task was cancelled; submit it again if you still want the result."


def test_a_task_that_ran_out_of_gpu_memory_is_retryable_and_names_the_bigger_machine() -> None:
    err = failed(
        failedReason={
            "node_name": "KSampler",
            "node_id": "3",
            "exception_type": "RuntimeError",
            "exception_message": "CUDA out of memory",
        }
    )
    assert err.retryable is True and err.node == "KSampler (#3)"
    assert err.message == "The task ended FAILED: node KSampler (#3): RuntimeError: CUDA out of memory"
    assert err.hint == (
        "The machine ran out of GPU memory or a service timed out; retry, or for workflows pass "
        "instance_type='plus' (48 GB) or smaller inputs."
    )
    typed = failed(failedReason={"exception_type": "torch.OutOfMemoryError", "exception_message": "boom"})
    assert typed.retryable is True


def test_a_task_failed_in_a_node_names_the_node_and_says_resubmitting_unchanged_fails_again() -> None:
    err = failed(
        errorCode="805",
        errorMessage="APIKEY_TASK_STATUS_ERROR",
        failedReason={"node_name": "LoadImage", "node_id": "12", "exception_message": "Invalid image file: a.png"},
    )
    assert (err.code, err.retryable) == (805, False)
    assert err.message == "The task failed: node LoadImage (#12): Invalid image file: a.png"
    assert err.hint == (
        "The workflow failed in node LoadImage; fix the input it reads (nodeInfoList value, file name, model "
        "name) and resubmit. Resubmitting unchanged will fail the same way."
    )
    anonymous = failed(failedReason={"node_id": "12", "exception_message": "bad value"})
    assert anonymous.hint.startswith("The workflow failed in a node; fix the input it reads")
    assert anonymous.node == "#12" and anonymous.message == "The task ended FAILED: node #12: bad value"


def test_a_failure_without_details_gets_the_generic_hint_and_keeps_an_odd_code() -> None:
    err = failed(errorCode="E_GPU", errorMessage="")
    assert (err.code, err.message, err.retryable) == ("E_GPU", "The task ended FAILED", False)
    assert err.hint == TaskFailedError.default_hint
    assert failed(errorCode="").code is None


def test_a_summary_already_in_the_message_is_not_repeated() -> None:
    err = failed(errorMessage="LoadImage failed: bad value", failedReason={"exception_message": "bad value"})
    assert err.message == "LoadImage failed: bad value"
    assert failed(errorMessage="Oops", failedReason={"exception_message": "bad value"}).message == "Oops: bad value"


def test_a_failure_built_from_a_bare_code_is_a_failed_task() -> None:
    err = error_for_code(805, "APIKEY_TASK_STATUS_ERROR", task_id="8", details={"node_name": "Save"})
    assert type(err) is TaskFailedError and err.status == "FAILED" and err.task_id == "8"
    assert err.message == "The task failed: node Save" and err.node == "Save"
    assert error_for_code(805, "APIKEY_TASK_STATUS_ERROR").task_id is None
    direct = TaskFailedError.from_task("", "", None, None)
    assert (direct.message, direct.status, direct.task_id) == ("The task ended FAILED", "FAILED", None)


def test_a_task_failed_error_trims_its_reason_and_keeps_it_as_details() -> None:
    err = TaskFailedError("boom", failed_reason={"node_id": "4", "traceback": "long", "current_inputs": {}})
    assert err.failed_reason == {"node_id": "4"} and err.details == {"node_id": "4"} and err.status == "FAILED"
    assert err.node == "#4"
    assert TaskFailedError("boom").node is None


# ---------------------------------------------------------------------------------------------------
# _exceptions: the failure reason trimmed to what an agent can act on

_TB = 'Traceback (most recent call last):\n  File "/comfy/execution.py", line 3, in run\n    out = f(x)\n'


@pytest.mark.parametrize(
    ("raw", "trimmed"),
    [
        ('{"node_id": "3", "exception_type": "E"}', {"node_id": "3", "exception_type": "E"}),
        ("{not json", {"exception_message": "{not json"}),
        ("  a plain sentence  ", {"exception_message": "a plain sentence"}),
        ("   ", None),
        ({}, None),
        (["x"], None),
        ({"node_name": "", "node_id": 3, "exception_type": [], "exception_message": {}}, {"node_id": "3"}),
        ({"node_name": " KSampler ", "exception_type": " E "}, {"node_name": "KSampler", "exception_type": "E"}),
    ],
)
def test_a_failure_reason_keeps_node_and_exception_only(raw: Any, trimmed: dict[str, str] | None) -> None:
    assert trim_failed_reason(raw) == trimmed


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("RuntimeError: boom\n" + _TB + "ValueError: inner", "RuntimeError: boom"),
        # two chained tracebacks: everything from the first one on goes
        ("A\n" + _TB + "During handling of the above exception\n" + _TB + "B", "A"),
        ("!" + _TB, "!"),
        ('first\n\n  File "x.py", line 2\nsecond\nthird\nfourth', "first second third"),
        ("x" * 400, "x" * 400),
        ("y" * 401, "y" * 399 + "…"),
    ],
)
def test_a_traceback_is_cut_from_the_exception_message(message: str, kept: str) -> None:
    reason = trim_failed_reason({"exception_message": message, "node_name": _TB.strip()})
    assert reason is not None and reason["exception_message"] == kept
    assert reason["node_name"] == _TB.strip()  # only the message is trimmed


def test_a_message_that_is_itself_a_short_traceback_keeps_what_happened() -> None:
    reason = trim_failed_reason({"exception_message": _TB + "RuntimeError: CUDA out of memory"})
    assert reason is not None and reason["exception_message"].endswith("RuntimeError: CUDA out of memory")
    assert "/comfy/execution.py" not in reason["exception_message"]


def test_a_message_that_is_a_long_traceback_keeps_its_exception_line() -> None:
    frames = "".join(f'  File "/comfy/n{i}.py", line {i}, in f{i}\n    call_{i}(x)\n' for i in range(6))
    message = "Traceback (most recent call last):\n" + frames + "torch.OutOfMemoryError: CUDA out of memory\n"
    err = TaskFailedError.from_task("1", "FAILED", None, "Failed", {"exception_message": message})
    assert err.message == "Failed: torch.OutOfMemoryError: CUDA out of memory"


def _failure_text(message: str) -> str:
    return TaskFailedError.from_task("1", "FAILED", None, "Failed", {"exception_message": message}).message


def test_a_chained_traceback_message_is_reported_by_its_last_exception() -> None:
    frame = '  File "/comfy/nodes.py", line 9, in run\n    out = f(x)\n'
    message = (
        "Traceback (most recent call last):\n" + frame + "ValueError: first\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n" + frame + "RuntimeError: what the agent must fix\n\n\n"
    )
    assert _failure_text(message) == "Failed: RuntimeError: what the agent must fix"


def test_a_traceback_cut_before_its_exception_keeps_what_its_frames_say() -> None:
    message = 'Traceback (most recent call last):\n  File "/comfy/nodes.py", line 9, in run\n    load_lora(name)'
    assert _failure_text(message) == "Failed: Traceback (most recent call last): load_lora(name)"


def test_only_stack_frame_lines_are_dropped_from_a_message() -> None:
    # ('  File "…", line n' is how Python prints a frame; other spellings are words of the message)
    reason = trim_failed_reason({"exception_message": "c\n  file a\n  FILE b"})
    assert reason == {"exception_message": "c file a FILE b"}


def test_the_failure_text_from_reasons_of_every_shape() -> None:
    def text(**reason: str) -> str:
        return TaskFailedError.from_task("1", "FAILED", None, "Failed", reason).message

    assert text(node_name="N", node_id="3", exception_type="E", exception_message="m") == "Failed: node N (#3): E: m"
    assert text(node_name="N") == "Failed: node N"
    assert text(node_id="3") == "Failed: node #3"
    assert text(exception_type="E") == "Failed: E"
    assert text(exception_message="m") == "Failed: m"


def test_the_failure_reason_reaches_the_agent_as_structured_details() -> None:
    err = failed(failedReason=json.dumps({"node_id": "9", "exception_message": "bad", "traceback": ["x"]}))
    assert err.to_dict()["details"] == {"node_id": "9", "exception_message": "bad"}
    assert "node #9: bad" in R.error_text(err)


# ---------------------------------------------------------------------------------------------------
# _media: what an upload sends, and what it refuses before sending

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
UPLOADED = {
    "code": 0,
    "message": "success",
    "data": {"download_url": "https://cdn.example/in/a.png", "fileName": "openapi/a.png"},
}


class Uploads:
    """A MockTransport handler that keeps each upload's headers and the body as it arrived."""

    def __init__(self) -> None:
        self.requests: list[tuple[httpx.Headers, bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.headers, request.read()))
        return httpx.Response(200, json=UPLOADED)

    def parts(self) -> list[Any]:
        """The multipart parts of the last upload, read back by the standard library's MIME parser."""
        headers, body = self.requests[-1]
        assert int(headers["content-length"]) == len(body)  # announced up front, and exactly right
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {headers['content-type']}\r\n\r\n".encode() + body
        )
        assert msg.is_multipart() and msg.get_content_type() == "multipart/form-data"
        return list(msg.iter_parts())


def upload(value: Any, **kw: Any) -> Uploads:
    seen = Uploads()
    with RunningHub(api_key=KEY, transport=httpx.MockTransport(seen), max_retries=0) as rh:
        assert rh.upload(value, **kw).file_name == "openapi/a.png"
    return seen


def aupload(value: Any, **kw: Any) -> Uploads:
    seen = Uploads()

    async def go() -> None:
        async with AsyncRunningHub(api_key=KEY, transport=httpx.MockTransport(seen), max_retries=0) as rh:
            assert (await rh.upload(value, **kw)).file_name == "openapi/a.png"

    asyncio.run(go())
    return seen


def _file_part(seen: Uploads) -> tuple[str | None, str, bytes]:
    (part,) = seen.parts()
    assert part.get_param("name", header="content-disposition") == "file"
    return part.get_filename(), part.get_content_type(), part.get_payload(decode=True)


@pytest.mark.parametrize("send", [upload, aupload], ids=["sync", "async"])
def test_an_upload_sends_the_file_whole_as_one_named_multipart_part(send: Any, tmp_path: Path) -> None:
    big = tmp_path / "photo.png"
    big.write_bytes(PNG * 700)  # several read chunks
    assert _file_part(send(big)) == ("photo.png", "image/png", PNG * 700)
    assert _file_part(send(PNG, name="given.jpg")) == ("given.jpg", "image/jpeg", PNG)
    odd = tmp_path / "scan.qqq"
    odd.write_bytes(PNG)
    assert _file_part(send(odd)) == ("scan.qqq", "application/octet-stream", PNG)


@pytest.mark.parametrize("send", [upload, aupload], ids=["sync", "async"])
def test_raw_bytes_are_named_by_their_content_and_unknown_kinds_sent_as_octet_stream(send: Any) -> None:
    name, ctype, data = _file_part(send(PNG))
    assert re.fullmatch(r"upload-[0-9a-f]{12}\.png", name or "") and ctype == "image/png" and data == PNG
    name, ctype, _ = _file_part(send(b"\x00\x01plain bytes"))
    assert re.fullmatch(r"upload-[0-9a-f]{12}\.bin", name or "") and ctype == "application/octet-stream"
    assert _file_part(send(b"data", name="notes.qqq"))[1] == "application/octet-stream"


@pytest.mark.parametrize("send", [upload, aupload], ids=["sync", "async"])
def test_a_file_object_is_sent_from_where_it_stood_and_named_by_its_file(send: Any, tmp_path: Path) -> None:
    path = tmp_path / "clip.qqq"
    path.write_bytes(b"HEAD" + PNG)
    with path.open("rb") as fh:
        fh.seek(4)
        assert _file_part(send(fh)) == ("clip.qqq", "application/octet-stream", PNG)
    anonymous = io.BytesIO(b"skip" + PNG)
    anonymous.seek(4)
    name, ctype, data = _file_part(send(anonymous))
    assert re.fullmatch(r"upload-[0-9a-f]{12}\.bin", name or "") and data == PNG


@pytest.mark.parametrize("send", [upload, aupload], ids=["sync", "async"])
def test_an_upload_reports_its_progress_by_file_name_and_size(send: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(PNG * 700)
    events: list[Transfer] = []
    with observe_transfers(events.append):
        send(path)
    assert {(e.direction, e.name, e.total) for e in events} == {("upload", "p.png", len(PNG) * 700)}
    assert events[0].done == 0 and events[-1].finished and events[-1].done == len(PNG) * 700


def test_a_file_that_changed_size_after_it_was_checked_is_refused_not_sent_short(tmp_path: Path) -> None:
    path = tmp_path / "growing.png"
    path.write_bytes(PNG)
    source = MediaSource.from_path(path)
    path.write_bytes(PNG + b"more")
    seen = Uploads()
    with RunningHub(api_key=KEY, transport=httpx.MockTransport(seen), max_retries=0) as rh:
        with pytest.raises(InvalidInputError) as info:
            rh.upload(source)
    assert info.value.message == (
        f"Local file {str(path)!r} changed size ({len(PNG)} -> {len(PNG) + 4} bytes) before it could be uploaded"
    )
    assert info.value.hint == "Wait until the file is completely written, then call again."
    assert not any(body.endswith(b"--\r\n") for _, body in seen.requests)  # no complete upload went out


def test_a_checked_file_swapped_for_a_link_out_of_the_allowed_folder_is_not_read(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"S" * len(PNG))
    path = allowed / "a.png"
    path.write_bytes(PNG)
    source = dataclasses.replace(MediaSource.from_path(path), roots=(allowed,))  # as the folder policy hands it
    path.unlink()
    path.symlink_to(outside / "secret.png")
    seen = Uploads()
    with RunningHub(api_key=KEY, transport=httpx.MockTransport(seen), max_retries=0) as rh:
        with pytest.raises(InvalidInputError, match="replaced by a symlink"):
            rh.upload(source)
    assert not any(b"S" * 64 in body for _, body in seen.requests)


def test_a_refused_format_of_raw_bytes_names_them_as_bytes() -> None:
    with pytest.raises(InvalidInputError) as info:
        classify_media(PNG, label="image", accept=["jpg"])
    assert info.value.message == "image: '<bytes>' is a .png file; this field accepts jpg"


def test_a_size_limit_is_reported_in_mebibytes() -> None:
    with pytest.raises(InvalidInputError) as info:
        classify_media(b"\x00" * 3198157, label="video", max_size_mb=3)  # 3.05 MiB: 3.0 in units of 1,048,577
    assert info.value.message == "video: file is 3.1 MB; the limit is 3 MB"
    assert info.value.hint == "Compress or resize the file, or host it and pass its URL."


def test_form_fields_travel_before_the_file_and_odd_file_names_cannot_break_the_headers() -> None:
    source = MediaSource.from_bytes(b"abc", name='a"b\r\nc\\d.txt')
    body = Multipart(source, {"apiKey": "k", "note": "x y"})
    raw = b"".join(body)
    assert int(body.headers["Content-Length"]) == len(raw)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {body.headers['Content-Type']}\r\n\r\n".encode() + raw
    )
    parts = list(msg.iter_parts())
    assert [(p.get_param("name", header="content-disposition"), p.get_payload(decode=True)) for p in parts] == [
        ("apiKey", b"k"),
        ("note", b"x y"),
        ("file", b"abc"),
    ]
    assert parts[2].get_filename() == "a_b__c_d.txt"


def test_a_local_file_that_is_not_there_or_not_a_file_is_refused_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    with pytest.raises(InvalidInputError) as info:
        classify_media(str(missing), label="image")
    assert info.value.message == f"image: {str(missing)!r} is not a URL, data URI or existing file"
    assert info.value.hint == "Pass a public http(s) URL, a data: URI, or the path of a readable local file."
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    under_a_file = plain / "x.png"
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path, words in (
        (under_a_file, f"image: cannot read {str(under_a_file)!r}: Not a directory"),
        (tmp_path, f"image: {str(tmp_path)!r} is a directory, not a file"),
        (fifo, f"image: {str(fifo)!r} is not a regular file (device, pipe or socket)"),
    ):
        with pytest.raises(InvalidInputError) as info:
            classify_media(path, label="image")
        assert info.value.message == words
    with pytest.raises(InvalidInputError) as info:
        classify_media(str(plain), label="image", accept=["png"])
    assert info.value.message == f"image: {str(plain)!r} is a .txt file; this field accepts png"
    assert info.value.hint == "Convert the file to an accepted format first."


def test_an_upload_closes_the_file_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        upload(path)
        aupload(path)
        gc.collect()  # a file left to the garbage collector says so with a ResourceWarning
    assert not [w for w in caught if issubclass(w.category, ResourceWarning) and "unclosed file" in str(w.message)]


def test_a_runninghub_file_name_in_a_workflow_slot_is_sent_as_is_not_judged_as_a_local_path() -> None:
    from rh_tools import catalogue
    from rh_tools.langchain import RunningHubToolkit

    sent: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, request.read()))
        return httpx.Response(200, json={"taskId": TID, "status": "RUNNING", "errorCode": "", "errorMessage": ""})

    ep = catalogue.get("rhart-video/wan-2.2/image-to-video")  # its image slot takes an uploaded file's name
    with RunningHub(api_key=KEY, transport=httpx.MockTransport(handler), max_retries=0) as rh:
        toolkit = RunningHubToolkit(client=rh, tools=[ep.tool_name], allowed_dirs=[], wait=0)
        (tool,) = [t for t in toolkit.get_tools() if t.name == ep.tool_name]
        args = {"image": "api/0123456789abcdef0123.png", "prompt": "x", "duration": "5", "resolution": "auto"}
        msg = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})
    assert msg.status == "success", msg.content
    assert json.loads(sent[0][1])["219##image"] == "api/0123456789abcdef0123.png"


def test_a_file_the_system_will_not_let_us_read_is_refused_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(PNG)
    monkeypatch.setattr(os, "access", lambda *a, **kw: False)  # what a non-root user sees (root may read anything)
    with pytest.raises(InvalidInputError) as info:
        classify_media(str(path), label="image")
    assert info.value.message == f"image: {str(path)!r} is not readable (permission denied)"


def test_an_unsupported_scheme_is_refused_showing_at_most_80_characters() -> None:
    value = "ftp://example.com/" + "a" * 100
    with pytest.raises(InvalidInputError) as info:
        classify_media(value, label="video")
    assert info.value.message == f"video: unsupported URL scheme in {value[:80]!r}"
    assert info.value.hint == "Use http(s) URLs or local paths."


# ---------------------------------------------------------------------------------------------------
# _polling: what is learnt from the durations of an endpoint's tasks


def _learnt(durations: list[float]) -> Expectation:
    history = DurationHistory()
    for seconds in durations:
        history.record("endpoint", seconds)
    expected = history.expect("endpoint")
    assert expected is not None
    return expected


def test_tasks_of_a_fraction_of_a_second_are_expected_to_take_that_long() -> None:
    expected = _learnt([0.2, 0.3, 0.4, 0.3])
    assert expected.median == pytest.approx(0.3, rel=0.01) and expected.high < 0.6
    assert _learnt([0.0, 0.0]).median == pytest.approx(0.01)  # an instant answer: no log of zero


def test_one_slow_task_counts_at_most_three_robust_deviations_out() -> None:
    # log durations around 10 s: -1, -0.5, 0, 0, 0.5, 1 and one slow task x; the median absolute
    # deviation is 0.5, so a robust standard deviation is 1.4826 x 0.5 and the cap 3 of them (2.22)
    def high(x: float) -> float:
        return _learnt([10 * math.exp(v) for v in (-1, -0.5, 0, 0, 0.5, 1, x)]).high

    assert high(2.2) > high(2.0)  # inside the cap, a slower task widens the window
    assert high(2.3) == pytest.approx(high(10.0))  # past it, how slow makes no difference


@pytest.mark.parametrize(("median", "sigma"), [(None, None), (8.0, None), (None, 0.5), (8.0, 0.0)])
def test_a_window_without_a_whole_fitted_shape_gives_no_opinion(median: float | None, sigma: float | None) -> None:
    window = Expectation(low=5.0, high=12.0, median=median, sigma=sigma)
    assert window.quantile(0.3) == 5.0  # the window's start
    assert window.gap_for(6.0, 0.5) == 0.0
    assert window.mean == (8.5 if median is None or sigma is None else 8.0)


def test_every_share_has_a_duration_even_all_or_none_of_the_tasks() -> None:
    window = Expectation(low=5.0, high=12.0, median=8.0, sigma=0.5)
    assert window.quantile(0.5) == pytest.approx(8.0)
    assert 0 < window.quantile(0.0) < 8.0 < window.quantile(1.0) < math.inf


@pytest.mark.parametrize("age", [0.2, 0.9, 3.0])
def test_the_gap_for_a_chance_is_when_that_share_of_tasks_still_running_has_finished(age: float) -> None:
    window = Expectation(low=0.3, high=3.0, median=0.8, sigma=0.6)
    gap = window.gap_for(age, 0.25)
    share = NormalDist(math.log(0.8), 0.6)  # the log durations
    running = 1 - share.cdf(math.log(age))
    assert (share.cdf(math.log(age + gap)) - share.cdf(math.log(age))) / running == pytest.approx(0.25)


def test_the_query_budget_of_a_sub_second_endpoint_follows_the_callers_pace() -> None:
    quick = Expectation(low=0.3, high=0.8, median=0.5, sigma=0.001)  # a mean of 0.5 s
    assert PollPolicy(initial=0.2).chance(quick) == pytest.approx(0.4)  # one query per 0.2 s of task time
    assert PollPolicy(initial=1.0).chance(quick) == 1.0


def test_where_the_budget_binds_a_step_grows_to_a_fifth_of_the_age_but_no_further() -> None:
    slow = Expectation(low=500.0, high=2000.0, median=1000.0, sigma=0.3)  # a task of 20 s is far from done
    assert PollPolicy().step(20.0, slow) == pytest.approx(4.0)  # 20 % of the age, not the 8 % lag step
    assert PollPolicy().step(80.0, slow) == pytest.approx(10.0)  # and never past max_interval


def test_a_poll_is_skipped_at_a_bound_of_three_in_a_hundred_seen_done_by_then() -> None:
    policy = PollPolicy()  # peer_evidence 50: skip when (done + 3) / seen <= 6 %
    assert policy.skips(10.0, survivors=97, finished=3)
    assert not policy.skips(10.0, survivors=96, finished=4)
    assert not policy.skips(10.0, survivors=0, finished=0)
    eager = PollPolicy(peer_evidence=1)  # one task seen still running past this age is evidence enough
    assert eager.skips(10.0, survivors=1, finished=0)
    assert not PollPolicy(peer_evidence=0).skips(10.0, survivors=1000, finished=0)


def test_a_task_seen_done_twice_counts_as_done_from_the_first_sighting() -> None:
    history = DurationHistory()
    history.seen_running("e", "t1", 2.0)
    history.seen_done("e", "t1", 5.0)
    history.seen_done("e", "t1", 8.0)  # a later look at the same finished task
    assert history.census("e", 6.0) == (0, 1)
    assert history.census("e", 1.0) == (1, 0)
    history.seen_done("quick", "t2", 3.0)  # done at its first poll: the first word about this endpoint
    assert history.census("quick", 4.0) == (0, 1)


def test_a_zero_pace_never_sleeps_whatever_was_learnt() -> None:
    window = Expectation(low=10.0, high=20.0, median=14.0, sigma=0.3)
    never = PollPolicy(initial=0.0)
    assert [never.next_delay(10.0, 0.0), never.next_delay(30.0, 0.0, window), never.next_delay(0.0, None)] == [0, 0, 0]


def test_warm_polls_step_from_one_floor_before_the_window_and_back_off_only_past_its_end() -> None:
    policy = PollPolicy()
    window = Expectation(low=10.0, high=20.0, median=14.0, sigma=0.3)
    near = 10.0 - policy.floor  # as close to the window as a hop would bring it: now step with the age
    assert policy.step(near, window) > policy.floor
    assert policy.next_delay(near, 1.0, window) == pytest.approx(policy.step(near, window))
    assert policy.next_delay(20.0, 1.0, window) == pytest.approx(policy.lag_ratio * 20.0)  # still inside
    assert policy.next_delay(20.5, 1.0, window) == pytest.approx(policy.tail_ratio * 20.5)  # past it: back off


def test_a_short_task_past_its_window_keeps_the_query_budget_not_a_fifth_of_its_age() -> None:
    short = Expectation(low=0.5, high=2.0, median=1.0, sigma=0.5)
    assert PollPolicy().next_delay(3.0, 0.5, short) == pytest.approx(1.0)  # once a second, not every 0.6 s


def test_only_the_last_32_durations_of_an_endpoint_count() -> None:
    recent = [5.0 + i / 10 for i in range(32)]
    assert _learnt([600.0, *recent]) == _learnt(recent)  # the slow task before them is forgotten
    assert _learnt([600.0, *recent[1:]]) != _learnt(recent[1:])
