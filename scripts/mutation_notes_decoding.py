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
NOTES[_key(_MEDIA, "MediaSource.from_path", _PEXT, 'ext = p.suffix.upper().lstrip(".")')] = (
    "Equivalent: ext is only used by _check_accept, which compares it lower-cased against lower-cased "
    "accepted extensions (and shows it in the refusal, where the case of an extension is no instruction)."
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
_CHANCE = "return min(1.0, self.initial / max(expected.mean, 1e-9))"
NOTES[_key(_POLL, "PollPolicy.chance", _CHANCE, _CHANCE.replace("min(1.0,", "min(2.0,"))] = (
    "Equivalent: a chance of 1 or more acts the same everywhere it is used: gap_for's share still running "
    "(1 - chance) is then <= 0 (the 1e9 sentinel either way), and next_delay takes min(0.5, 0.75 x chance)."
)
NOTES[
    _key(
        _POLL,
        "DurationHistory.seen_running",
        "self._census.setdefault(key, _Census()).note(task_id, age, done=False)",
        "self._census.setdefault(key, _Census()).note(task_id, age, done=None)",
    )
] = "Equivalent: `done` is only tested for truth in _Census.note; None and False are both false."
