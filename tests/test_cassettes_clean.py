"""No cassette may hold a secret: keys, Bearer tokens, apiKey fields or signed-URL tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cassette_support import SECRET_PATTERNS, OriginPersister, read_origin, scrub_text
from conftest import CANARY_KEY, LIVE_KEY, TEST_KEY

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
FILES = sorted(CASSETTES.rglob("*.yaml"))


def test_there_are_cassettes() -> None:
    assert len(FILES) >= 15


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_no_secret(path: Path) -> None:
    text = path.read_text("utf-8")
    for key in filter(None, (TEST_KEY, CANARY_KEY, LIVE_KEY)):
        assert key not in text, f"{path.name} contains an API key"
    for pattern in SECRET_PATTERNS:
        m = pattern.search(text)
        assert m is None, f"{path.name}: secret-looking value {m.group(0)[:40]!r}"
    assert "localhost" not in text
    # API calls carry the real host; the only loopback URLs are files the emulator's storage
    # listener served (results and uploads come from storage hosts, never from the API host).
    for url in re.findall(r"http://127\.0\.0\.1:\d+(/[^\s'\"?]*)", text):
        assert url.startswith("/media/"), f"{path.name}: an API call on loopback: {url}"
    assert "uri: https://www.runninghub.ai/" in text


def test_scrubber_catches_what_the_guard_looks_for() -> None:
    dirty = f'{{"apiKey": "{TEST_KEY}"}} https://x/y.png?Rh-Comfy-Auth=eyJabc&q-signature=zz&other=1'
    clean = scrub_text(dirty)
    assert TEST_KEY not in clean and "eyJabc" not in clean and "zz" not in clean and "other=1" in clean
    assert not any(p.search(clean) for p in SECRET_PATTERNS)
    assert all(p.search(dirty) for p in SECRET_PATTERNS[1:])


def test_every_cassette_has_its_origin_in_the_index() -> None:
    index = (CASSETTES / "README.md").read_text("utf-8")
    for path in FILES:
        assert f"`{path.relative_to(CASSETTES)}` |" in index, f"{path.name} missing from cassettes/README.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_says_where_it_came_from(path: Path) -> None:
    """Each cassette carries its origin in the file (emulator or live, and when), not only in the README."""
    origin = read_origin(path)
    assert origin is not None, f"{path.name}: no top-level 'origin' (re-record with scripts/record_cassettes.py)"
    assert origin.get("source") in ("emulator", "live") and origin.get("detail")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(origin.get("recorded")))
    index = (CASSETTES / "README.md").read_text("utf-8")
    assert f"`{path.relative_to(CASSETTES)}` | {origin['source']}" in index, "cassettes/README.md disagrees"


def test_origin_is_written_by_the_recorder_and_the_cassette_still_loads(tmp_path: Path) -> None:
    import vcr

    from rh_tools import RunningHub

    OriginPersister.origin = {"source": "emulator", "detail": "test"}
    try:
        from rh_tools.emulator import Emulator

        with Emulator() as emu:
            recorder = vcr.VCR(record_mode="new_episodes")
            recorder.register_persister(OriginPersister)
            with (
                recorder.use_cassette(str(tmp_path / "c.yaml")),
                RunningHub(api_key=TEST_KEY, base_url=emu.base_url) as rh,
            ):
                rh.account()
    finally:
        OriginPersister.origin = None
    cassette = tmp_path / "c.yaml"
    assert read_origin(cassette)["source"] == "emulator"
    with vcr.VCR(record_mode="none").use_cassette(str(cassette)) as replay:
        assert len(replay) == 1  # vcrpy reads it despite the extra top-level key
