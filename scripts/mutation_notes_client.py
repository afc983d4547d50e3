"""Why each surviving mutant of the "client" group (``rh_tools/_core.py``, ``rh_tools/_waiter.py``) may
survive the final mutation run of issue #16: an equivalent mutant, or why the behaviour it changes
cannot be seen. Same shapes as ``scripts/mutation_notes.py`` (which merges this file in): NOTES keyed
by ``<file>::<function>::<line before> => <line after>``, PATTERNS as (file, function glob, regex
over "<before> => <after>", note). The tests that kill the others are in tests/test_mutation_client.py.
"""

from __future__ import annotations

_CORE = "rh_tools/_core.py"
_WAITER = "rh_tools/_waiter.py"

NOTES: dict[str, str] = {}

# The upload branch of request_kwargs: the one upload call (``_calls.upload_call``, the v2 binary
# upload) authenticates with Bearer and has no form fields. (Its ``if call.auth == "body" and
# body_key:`` line has a twin in the JSON-body branch above it, whose mutants the legacy-call tests
# kill; a survivor with this text is the upload one.)
_UPLOAD_NO_BODY_KEY = (
    "Equivalent: the only upload call (_calls.upload_call) authenticates with Bearer, so body_key is False "
    "and the key never goes into an upload's form, however this test is written."
)
_UPLOAD_NO_FIELDS = (
    "Equivalent: the only upload call (_calls.upload_call) has no form fields, and Multipart reads "
    "`fields or {}`, so None, an empty dict and no argument build the same body."
)
for _before, _after, _note in (
    (
        "async_: bool = False,",
        "async_: bool = True,",
        (
            "Equivalent: both callers of request_kwargs that may build an upload pass async_ explicitly "
            "(the twins' _kwargs); the one that relies on the default asks the account call, which has no "
            "streamed body for async_ to choose."
        ),
    ),
    ("form = dict(call.form)", "form = None", _UPLOAD_NO_FIELDS),
    ("mp = Multipart(call.upload, form)", "mp = Multipart(call.upload, None)", _UPLOAD_NO_FIELDS),
    ("mp = Multipart(call.upload, form)", "mp = Multipart(call.upload, )", _UPLOAD_NO_FIELDS),
    *(
        ('if call.auth == "body" and body_key:', after, _UPLOAD_NO_BODY_KEY)
        for after in (
            'if call.auth == "body" or body_key:',
            'if call.auth != "body" and body_key:',
            'if call.auth == "XXbodyXX" and body_key:',
            'if call.auth == "BODY" and body_key:',
        )
    ),
):
    NOTES[f"{_CORE}::request_kwargs::{_before} => {_after}"] = _note

PATTERNS: list[tuple[str, str, str, str]] = [
    (_CORE, "scrub_answer", r'encode\("UTF-8"\)', "Equivalent: Python codec names are case-insensitive."),
    (
        _CORE,
        "scrub_answer",
        r"json\.dumps\(clean, (ensure_ascii=(None|True)|)\)",
        "Equivalent: the re-encoded body is only ever read back with json.loads (decode_response), to which "
        "an ASCII-escaped and a UTF-8 encoding of the same JSON are the same value.",
    ),
    (
        _CORE,
        "scrub_answer",
        r'if b"\\\\u" in content or _SECRETS:',
        "Equivalent: the body is re-encoded only when cleaning changed it. Without a \\u escape the literal "
        "replacement just above has already removed every key (API keys are letters and digits, which JSON can "
        "spell differently only with \\u escapes); with no key registered cleaning changes nothing. Either way the "
        "answer comes back byte for byte.",
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"if history or key else None",
        "Equivalent: the client always builds its Waiter with a history (a key may be None: a wait on a bare "
        "task id, the first look of a resumed wait), and nothing is ever recorded under no key (every "
        "record/seen_* call checks history_key), so history.expect(None) finds no samples and returns None "
        "like the guard.",
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"next_delay\(target, (self\._prev_delay|delay), None\) => .*next_delay\(target, (self\._prev_delay|delay), \)",
        "Equivalent: PollPolicy.next_delay's `expected` parameter defaults to None, the value dropped here.",
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"self\._prev_delay = None$",
        "Equivalent: this branch runs only with poll_interval <= 0, where PollPolicy.next_delay returns 0 "
        "without reading the previous delay (its first line), so what is remembered here is never read.",
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"self\.policy\.next_delay\(age, None, expected\)",
        "Equivalent: with an expectation (this is the warm branch) PollPolicy.next_delay never reads "
        "`previous`; only its cold branch does.",
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"if history or key and delay > 0:|if history and key and delay >= 0:",
        "Equivalent: the client's Waiter always has a history; with no key, census(None, ...) is (0, 0) "
        "because nothing is ever noted under no key, so nothing is skipped; and delay is always > 0 here "
        "(a zero delay returned early, and warm delays are at least the policy's floor).",
    ),
    (
        _WAITER,
        "Waiter._observe",
        r"^self\._skipped = False => self\._skipped = None$",
        "Equivalent: _skipped is only read as a truth value (`if self._warm or self._skipped`), where None "
        "and False are the same.",
    ),
    (
        _WAITER,
        "Waiter._observe",
        r"if self\.history or self\.history_key:",
        "Not visible: the client's Waiter always has a history, so this only differs with no key (a wait on "
        "a bare task id, the first look of a resumed wait, which must not learn): the duration is then "
        "recorded under the key None, which nothing ever reads (expect and census are asked with a key "
        "only), and no endpoint's timings change.",
    ),
    (
        _WAITER,
        "Waiter.*",
        r"self\.policy\.skips\(None, ",
        "Equivalent: PollPolicy.skips decides from the census counts alone (census(key, age) has already "
        "applied the age); its age parameter is not read.",
    ),
    (
        _CORE,
        "decode_response",
        r'if call\.kind == "submit" or err\.task_id is None:',
        "Equivalent in practice: the answer readers in _calls raise a submit's errors without a task id "
        "(None), so for a submit both versions read the id from the answer (code 805, whose TaskFailedError "
        'carries "" instead, answers only the outputs query, never a submit). For any other call an error '
        "answer names no task or the task the call is about, which _with_task fills in next anyway.",
    ),
    (
        _CORE,
        "legacy_auth_fallback",
        r"message_zh or 'XXXX'\}",
        'Equivalent: the placeholder only stands in for a missing second half, and neither "" nor "XXXX" '
        'contains "verification failed".',
    ),
    (
        _CORE,
        "redirect_target",
        r'\((src|dst)\.hostname or "XXXX"\)',
        "Equivalent: the request URL always has a host (httpx refuses to send a URL without one), so "
        "src.hostname is never empty; a target without a host then differs from it whether its empty host "
        'reads "" or "XXXX" (tests/test_mutation_client.py checks such a target is refused).',
    ),
    (
        _CORE,
        "retry_delay",
        r"error\.status_code == 430",
        "Equivalent: every error decoded from an HTTP 429 is a RateLimitError (decode_response's _status_wins "
        "makes it one whatever the body code), which the last clause of the same test allows anyway.",
    ),
    (
        _CORE,
        "check_task_id",
        r'else "XXXX"$',
        'Equivalent: a value that is neither a string nor an int is refused either way ("" and "XXXX" both '
        "fail the 16-19 digit pattern), and the message shows repr(task_id), not this text.",
    ),
    (
        _CORE,
        "scrub_error",
        r"if \(isinstance\(a, str\)\) or True",
        "Equivalent: every error class passes exactly one string (its message) to Exception.__init__, so "
        "err.args never holds a non-string that the check would let through unredacted.",
    ),
    # Survivors of the final run (at 35a060d) killed by tests added after it had started; each was checked
    # with a single-mutant run (MUTANT_UNDER_TEST, tests/test_mutation_client.py); the next run counts them.
    *(
        (_WAITER, "Waiter.next_delay", regex, f"Killed since the final run by tests/test_mutation_client.py::{test}.")
        for regex, test in (
            (
                r"target \+= self\.policy\.next_delay\(target, delay, expected\) => "
                r"target \+= self\.policy\.next_delay\((target, None, expected|delay, expected|target, expected)\)",
                "test_polls_skipped_ahead_land_on_the_cold_timetable",
            ),
            (
                r"^if delay >= remaining: => if delay > remaining:$",
                "test_a_poll_planned_exactly_at_the_deadline_is_the_last",
            ),
        )
    ),
    (
        _WAITER,
        "Waiter.next_delay",
        r"target \+= self\.policy\.next_delay\(target, delay, expected\) => .*next_delay\(target, delay, (None|)\)",
        "Killed since the final run by tests/test_mutation_client.py::"
        "test_warm_polls_skipped_ahead_land_on_the_learnt_schedule (both mutants applied by hand: 4 of 4 cases fail).",
    ),
]
