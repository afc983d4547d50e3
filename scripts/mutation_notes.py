"""Why each surviving mutant of ``scripts/mutation.py`` may survive: an equivalent mutant, or why the
behaviour it changes does not matter. Keyed by ``<file>::<function>::<line before> => <line after>``
(the mutated line as mutmut shows it), so a note outlives mutmut's renumbering of mutants; the
script prints the key of every survivor that has no note yet.
"""

from __future__ import annotations

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

#: (file, function glob, regex over "<before> => <after>", note): for families of survivors that
#: share one reason (e.g. the wording of a log line). Checked after NOTES.
PATTERNS: list[tuple[str, str, str, str]] = [
    ("rh_tools/_core.py", "request_kwargs", r'"(user-agent|USER-AGENT|accept|ACCEPT)":', _HEADER_CASE),
    (
        "rh_tools/_core.py",
        "request_kwargs",
        r"form = |Multipart\(call\.upload|call\.auth [!=]= \"(XXbodyXX|BODY|body)\":",
        _BODY_AUTH_UPLOAD,
    ),
]
