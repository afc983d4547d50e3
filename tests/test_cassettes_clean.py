"""No cassette may hold a secret: keys, Bearer tokens, apiKey fields or signed-URL tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from cassette_support import SECRET_PATTERNS, scrub_text
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
    assert "127.0.0.1" not in text and "localhost" not in text, "cassettes must carry the real host"
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
