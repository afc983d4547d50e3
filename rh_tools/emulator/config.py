"""Every knob of the emulator in one frozen dataclass, swapped atomically at runtime.

Why frozen: request handlers run on the server's event loop while tests call ``set_config`` from
another thread; replacing one immutable object is the cheapest way to make every read consistent.

Settings marked INFERRED model behaviour the public RunningHub material does not pin down; they are
knobs precisely so a test can flip to the other plausible behaviour.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "API_DURATIONS",
    "DURATION_DISTS",
    "CLI_DURATIONS",
    "KEY_KINDS",
    "KEY_RE",
    "OUTPUT_KINDS",
    "EmulatorConfig",
    "parse_duration_dist",
]

OUTPUT_KINDS = ("image", "video", "audio", "3d", "text")

#: Short run times for the Python API, so test suites stay fast.
API_DURATIONS: dict[str, float] = {"image": 0.2, "video": 0.5, "audio": 0.3, "3d": 0.5, "text": 0.1}
#: Real-ish but short run times for the command line (real images take seconds, videos minutes).
CLI_DURATIONS: dict[str, float] = {"image": 3.0, "video": 8.0, "audio": 4.0, "3d": 6.0, "text": 2.0}

#: Spreads of task run times ``duration_dist`` accepts (``name`` or ``name:parameter``).
DURATION_DISTS = ("uniform", "lognormal", "fixed")


def parse_duration_dist(spec: str, jitter: float = 0.0) -> tuple[str, float]:
    """``(kind, parameter)`` of a ``duration_dist`` spec; ``ValueError`` saying what is accepted.

    ``uniform:J``: value x U(1 - J, 1 + J) (``uniform`` alone: J = ``jitter``); ``lognormal:S``:
    value x exp(S x N(0, 1)), so the value is the median and S the spread of log run times (0.8:
    a quarter of the tasks take under 0.58x the median, a quarter over 1.7x, one in twenty over
    3.7x); ``fixed``: exactly the value.
    """
    kind, sep, arg = str(spec).strip().lower().partition(":")
    usage = "duration_dist must be 'uniform[:J]' (0 <= J < 1), 'lognormal:SIGMA' (0 < SIGMA <= 3) or 'fixed'"
    if kind not in DURATION_DISTS or (kind == "fixed" and sep):
        raise ValueError(f"{usage}, not {spec!r}")
    if kind == "fixed":
        return kind, 0.0
    if not sep:
        if kind == "lognormal":
            raise ValueError(f"{usage}, not {spec!r}: give the spread, e.g. 'lognormal:0.8'")
        return kind, jitter
    try:
        value = float(arg)
    except ValueError:
        raise ValueError(f"{usage}, not {spec!r}") from None
    if (kind == "uniform" and not 0 <= value < 1) or (kind == "lognormal" and not 0 < value <= 3):
        raise ValueError(f"{usage}, not {spec!r}")
    return kind, value


#: The key kinds of the RunningHub console (Consumer, Enterprise-Shared, Enterprise-Exclusive).
KEY_KINDS = ("consumer", "enterprise-shared", "enterprise-exclusive")

#: RunningHub issues 32-character keys; every one seen is hexadecimal.
KEY_RE = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(frozen=True)
class EmulatorConfig:
    """Behaviour of one emulator instance (see ``Emulator`` for how to pass and change it)."""

    # --- timing -----------------------------------------------------------------------------
    durations: Mapping[str, float] = field(default_factory=lambda: dict(API_DURATIONS))
    #: Per-endpoint run time overriding ``durations`` (key: path after /openapi/v2/, or "workflow"/"ai-app").
    endpoint_durations: Mapping[str, float] = field(default_factory=dict[str, float])
    #: Seconds a task that got a slot still reports QUEUED before RUNNING (0: RUNNING at submit).
    queue_seconds: float = 0.05
    #: Run times vary by +/- this fraction, drawn from an RNG seeded with ``seed``.
    jitter: float = 0.0
    seed: int | None = 0
    #: How run times spread around their configured value (see :func:`parse_duration_dist`):
    #: "uniform" (+/- ``jitter``), "uniform:0.3", "lognormal:0.8" (median = the configured value;
    #: real task times, queues included, are heavy-tailed) or "fixed". Drawn per key and endpoint
    #: from generators seeded with ``seed``: the n-th task a key submits to an endpoint gets the
    #: same run time in every run (and under every key), whatever else draws random numbers.
    duration_dist: str = "uniform"

    # --- keys -------------------------------------------------------------------------------
    #: None: any well-formed key (32 hex chars) is accepted; otherwise only these.
    keys: frozenset[str] | None = None
    #: Keys that authenticate but are not Enterprise-Shared: Standard Model calls answer "1014".
    wrong_kind_keys: frozenset[str] = frozenset()
    #: Key kind per key: "enterprise-shared" (default: wallet money, may call the Standard Model API),
    #: "consumer" (pays RH coins; Standard Model calls answer 1014) or "enterprise-exclusive" (own
    #: machines; 1014 too). Workflow/AI-app usage reports money or coins accordingly.
    key_kinds: Mapping[str, str] = field(default_factory=dict[str, str])
    #: Keys of the *other* site: every route refuses them with HTTP 401 and
    #: {"code": -1, "msg": "ApiKey verification failed"} (the answer public notes report; S08, S19).
    foreign_keys: frozenset[str] = frozenset()
    #: Enterprise-Shared keys refused when the key also travels in the body (or form) of a legacy
    #: call, accepted with the Bearer header alone (public notes, S09). INFERRED: whether every
    #: Enterprise-Shared key behaves so is not known, hence opt-in per key.
    bearer_only_keys: frozenset[str] = frozenset()
    #: INFERRED: whether /uc/openapi/accountStatus also reads camelCase ``apiKey`` from the body.
    #: The documented field is lowercase ``apikey``; a third-party SDK's test insists on it, so off.
    account_status_accepts_camel_key: bool = False

    # --- capacity -----------------------------------------------------------------------------
    #: Tasks running at once per key (Enterprise keys: 50 by default per secondary sources).
    concurrency: int = 50
    #: INFERRED: tasks allowed to wait (QUEUED) beyond ``concurrency`` before submits get 421.
    queue_limit: int = 0
    #: Per-key overrides, e.g. ``{"<key>": {"concurrency": 1, "queue_limit": 3, "balance": 0}}``.
    key_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict[str, Mapping[str, Any]])
    #: INFERRED: HTTP status of a 421 TASK_QUEUE_MAXED answer (fixtures only ever show 200).
    queue_full_http_status: int = 200

    # --- rate limit (off by default; no numeric limit is documented) --------------------------
    rate_limit: float | None = None  # requests per second per key
    rate_limit_burst: int | None = None  # default: max(1, ceil(rate_limit))
    #: INFERRED: 1003 and HTTP 429 are both documented, their combination is not. 200 = body only.
    rate_limit_http_status: int = 429
    #: Seconds for a Retry-After header on rate-limit answers; None (the default) sends none:
    #: RunningHub documents no Retry-After, so a client must not depend on one (opt in to test it).
    rate_limit_retry_after: float | None = None

    # --- outcomes -----------------------------------------------------------------------------
    #: True: every submit is already SUCCESS (the API occasionally answers so); or a set of paths.
    instant_success: bool | frozenset[str] = False
    #: Probability that a task ends FAILED with ``failure_code`` (seeded RNG).
    failure_rate: float = 0.0
    failure_code: str = "1501"
    #: File extension used for each output kind (must be one the emulator has a sample for).
    output_formats: Mapping[str, str] = field(
        default_factory=lambda: {"image": "png", "video": "mp4", "audio": "mp3", "3d": "glb"}
    )
    #: Upper bound on results a single task returns when the body asks for several (maxImages ...).
    max_results: int = 8

    # --- money ----------------------------------------------------------------------------------
    #: Starting wallet balance (CNY) per key; balance <= 0 makes submits fail with 416.
    balance: float = 1000.0
    remain_coins: int = 0
    currency: str = "CNY"
    api_type: str = "NORMAL"
    #: INFERRED: "apiKeyType" reported by /openapi/v2/queue/status.
    api_key_type: str = "ENTERPRISE_SHARED"
    #: Whether a SUCCESS deducts its price from the balance (INFERRED: charged on success only).
    charge: bool = True
    #: Price per result (CNY) by output kind; video is scaled by its requested duration / 5 s.
    prices: Mapping[str, float] = field(
        default_factory=lambda: {"image": 0.14, "video": 0.8, "audio": 0.2, "3d": 0.6, "text": 0.02}
    )
    #: INFERRED: v2 errorCode for an empty wallet (the legacy code is 416).
    insufficient_balance_code: str = "416"

    # --- validation -----------------------------------------------------------------------------
    #: INFERRED: reject strings for INT/FLOAT/BOOLEAN params and a bare string for array media fields.
    strict_types: bool = True
    #: INFERRED: '##' media slots taking a fileName must name a file this emulator issued.
    strict_file_names: bool = True

    # --- uploads --------------------------------------------------------------------------------
    #: INFERRED: the v2 binary upload's size limit is undocumented (legacy upload: 30 MB).
    upload_max_mb: float = 100.0
    legacy_upload_max_mb: float = 30.0
    #: Lifetime of signed result/upload URLs (about a day on the real service).
    url_ttl_seconds: float = 24 * 3600.0
    #: Serve result and upload files from a second listener (another port), as the real service
    #: serves them from CDN hosts, not from the API host. False: from the API origin.
    separate_cdn: bool = True
    #: RH coins a consumer key's workflow/AI-app task costs per second of run time (rounded up).
    coins_per_second: float = 0.5

    # --- webhooks -------------------------------------------------------------------------------
    webhook_timeout: float = 5.0
    #: Wait before each retry; its length is the number of retries (the service reports 3).
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0)

    # --- legacy workflow / AI-app catalogue (None: the built-in samples) --------------------------
    workflows: Mapping[str, Mapping[str, Any]] | None = None
    webapps: Mapping[str, Mapping[str, Any]] | None = None
    #: INFERRED: whether /task/openapi/cancel also cancels Standard Model tasks (undocumented).
    cancel_standard_tasks: bool = True

    # --- bookkeeping ----------------------------------------------------------------------------
    #: Terminal tasks kept for queries; the oldest are forgotten beyond this (memory stays bounded).
    max_tasks: int = 100_000

    def __post_init__(self) -> None:
        # Normalise collections so callers may pass lists, and check ranges once, here. (The field
        # types say what each holds afterwards, hence the isinstance checks pyright calls needless.)
        set_ = object.__setattr__
        if self.keys is not None and not isinstance(self.keys, frozenset):  # pyright: ignore[reportUnnecessaryIsInstance]
            set_(self, "keys", frozenset(self.keys))
        for name in ("wrong_kind_keys", "foreign_keys", "bearer_only_keys"):
            if not isinstance(getattr(self, name), frozenset):
                set_(self, name, frozenset(getattr(self, name)))
        bad_kinds = set(self.key_kinds.values()) - set(KEY_KINDS)
        if bad_kinds:
            raise ValueError(f"key_kinds: unknown kinds {sorted(bad_kinds)}; use {KEY_KINDS}")
        inst = self.instant_success
        if isinstance(inst, str):
            set_(self, "instant_success", frozenset({inst}))
        elif isinstance(inst, Collection) and not isinstance(inst, frozenset):  # pyright: ignore[reportUnnecessaryIsInstance]
            set_(self, "instant_success", frozenset(inst))
        merged = dict(API_DURATIONS)
        merged.update(self.durations)
        set_(self, "durations", merged)
        set_(self, "webhook_retry_delays", tuple(self.webhook_retry_delays))
        for name in ("concurrency", "queue_limit", "max_results", "max_tasks"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a fraction in [0, 1)")
        parse_duration_dist(self.duration_dist, self.jitter)  # raises ValueError on a bad spec
        if not 0 <= self.failure_rate <= 1:
            raise ValueError("failure_rate must be in [0, 1]")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be > 0 requests/second (or None)")
        unknown = set(self.durations) - set(OUTPUT_KINDS)
        if unknown:
            raise ValueError(f"durations: unknown output kinds {sorted(unknown)}; use {OUTPUT_KINDS}")

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied; unknown names raise ``TypeError`` listing the valid ones."""
        names = {f.name for f in dataclasses.fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise TypeError(f"unknown emulator setting(s) {bad}; valid: {sorted(names)}")
        if "durations" in changes and changes["durations"] is None:
            del changes["durations"]
        if "durations" in changes:
            merged = dict(self.durations)
            merged.update(changes["durations"])
            changes["durations"] = merged
        return dataclasses.replace(self, **changes)

    def key_setting(self, key: str, name: str) -> Any:
        """A per-key override (``key_overrides``) or the instance-wide value."""
        over = self.key_overrides.get(key)
        if over and name in over:
            return over[name]
        return getattr(self, name)

    def accepts_key(self, key: str | None) -> bool:
        """Whether ``key`` authenticates at all (well-formed, and pinned if ``keys`` is set)."""
        if not key or not KEY_RE.match(key) or key in self.foreign_keys:
            return False
        return (
            self.keys is None
            or key in self.keys
            or key in self.wrong_kind_keys
            or key in self.key_kinds
            or key in self.bearer_only_keys
        )

    def key_kind(self, key: str) -> str:
        """The kind of ``key`` ("enterprise-shared" unless listed otherwise)."""
        if key in self.wrong_kind_keys:
            return self.key_kinds.get(key, "consumer")
        return self.key_kinds.get(key, "enterprise-shared")
