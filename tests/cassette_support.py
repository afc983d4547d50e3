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

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serialize import serialize

__all__ = [
    "REAL_HOST",
    "SECRET_PATTERNS",
    "OriginPersister",
    "body_matcher",
    "make_vcr_config",
    "read_origin",
    "scrub_text",
]

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


class OriginPersister(FilesystemPersister):
    """Writes each cassette with its origin in the file itself, as a top-level ``origin`` mapping
    before vcrpy's ``interactions`` (vcrpy's loader reads only ``interactions`` and ``version``, so
    the cassette still loads as is). ``origin`` is set by conftest.py for the recording modes."""

    origin: dict[str, str] | None = None

    @classmethod
    def save_cassette(cls, cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        body = serialize(cassette_dict, serializer)
        head = ""
        if cls.origin is not None:
            stamped = {**cls.origin, "recorded": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
            head = yaml.safe_dump({"origin": stamped}, sort_keys=False, allow_unicode=True)
        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(head + body, "utf-8")


def origin_of(mode: str, base_url: str) -> dict[str, str] | None:
    """The origin stamped into cassettes recorded in ``mode`` (None in replay: nothing is written)."""
    if mode == "emulator":
        return {
            "source": "emulator",
            "detail": "rh_tools.emulator on loopback; API host rewritten to www.runninghub.ai, files kept on the "
            "host the emulator served them from (not a live recording)",
        }
    if mode == "live":
        return {"source": "live", "detail": f"recorded against {base_url}"}
    return None


def read_origin(path: Path) -> dict[str, Any] | None:
    """The ``origin`` mapping of a cassette file, or None."""
    data = yaml.safe_load(path.read_text("utf-8"))
    origin = data.get("origin") if isinstance(data, dict) else None
    return origin if isinstance(origin, dict) else None
