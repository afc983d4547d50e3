"""Client settings with one precedence rule: explicit argument > ``RUNNINGHUB_*`` environment > default.

Nothing here touches the network or fails at import; a missing API key is only an error when a
request needs it, so catalogue browsing and the emulator demo work without one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _constants as C
from ._exceptions import ConfigurationError
from ._polling import PollPolicy
from ._version import __version__

__all__ = ["LEGACY_AUTH_MODES", "ClientConfig", "LegacyAuth", "Secret"]

# How the key travels on the legacy /task, /api and /uc routes: "both" = body field + Bearer header
# (the docs and official clients put it in the body; newer doc pages add Bearer), "bearer" = header
# only (what Enterprise-Shared keys need, see ClientConfig.legacy_auth), "body" = body field only.
LegacyAuth = Literal["both", "bearer", "body"]
LEGACY_AUTH_MODES: tuple[LegacyAuth, ...] = ("both", "bearer", "body")


class Secret:
    """Holds the API key so that repr(), str(), logs and tracebacks never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # pickling would write the key out; refuse
        raise TypeError("Secret values cannot be pickled")


def _env_float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(C.ENV_PREFIX + name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{C.ENV_PREFIX}{name}={raw!r} is not a number") from None


def _pick(explicit: Any, env_value: Any, default: Any) -> Any:
    if explicit is not None:
        return explicit
    return env_value if env_value is not None else default


@dataclass(frozen=True)
class ClientConfig:
    """Resolved settings of one client. Build it with :meth:`resolve`."""

    api_key: Secret | None
    base_url: str
    timeout: float = C.DEFAULT_TIMEOUT
    connect_timeout: float = C.DEFAULT_CONNECT_TIMEOUT
    max_retries: int = C.DEFAULT_MAX_RETRIES
    wait_timeout: float = C.DEFAULT_WAIT_TIMEOUT
    poll: PollPolicy = field(default_factory=PollPolicy)
    user_agent: str = f"rh-tools/{__version__}"
    #: Legacy-route auth. Default "both": what the docs show and official clients send. Public notes
    #: (tests/fixtures/real/README.md) report that an Enterprise-Shared key sent in the body of a
    #: legacy call is refused with "ApiKey verification failed" while Bearer alone works; the client
    #: then falls back to "bearer" once by itself, so this setting only saves that first refusal.
    legacy_auth: LegacyAuth = "both"
    #: Base URL of each site. Keys belong to one site; on a key refusal the client asks the other
    #: site (free account call) whether the key is its own, to say "set RUNNINGHUB_SITE=cn".
    site_urls: Mapping[str, str] = field(default_factory=lambda: dict(C.BASE_URLS))
    # Fetching outputs (download(), previews): largest file and longest time per output.
    max_download_mb: float = C.DEFAULT_MAX_DOWNLOAD_MB
    download_timeout: float = C.DEFAULT_DOWNLOAD_TIMEOUT

    @property
    def site(self) -> str:
        """'ai', 'cn' or 'custom': which entry of ``site_urls`` the base URL is."""
        for name, url in self.site_urls.items():
            if url.rstrip("/") == self.base_url:
                return name
        return "custom"

    def key(self) -> str:
        """The API key, or a ConfigurationError telling how to set one."""
        if self.api_key is None:
            raise ConfigurationError(
                "No RunningHub API key",
                hint="Set RUNNINGHUB_API_KEY or pass api_key=; to try rh-tools without one, run `rh-tools demo` "
                "(it starts the built-in emulator).",
            )
        return self.api_key.get()

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        site: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        max_retries: int | None = None,
        wait_timeout: float | None = None,
        poll_interval: float | None = None,
        poll_max_interval: float | None = None,
        legacy_auth: str | None = None,
        site_urls: Mapping[str, str] | None = None,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        env = os.environ if env is None else env
        sites = _site_urls(site_urls, env)
        key = api_key if api_key is not None else env.get(C.ENV_PREFIX + "API_KEY")
        key = key.strip() if key else None
        if key and any(ch.isspace() or ord(ch) < 32 for ch in key):
            raise ConfigurationError("The API key contains whitespace or control characters")

        if site is not None and site not in sites:
            raise ConfigurationError(f"site must be one of {sorted(sites)}, not {site!r}")
        explicit_url = base_url or (sites[site] if site else None)
        env_site = env.get(C.ENV_PREFIX + "SITE")
        if env_site and env_site not in sites:
            raise ConfigurationError(f"{C.ENV_PREFIX}SITE must be one of {sorted(sites)}, not {env_site!r}")
        env_url = env.get(C.ENV_PREFIX + "BASE_URL") or (sites[env_site] if env_site else None)
        url = str(_pick(explicit_url, env_url, sites[C.DEFAULT_SITE])).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base URL must start with http:// or https://, not {url!r}")
        # People paste the API prefix too; the client adds paths itself.
        for suffix in ("/openapi/v2", "/openapi"):
            url = url.removesuffix(suffix)

        retries_env = _env_float(env, "MAX_RETRIES")
        poll_defaults = PollPolicy()
        poll = PollPolicy(
            initial=float(_pick(poll_interval, _env_float(env, "POLL_INTERVAL"), poll_defaults.initial)),
            max_interval=float(
                _pick(poll_max_interval, _env_float(env, "POLL_MAX_INTERVAL"), poll_defaults.max_interval)
            ),
        )
        config = cls(
            api_key=Secret(key) if key else None,
            base_url=url,
            timeout=float(_pick(timeout, _env_float(env, "TIMEOUT"), C.DEFAULT_TIMEOUT)),
            connect_timeout=float(_pick(connect_timeout, None, C.DEFAULT_CONNECT_TIMEOUT)),
            max_retries=int(
                _pick(max_retries, int(retries_env) if retries_env is not None else None, C.DEFAULT_MAX_RETRIES)
            ),
            wait_timeout=float(_pick(wait_timeout, _env_float(env, "WAIT_TIMEOUT"), C.DEFAULT_WAIT_TIMEOUT)),
            poll=poll,
            legacy_auth=_legacy_auth(_pick(legacy_auth, env.get(C.ENV_PREFIX + "LEGACY_AUTH") or None, "both")),
            site_urls=sites,
            max_download_mb=float(
                _pick(max_download_mb, _env_float(env, "MAX_DOWNLOAD_MB"), C.DEFAULT_MAX_DOWNLOAD_MB)
            ),
            download_timeout=float(
                _pick(download_timeout, _env_float(env, "DOWNLOAD_TIMEOUT"), C.DEFAULT_DOWNLOAD_TIMEOUT)
            ),
        )
        if config.max_download_mb <= 0 or config.download_timeout <= 0:
            raise ConfigurationError("max_download_mb and download_timeout must be > 0")
        if config.max_retries < 0 or config.timeout <= 0 or config.wait_timeout < 0:
            raise ConfigurationError("max_retries must be >= 0, timeout > 0 and wait_timeout >= 0")
        return config


def _legacy_auth(value: Any) -> LegacyAuth:
    mode = str(value).strip().lower()
    for known in LEGACY_AUTH_MODES:
        if mode == known:
            return known
    raise ConfigurationError(
        f"legacy_auth ({C.ENV_PREFIX}LEGACY_AUTH) must be one of {list(LEGACY_AUTH_MODES)}, not {value!r}"
    )


def _site_urls(explicit: Mapping[str, str] | None, env: Mapping[str, str]) -> dict[str, str]:
    """Site -> base URL: argument > RUNNINGHUB_AI_BASE_URL / RUNNINGHUB_CN_BASE_URL > the real hosts."""
    sites = dict(C.BASE_URLS)
    for name in C.BASE_URLS:
        from_env = env.get(f"{C.ENV_PREFIX}{name.upper()}_BASE_URL")
        if from_env:
            sites[name] = from_env
    sites.update(explicit or {})
    for name, url in sites.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"the base URL of site {name!r} must start with http:// or https://, not {url!r}")
        sites[name] = url.rstrip("/")
    return sites
