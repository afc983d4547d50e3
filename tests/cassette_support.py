"""How cassettes are recorded, scrubbed and matched (used by conftest.py).

Three modes, one test file:
* replay (default, CI): ``--record-mode=none`` with the network blocked; the client talks to
  https://www.runninghub.ai and every answer comes from ``cassettes/``.
* build from the emulator: ``python scripts/record_cassettes.py`` runs the tests against the
  built-in emulator and records them as if from www.runninghub.ai (hosts rewritten, tokens scrubbed).
* live: ``RUNNINGHUB_API_KEY=... pytest tests/test_recorded.py --record-mode=rewrite`` re-records
  against the real API (spends credits). Tests assert the API's documented shape, so both pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["REAL_HOST", "SECRET_PATTERNS", "body_matcher", "make_vcr_config", "scrub_text"]

REAL_HOST = "https://www.runninghub.ai"
REDACTED = "REDACTED"

# Signed-URL tokens and credentials that may appear in URLs or bodies.
_TOKEN_PARAMS = re.compile(
    r"((?:Rh-Comfy-Auth|q-signature|q-sign-time|q-key-time|q-ak|sign|token|apiKey|apikey|userApiKey)=)[^&\"'\s<>]+",
    re.I,
)
_JSON_KEYS = re.compile(r'("(?:apiKey|apikey|userApiKey)"\s*:\s*")[^"]*(")')
SECRET_PATTERNS = [
    re.compile(r"Bearer\s+(?!REDACTED)[A-Za-z0-9]{16,}"),
    re.compile(r'"(?:apiKey|apikey)"\s*:\s*"(?!REDACTED)[^"]+"'),
    re.compile(r"(?:apiKey|apikey|Rh-Comfy-Auth|q-signature)=(?!REDACTED)[^&\s\"']+"),
]


def scrub_text(text: str, emulator_base: str | None = None) -> str:
    if emulator_base:
        text = text.replace(emulator_base, REAL_HOST)
    text = _TOKEN_PARAMS.sub(rf"\g<1>{REDACTED}", text)
    return _JSON_KEYS.sub(rf"\g<1>{REDACTED}\g<2>", text)


def _scrub_request(emulator_base: str | None) -> Any:
    def before(request: Any) -> Any:
        request.uri = scrub_text(request.uri, emulator_base)
        body = request.body
        if isinstance(body, bytes) and body[:1] in (b"{", b"["):
            request.body = scrub_text(body.decode("utf-8"), emulator_base).encode("utf-8")
        return request

    return before


def _scrub_response(emulator_base: str | None) -> Any:
    def before(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for h in ("set-cookie", "date", "server", "Set-Cookie", "Date", "Server"):
            headers.pop(h, None)
        body = response.get("body", {}).get("string")
        ctype = " ".join(headers.get("content-type", headers.get("Content-Type", [""])))
        if isinstance(body, bytes) and ("json" in ctype or "text" in ctype):
            response["body"]["string"] = scrub_text(body.decode("utf-8"), emulator_base).encode("utf-8")
        return response

    return before


def _multipart_digest(body: bytes, content_type: str) -> bytes:
    m = re.search(r"boundary=([^;]+)", content_type)
    return body.replace(m.group(1).encode(), b"BOUNDARY") if m else body


def body_matcher(r1: Any, r2: Any) -> None:
    """JSON bodies compare as data; multipart bodies compare with their random boundary masked."""

    def norm(r: Any) -> Any:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        ctype = r.headers.get("content-type", r.headers.get("Content-Type", ""))
        if "multipart/form-data" in ctype:
            return _multipart_digest(body, ctype)
        try:
            return json.loads(body) if body else None
        except ValueError:
            return body

    assert norm(r1) == norm(r2), "request bodies differ"


def make_vcr_config(emulator_base: str | None) -> dict[str, Any]:
    return {
        # host would name the emulator's loopback port; the URI already carries the real host.
        "filter_headers": [
            ("authorization", f"Bearer {REDACTED}"),
            ("cookie", None),
            ("user-agent", None),
            ("host", None),
            ("connection", None),
            ("accept-encoding", None),
        ],
        "filter_post_data_parameters": [("apiKey", REDACTED), ("apikey", REDACTED)],
        "filter_query_parameters": [("apiKey", REDACTED), ("apikey", REDACTED), ("Rh-Comfy-Auth", REDACTED)],
        "before_record_request": _scrub_request(emulator_base),
        "before_record_response": _scrub_response(emulator_base),
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "rh_body"],
    }
