"""Error mapping: every RunningHub code goes through one table to a typed, actionable error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rh_tools import _exceptions as E

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "runninghub-api.md"

# code -> (error class, retryable), from the action column of the API reference (R/W retry, F fail).
EXPECTED = {
    -1: (E.AuthenticationError, False),  # the gateway's "ApiKey verification failed" (tests/fixtures/real)
    301: (E.InvalidRequestError, False),
    380: (E.NotFoundError, False),
    412: (E.InvalidRequestError, False),
    415: (E.RateLimitError, True),
    416: (E.InsufficientBalanceError, False),
    421: (E.RateLimitError, True),
    423: (E.NotFoundError, False),
    433: (E.InvalidRequestError, False),
    435: (E.InvalidRequestError, False),
    436: (E.AuthenticationError, False),
    500: (E.ServerError, True),
    801: (E.AuthenticationError, False),
    802: (E.AuthenticationError, False),
    803: (E.InvalidRequestError, False),
    805: (E.TaskFailedError, False),
    806: (E.AuthenticationError, False),
    807: (E.NotFoundError, False),
    808: (E.ServerError, True),
    809: (E.FileTooLargeError, False),
    810: (E.InvalidRequestError, False),
    811: (E.AuthenticationError, False),
    812: (E.InsufficientBalanceError, False),
    814: (E.RateLimitError, True),
    901: (E.NotFoundError, False),
    1000: (E.ServerError, True),
    1001: (E.InvalidRequestError, False),
    1002: (E.AuthenticationError, False),
    1003: (E.RateLimitError, True),
    1004: (E.NotFoundError, False),
    1005: (E.ServerError, True),
    1006: (E.ServerError, True),
    1007: (E.InvalidRequestError, False),
    1008: (E.FileTooLargeError, False),
    1009: (E.InvalidRequestError, False),
    1010: (E.ServerError, True),
    1011: (E.RateLimitError, True),
    1012: (E.ServerError, True),
    1013: (E.InvalidRequestError, True),
    1014: (E.AuthenticationError, False),
    1015: (E.ServerError, True),
    1101: (E.InvalidRequestError, False),
    401: (E.AuthenticationError, False),
    403: (E.AuthenticationError, False),
    403000: (E.AuthenticationError, False),
    1501: (E.ContentPolicyError, False),
    1504: (E.ServerError, True),
    1505: (E.ContentPolicyError, False),
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
@pytest.mark.parametrize("as_string", [False, True])
def test_every_code_maps_to_its_class(code: int, as_string: bool) -> None:
    cls, retryable = EXPECTED[code]
    err = E.error_for_code(str(code) if as_string else code, "Something happened|出了点事", task_id="42")
    assert type(err) is cls
    assert err.code == code and err.task_id == "42"
    assert err.message == "Something happened" and err.message_zh == "出了点事"
    assert err.retryable is retryable
    assert err.hint, f"code {code} has no hint for the agent"
    d = err.to_dict()
    assert d["code"] == code and d["retryable"] is retryable and d["hint"] == err.hint


@pytest.mark.needs_reference
def test_table_covers_the_reference() -> None:
    text = REFERENCE.read_text("utf-8")
    section = text.split("## 5. Error codes", 1)[1].split("## 6.", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", section, re.M)} - {0}
    assert codes, "could not read the reference's code table"
    assert codes <= set(E.CODES), f"codes missing from CODES: {sorted(codes - set(E.CODES))}"
    assert codes - {804, 813} <= set(EXPECTED)


def test_legacy_msg_identifier_maps_without_code() -> None:
    assert type(E.error_for_code(None, "TASK_QUEUE_MAXED")) is E.RateLimitError


def test_unknown_code_keeps_code_and_uses_http_status() -> None:
    err = E.error_for_code("9999", "new thing", status_code=503)
    assert isinstance(err, E.ServerError) and err.code == "9999"
    assert type(E.error_for_code("9999", "new thing")) is E.APIError


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, E.AuthenticationError),
        (403, E.AuthenticationError),
        (404, E.NotFoundError),
        (413, E.FileTooLargeError),
        (429, E.RateLimitError),
        (500, E.ServerError),
        (502, E.ServerError),
        (400, E.InvalidRequestError),
    ],
)
def test_http_status_mapping(status: int, cls: type) -> None:
    assert type(E.error_for_status(status)) is cls


def test_submit_retry_codes_are_capacity_refusals_only() -> None:
    for code in E.SUBMIT_RETRY_CODES:
        assert E.CODES[code].retryable
    # moderation, balance, key and parameter errors are never resubmitted
    for code in (1501, 1505, 416, 812, 802, 1002, 1014, 301, 1007, 500, 1000, 1005):
        assert code not in E.SUBMIT_RETRY_CODES


def test_timeout_error_says_how_to_resume() -> None:
    err = E.TaskTimeoutError("2013508786110730241", 30.0, "RUNNING")
    assert err.task_id == "2013508786110730241" and err.retryable
    assert "wait_task" in str(err) and "2013508786110730241" in str(err)


def test_split_message() -> None:
    assert E.split_message("A|B") == ("A", "B")
    assert E.split_message("only english") == ("only english", None)
    assert E.split_message(None) == ("", None)
