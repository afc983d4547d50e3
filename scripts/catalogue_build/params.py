"""Parameter rules: how a registry field or a captured ``##`` item becomes a param of endpoints.json.

Registry fields (``registry_param``; field names as the reference folder's SOURCE.md lists them):

* type: the registry ``type`` (STRING, LIST, INT, FLOAT, BOOLEAN, IMAGE, VIDEO, AUDIO) -> ``_TYPES``;
* required: ``required``; name: the ``fieldKey``, made a Python identifier where it is not one;
* default: ``defaultValue``, except for media, and for strings only when it looks like an identifier and
  the field is not one whose registry default is an example (``_NO_STRING_DEFAULT``: the registry's long
  example prompts are prose, never copied);
* enum: ``options[].value`` as strings (``runninghub-endpoints.md``'s legend: a LIST takes one option
  value, sent as a JSON string); multi-select where the field's Chinese description says ``多选``;
* ranges and limits: ``min``/``max``/``step``, ``maxLength`` (strings), ``multipleInputs`` +
  ``maxInputNum`` (lists of media or strings), ``accept`` (a JSON list, upper-cased, deduplicated) and
  ``maxSize`` (MB) for media.

Captured items (``capture_params``, parsed by ``capture.py``): friendly names by field kind and site
label; media take an upload's file name (``media_ref: file_name``; ``runninghub-api.md`` section 3.4:
image slots carry an RH upload ``fileName``). COMPLEX fields the registry omits (``_complex_fields_for``)
come from ``runninghub-endpoints.md`` "COMPLEX fields missing from the registry" and pass through as
JSON. ``endpoint_params`` says which source gives an endpoint its params.

Every param gets our own description (``descriptions.param_description``); ``_PARAM_FIELDS`` is the
field order in endpoints.json, and fields left at the default of ``rh_tools/catalogue/_param.py`` are
omitted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .capture import P2_LABELS
from .descriptions import COMPLEX_TEXT, JSON_NOTE, MEDIA_WORD, param_description

_TYPES = {
    "STRING": "string",
    "LIST": "list",
    "INT": "int",
    "FLOAT": "float",
    "BOOLEAN": "bool",
    "IMAGE": "image",
    "VIDEO": "video",
    "AUDIO": "audio",
}
_IDENT_DEFAULT = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,31}$")
# String fields whose registry default is an example, never a default (user-chosen ids and names).
_NO_STRING_DEFAULT = {
    "custom_voice_id",
    "name",
    "title",
    "displayName",
    "fileName",
    "prompt",
    "text",
    "negativePrompt",
    "lyrics",
    "description",
    "tags",
    "previewText",
    "textPrompt",
}
_PARAM_FIELDS = (
    "key",
    "name",
    "type",
    "required",
    "default",
    "options",
    "multi_select",
    "min",
    "max",
    "step",
    "max_length",
    "multiple",
    "max_items",
    "accept",
    "max_size_mb",
    "media_ref",
    "description",
)
_PY_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _finish_param(p: dict[str, Any], lookup: str) -> dict[str, Any]:
    """Describe a param and order its fields; omit fields left at the schema default."""
    if p["type"] in MEDIA_WORD:
        p.setdefault("media_ref", "url")
    p["description"] = param_description(p, lookup)
    out: dict[str, Any] = {}
    for f in _PARAM_FIELDS:
        v = p.get(f)
        if f in ("key", "name", "type", "required"):
            out[f] = v
        elif f in ("multi_select", "multiple"):
            if v:
                out[f] = True
        elif v is not None:
            out[f] = v
    return out


def registry_param(rp: dict[str, Any]) -> dict[str, Any]:
    """A param from one registry field (the rules are in the module docstring)."""
    key = rp["fieldKey"]
    t = _TYPES[rp["type"]]
    p: dict[str, Any] = {
        "key": key,
        "name": key if _PY_IDENT.match(key) else re.sub(r"\W+", "_", key).strip("_"),
        "type": t,
        "required": bool(rp.get("required")),
    }
    dv = rp.get("defaultValue")
    if dv is not None and t not in MEDIA_WORD:
        if t == "string":
            if isinstance(dv, str) and _IDENT_DEFAULT.match(dv) and key not in _NO_STRING_DEFAULT:
                p["default"] = dv
        elif t == "float":
            p["default"] = float(dv)
        else:
            p["default"] = dv
    if t == "list":
        p["options"] = [str(o["value"]) for o in rp["options"]]
        # the registry marks multi-select lists in its (Chinese) field description
        p["multi_select"] = "多选" in (rp.get("description") or "")
    for src, dst in (("min", "min"), ("max", "max"), ("step", "step")):
        if rp.get(src) is not None:
            p[dst] = rp[src]
    if t == "string" and rp.get("maxLength"):
        p["max_length"] = int(rp["maxLength"])
    if rp.get("multipleInputs"):
        p["multiple"] = True
        if rp.get("maxInputNum"):
            p["max_items"] = int(rp["maxInputNum"])
    if t in MEDIA_WORD:
        if rp.get("accept"):
            p["accept"] = list(dict.fromkeys(a.upper() for a in json.loads(rp["accept"])))
        if rp.get("maxSize"):
            p["max_size_mb"] = rp["maxSize"]
    return _finish_param(p, key)


def complex_param(key: str) -> dict[str, Any]:
    """A pass-through JSON param for a COMPLEX field the registry omits."""
    p = {"key": key, "name": key, "type": "json", "required": False}
    out = _finish_param(p, key)
    out["description"] = f"{COMPLEX_TEXT[key]} {JSON_NOTE}"
    return out


def capture_params(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Params of a Part-2 endpoint, with friendly names."""
    params: list[dict[str, Any]] = []
    used: set[str] = set()
    counters: dict[str, int] = {}

    def unique(base: str) -> str:
        if base not in used:
            used.add(base)
            return base
        counters[base] = counters.get(base, 1) + 1
        while f"{base}_{counters[base]}" in used:
            counters[base] += 1
        name = f"{base}_{counters[base]}"
        used.add(name)
        return name

    unlabeled_values = iter(["custom_width", "custom_height"])
    has_custom = any("custom" in (it.get("options") or []) for it in items)
    for it in items:
        field = it["key"].split("##", 1)[1]
        label = P2_LABELS.get(it.get("label", ""))
        if field in ("text", "prompt", "positive_prompt"):
            base = "prompt"
        elif field == "negative_prompt":
            base = "negative_prompt"
        elif field == "select":
            if label in ("aspect_ratio", "resolution", "duration"):
                base = label
            else:  # no label: tell by the options
                opts = it.get("options") or []
                if all(re.fullmatch(r"\d+", o) for o in opts):
                    base = "duration"
                elif any(re.search(r"\d+p$|\d[×x*]\d", o) for o in opts):
                    base = "resolution"
                else:
                    base = "aspect_ratio"
        elif field == "value":
            if label in ("custom_width", "custom_height", "duration"):
                base = label
            else:
                # Unlabelled value pairs follow the width-then-height order of the labelled siblings.
                if not has_custom:
                    raise SystemExit(f"Part 2: unlabelled {it['key']} without a 'custom' aspect ratio")
                base = next(unlabeled_values)
        elif field == "file_type":
            base = "output_format"
        elif field == "image":
            base = label if label in ("first_frame", "last_frame") else "image"
        elif field == "lora_name":
            base = "lora_name"
        elif field == "strength_model":
            base = "lora_strength"
        else:
            base = field
        name = unique(base)
        p: dict[str, Any] = {"key": it["key"], "name": name, "type": it["type"], "required": it["required"]}
        t = it["type"]
        if "default" in it and t not in MEDIA_WORD:
            d = it["default"]
            p["default"] = float(d) if t == "float" else int(d) if t == "int" else d
        if t == "list":
            p["options"] = list(it["options"])
            if "default" in p and p["default"] not in p["options"]:
                raise SystemExit(f"Part 2: default {p['default']!r} of {it['key']} not among its options")
        rng = it.get("range")
        if rng:
            if t == "string":
                p["max_length"] = int(rng[1])
            else:
                p["min"], p["max"] = rng
        if it.get("step") is not None:
            p["step"] = it["step"]
        if t in MEDIA_WORD:
            p["media_ref"] = "file_name"
            if it.get("accept"):
                p["accept"] = [a.upper() for a in it["accept"]]
            if it.get("max_size_mb"):
                p["max_size_mb"] = it["max_size_mb"]
        lookup = re.sub(r"_\d+$", "", name)
        params.append(_finish_param(p, lookup))
    return params


def _complex_fields_for(path: str, params: list[dict[str, Any]]) -> list[str]:
    """COMPLEX fields (absent from the registry) that the capture names for this endpoint."""
    keys = {p["key"] for p in params}
    if not params:
        return []  # endpoints without published params stay open (e.g. kling-v3.0-4k/motion-control)
    fields: list[str] = []
    family = path.startswith(("kling-v3", "kling-video-o3"))
    # Kling 3.0 / o3: multiPrompt and elementList, on the endpoints that offer multi-shot generation
    if family and "multiShot" in keys:
        fields += ["multiPrompt", "elementList"]
    # kling motion-control: elementList
    if path.startswith("kling-") and path.endswith("/motion-control"):
        fields.append("elementList")
    if path == "kling-elements":
        fields.append("tagList")
    if path == "skyreels-v4/omni-reference":
        fields += ["refImages", "refVideos"]
    return [f for f in dict.fromkeys(fields) if f not in keys]


def endpoint_params(row: dict[str, Any], p2_by_path: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """An endpoint's params: the registry's fields, else the capture's items, else none; then COMPLEX fields.

    The registry rows of rhart-image/f-dev and f-dev-lora have no params, so theirs come from the capture.
    An endpoint left without any gets ``open_params: true`` (its keys are passed through unchecked).
    """
    if row["reg_params"]:
        params = [registry_param(rp) for rp in row["reg_params"]]
    elif row["path"] in p2_by_path:
        params = capture_params(p2_by_path[row["path"]]["items"])
    else:
        params = []
    params += [complex_param(k) for k in _complex_fields_for(row["path"], params)]
    return params
