"""Shared test setup: no test sees the developer's real RunningHub settings or reaches the network."""

from __future__ import annotations

import os

import pytest

# 32 hexadecimal characters: the shape the emulator accepts. Not a real key.
TEST_KEY = "feedfacecafebeef0123456789abcdef"
CANARY_KEY = "c0ffee00c0ffee00c0ffee00c0ffee00"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RUNNINGHUB_"):
            monkeypatch.delenv(name)
