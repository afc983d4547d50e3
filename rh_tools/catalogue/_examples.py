"""A valid argument set for any endpoint, built from its row: for describe_model, the CLI and tests."""

from __future__ import annotations

from typing import Any

from ._schema import Endpoint, Param

__all__ = ["example_params", "example_value"]

_SAMPLE_EXT = {"image": "png", "video": "mp4", "audio": "mp3"}
_PROMPT = "A red fox in fresh snow, golden hour, detailed"


def _media_url(p: Param) -> str:
    ext = _SAMPLE_EXT[p.type]
    if p.accept:
        accepted = [a.lower() for a in p.accept]
        ext = ext if ext in accepted or (ext == "jpg" and "jpeg" in accepted) else accepted[0]
    return f"https://example.com/sample-{p.type}.{ext}"


def example_value(p: Param) -> Any:
    """A value the input model accepts for ``p`` (the registry default where there is one)."""
    if p.type == "list":
        assert p.options
        return p.default if p.default in p.options else p.options[0]
    if p.type in ("image", "video", "audio"):
        url = _media_url(p)
        return [url] if p.multiple else url
    if p.type in ("int", "float"):
        if p.default is not None and isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
            value: float = p.default
        elif p.min is not None:
            value = p.min
        elif p.max is not None:
            value = min(p.max, 1)
        else:
            value = 1
        return int(value) if p.type == "int" else float(value)
    if p.type == "bool":
        return bool(p.default) if isinstance(p.default, bool) else False
    if p.type == "json":
        return []
    if p.type == "lora":
        return "example-lora.safetensors"
    text = p.default if isinstance(p.default, str) and p.default else _PROMPT
    if p.max_length:
        text = text[: p.max_length]
    return [text] if p.multiple else text


def example_params(ep: Endpoint, *, required_only: bool = True) -> dict[str, Any]:
    """Arguments (by agent-facing name) that pass validation; all fields when ``required_only`` is False."""
    return {p.name: example_value(p) for p in ep.params if p.required or not required_only}
