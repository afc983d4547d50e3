"""Config precedence: explicit argument > RUNNINGHUB_* environment > default."""

from __future__ import annotations

import pickle

import pytest

from rh_tools import ConfigurationError, RunningHub
from rh_tools._config import ClientConfig

KEY = "feedfacecafebeef0123456789abcdef"


def test_defaults_without_env() -> None:
    c = ClientConfig.resolve(env={})
    assert c.base_url == "https://www.runninghub.ai"
    assert c.api_key is None
    assert c.max_retries == 3 and c.wait_timeout == 900.0


def test_env_beats_default_and_argument_beats_env() -> None:
    env = {
        "RUNNINGHUB_API_KEY": KEY,
        "RUNNINGHUB_BASE_URL": "https://www.runninghub.cn/",
        "RUNNINGHUB_TIMEOUT": "12",
        "RUNNINGHUB_MAX_RETRIES": "5",
        "RUNNINGHUB_WAIT_TIMEOUT": "30",
        "RUNNINGHUB_POLL_INTERVAL": "0",
    }
    c = ClientConfig.resolve(env=env)
    assert (c.key(), c.base_url, c.timeout, c.max_retries, c.wait_timeout, c.poll.initial) == (
        KEY,
        "https://www.runninghub.cn",
        12.0,
        5,
        30.0,
        0.0,
    )
    c2 = ClientConfig.resolve(
        api_key="a" * 32,
        base_url="http://127.0.0.1:9/",
        timeout=3,
        max_retries=0,
        wait_timeout=1,
        poll_interval=2,
        env=env,
    )
    assert (c2.key(), c2.base_url, c2.timeout, c2.max_retries, c2.wait_timeout, c2.poll.initial) == (
        "a" * 32,
        "http://127.0.0.1:9",
        3.0,
        0,
        1.0,
        2.0,
    )


def test_site_selects_host_and_explicit_site_beats_env_url() -> None:
    assert ClientConfig.resolve(site="cn", env={}).base_url == "https://www.runninghub.cn"
    assert ClientConfig.resolve(env={"RUNNINGHUB_SITE": "cn"}).base_url == "https://www.runninghub.cn"
    env = {"RUNNINGHUB_BASE_URL": "http://localhost:1"}
    assert ClientConfig.resolve(site="ai", env=env).base_url == "https://www.runninghub.ai"
    assert ClientConfig.resolve(site="cn", env={}).site == "cn"


def test_pasted_api_prefix_is_dropped() -> None:
    assert (
        ClientConfig.resolve(base_url="https://www.runninghub.cn/openapi/v2", env={}).base_url
        == "https://www.runninghub.cn"
    )


@pytest.mark.parametrize(
    "env",
    [
        {"RUNNINGHUB_TIMEOUT": "soon"},
        {"RUNNINGHUB_SITE": "moon"},
        {"RUNNINGHUB_BASE_URL": "ftp://x"},
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as exc:
        ClientConfig.resolve(env=env)
    assert list(env)[0].removeprefix("RUNNINGHUB_").lower() in str(exc.value).lower() or "base url" in str(exc.value)


def test_missing_key_errors_only_when_needed_and_says_how() -> None:
    rh = RunningHub()  # constructing without a key is fine (catalogue browsing, demo)
    with pytest.raises(ConfigurationError) as exc:
        rh.get_task("2013508786110730241")
    assert "RUNNINGHUB_API_KEY" in str(exc.value)


def test_key_never_in_repr_or_pickle() -> None:
    rh = RunningHub(api_key=KEY)
    assert KEY not in repr(rh) and KEY not in repr(rh.config) and KEY not in str(rh.config)
    with pytest.raises(TypeError):
        pickle.dumps(rh.config.api_key)


def test_key_with_newline_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        ClientConfig.resolve(api_key="abc\r\nX-Evil: 1", env={})
