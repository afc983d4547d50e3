"""The client's brain, without I/O: how a request is sent, how an answer is read, whether to retry.

``RunningHub`` and ``AsyncRunningHub`` only send the :class:`Call` objects built in ``_calls``
(with :func:`request_kwargs` and :func:`decode_response` from here) and sleep where
:func:`retry_delay` or the ``_waiter.Waiter`` says; everything they decide is decided once, so the
twins cannot drift apart and every decision is unit-testable without a network.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar

from . import _constants as C
from ._config import ClientConfig, LegacyAuth
from ._exceptions import (
    SUBMIT_RETRY_CODES,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    RateLimitError,
    ResponseFormatError,
    RunningHubError,
    ServerError,
    error_for_code,
    error_for_status,
    is_key_refusal,
)
from ._guards import body_message as _body_message  # (the answer readers, shared with _calls)
from ._guards import int_or_none as _int
from ._guards import is_array, is_object
from ._media import MediaSource, Multipart

__all__ = [
    "Call",
    "check_task_id",
    "decode_response",
    "legacy_auth_fallback",
    "install_log_redaction",
    "redact",
    "redirect_target",
    "refuse_unsendable",
    "register_secret",
    "scrub_answer",
    "scrub_error",
    "request_kwargs",
    "retry_delay",
    "transport_error",
]

log = logging.getLogger("rh_tools")
T = TypeVar("T")

# How the key travels: v2 uses Bearer only; legacy endpoints read it from the body (and newer doc
# pages also show Bearer, so both are sent); accountStatus spells it `apikey`; the AI-app list of
# the official skill sends the bare key as Authorization; apiCallDemo is a GET with it in the query.
Auth = Literal["bearer", "body", "body_lower", "raw", "query"]
# Retry class: "submit" may create a paid task; "query" is idempotent; "action" changes state
# without cost (cancel, webhook resend) and is retried only when it provably was not sent.
Kind = Literal["submit", "query", "action", "upload"]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    body: dict[str, Any] | None = None
    query: dict[str, Any] | None = None
    auth: Auth = "bearer"
    kind: Kind = "query"
    task_id: str | None = None
    upload: MediaSource | None = None
    form: dict[str, str] = field(default_factory=dict[str, str])


def request_kwargs(
    call: Call[Any],
    config: ClientConfig,
    *,
    async_: bool = False,
    base_url: str | None = None,
    legacy_auth: LegacyAuth | None = None,
) -> dict[str, Any]:
    """httpx.request(...) arguments for ``call`` (the key is read here and nowhere else).

    ``base_url`` overrides the configured one (asking the other site about a refused key);
    ``legacy_auth`` overrides ``config.legacy_auth`` (the client's fallback to Bearer-only)."""
    key = config.key()
    if not key.isascii():  # HTTP headers are ASCII: httpx would raise a bare UnicodeEncodeError
        raise ConfigurationError(
            "The API key contains non-ASCII characters",
            hint="Copy the 32-character key from the RunningHub console again.",
        )
    mode = legacy_auth or config.legacy_auth
    in_body = call.auth in ("body", "body_lower")
    headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
    if call.auth == "raw":
        headers["Authorization"] = key
    elif not (in_body and mode == "body"):
        headers["Authorization"] = f"Bearer {key}"
    body = dict(call.body) if call.body is not None else None
    query = dict(call.query) if call.query else None
    body_key = in_body and mode != "bearer"
    if call.auth == "body" and body_key:
        body = {"apiKey": key, **(body or {})}
    elif call.auth == "body_lower" and body_key:
        body = {"apikey": key, **(body or {})}
    elif call.auth == "query":
        query = {"apiKey": key, **(query or {})}
    kw: dict[str, Any] = {"method": call.method, "url": (base_url or config.base_url) + call.path, "headers": headers}
    if query:
        kw["params"] = query
    if call.upload is not None:
        form = dict(call.form)
        if call.auth == "body" and body_key:
            form = {"apiKey": key, **form}
        mp = Multipart(call.upload, form)
        headers.update(mp.headers)
        kw["content"] = mp.__aiter__() if async_ else iter(mp)
    elif body is not None:
        kw["json"] = body
    return kw


_SECRET_PARAM = re.compile(r"((?:api_?key|Rh-Comfy-Auth|q-signature|token|sign)=)[^&\s]+", re.I)


def refuse_unsendable(body: Any, names: Mapping[str, str] | None = None, *, context: str = "") -> None:
    """Refuse, before sending, a body JSON cannot carry: NaN/±Infinity (validation lets them through
    where a float has no range) and unpaired surrogates (JSON escapes like "\\ud800" decode to them).
    httpx would raise a bare ValueError/UnicodeEncodeError mid-request instead of a clear error.
    ``names`` maps body keys to the argument names the caller used, for the message."""
    try:
        found = _unsendable(body, ()) if body is not None else None
    except RecursionError:  # JSON this deep is not an argument set; it would crash the encoder too
        found = ((), "is nested too deeply; flatten the arguments")
    if found is not None:
        where, problem = found
        if where and names and where[0] in names:
            where = (names[where[0]], *where[1:])
        field_name = ".".join(map(str, where)) or "(body)"
        raise InvalidInputError(
            f"{context}{field_name}: {problem}", details=[{"field": field_name, "problem": problem}]
        )


def _unsendable(value: Any, where: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return where, f"{value} is not a finite number; JSON and the API take finite numbers"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where, "contains an unpaired surrogate (invalid Unicode); send valid UTF-8 text"
        return None
    items: Iterable[tuple[Any, Any]] = (
        value.items() if is_object(value) else enumerate(value) if is_array(value) else ()
    )
    for k, v in items:
        if (found := _unsendable(k, where) if isinstance(k, str) else None) is not None:
            return (*where, repr(k)), found[1]
        if (found := _unsendable(v, (*where, k))) is not None:
            return found
    return None


_BEARER = re.compile(r"(Bearer\s+)[^\s'\",]+", re.I)
# Every API key a client of this process holds. An API that quotes the key back (in an error
# message, a task's failure reason, a non-JSON error page) must not put it into an error, a log
# line or a tool result, so text bound for those is scrubbed of these literal values too.
_SECRETS: set[str] = set()
_MIN_SECRET = 8  # shorter "keys" would scrub ordinary words; real keys are 32 characters


def register_secret(value: str | None) -> None:
    """Scrub ``value`` from everything :func:`redact` cleans, from now on."""
    if value and len(value) >= _MIN_SECRET:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Strip credentials and URL signatures from text bound for logs or errors."""
    return _without_secrets(_BEARER.sub(r"\1***", _SECRET_PARAM.sub(r"\1***", text)))


def _without_secrets(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def scrub_answer(content: bytes) -> bytes:
    """An API answer with every registered key removed, before anything reads it.

    The literal bytes are replaced first; a JSON body that spells a key with ``\\u`` escapes is
    decoded, cleaned and encoded again, so no escaping smuggles the key past this.
    """
    for secret in _SECRETS:
        raw = secret.encode("utf-8")
        if raw in content:
            content = content.replace(raw, b"***")
    if b"\\u" in content and _SECRETS:
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            return content
        clean = _scrub_value(body, _without_secrets)  # keys only: signed output URLs must stay usable
        if clean != body:
            return json.dumps(clean, ensure_ascii=False).encode("utf-8")
    return content


def _scrub_value(value: Any, clean: Callable[[str], str] = redact) -> Any:
    if isinstance(value, str):
        return clean(value)
    if is_array(value):
        return [_scrub_value(v, clean) for v in value]
    if is_object(value):
        return {_scrub_value(k, clean): _scrub_value(v, clean) for k, v in value.items()}
    return value


def scrub_error(err: RunningHubError) -> RunningHubError:
    """Remove keys and signatures from every text an error carries, whatever wrapped them."""
    err.message = redact(err.message)
    if err.message_zh:
        err.message_zh = redact(err.message_zh)
    if err.hint:
        err.hint = redact(err.hint)
    if err.details is not None:
        try:
            err.details = _scrub_value(err.details)
        except RecursionError:
            err.details = None
    err.args = tuple(redact(a) if isinstance(a, str) else a for a in err.args)
    return err


def redirect_target(url: str, location: str | None) -> str:
    """Where an API redirect may be followed: the same origin, or the https upgrade of the same host.

    Anything else is refused: a redirect to another host would carry the key (in the Authorization
    header or, for legacy endpoints, in the body a 307 resends) to it.
    """
    from urllib.parse import urljoin, urlsplit

    if not location:
        raise ResponseFormatError(f"RunningHub answered a redirect without a Location from {redact(url)}")
    target = urljoin(url, location)
    src, dst = urlsplit(url), urlsplit(target)

    def port(parts: Any) -> int | None:
        try:
            return parts.port or (443 if parts.scheme == "https" else 80 if parts.scheme == "http" else None)
        except ValueError:
            return None

    same_host = (src.hostname or "").lower() == (dst.hostname or "").lower()
    same_origin = same_host and src.scheme == dst.scheme and port(src) == port(dst)
    upgrade = same_host and src.scheme == "http" and dst.scheme == "https" and port(dst) == 443
    if not (same_origin or upgrade):
        raise ConfigurationError(
            f"RunningHub redirected {redact(urlsplit(url).path)} to another host ({dst.hostname or target[:60]}); "
            "rh-tools does not follow it, because the API key would travel with the request",
            hint="If the API moved, set RUNNINGHUB_BASE_URL (or base_url=) to its new address. Nothing was submitted.",
        )
    return target


class RedactingFilter(logging.Filter):
    """Redacts log records of a logger we do not own. httpx logs every request URL at INFO, and
    two RunningHub routes take the key in the query string (apiCallDemo), as do signed output URLs.
    Tracebacks attached to a record are formatted and redacted too (an exception's text may quote
    an answer that quoted the key)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours to hide
            return True
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger_name: str = "httpx") -> None:
    """Idempotently put a :class:`RedactingFilter` on ``logger_name``."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def decode_response(call: Call[T], status: int, headers: Mapping[str, str], content: bytes) -> T:
    """Turn an HTTP answer into the call's result, or raise the mapped error."""
    retry_after = _retry_after(headers)
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
        if status >= 400:
            raise _with_task(
                error_for_status(status, f"HTTP {status} with a non-JSON body", retry_after=retry_after), call
            ) from None
        snippet = content[:80].decode("utf-8", "replace").strip()
        raise _with_task(
            ResponseFormatError(f"RunningHub answered HTTP {status} with non-JSON: {snippet!r}", status_code=status),
            call,
        ) from None
    code = _body_code(body)
    if status >= 400 and code is None:
        raise _with_task(
            error_for_status(status, _body_message(body) or f"HTTP {status}", retry_after=retry_after), call
        )
    try:
        result = call.parse(body)
    except RunningHubError as err:
        if err.status_code is None:
            err.status_code = status
        if err.retry_after is None:
            err.retry_after = retry_after
        if call.kind == "submit" and err.task_id is None:
            err.task_id = _answer_task_id(body)  # an error that names a created task: keep its id
        raise _with_task(_status_wins(err, status), call) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _with_task(
            ResponseFormatError(f"Unexpected response shape from {call.path}: {exc}", status_code=status),
            call,
        ) from None
    if call.kind == "submit" and status >= 400:
        # An error status whose body still names a task: the task exists (and may be billed) although
        # the answer is an error. Report the error with the id; never treat it as a clean submit.
        err = error_for_code(
            code,
            _body_message(body),
            task_id=_answer_task_id(body),
            status_code=status,
            retry_after=retry_after,
        )
        raise _with_task(err, call)
    return result


def _status_wins(err: RunningHubError, status: int) -> RunningHubError:
    """An HTTP 401/403 is a refused key and a 429 a rate limit, whatever code the body carries: an
    unknown or unrelated body code must not hide what the status already says."""
    if status in (401, 403) and not isinstance(err, AuthenticationError):
        cls: type[RunningHubError] = AuthenticationError
    elif status == 429 and not isinstance(err, RateLimitError):
        cls = RateLimitError
    else:
        return err
    return cls(
        err.message,
        code=err.code,
        message_zh=err.message_zh,
        task_id=err.task_id,
        status_code=status,
        retry_after=err.retry_after,
        details=err.details,
    )


def _with_task(err: RunningHubError, call: Call[Any]) -> RunningHubError:
    if err.task_id is None and call.task_id:
        err.task_id = call.task_id
    if call.kind == "submit" and (err.task_id or _submit_outcome_unknown(err)):
        err.retryable = False
        err.hint = _SUBMIT_MAY_EXIST if not err.task_id else _SUBMIT_CREATED.format(task_id=err.task_id)
    return err


# A paid submit whose answer was lost or garbled may still have created (and billed) a task, so it
# must not be reported as "retry it": an agent would resubmit and pay twice.
_SUBMIT_MAY_EXIST = (
    "The submit may have reached RunningHub and created a billed task although no usable answer came back. "
    "Check recent tasks (account running count / RunningHub console) before submitting again."
)


_SUBMIT_CREATED = (
    "RunningHub created task {task_id} although it answered with an error; it may run and be billed. "
    "Check it with get_task/wait_task (task_id={task_id}) before submitting again."
)


def _submit_outcome_unknown(err: RunningHubError) -> bool:
    """True when a failed submit's answer does not prove that no task was created."""
    if isinstance(err, APIConnectionError):
        return err.sent
    if isinstance(err, ResponseFormatError):
        return True
    # A server-side error (5xx, 500/1000/1005 …) can follow the task's creation; only the capacity
    # refusals of SUBMIT_RETRY_CODES prove there is none.
    return isinstance(err, ServerError) and _int(err.code) not in SUBMIT_RETRY_CODES


def _body_code(body: Any) -> Any:
    if not is_object(body):
        return None
    if body.get("errorCode") not in (None, "", 0, "0"):
        return body["errorCode"]
    if "code" in body and body.get("code") not in (0, "0", 200, "200"):
        return body.get("code")
    return None


def _answer_task_id(body: Any) -> str | None:
    """The task id an answer names (v2 ``taskId``, legacy ``data.taskId``), if any."""
    if not is_object(body):
        return None
    data = body.get("data")
    found = body.get("taskId") or (data.get("taskId") if is_object(data) else None)
    return str(found) if found not in (None, "") else None


def transport_error(exc: Exception, call: Call[Any]) -> APIConnectionError:
    """Classify an httpx transport failure; ``sent=False`` only when the request never left."""
    import httpx  # local: keeps httpx out of import-time of modules that only need decisions

    name = type(exc).__name__
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    hint: str | None = None
    retryable: bool | None = None
    if call.kind == "submit" and sent:
        hint = (
            "The connection broke after the submit was sent, so a task may have been created and billed. "
            "Check recent tasks (account running count / RunningHub console) before submitting again."
        )
        retryable = False  # not "send it again": that could buy the same generation twice
    return cls(
        f"{name} during {call.method} {redact(call.path)}: {redact(str(exc)) or name}",
        sent=sent,
        task_id=call.task_id,
        hint=hint,
        retryable=retryable,
    )


def retry_delay(
    kind: Kind, attempt: int, max_retries: int, error: RunningHubError, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retrying, or None to give up. ``attempt`` counts retries already made."""
    if attempt >= max_retries:
        return None
    if kind == "submit":
        # A capacity or rate refusal (421 concurrency limit, 415, 1011, HTTP 429 ...) proves no task
        # was created: wait and resubmit. Anything that might have created one is not resent, and an
        # answer that names a task proves one exists.
        allowed = error.task_id is None and (
            (isinstance(error, APIConnectionError) and not error.sent)
            or error.status_code == 429
            or _int(error.code) in SUBMIT_RETRY_CODES
            or isinstance(error, RateLimitError)
        )
    elif kind == "action":
        allowed = isinstance(error, APIConnectionError) and not error.sent
    else:
        allowed = error.retryable
    if not allowed:
        return None
    if error.retry_after is not None:
        return None if error.retry_after > C.RETRY_AFTER_CAP else error.retry_after
    backoff = min(C.RETRY_BASE_DELAY * (2**attempt), C.RETRY_MAX_DELAY)
    return backoff * (0.5 + 0.5 * (rng or random).random())


def legacy_auth_fallback(call: Call[Any], error: Exception, mode: LegacyAuth) -> LegacyAuth | None:
    """``"bearer"`` when a legacy call that carried the key in its body got the exact refusal an
    Enterprise-Shared key gets there ("ApiKey verification failed"); None otherwise.

    INFERRED from public notes (tests/fixtures/real/README.md, sources S07-S08): such keys are
    refused with the key in the body and accepted with the Bearer header alone. The refusal proves
    no task was created, so sending the same call again (once) is safe even for a paid submit."""
    if call.auth not in ("body", "body_lower") or mode == "bearer":
        return None
    if isinstance(error, AuthenticationError) and is_key_refusal(error):
        if "verification failed" in f"{error.message} {error.message_zh or ''}".lower():
            return "bearer"
    return None


_TASK_ID = re.compile(r"^[1-9][0-9]{15,18}$")


def check_task_id(task_id: Any) -> str:
    """A task id as RunningHub issues them (a 19-digit snowflake number), or a clear error before any
    request. Older ids may be shorter, so 16-19 digits pass; a number is accepted as its digits."""
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    text = task_id.strip() if isinstance(task_id, str) else ""
    if not _TASK_ID.match(text) or int(text) >= 2**63:
        shown = repr(task_id) if len(repr(task_id)) <= 80 else repr(task_id)[:77] + "..."
        raise InvalidInputError(
            f"task_id must be the 19-digit number RunningHub returned (e.g. 2013508786110730241), got {shown}",
            hint="Use the task_id from the run/submit result exactly as given (as a string); nothing was sent.",
        )
    return text
