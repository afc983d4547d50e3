"""Check a Standard Model request body the way the API does, from the catalogue's parameter table.

Why our own code: the emulator stands in for the server, so it must not share the client's
pydantic input models (a bug there would then be invisible). Only the catalogue data is shared.

Rules (registry typing rules; the tolerant ones are marked INFERRED):
- required keys must be present and non-empty;
- LIST values must be one of the options; they arrive as strings, but a number whose ``str()``
  is an option is accepted too (INFERRED tolerance: the official nodes always send strings);
- INT/FLOAT within min/max, STRING within max_length;
- media params take http(s) URLs, ``data:`` URIs, ``asset://`` ids, or, for workflow-backed
  slots (``media_ref == "file_name"``), a fileName returned by an upload;
- ``multiple`` media params are JSON arrays with at most ``max_items`` entries;
- keys the catalogue does not list are tolerated (the API's answer is unknown) and reported;
- ``webhookUrl`` is a common optional field of every endpoint.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._guards import is_array, is_mapping

__all__ = ["COMMON_KEYS", "Problem", "ValidationResult", "is_media_reference", "validate_body"]

COMMON_KEYS = frozenset({"webhookUrl"})

_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*(;base64)?,", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """One rejected field, worded in both languages."""

    field: str
    en: str
    zh: str


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list[Problem])
    unknown_keys: list[str] = field(default_factory=list[str])

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _is_http_url(v: str) -> bool:
    return bool(re.match(r"^https?://[^\s/?#]+", v, re.IGNORECASE))


def _data_uri_bytes(v: str) -> int | None:
    """Decoded size of a base64 data URI, or None if it is not one."""
    m = _DATA_URI.match(v)
    if not m:
        return None
    payload = v[m.end() :]
    if m.group(3):
        try:
            return len(base64.b64decode(payload, validate=False))
        except (binascii.Error, ValueError):
            return -1
    return len(payload)


def is_media_reference(value: Any, *, file_name_ok: Callable[[str], bool] | None = None) -> bool:
    """Whether ``value`` is something the API can fetch a media input from."""
    if not isinstance(value, str) or not value.strip():
        return False
    if _is_http_url(value) or value.startswith("asset://"):
        return True
    if _DATA_URI.match(value):
        return True
    return bool(file_name_ok and file_name_ok(value))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def validate_body(
    endpoint: Any,
    body: Any,
    *,
    strict_types: bool = True,
    file_name_ok: Callable[[str], bool] | None = None,
    strict_file_names: bool = True,
) -> ValidationResult:
    """Validate ``body`` (decoded JSON) against ``endpoint`` (a catalogue ``Endpoint``)."""
    res = ValidationResult()
    bad = res.problems.append
    if not is_mapping(body):
        bad(Problem("body", "the request body must be a JSON object", "请求体必须是JSON对象"))
        return res

    params = list(getattr(endpoint, "params", []) or [])
    declared = {p.key for p in params}
    res.unknown_keys = sorted(k for k in body if k not in declared and k not in COMMON_KEYS)

    hook = body.get("webhookUrl")
    if hook is not None and not (isinstance(hook, str) and (hook == "" or _is_http_url(hook))):
        bad(Problem("webhookUrl", "'webhookUrl' must be an http(s) URL", "webhookUrl 必须是 http(s) 地址"))

    if getattr(endpoint, "open_params", False):
        return res  # parameters unpublished: nothing to check against

    # INFERRED: endpoints backed by '##'-keyed workflows may also accept plain named keys (one doc
    # copy shows them); when the body uses no '##' key at all, don't demand the '##' ones.
    hash_keyed = any("##" in p.key for p in params)
    named_form = hash_keyed and not any("##" in k for k in body)

    for p in params:
        k = p.key
        if k not in body or _empty(body[k]):
            if p.required and not ("##" in k and named_form):
                bad(Problem(k, f"'{k}' is required", f"缺少必填参数 {k}"))
            continue
        v = body[k]
        problem = _check_value(p, v, strict_types, file_name_ok, strict_file_names)
        if problem:
            bad(problem)
    return res


def _check_value(
    p: Any,
    v: Any,
    strict: bool,
    file_name_ok: Callable[[str], bool] | None,
    strict_file_names: bool,
) -> Problem | None:
    k, t = p.key, p.type
    if t == "list":
        return _check_list(p, v)
    if t == "string" and p.multiple and is_array(v):
        # Multi-entry STRING fields (e.g. pronunciation_dict): the registry allows several entries
        # but not their wire form; a JSON array of strings is accepted (INFERRED), as is one string.
        if p.max_items is not None and len(v) > p.max_items:
            return Problem(k, f"'{k}' has more than {p.max_items} entries", f"{k} 条目超过 {p.max_items} 个")
        for item in v:
            problem = _check_value(
                p.model_copy(update={"multiple": False}), item, strict, file_name_ok, strict_file_names
            )
            if problem:
                return problem
        return None
    if t == "string" or t == "lora":
        if isinstance(v, (dict, list)) or (strict and not isinstance(v, str)):
            return Problem(k, f"'{k}' must be a string", f"{k} 必须是字符串")
        s = v if isinstance(v, str) else str(v)
        if p.max_length is not None and len(s) > p.max_length:
            return Problem(
                k,
                f"'{k}' is longer than {p.max_length} characters ({len(s)})",
                f"{k} 长度超过 {p.max_length} 个字符（{len(s)}）",
            )
        return None
    if t in ("int", "float"):
        return _check_number(p, v, strict)
    if t == "bool":
        if isinstance(v, bool):
            return None
        if not strict and isinstance(v, str) and v.lower() in ("true", "false"):
            return None
        return Problem(k, f"'{k}' must be a boolean", f"{k} 必须是布尔值")
    if t in ("image", "video", "audio"):
        return _check_media(p, v, strict, file_name_ok, strict_file_names)
    return None  # 'json': any JSON value


def _check_list(p: Any, v: Any) -> Problem | None:
    k = p.key
    listed: list[Any] = p.options or []
    options = [str(o) for o in listed]
    shown = ", ".join(options[:12]) + (" ..." if len(options) > 12 else "")

    def one(x: Any) -> bool:
        # Numbers are accepted when their str() is an option (INFERRED tolerance); bools are not,
        # since str(True) is "True" and the API's boolean-like options are "true"/"false".
        if isinstance(x, bool) or not isinstance(x, (str, int, float)):
            return False
        return str(x) in options

    if getattr(p, "multi_select", False):
        items: list[Any] = v if is_array(v) else [s.strip() for s in str(v).split(",")]
        wrong = [x for x in items if not one(x)]
        if wrong:
            return Problem(
                k,
                f"'{k}' values must be among {shown} (got {wrong[0]!r})",
                f"{k} 的取值必须在 {shown} 之中（收到 {wrong[0]}）",
            )
        return None
    if not one(v):
        return Problem(k, f"'{k}' must be one of {shown} (got {v!r})", f"{k} 必须是 {shown} 之一（收到 {v}）")
    return None


def _check_number(p: Any, v: Any, strict: bool) -> Problem | None:
    k, t = p.key, p.type
    kind_en, kind_zh = ("an integer", "整数") if t == "int" else ("a number", "数字")
    num: float | None = None
    if isinstance(v, bool):
        num = None
    elif isinstance(v, int):
        num = float(v)
    elif isinstance(v, float):
        if t == "int" and not v.is_integer():
            num = None
        elif math.isfinite(v):
            num = v
    elif isinstance(v, str) and not strict:
        try:
            num = float(v)
        except ValueError:
            num = None
        if num is not None and t == "int" and not num.is_integer():
            num = None
    if num is None:
        return Problem(k, f"'{k}' must be {kind_en}", f"{k} 必须是{kind_zh}")
    lo, hi = p.min, p.max
    if (lo is not None and num < lo) or (hi is not None and num > hi):
        rng = f"[{_num(lo) if lo is not None else '-inf'}, {_num(hi) if hi is not None else 'inf'}]"
        return Problem(
            k, f"'{k}' must be within {rng} (got {_num(num)})", f"{k} 必须在 {rng} 范围内（收到 {_num(num)}）"
        )
    return None


def _check_media(
    p: Any, v: Any, strict: bool, file_name_ok: Callable[[str], bool] | None, strict_file_names: bool
) -> Problem | None:
    k = p.key
    by_name = getattr(p, "media_ref", "url") == "file_name"
    if by_name and not strict_file_names:
        names_ok: Callable[[str], bool] | None = lambda s: True  # noqa: E731
    elif by_name:
        names_ok = file_name_ok or (lambda s: False)
    else:
        names_ok = None
    if p.multiple:
        if isinstance(v, str) and not strict:
            v = [v]
        if not is_array(v):
            return Problem(k, f"'{k}' must be an array of URLs", f"{k} 必须是URL数组")
        if p.max_items is not None and len(v) > p.max_items:
            return Problem(
                k,
                f"'{k}' takes at most {p.max_items} items (got {len(v)})",
                f"{k} 最多 {p.max_items} 项（收到 {len(v)}）",
            )
        items: list[Any] = v
    else:
        if not isinstance(v, str):
            return Problem(k, f"'{k}' must be a URL string", f"{k} 必须是URL字符串")
        items = [v]
    for i, item in enumerate(items):
        where = f"{k}[{i}]" if p.multiple else k
        if not is_media_reference(item, file_name_ok=names_ok):
            what_en = "an http(s) URL, a data URI, an asset:// id" + (" or an uploaded fileName" if by_name else "")
            what_zh = "http(s) URL、data URI、asset:// 或" + ("上传返回的 fileName" if by_name else "素材ID")
            return Problem(where, f"'{where}' must be {what_en}", f"{where} 必须是 {what_zh}")
        size = _data_uri_bytes(item) if isinstance(item, str) else None
        if size is not None and size < 0:
            return Problem(where, f"'{where}' is not valid base64", f"{where} 不是有效的 base64")
        if size is not None and p.max_size_mb and size > p.max_size_mb * 1024 * 1024:
            return Problem(
                where,
                f"'{where}' is larger than {_num(p.max_size_mb)} MB",
                f"{where} 超过 {_num(p.max_size_mb)} MB",
            )
    return None
