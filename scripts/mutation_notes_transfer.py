"""Why the surviving mutants of the transfer modules (``rh_tools/_download.py``, ``rh_tools/_webhooks.py``)
may survive: each is equivalent, or changes nothing a caller, an agent or a sender can see, for the reason
given. Same shapes as ``scripts/mutation_notes.py`` (which merges this file in); the tests that kill the
others are in ``tests/test_mutation_transfer.py``.

Every survivor has an exact note (``NOTES``): the older catch-all patterns for these two modules in
``scripts/mutation_notes.py`` (marked GAP) are checked before the ``PATTERNS`` here, so a pattern here
would never be reached for a function they cover.
"""

from __future__ import annotations

_DL = "rh_tools/_download.py"
_WH = "rh_tools/_webhooks.py"


def _key(file: str, function: str, before: str, after: str) -> str:
    return f"{file}::{function}::{before} => {after}"


NOTES: dict[str, str] = {}
PATTERNS: list[tuple[str, str, str, str]] = []


def _note(file: str, function: str, before: str, afters: list[str], why: str) -> None:
    for after in afters:
        NOTES[_key(file, function, before, after)] = why


# ------------------------------------------------------------------ _webhooks

_note(
    _WH,
    "WebhookReceiver.__init__",
    "self._secret = secret or secrets.token_urlsafe(16)",
    ["self._secret = secret or secrets.token_urlsafe(17)", "self._secret = secret or secrets.token_urlsafe(None)"],
    "Equivalent for security: 17 random bytes, or the default 32, are at least as unguessable as 16; the "
    "tests check the secret differs per receiver and has at least 16 characters.",
)
_note(
    _WH,
    "WebhookReceiver.__init__",
    "self._thread: threading.Thread | None = None",
    ['self._thread: threading.Thread | None = ""'],
    "Equivalent: `_thread` is only ever assigned (start() replaces it), never read.",
)
_note(
    _WH,
    "WebhookReceiver.deliver",
    "self._done[task_id] = payload",
    ["self._done[task_id] = None"],
    "Equivalent: only the task id's presence in `_done` is read (has_ended, sleep); the stored payload "
    "itself is never read back (listeners get the payload directly).",
)
_note(
    _WH,
    "WebhookReceiver.deliver",
    "self._done.popitem(last=False)",
    ["self._done.popitem(last=None)"],
    "Equivalent: None is falsy like False: the oldest remembered task is dropped either way.",
)
_note(
    _WH,
    "WebhookReceiver.start",
    'raw = self.headers.get("content-length") or ""',
    ['raw = self.headers.get("CONTENT-LENGTH") or ""'],
    "Equivalent: http.server's header lookups are case-insensitive.",
)
_note(
    _WH,
    "WebhookReceiver.start",
    'raw = self.headers.get("content-length") or ""',
    ['raw = self.headers.get("content-length") or "XXXX"'],
    "Equivalent: 'XXXX' is not digits, so a missing Content-Length gets the same 411 as ''.",
)
_note(
    _WH,
    "WebhookReceiver.start",
    'self.send_header("content-length", "0")',
    ['self.send_header("CONTENT-LENGTH", "0")'],
    "Equivalent: HTTP header names are case-insensitive (the test reads the header back).",
)
_note(
    _WH,
    "WebhookReceiver.start",
    'self.send_header("connection", "close")',
    ['self.send_header("CONNECTION", "close")', 'self.send_header("connection", "CLOSE")'],
    "Equivalent: header names and the Connection option are case-insensitive (RFC 9110 §5.1, §7.6.1; "
    "http.server compares them lower-cased too); the test checks the refusals say close.",
)
_THREAD_NAME = (
    "Not behaviour: the receiver thread's name only shows in thread dumps and debuggers; no caller or "
    "sender sees it (the test checks the thread is a daemon and stops on close)."
)
for _after in (
    "self._thread = threading.Thread(target=self._server.serve_forever, name=None, daemon=True)",
    "self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)",
    'self._thread = threading.Thread(target=self._server.serve_forever, name="XXrh-webhooksXX", daemon=True)',
    'self._thread = threading.Thread(target=self._server.serve_forever, name="RH-WEBHOOKS", daemon=True)',
):
    NOTES[
        _key(
            _WH,
            "WebhookReceiver.start",
            'self._thread = threading.Thread(target=self._server.serve_forever, name="rh-webhooks", daemon=True)',
            _after,
        )
    ] = _THREAD_NAME
_note(
    _WH,
    "WebhookReceiver.deliver",
    "listener(payload)",
    ["listener(None)"],
    "Killed since by tests/test_mutation_transfer.py::test_listeners_get_each_accepted_callback_and_a_failing_one"
    "_harms_nothing (written after this run; checked against this mutant alone in the run's scratch copy).",
)

# ------------------------------------------------------------------ _download

_GET = "Equivalent: httpx upper-cases the method ('get' is sent as GET; the test checks the method the server saw)."
for _fn, _line in (
    ("_fetch_to", 'resp = client.send(client.build_request("GET", url, headers=_HEADERS), stream=True)'),
    ("_astream", 'resp = await client.send(client.build_request("GET", url, headers=_HEADERS), stream=True)'),
):
    _note(_DL, _fn, _line, [_line.replace('"GET"', '"get"')], _GET)
_note(
    _DL,
    "download_outputs",
    'fh.write((out.text or "").encode("utf-8"))',
    ['fh.write((out.text or "").encode("UTF-8"))'],
    "Equivalent: Python codec names are case-insensitive.",
)
_note(
    _DL,
    "adownload_outputs",
    'await asyncio.to_thread(fh.write, (out.text or "").encode("utf-8"))',
    ['await asyncio.to_thread(fh.write, (out.text or "").encode("UTF-8"))'],
    "Equivalent: Python codec names are case-insensitive.",
)
_note(
    _DL,
    "net_redact",
    "return redact(text)[:300]",
    ["return redact(text)[:301]"],
    "Not behaviour: the cap keeps a network error's text to one line; 300 or 301 characters of an httpx "
    "message make no difference to a reader (what matters, the key never appearing, is redact's, tested).",
)
for _fn in ("_Meter.check_headers", "_size"):
    _line = (
        'length = resp.headers.get("content-length")'
        if _fn == "_Meter.check_headers"
        else 'length = resp.headers.get("content-length", "")'
    )
    _note(
        _DL,
        _fn,
        _line,
        [_line.replace('"content-length"', '"CONTENT-LENGTH"')],
        "Equivalent: httpx headers are case-insensitive.",
    )
_note(
    _DL,
    "_size",
    'length = resp.headers.get("content-length", "")',
    ['length = resp.headers.get("content-length", "XXXX")'],
    "Equivalent: 'XXXX' is not digits, so a missing Content-Length still gives no size (None), as '' does.",
)
_BOMB = "if self.decoded > min(BOMB_FLOOR, self.limit) and self.decoded > BOMB_RATIO * max(raw_so_far, 1):"
_note(
    _DL,
    "_Meter.add",
    _BOMB,
    [_BOMB.replace("self.decoded > BOMB_RATIO", "self.decoded >= BOMB_RATIO")],
    "Boundary no test can hit deterministically: the ratio is measured at each network chunk, so a body "
    "decoding to exactly 100x what had arrived at that moment depends on how TCP split it. 'more than' or "
    "'at least' 100x is the same policy (tests check 1000:1 refused, small well-compressed bodies accepted).",
)
_note(
    _DL,
    "_Meter.add",
    _BOMB,
    [_BOMB.replace("max(raw_so_far, 1)", "max(raw_so_far, 2)")],
    "Equivalent: the guard against dividing by nothing only differs when 1 byte has arrived, and one "
    "compressed byte cannot decode to more than the 8 MiB floor.",
)
for _fn in ("fetch_output", "afetch_output"):
    _note(
        _DL,
        _fn,
        "timeout: float = 60.0,",
        ["timeout: float = 61.0,"],
        "Not observable in a test: the default whole-fetch limit of a preview, 60 or 61 s, only shows against "
        "a server that drips for a minute; the limit itself is tested with timeout= (0.3 s, named in the error).",
    )
_note(
    _DL,
    "afetch_output",
    "own = client is None",
    ["own = None"],
    "Not observable: the pool the call made for itself is left to the garbage collector instead of being "
    "closed when the call returns; the bytes, errors and the caller's own pool (left open, tested) are the same.",
)
_CONNECT = (
    "Not observable in a test: the connect bound (10 s) only shows against an address that never answers "
    "a SYN; the whole-download deadline (tested) bounds a connect anyway, and the read bound is tested."
)
_TIMEOUT = '"timeout": httpx.Timeout(_READ_TIMEOUT, connect=10.0),'
_note(
    _DL,
    "_client_kwargs",
    _TIMEOUT,
    [
        _TIMEOUT.replace("connect=10.0", "connect=11.0"),
        _TIMEOUT.replace("connect=10.0", "connect=None"),
        _TIMEOUT.replace(", connect=10.0", ", "),
    ],
    _CONNECT,
)
_MEMORY_POLICY = (
    "Equivalent: a meter for one output in memory always gets an explicit limit (max_bytes), and the policy "
    "is only read for its max_bytes when no limit is given, so the policy passed here is never read."
)
_note(
    _DL,
    "_memory_meter",
    "meter = _Meter(policy, url, 0, None, limit=max_bytes)",
    ["meter = _Meter(None, url, 0, None, limit=max_bytes)"],
    _MEMORY_POLICY,
)
for _fn in ("fetch_output", "afetch_output"):
    _note(
        _DL,
        _fn,
        "meter = _memory_meter(url, max_bytes, what, policy)",
        ["meter = _memory_meter(url, max_bytes, what, None)"],
        _MEMORY_POLICY,
    )
_DISK_RETRY = (
    "Equivalent: DownloadError's default already makes a 'disk' failure not retryable (only network, timeout "
    "and http_status are), and retryable=None means that default; the test checks retryable is False."
)
_note(
    _DL,
    "_typed",
    "retryable=False,",
    ["retryable=None,", ")"],
    _DISK_RETRY,
)
_note(_DL, "_target_dir", "retryable=False,", ["retryable=None,", ")", ") from None"], _DISK_RETRY)
_note(
    _DL,
    "_typed",
    'reason="network",',
    [""],
    "Equivalent: 'network' is DownloadError's default reason (the test checks reason == 'network').",
)
_note(
    _DL,
    "_next_url",
    'if resp.is_redirect and "location" in resp.headers:',
    ['if resp.is_redirect and "LOCATION" in resp.headers:'],
    "Equivalent: httpx headers are case-insensitive.",
)
_note(
    _DL,
    "_next_url",
    'return urljoin(url, resp.headers["location"])',
    ['return urljoin(url, resp.headers["LOCATION"])'],
    "Equivalent: httpx headers are case-insensitive.",
)
_note(
    _DL,
    "_Meter._too_large",
    '"big; the task succeeded and its output URLs still work for about 24 h.",',
    ['"big; the task succeeded and its output urls still work for about 24 h.",'],
    "Not a change an agent acts on: one word's case ('URLs' read as 'urls'); what to raise and that the "
    "outputs are still there are checked word for word (and, since this run, the word's case too).",
)
_note(
    _DL,
    "FetchPolicy.for_api",
    "origin = net.origin_of(base_url) if base_url else None",
    ["origin = net.origin_of(base_url) if (base_url) or True else None"],
    "Equivalent: net.origin_of(None) and net.origin_of('') are None too (no host), so the guard only saves "
    "a call; the test checks for_api(None) and for_api('') trust no host.",
)
