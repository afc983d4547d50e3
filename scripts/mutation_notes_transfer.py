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
