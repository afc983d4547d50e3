"""Why each surviving mutant of the "decoding" modules (``_exceptions``, ``_polling``, ``_media``) may
survive: merged into ``scripts/mutation_notes.py`` (same shapes: NOTES keyed by
``<file>::<function>::<line before> => <line after>``, PATTERNS checked after them).

Only equivalent mutants and changes no caller can see are explained here; every survivor that
changed what an agent, a user or the service sees was killed by a test instead
(tests/test_mutation_decoding.py).
"""

from __future__ import annotations

_EXC = "rh_tools/_exceptions.py"
_POLL = "rh_tools/_polling.py"
_MEDIA = "rh_tools/_media.py"

_CODEC = "Equivalent: Python codec names are case-insensitive ('UTF-8' is 'utf-8')."
_RE_I = "Equivalent: the pattern is matched with re.I, so the case of its letters does not matter."


def _key(file: str, function: str, before: str, after: str) -> str:
    return f"{file}::{function}::{before} => {after}"


NOTES: dict[str, str] = {}

# ------------------------------------------------------------------ _media

_EXT = 'ext = (Path(name).suffix.lower().lstrip(".") if name else None) or sniff_extension(data[:16]) or "bin"'
NOTES[_key(_MEDIA, "MediaSource.from_bytes", _EXT, _EXT.replace('lstrip(".")', 'lstrip("XX.XX")'))] = (
    "Equivalent: lstrip takes a set of characters, and the suffix was lower-cased first, so the extra 'X' "
    "never matches (only the '.' is stripped, as before)."
)
NOTES[_key(_MEDIA, "MediaSource.from_bytes", _EXT, _EXT.replace("data[:16]", "data[:17]"))] = (
    "Equivalent: sniff_extension reads at most the first 12 bytes (the WEBP/MOV brand at 8..12), so a "
    "17-byte head decides the same as a 16-byte one."
)
_PEXT = 'ext = p.suffix.lower().lstrip(".")'
NOTES[_key(_MEDIA, "MediaSource.from_path", _PEXT, 'ext = p.suffix.lower().lstrip("XX.XX")')] = (
    "Equivalent: lstrip takes a set of characters and the suffix is lower-cased first, so 'X' never matches."
)
_FNAME = 'fname = name or Path(getattr(fh, "name", "") or f"upload-{uuid.uuid4().hex[:12]}.bin").name'
NOTES[_key(_MEDIA, "MediaSource.from_fileobj", _FNAME, _FNAME.replace('"name", "")', '"name", None)'))] = (
    "Equivalent: the default is only tested for truth (`or` the generated name); None and '' are both false."
)

PATTERNS: list[tuple[str, str, str, str]] = [
    (_MEDIA, "Multipart.__init__", r'(encode|decode)\("UTF-8"', _CODEC),
    (_MEDIA, "classify_media", r"\^HTTPS\?://|\^\[A-Z\]\[A-Z0-9", _RE_I),
    (
        _MEDIA,
        "MediaSource.from_*",
        r'or "APPLICATION/OCTET-STREAM"$',
        "Equivalent: MIME types are case-insensitive (RFC 2045 section 5.1); the fallback type of an unknown "
        "extension reaches the service as the same type (the test reads it back with the standard library's "
        "MIME parser, which compares types the same way).",
    ),
    (
        _MEDIA,
        "classify_media",
        r'^media_ref: str = "url", => media_ref: str = "(XXurlXX|URL)",$',
        "Equivalent: media_ref is only compared with 'file_name'; any other value means 'send URLs, upload "
        "files', the default's meaning.",
    ),
]

# ------------------------------------------------------------------ _polling

_GAP_IF = "if self.median is None or not self.sigma or chance <= 0:"
NOTES[_key(_POLL, "Expectation.gap_for", _GAP_IF, _GAP_IF.replace("chance <= 0", "chance < 0"))] = (
    "Equivalent: with chance 0 the formula gives the same 0 (up to rounding): the share of tasks still "
    "running is then the share running at `age`, whose duration is `age` itself."
)
NOTES[_key(_POLL, "Expectation.gap_for", "if left <= 1e-12:", "if left < 1e-12:")] = (
    "Equivalent in practice: `left` exactly 1e-12 is a measure-zero case, and the normal quantile there "
    "(about 7 sigma) gives a gap that callers cap at max(initial, tail_ratio x age) like the 1e9 sentinel."
)
NOTES[_key(_POLL, "Expectation.gap_for", "return 1e9", "return 1000000001.0")] = (
    "Equivalent: 1e9 only means 'not within any useful time'; the one caller (PollPolicy.step) takes the "
    "minimum with max(initial, tail_ratio x age), so any value that large gives the same step."
)
NOTES[
    _key(
        _POLL,
        "DurationHistory.seen_running",
        "self._census.setdefault(key, _Census()).note(task_id, age, done=False)",
        "self._census.setdefault(key, _Census()).note(task_id, age, done=None)",
    )
] = "Equivalent: `done` is only tested for truth in _Census.note; None and False are both false."

# ------------------------------------------------------------------ _exceptions
# (exact notes: scripts/mutation_notes.py still has catch-all GAP patterns for these functions from
# the first wave, and exact notes are looked up before any pattern)

NOTES[
    _key(
        _EXC,
        "TaskFailedError.from_task",
        "info = CODES.get(n) if n is not None else None",
        "info = CODES.get(n) if (n is not None) or True else None",
    )
] = "Equivalent: CODES.get(None) is None."
_WORDS = "f\"{reason.get('exception_type', '')} {reason.get('exception_message', '')}\""
for _field in ("exception_type", "exception_message"):
    for _default in ("None", "", "'XXXX'"):
        _after = _WORDS.replace(f"'{_field}', ''", f"'{_field}', {_default}")
        NOTES[_key(_EXC, "TaskFailedError.from_task", _WORDS, _after)] = (
            "Equivalent: the default only stands in for a missing field in the text searched for signs of a "
            "passing failure (out of memory, CUDA error, timeout); 'None' and 'XXXX' contain none of those "
            "words, so a reason without that field is judged the same."
        )
NOTES[_key(_EXC, "TaskFailedError.from_task", "retryable = False", "retryable = None")] = (
    "Equivalent: retryable=None means the class default, and TaskFailedError's default_retryable is False."
)
NOTES[
    _key(
        _EXC,
        "is_key_refusal",
        'return err.status_code in (401, 403) or "verification failed" in (err.message or "").lower()',
        'return err.status_code in (401, 403) or "verification failed" in (err.message or "XXXX").lower()',
    )
] = "Equivalent: the default only replaces an empty message, and 'xxxx' does not contain 'verification failed'."
NOTES[_key(_EXC, "error_for_code", 'stripped = (message or "").strip()', 'stripped = (message or "XXXX").strip()')] = (
    "Equivalent: 'XXXX' is no code identifier of the table and does not contain 'verification failed', so an "
    "absent message maps to no code, as an empty one does (`stripped` is used for nothing else)."
)
NOTES[_key(_EXC, "failure_summary", 'where = ""', "where = None")] = (
    "Equivalent: `where` is only joined after an `if p` filter, which drops None and '' alike."
)
NOTES[
    _key(
        _EXC,
        "error_for_code",
        "cls, retryable = _class_for_unknown(f\"{en} {zh or ''}\", status_code)",
        "cls, retryable = _class_for_unknown(f\"{en} {zh or 'XXXX'}\", status_code)",
    )
] = (
    "Equivalent: the default only stands in for a missing Chinese half in the text classified by words, "
    "and 'XXXX' matches none of the word classes (key, balance, busy, content, timeout, file)."
)
NOTES[
    _key(
        _EXC,
        "error_for_code",
        'return TaskFailedError.from_task(task_id or "", "FAILED", n, message, details)',
        'return TaskFailedError.from_task(task_id or "", None, n, message, details)',
    )
] = (
    "Equivalent: this branch is only taken for a code whose class is TaskFailedError (805), whose table "
    "text always gives the message, so the status is never shown; from_task reads it only to tell CANCEL "
    "apart and stores `status or 'FAILED'` (the test checks status == 'FAILED')."
)
_TAIL = "tail = [line.strip() for line in text.splitlines() if line.strip() and not line[:1].isspace()]"
NOTES[_key(_EXC, "_strip_traceback", _TAIL, _TAIL.replace("line[:1]", "line[:2]"))] = (
    "Equivalent for the tracebacks Python prints: frame lines are indented by two spaces and code lines by "
    "four, so their first one and first two characters are both whitespace; only a line indented by a "
    "single character would be read differently, and no traceback has one."
)
