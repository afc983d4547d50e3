"""Why each surviving mutant of ``scripts/mutation.py`` may survive: an equivalent mutant, or why the
behaviour it changes does not matter. Keyed by ``<file>::<function>::<line before> => <line after>``
(the mutated line as mutmut shows it), so a note outlives mutmut's renumbering of mutants; the
script prints the key of every survivor that has no note yet.
"""

from __future__ import annotations

#: Where the measurement stands, printed under the table's header (edit when a run changes it).
STATUS = (
    "Final run of issue #16 (2026-12-01, 19:40-21:46 UTC): each module ran once more after the tests that "
    "kill its survivors were written, on the commit shown (one branch per group of modules, all merged into "
    "main). Exceptions, said in the notes: `toolspecs` (1,511 mutants, ~8 a minute with its full test "
    "subset) is merged from a stopped full run (816 mutants) and re-runs of the rest, 15 of its survivors "
    "checked only against tests/test_mutation_surfaces.py; survivors marked 'Killed since the final run' "
    "were killed by a test written after that run, checked against the single mutant. mutmut counts a "
    "timeout as a kill; the timeouts counted here are real hangs (infinite loops, waits with no limit), its "
    "limit being CPU time."
)

NOTES: dict[str, str] = {
    'rh_tools/_core.py::request_kwargs::body = {"apikey": key, **(body or {})} => '
    'body = {"apikey": key, **(body and {})}': (
        "Equivalent: the only body_lower call (accountStatus) sends an empty body, and `{} and {}` is `{}`."
    ),
    'rh_tools/_core.py::_unsendable::value.encode("utf-8") => value.encode("UTF-8")': (
        "Equivalent: Python codec names are case-insensitive."
    ),
    'rh_tools/_core.py::decode_response::snippet = content[:80].decode("utf-8", "replace").strip() => '
    'snippet = content[:80].decode("UTF-8", "replace").strip()': "Equivalent: codec names are case-insensitive.",
    'rh_tools/_exceptions.py::_as_int::if isinstance(code, str) and code.strip().lstrip("-").isdigit(): => '
    'if isinstance(code, str) and code.strip().lstrip("XX-XX").isdigit():': (
        "Equivalent: lstrip takes a set of characters; 'XX-XX' strips '-' (and 'X', which no digit string has)."
    ),
    "rh_tools/_exceptions.py::error_for_code::info = CODES.get(n) if n is not None else None => "
    "info = CODES.get(n) if (n is not None) or True else None": "Equivalent: CODES.get(None) is None.",
    "rh_tools/_exceptions.py::split_message::return (en.strip(), zh.strip() or None) if sep else "
    "(text.strip(), None) => return (en.strip(), zh.strip() or None) if (sep) or True else (text.strip(), None)": (
        "Equivalent: without a '|', partition gives (text, '', '') and both branches return (text.strip(), None)."
    ),
}

_HEADER_CASE = (
    "Equivalent: HTTP header names are case-insensitive and httpx sends them normalised; the test checks "
    "the header arrives (tests/test_mutation_audit.py::test_every_request_says_who_sends_it_and_asks_for_json)."
)
_BODY_AUTH_UPLOAD = (
    "Unreachable: no API operation uploads with the key in a form field (the v2 binary upload uses "
    "Bearer; the legacy form upload is not offered), so this branch of request_kwargs never runs."
)

_CASE_CODEC = "Equivalent: codec names and HTTP methods are case-insensitive (httpx upper-cases the method)."
_CHUNK = (
    "Equivalent for behaviour: the read size of a streamed download (1 or 2 MiB, or as received) changes "
    "neither the bytes saved nor the memory bound in a way a caller sees."
)


_PROGRESS_FALSY = (
    'Equivalent: the value is only tested for None/truth before it is replaced ("" and None both mean '
    "'nothing yet' here; after a failed send no further notification is attempted either way)."
)

#: (file, function glob, regex over "<before> => <after>", note): for families of survivors that
#: share one reason (e.g. the wording of a log line). Checked after NOTES.
PATTERNS: list[tuple[str, str, str, str]] = [
    (
        "rh_tools/_core.py",
        "_unsendable",
        r"if \(found := _unsendable\(k, (where|None)\) if \(isinstance\(k, str\)\) or True",
        "Equivalent: a non-string key (an int index) holds nothing unsendable, so checking it finds nothing.",
    ),
    (
        "rh_tools/_core.py",
        "_unsendable",
        r"_unsendable\(k, None\)",
        "Equivalent: for a bad key only the problem text of the inner result is used; its position is rebuilt.",
    ),
    (
        "rh_tools/_core.py",
        "_with_task",
        r"err\.task_id is None or call\.task_id",
        "Equivalent in practice: an error of a call about task X that names a task names X itself.",
    ),
    (
        "rh_tools/_core.py",
        "decode_response",
        r"^body = None => body = \"\"",
        "Equivalent: in the non-JSON branch both paths raise before the body is read again.",
    ),
    (
        "rh_tools/_core.py",
        "refuse_unsendable",
        r"if \(body is not None\) or True",
        "Equivalent: checking None finds nothing unsendable.",
    ),
    ("rh_tools/_download.py", "*download_outputs", r'stream\("get"|encoding="UTF-8"', _CASE_CODEC),
    ("rh_tools/_download.py", "*download_outputs", r"iter_bytes\(", _CHUNK),
    (
        "rh_tools/_webhooks.py",
        "WebhookReceiver.start",
        r'headers\.get\("CONTENT-LENGTH"\)',
        "Equivalent: http.server header lookups are case-insensitive.",
    ),
    (
        "rh_tools/_webhooks.py",
        "WebhookReceiver.__init__",
        r"token_urlsafe\((17|None)\)",
        "Equivalent for security: 17 bytes, or the default 32, are as unguessable as 16 (the test checks the "
        "secret differs per receiver and has at least 16 characters).",
    ),
    (
        "rh_tools/_webhooks.py",
        "WebhookReceiver.__init__",
        r'self\._thread: threading\.Thread \| None = ""',
        "Equivalent: _thread is only assigned, never read as a truth value.",
    ),
    (
        "rh_tools/_webhooks.py",
        "WebhookReceiver.start",
        r'send_header\("(CONTENT-LENGTH|CONNECTION)"|headers\.get\("CONTENT-LENGTH"\)',
        "Equivalent: HTTP header names are case-insensitive.",
    ),
    (
        "rh_tools/_webhooks.py",
        "WebhookReceiver.deliver",
        r"popitem\(last=None\)",
        "Equivalent: None is falsy, like False (the oldest callback is dropped).",
    ),
    ("mcp_server/progress.py", "Heartbeat.*", r'= ""$|: Any = ""$|\| None = ""$', _PROGRESS_FALSY),
    (
        "rh_tools/_waiter.py",
        "Waiter.next_delay",
        r"expected is None and delay >= 0",
        "Equivalent: a zero delay only comes with initial <= 0, where the timetable gives zero too.",
    ),
    ("rh_tools/_core.py", "request_kwargs", r'"(user-agent|USER-AGENT|accept|ACCEPT)":', _HEADER_CASE),
    (
        "rh_tools/_core.py",
        "request_kwargs",
        r"form = |Multipart\(call\.upload|call\.auth [!=]= \"(XXbodyXX|BODY|body)\":",
        _BODY_AUTH_UPLOAD,
    ),
]

# Notes for each group of modules live in their own file (``mutation_notes_<group>.py``: client,
# decoding, transfer, surfaces), each with its own NOTES and PATTERNS, merged here; a file that is
# not there yet adds nothing.
for _group in ("client", "decoding", "transfer", "surfaces"):
    try:
        _module = __import__(f"mutation_notes_{_group}")
    except ModuleNotFoundError:
        continue
    NOTES.update(getattr(_module, "NOTES", {}))
    PATTERNS.extend(getattr(_module, "PATTERNS", []))
