#!/usr/bin/env python3
"""Build ``rh_tools/catalogue/endpoints.json`` from the reference material.

Usage::

    python scripts/build_catalogue.py [--reference DIR] [--out FILE] [--check]

Inputs (read-only; default ``<repo>/../shared/reference``):

* ``model-registry.public.json`` -- RunningHub's registry of Standard Model endpoints (Apache-2.0).
  Only *facts* are taken from it: paths, names, categories, output types, parameter keys, types,
  required flags, enum values, ranges and limits. Its prose (descriptions, labels, example prompts in
  ``defaultValue``) is never copied; every description in the output is generated here from templates.
* ``runninghub-endpoints.md`` Part 2 -- the capture of the ``<nodeId>##<field>``-keyed open-source
  endpoints, plus the COMPLEX fields the registry omits.
* ``seed-api-doc-grok-image-to-image.txt`` -- the docs page whose sidebar lists the endpoints users expect.
* ``runninghub-api.md`` section 3.3 -- the authoritative sidebar name -> API path table.

The output is deterministic (no timestamps): running the script twice gives byte-identical files,
and ``--check`` fails when the committed file is stale.

Tool-name rule (``tool_name_for``), applied to the endpoint's sidebar name when it has one, else to
the registry ``name_en``:

1. lowercase and strip;
2. a trailing ``channel-low-price`` (as its own ``/`` segment or as a ``-channel-low-price`` suffix)
   is removed -- it is the default channel and adds nothing;
3. ``official-stable`` becomes ``official``;
4. every run of characters outside ``[a-z0-9]`` becomes ``_``;
5. adjacent repeated words fold into one (``grok_image_image_to_image`` -> ``grok_image_to_image``);
   only words with a letter fold, so version numbers survive (``wan-2.2`` -> ``wan_2_2``);
6. leading/trailing ``_`` are stripped and the result is cut to 64 characters.

So ``grok-image/image-to-image/channel-low-price`` -> ``grok_image_to_image`` and
``sora-2/image-to-video-official-stable`` -> ``sora_2_image_to_video_official``.

Other derivations (each in its own function below): ``category`` is the sidebar group's, unless the
endpoint makes a different kind of media; ``task`` comes from what the name/path says it does, else the
sidebar subgroup; ``variant`` from "channel-low-price"/"official"; ``model`` from the display name with a
few documented relabels. The registry rows for rhart-image/f-dev and f-dev-lora have no params; theirs
come from the capture (Part 2). Rows without any known params get ``open_params: true``.

Tie-break: if two endpoints get the same name, the one listed in the docs sidebar (else the first in
registry order) keeps it and every other one gets ``_`` + the words of its API path that the name
lacks (e.g. ``..._std``). The build fails if a collision survives that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
DEFAULT_OUT = REPO / "rh_tools" / "catalogue" / "endpoints.json"

REGISTRY_FILE = "model-registry.public.json"
ENDPOINTS_MD = "runninghub-endpoints.md"
SEED_FILE = "seed-api-doc-grok-image-to-image.txt"
API_MD = "runninghub-api.md"

CAPTURE_PROVIDER = "Open-source (RunningHub-hosted)"
DEPRECATED_MARK = "-[Deprecated]"

# Registry category typo fixed for display ("RunningHub/Qwe" is the Qwen family).
PROVIDER_FIXES = {"Qwe": "Qwen"}

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def tool_name_for(display_name: str) -> str:
    """Tool name for a sidebar name / registry name_en (the rule is in the module docstring)."""
    n = display_name.strip().lower()
    if n.endswith("/channel-low-price"):
        n = n[: -len("/channel-low-price")]
    elif n.endswith("-channel-low-price"):
        n = n[: -len("-channel-low-price")]
    n = n.replace("official-stable", "official")
    words = [w for w in _NON_ALNUM.split(n) if w]
    folded: list[str] = []
    for w in words:
        if folded and folded[-1] == w and not w.isdigit():
            continue
        folded.append(w)
    return "_".join(folded).strip("_")[:64].strip("_")


def clean_name_en(name_en: str) -> str:
    """Registry name_en without trailing spaces or the '-[Deprecated] ...' note."""
    n = name_en.strip()
    if DEPRECATED_MARK in n:
        n = n[: n.index(DEPRECATED_MARK)]
    return n.strip()


def clean_path(endpoint: str) -> tuple[str, bool]:
    """Registry endpoint -> (real path, deprecated-marker-present)."""
    p = endpoint.strip()
    if p.endswith(DEPRECATED_MARK):
        return p[: -len(DEPRECATED_MARK)], True
    return p, False


def _norm(name: str) -> str:
    return name.strip().lower()


# ---------------------------------------------------------------------------------------------
# Input parsers
# ---------------------------------------------------------------------------------------------


def parse_sidebar(seed_text: str) -> list[tuple[str, str]]:
    """Leaves of the seed page's "Standard Model API" subtree as (name, group), deduplicated, in order.

    ``group`` is the top-level group plus, when the leaf sits deeper, its subgroup
    (e.g. ``Image Generation & Processing/image-to-image``); vendor folders below that are ignored.
    """
    lines = seed_text.splitlines()
    bullets: list[tuple[int, str]] = []
    inside = False
    root_indent = 0
    for line in lines:
        stripped = line.lstrip(" ")
        if not stripped.startswith("• "):
            continue  # "POST" markers and other non-bullet lines
        indent = len(line) - len(stripped)
        text = stripped[2:].strip()
        if not inside:
            if text == "Standard Model API":
                inside, root_indent = True, indent
            continue
        if indent <= root_indent:
            break
        bullets.append((indent, text))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    stack: list[tuple[int, str]] = []
    for i, (indent, text) in enumerate(bullets):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        is_leaf = i + 1 == len(bullets) or bullets[i + 1][0] <= indent
        if is_leaf and stack:
            group = "/".join(t for _, t in stack[:2])
            if text not in seen:
                seen.add(text)
                out.append((text, group))
        stack.append((indent, text))
    return out


def parse_sidebar_table(api_md: str) -> list[dict[str, str]]:
    """Rows of ``runninghub-api.md`` section 3.3 (sidebar name -> path)."""
    rows: list[dict[str, str]] = []
    in_section = False
    for line in api_md.splitlines():
        if line.startswith("### "):
            if in_section:
                break
            in_section = line.startswith("### 3.3")
            continue
        if not in_section or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] == "group" or set(cells[0]) <= {"-"}:
            continue
        group, name, endpoint, out, _required, ev = cells
        path = endpoint.replace("`", "").strip()
        note = ""
        # "skyreels-v4/image-to-video-std (also -fast)": the sidebar name maps to the first path;
        # the -fast sibling keeps its own registry name.
        m = re.match(r"^(\S+)\s+\((.*)\)$", path)
        if m:
            path, note = m.group(1), m.group(2)
        rows.append({"group": group, "name": name, "path": path, "out": out, "ev": ev, "note": note})
    if not rows:
        raise SystemExit("runninghub-api.md: section 3.3 table not found")
    return rows


# Part 2 ("<nodeId>##<field>" capture) -------------------------------------------------------

_P2_TYPES = {"IMG": "image", "S": "string", "L": "list", "I": "int", "F": "float", "M": "lora", "B": "bool"}
_P2_ITEM = re.compile(r"^`(?P<key>\d+##[a-z_]+)`(?P<req>\*)?\s*(?P<type>IMG|S|L|I|F|M|B)?\b\s*(?P<rest>.*)$")
_P2_RANGE = re.compile(r"([−-]?\d*\.?\d+)\.\.([−-]?\d*\.?\d+)")
_P2_LABELS = {
    # capture label (lowercased) -> friendly snake_case name
    "prompt": "prompt",
    "aspect": "aspect_ratio",
    "aspectratio": "aspect_ratio",
    "resolution": "resolution",
    "duration": "duration",
    "customwidth": "custom_width",
    "customheight": "custom_height",
    "outputformat": "output_format",
    "first frame": "first_frame",
    "last frame": "last_frame",
    "imageurl": "image",
    "imageurl2": "image",
    "imageurl3": "image",
}


def _num(text: str) -> float | int:
    t = text.replace("−", "-")
    v = float(t)
    return int(v) if v.is_integer() and "." not in t else v


def _parse_p2_item(item: str) -> dict[str, Any] | None:
    m = _P2_ITEM.match(item.strip())
    if not m or not m.group("type"):
        return None
    rest = m.group("rest")
    raw: dict[str, Any] = {
        "key": m.group("key"),
        "required": bool(m.group("req")),
        "type": _P2_TYPES[m.group("type")],
        "rest": rest,
    }
    opts = re.search(r"\{([^}]*)\}", rest)
    if opts:
        raw["options"] = [o.strip() for o in opts.group(1).split(",") if o.strip()]
        rest = rest[: opts.start()] + rest[opts.end() :]
    rng = _P2_RANGE.search(rest)
    if rng:
        raw["range"] = (_num(rng.group(1)), _num(rng.group(2)))
        rest = rest[: rng.start()] + rest[rng.end() :]
    step = re.search(r"step\s+(\d*\.?\d+)", rest)
    if step:
        raw["step"] = float(step.group(1)) if "." in step.group(1) else int(step.group(1))
    default = re.search(r"default\s+([^\s)]+)", rest)
    if default:
        raw["default"] = default.group(1).rstrip(",")
    size = re.search(r"≤\s*(\d+(?:\.\d+)?)\s*MB", rest)
    if size:
        raw["max_size_mb"] = _num(size.group(1))
    acc = re.search(r"\b([A-Z0-9]{3,4}(?:/[A-Z0-9]{3,4})+)\b", rest)
    if acc:
        raw["accept"] = acc.group(1).split("/")
    low = rest.lower()
    low = re.sub(r"\(note:[^)]*\)", "", low)
    for label in sorted(_P2_LABELS, key=len, reverse=True):
        if re.search(r"(?<![a-z0-9])" + re.escape(label) + r"(?![a-z0-9])", low):
            raw["label"] = label
            break
    raw["as_above"] = "(as above)" in rest
    raw["as_i2v"] = "(as i2v)" in rest
    return raw


# Part 2 also lists "Other capture-only endpoints" that are not in the docs sidebar. They are left out
# on purpose: for most only key names (no types, enums or limits) were captured, and none is in the
# sidebar users see. Skipped:
#   rhart-video/wan2.2/character-motion-transfer, rhart-audio/source-separation, rhart-audio/extract-vocal,
#   rhart-audio/extract-background, bytedance/jimeng-4.6/text-to-image, bytedance/jimeng-4.6/image-to-image,
#   volc-subtitle-erase/video, volc-subtitle-erase-pro/video, minimax/music-2.6, minimax/music-cover,
#   minimax/music-cover-preprocess, mureka-ai/* (generate-song, generate-bgm, extend-song, vocal-clone,
#   generate-lyrics, files-upload), rhart-imagine-image-quality/text-to-image and /edit,
#   rhart-video-v3.1-fast-official/reference-to-video, kling-elements-advanced,
#   skyreels-v4/omni-reference-fast and -std, youchuan/text-to-image-v81,
#   rhart-video/sparkvideo-2.0/multimodal-video-star[-fast].
# The parser stops at that "###" heading because it has no backticked path.


def parse_part2(md: str) -> list[dict[str, Any]]:
    """Endpoints of Part 2 of ``runninghub-endpoints.md`` with their raw items and unparsed fragments."""
    start = md.find("\n# Part 2")
    if start < 0:
        raise SystemExit("runninghub-endpoints.md: '# Part 2' not found")
    eps: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for line in md[start:].splitlines():
        if line.startswith("### "):
            m = re.match(r"^### `([^`]+)`\s*(.*)$", line)
            if not m:
                cur = None  # "Other capture-only endpoints", "COMPLEX fields ...": not endpoint sections
                continue
            note = m.group(2).strip()
            sidebar = re.search(r'sidebar "([^"]+)"', note)
            cur = {
                "path": m.group(1),
                "note": note,
                "sidebar_hint": sidebar.group(1) if sidebar else None,
                "items": [],
                "unparsed": [],
            }
            eps.append(cur)
            continue
        if cur is None or not line.startswith("- "):
            continue
        for frag in line[2:].split(" · "):
            parsed = _parse_p2_item(frag)
            if parsed is None:
                cur["unparsed"].append(frag.strip())
            else:
                cur["items"].append(parsed)
    return eps


def _p2_find(eps: dict[str, dict[str, Any]], path: str, key: str) -> dict[str, Any]:
    for it in eps[path]["items"]:
        if it["key"] == key:
            return it
    raise SystemExit(f"Part 2: {path} has no {key}")


# The seven aspect ratios every complete capture list starts with; "{…,custom,auto}" elides them
# (f-2-dev/edit spells the same list out in full).
_ASPECT7 = ["1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2"]

# LIST fields the capture gives without options, resolved from the named sibling endpoint of the
# same model family (same workflow, same node type). Explicit so a reviewer can check each one.
_P2_OPTIONS_FROM: dict[tuple[str, str], tuple[str, str]] = {
    # "(as above)": the preceding section, f-2-klein-9b/text-to-image.
    ("rhart-image/f-2-klein-9b/text-to-image-lora", "52##select"): (
        "rhart-image/f-2-klein-9b/text-to-image",
        "51##select",
    ),
    # "(as i2v)": wan-2.2/image-to-video's resolution list.
    ("rhart-video/wan-2.2/start-to-end", "218##select"): (
        "rhart-video/wan-2.2/image-to-video",
        "218##select",
    ),
    # No options captured: take the non-LoRA sibling's list.
    ("rhart-image/f-2-klein-4b/edit-lora", "37##select"): ("rhart-image/f-2-klein-4b/edit", "47##select"),
    ("rhart-image/z-image/turbo-lora", "30##select"): ("rhart-image/z-image/turbo", "28##select"),
    ("rhart-image/z-image-turbo/image-to-image-lora", "41##select"): (
        "rhart-image/z-image-turbo/image-to-image",
        "64##select",
    ),
    ("rhart-image/qwen-image/edit-2511-lora", "32##select"): (
        "rhart-image/qwen-image/edit-2511",
        "28##select",
    ),
    ("rhart-video/ltx-2.3/image-to-video-lora", "245##select"): (
        "rhart-video/ltx-2.3/image-to-video",
        "245##select",
    ),
    ("rhart-video/ltx-2.3/image-to-video-lora", "240##select"): (
        "rhart-video/ltx-2.3/image-to-video",
        "240##select",
    ),
}
# Fields the capture leaves unlabelled where the sibling endpoint names the same node.
_P2_LABEL_FROM: dict[tuple[str, str], str] = {
    # ltx-2.3/image-to-video labels node 222's value "duration"; the LoRA variant reuses the node.
    ("rhart-video/ltx-2.3/image-to-video-lora", "222##value"): "duration",
}
# file_type lists without captured options: only "png" and "jpeg" are spelled the same in both captured
# lists (f-dev writes "webp(lossless)", qwen-image 2512-lora "webp (lossless)"), so only those are offered.
_FILE_TYPE_FALLBACK = ["png", "jpeg"]


def _lora_slots(node_ids: list[str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for nid in node_ids:
        items.append({"key": f"{nid}##lora_name", "required": False, "type": "lora", "rest": ""})
        items.append({"key": f"{nid}##strength_model", "required": False, "type": "float", "rest": ""})
    return items


def resolve_part2(eps_list: list[dict[str, Any]]) -> None:
    """Apply the explicit resolutions of the capture's shorthand (in place)."""
    eps = {e["path"]: e for e in eps_list}
    handled: set[tuple[str, str]] = set()

    # ltx-2.3/text-to-video-lora is given as: "as text-to-video (`247##select` default 480p) +
    # `254##lora_name`/`254##strength_model`, `257##…`, `258##…` (three LoRA slots)".
    # Resolution: text-to-video's fields with the same node ids (the capture says "as"), 247##select
    # defaulting to 480p, then LoRA name/strength pairs on nodes 254, 257 and 258.
    p = "rhart-video/ltx-2.3/text-to-video-lora"
    frag = eps[p]["unparsed"][0]
    assert frag.startswith("as text-to-video"), frag
    items = [dict(it) for it in eps["rhart-video/ltx-2.3/text-to-video"]["items"]]
    for it in items:
        if it["key"] == "247##select":
            it["default"] = "480p"
    eps[p]["items"] = items + _lora_slots(["254", "257", "258"])
    handled.add((p, frag))

    # ltx-2.3/image-to-video-lora ends with "three LoRA slots 254/257/258".
    p = "rhart-video/ltx-2.3/image-to-video-lora"
    frag = eps[p]["unparsed"][0]
    assert frag == "three LoRA slots 254/257/258", frag
    eps[p]["items"] += _lora_slots(["254", "257", "258"])
    handled.add((p, frag))

    for e in eps_list:
        leftover = [f for f in e["unparsed"] if (e["path"], f) not in handled]
        if leftover:
            raise SystemExit(f"Part 2: unparsed text in {e['path']}: {leftover}")
        for it in e["items"]:
            if (e["path"], it["key"]) in _P2_LABEL_FROM:
                if it.get("label"):
                    raise SystemExit(f"Part 2: {e['path']} {it['key']} is labelled; drop its resolution")
                it["label"] = _P2_LABEL_FROM[(e["path"], it["key"])]
            if it["type"] != "list":
                continue
            src = _P2_OPTIONS_FROM.get((e["path"], it["key"]))
            if src:
                if it.get("options"):
                    raise SystemExit(f"Part 2: {e['path']} {it['key']} has options; drop its resolution")
                it["options"] = list(_p2_find(eps, *src)["options"])
            elif it.get("options") and it["options"][0] == "…":
                it["options"] = _ASPECT7 + it["options"][1:]
            elif not it.get("options") and it["key"].endswith("##file_type"):
                it["options"] = list(_FILE_TYPE_FALLBACK)
                it.setdefault("default", "png")
            if it.get("as_above") or it.get("as_i2v"):
                assert src, f"{e['path']} {it['key']}: shorthand without an explicit resolution"
            if not it.get("options"):
                raise SystemExit(f"Part 2: {e['path']} {it['key']} is a list without options")


# ---------------------------------------------------------------------------------------------
# Classification: category, task, variant, model
# ---------------------------------------------------------------------------------------------

OUTPUT_TYPES = {"string": "text", "3d": "3d", "audio": "audio", "image": "image", "video": "video"}
GROUP_CATEGORY = {
    "Video Generation & Processing": "video",
    "3D Generation & Processing": "3d",
    "Audio Generation & Processing": "audio",
    "Image Generation & Processing": "image",
}

# (pattern searched in "<display name> <path>", task) -- first match wins. Names that say what they do
# beat the sidebar subgroup, which misfiles some entries (midjourney text-to-image under image-to-image,
# sora text-to-video-pro under image-to-video, veo video-extend under text-to-video).
_TASK_RULES: list[tuple[str, str]] = [
    (r"kling-lip-sync/tts", "text-to-audio"),
    (r"kling-elements", "video-tools"),
    (r"upload-media-asset", "asset-upload"),
    (r"lip-sync|image-audio-to-video", "audio-to-video"),
    (r"start-end|start-to-end|transition", "start-end-to-video"),
    (r"reference-to-video|refrence-to-video|multimodal-video|omni-reference", "reference-to-video"),
    (r"motion-control", "motion-control"),
    (r"video-extend|video-extension|/extend\b", "video-extend"),
    (r"video-edit|edit-video", "video-edit"),
    (r"video-to-video", "video-to-video"),
    (r"\beffects\b", "video-effects"),
    (r"upscale|hypir", "upscale"),
    (r"image-to-video|\bi2v\b", "image-to-video"),
    (r"text-to-video|\bt2v\b", "text-to-video"),
    (r"text-to-image", "text-to-image"),
    (r"image-to-image|image-edit|/edit\b|/edit-", "image-to-image"),
    (r"image-to-3d", "image-to-3d"),
    (r"text-to-3d", "text-to-3d"),
    (r"image-to-world", "image-to-world"),
    (r"text-to-world", "text-to-world"),
    (r"video-to-world", "video-to-world"),
    (r"image-to-text", "image-to-text"),
    (r"video-to-text", "video-to-text"),
    (r"text-to-text|/chat\b", "text-to-text"),
    (r"voice-clone", "voice-clone"),
    (r"speech-|music|suno|voice-design", "text-to-audio"),
]


def task_for(display: str, path: str, subgroup: str | None, output_type: str, category: str) -> str:
    hay = f"{display.lower()} {path.lower()}"
    for pattern, task in _TASK_RULES:
        if re.search(pattern, hay):
            return task
    if subgroup:
        return subgroup.lower()
    if category == "video":
        return "video-tools"
    return {
        "image": "text-to-image",
        "video": "text-to-video",
        "audio": "text-to-audio",
        "3d": "image-to-3d",
        "text": "text-to-text",
    }[output_type]


def category_for(group: str | None, output_type: str) -> str:
    """The sidebar group's category, unless the endpoint produces a different kind of media."""
    cat = GROUP_CATEGORY.get((group or "").split("/")[0])
    if cat is None:
        return output_type
    if output_type != "text" and output_type != cat:
        return output_type  # e.g. Vidu-reference-to-video-q2-pro is filed under images but makes video
    return cat


def variant_for(display: str, path: str) -> str | None:
    d = display.lower()
    if "channel-low-price" in d:
        return "low-price"
    if "official" in d or path.split("/")[0].endswith("-official"):
        return "official"
    return None


_PROVIDER_PREFIXES = ("google/", "xai/", "alibaba/", "bytedance/", "runwayml/")
_TASK_CUT = re.compile(
    r"-(?:image-to-video|text-to-video|start-end-to-video|reference-to-video|text-to-image|"
    r"image-to-image|motion-control|i2v|t2v|effects|transition)(?=-|$)"
)
# Words after the model segment that name a tier or a release of the same model ("sora-2/...-pro-..." is
# Sora 2 Pro, "qwen-image/edit-2511" is the 2511 release); everything else there is task or channel.
_TIER_WORDS = {"standard", "std", "pro", "fast", "ultra", "turbo", "flash", "lite"}
# Paths whose public model name is not in their display name (RunningHub relabels), by path prefix.
_MODEL_BY_PATH: list[tuple[str, str]] = [
    ("rhart-text-g-25-flash-cv/", "gemini-2.5-flash-cv"),
    ("rhart-text-g-25-flash/", "gemini-2.5-flash"),
    ("rhart-text-g-25-pro-cv/", "gemini-2.5-pro-cv"),
    ("rhart-text-g-25-pro/", "gemini-2.5-pro"),
    ("rhart-text-g-3-flash-preview-cv/", "gemini-3-flash-preview-cv"),
    ("rhart-text-g-3-flash-preview/", "gemini-3-flash-preview"),
    ("rhart-text-g-3-pro-preview-cv/", "gemini-3-pro-preview-cv"),
    ("rhart-text-g-3-pro-preview/", "gemini-3-pro-preview"),
    ("rhart-text-qwen-27b/", "qwen-27b"),
    ("rhart-audio/suno-v4.5/", "suno-v4.5"),
    ("rhart-audio/suno-v5.5/", "suno-v5.5"),
    ("rhart-audio/suno-v5/", "suno-v5"),
    ("rhart-audio/suno/", "suno"),
    ("rhart-image-g-2", "gpt-image-2"),  # low-price rows say "gpt-image-2.0", official rows "gpt-image-2"
    ("rhart-image-g-3/", "grok-3-image"),
    ("rhart-image-g-4/", "grok-4-image"),
    ("kling-v3-4k/", "kling-v3.0-4k"),  # one row says "kling-v3-4k", its sibling "kling-v3.0-4k"
    ("topazlabs/video", "topaz-video-upscale"),
    ("topazlabs/", "topaz-image-upscale"),
    ("image-enhance/hypir", "hypir"),
    ("rhart-video/video-", "rh-video-tools"),
    ("rhart-video-s-official/sora-upload-character", "sora-2"),
    ("rhart-video-s/sora-upload-character", "sora-2"),
    ("bytedance/dreamactor-v2", "dreamactor-v2"),
    ("kling-elements", "kling"),
    ("kling-lip-sync/", "kling-lip-sync"),
    ("rhart-video/wan-2.2/", "wan-2.2"),
    ("rhart-image/z-image-turbo/", "z-image-turbo"),
    ("rhart-image/z-image/", "z-image-turbo"),
    ("rhart-video/ltx-2/", "ltx-2-19b"),
]


def model_for(display: str, path: str) -> str:
    """Short model family for people, from the display name (with a few relabels by path)."""
    for prefix, model in _MODEL_BY_PATH:
        if path.startswith(prefix):
            return model
    n = display.strip().lower()
    for prefix in _PROVIDER_PREFIXES:
        if n.startswith(prefix):
            n = n[len(prefix) :]
            break
    segs = n.split("/")
    if segs[0] in ("minimax", "higgsfield") and len(segs) > 1:
        segs = [f"{segs[0]}-{segs[1]}", *segs[2:]]
    head = segs[0]
    if len(segs) == 1:
        m = _TASK_CUT.search(head)
        if m:  # "kling-v2.6-pro-image-to-video" -> kling-v2.6-pro; "Vidu-image-to-video-q3-pro" -> vidu-q3-pro
            head = head[: m.start()] + head[m.end() :]
        head = re.sub(r"-(?:channel-low-price|official-stable|official)$", "", head)
        head = re.sub(r"-lora$", "", head)
    else:
        extra = [w for w in re.split(r"[-/]", "-".join(segs[1:])) if w in _TIER_WORDS or re.fullmatch(r"\d{4}", w)]
        head = "-".join([head, *dict.fromkeys(extra)])
    return re.sub(r"\s+", "-", head)


# ---------------------------------------------------------------------------------------------
# Descriptions (our own text)
# ---------------------------------------------------------------------------------------------

# fieldKey -> what the field does (one short sentence, no limits; limits are appended from the data).
PARAM_TEXT: dict[str, str] = {
    "prompt": "Text prompt describing the desired output.",
    "negativePrompt": "What the output should avoid (negative prompt).",
    "negative_prompt": "What the output should avoid (negative prompt).",
    "text": "Text to speak.",
    "textPrompt": "Optional text guidance for the world.",
    "texturePrompt": "Text guiding the texture.",
    "lyrics": "Song lyrics.",
    "tags": "Comma-separated style tags.",
    "title": "Song title.",
    "description": "Free-text description.",
    "aspectRatio": "Output aspect ratio.",
    "aspect_ratio": "Output aspect ratio.",
    "ratio": "Output aspect ratio.",
    "resolution": "Output resolution.",
    "size": "Output size (width*height).",
    "targetResolution": "Target resolution.",
    "duration": "Output duration in seconds.",
    "seed": "Random seed for reproducible results.",
    "width": "Output width in pixels.",
    "height": "Output height in pixels.",
    "custom_width": "Output width in pixels (used when the aspect ratio is 'custom').",
    "custom_height": "Output height in pixels (used when the aspect ratio is 'custom').",
    "quality": "Output quality.",
    "model": "Model version to use.",
    "mode": "Generation mode (quality tier).",
    "style": "Style preset.",
    "styleName": "Target video style.",
    "effect": "Effect preset.",
    "imageUrl": "Input image",
    "imageUrls": "Input images",
    "image": "Input image",
    "firstImageUrl": "First-frame image",
    "lastImageUrl": "Last-frame image",
    "endImageUrl": "Last-frame image",
    "firstFrameUrl": "First-frame image",
    "lastFrameUrl": "Last-frame image",
    "first_frame": "First-frame image",
    "last_frame": "Last-frame image",
    "referenceImageUrl": "Style reference image",
    "elementReferList": "Extra reference images of the element",
    "frontImageUrl": "Front view image",
    "backImageUrl": "Back view image",
    "leftImageUrl": "Left view image",
    "rightImageUrl": "Right view image",
    "topImageUrl": "Top view image",
    "bottomImageUrl": "Bottom view image",
    "leftFrontImageUrl": "Left-front view image",
    "rightFrontImageUrl": "Right-front view image",
    "textureImageUrl": "Optional texture guide image",
    "cref": "Character reference image",
    "sref": "Style reference image",
    "oref": "Omni reference image",
    "videoUrl": "Input video",
    "videoUrls": "Reference videos",
    "videos": "Reference videos",
    "video": "Input video",
    "audioUrl": "Input audio",
    "audioUrls": "Reference audio clips",
    "audio": "Input audio",
    "sound": "Generate sound together with the video.",
    "generateAudio": "Generate an audio track with the video.",
    "generateAudioSwitch": "Generate an audio track with the video.",
    "enableAudio": "Generate an audio track with the video.",
    "bgm": "Add background music.",
    "keepOriginalSound": "Keep the input video's original sound.",
    "cameraFixed": "Keep the camera fixed.",
    "enablePromptExpansion": "Let the service rewrite/expand the prompt.",
    "promptExtend": "Let the service rewrite/expand the prompt.",
    "promptOptimizer": "Let the service optimise the prompt.",
    "multiShot": "Generate a multi-shot video (then the per-shot prompts apply instead of 'prompt').",
    "shotType": "Shot structure (single or multi-shot).",
    "generateMultiClipSwitch": "Generate a multi-clip video.",
    "movementAmplitude": "Amount of motion in the video.",
    "cfgScale": "How strictly to follow the prompt (CFG scale).",
    "guidanceScale": "How strictly to follow the prompt (guidance scale).",
    "storyboard": "Storyboard mode.",
    "realPersonMode": "Real-person mode for inputs showing real people.",
    "conversionSlots": "Which input slots to convert to assets in real-person mode.",
    "returnLastFrame": "Also return the last frame as an image.",
    "webSearch": "Let the model use web search.",
    "n": "Number of images to generate.",
    "imageNum": "Number of images to generate.",
    "maxImages": "Maximum number of images to generate.",
    "sequentialImageGeneration": "Generate a related image sequence ('auto') or a single image ('disabled').",
    "outputFormat": "Output file format.",
    "output_format": "Output file format.",
    "background": "Background handling (e.g. transparent).",
    "inputFidelity": "How closely to preserve details of the input images.",
    "thinkingMode": "Let the model reason before generating (slower, better).",
    "thinkingType": "Prompt reasoning mode.",
    "toolsType": "Extra tool mode.",
    "voice_id": "Voice id (a system voice such as Wise_Woman, or a cloned voice id).",
    "voiceId": "Voice id.",
    "custom_voice_id": "Id for the cloned voice: 8+ letters and digits, starting with a letter.",
    "voiceLanguage": "Language of the voice.",
    "voiceSpeed": "Speech speed.",
    "speed": "Speech speed (1 = normal).",
    "volume": "Output volume (1 = normal).",
    "pitch": "Pitch shift in semitones.",
    "emotion": "Emotion of the voice.",
    "pronunciation_dict": "Pronunciation overrides, each 'word/how to say it'.",
    "enable_base64_output": "Return the audio as base64 instead of a URL.",
    "english_normalization": "Normalise English text (numbers, abbreviations) before speaking.",
    "need_noise_reduction": "Denoise the sample before cloning.",
    "need_volume_normalization": "Normalise the sample's volume before cloning.",
    "accuracy": "Text-matching accuracy threshold for the sample.",
    "language_boost": "Language or dialect to favour.",
    "previewText": "Text for the preview audio.",
    "aigcWatermark": "Add an AI-generated marker to the preview audio.",
    "make_instrumental": "Instrumental only, no vocals ('true'/'false').",
    "bitrate": "Audio bitrate.",
    "sampleRate": "Audio sample rate in Hz.",
    "requestType": "What to generate: 'mesh' (geometry only) or 'both' (geometry and texture).",
    "face": "Target face count of the mesh.",
    "faceCount": "Target face count of the mesh.",
    "targetPolycount": "Target polygon count.",
    "enablePbr": "Generate PBR materials.",
    "generateType": "Generation type.",
    "topology": "Mesh topology.",
    "symmetryMode": "Symmetry mode.",
    "shouldRemesh": "Remesh the result.",
    "shouldTexture": "Generate textures.",
    "taPose": "Output the character in A/T pose.",
    "artStyle": "Art style.",
    "isPano": "The input image is already a panorama.",
    "disableRecaption": "Use textPrompt verbatim instead of an automatic caption.",
    "reconstructImages": "Reconstruction mode (needed for more than 4 images).",
    "displayName": "Display name of the world.",
    "permissionPublic": "Make the world public.",
    "permissionAllowIdAccess": "Allow access by id.",
    "permissionAllowedReaders": "Comma-separated user ids/emails allowed to read.",
    "permissionAllowedWriters": "Comma-separated user ids/emails allowed to write.",
    "fileName": "File name including extension.",
    "kind": "Kind of media ('image' or 'video'); must match the file.",
    "extension": "File extension without the dot.",
    "chaos": "Variety of the results.",
    "stylize": "Strength of the artistic style.",
    "weird": "Unconventional, quirky look.",
    "raw": "Raw mode (less automatic styling).",
    "tile": "Make a seamless repeating tile.",
    "iw": "Weight of the image prompt.",
    "cw": "Weight of the character reference (needs cref).",
    "sw": "Weight of the style reference (needs sref).",
    "sv": "Style reference version.",
    "ow": "Weight of the omni reference (needs oref).",
    "stop": "Stop generation early (percent) for a softer look.",
    "motion": "Amount of motion.",
    "loop": "Make the video loop (last frame equals first).",
    "characterOrientation": "Follow the character's orientation from the 'image' or the 'video'.",
    "sessionId": "Session id returned by the face-identification endpoint.",
    "faceId": "Face id returned by the face-identification endpoint.",
    "audioId": "Audio id from the Kling TTS endpoint (instead of audioUrl).",
    "videoId": "Id of a Kling-generated video (instead of videoUrl).",
    "soundStartTime": "Audio crop start in milliseconds.",
    "soundEndTime": "Audio crop end in milliseconds.",
    "soundInsertTime": "Where the cropped audio starts in the video, in milliseconds.",
    "soundVolume": "Volume of the added audio.",
    "originalAudioVolume": "Volume of the video's original audio.",
    "audioSetting": "Audio handling: automatic or keep the original.",
    "cutType": "How the shot switches.",
    "options": "Model version.",
    "strength": "Strength of the style transfer.",
    "scale": "Upscale factor.",
    "upscale": "Upscale factor.",
    "shortEdgeSize": "Target short-edge size in pixels (-1 = no limit).",
    "longEdgeSize": "Target long-edge size in pixels (-1 = no limit).",
    "textureLevel": "Texture richness.",
    "creativityLevel": "Creativity (0 = most conservative).",
    "subjectDetection": "Which subject to detect and enhance.",
    "faceEnhancement": "Enhance faces.",
    "faceEnhancementCreativity": "Creativity of the face enhancement.",
    "faceEnhancementStrength": "Strength of the face enhancement.",
    "targetFps": "Target frame rate.",
    "name": "Name of the element.",
    "lora_name": "LoRA file name to apply (optional).",
    "lora_strength": "LoRA strength (1 = full).",
}

# COMPLEX fields the registry omits (runninghub-endpoints.md, "COMPLEX fields missing from the registry").
JSON_NOTE = "Inner shape not published; passed through as JSON."
COMPLEX_TEXT = {
    "multiPrompt": "Per-shot prompts for multi-shot videos (with multiShot=true).",
    "elementList": "Kling elements (reusable subjects) to include.",
    "tagList": "Tags for the element.",
    "refImages": "Reference image groups (up to 3, all of one type).",
    "refVideos": "Reference video (at most one, up to 15 s).",
}

_MEDIA_WORD = {"image": "image", "video": "video", "audio": "audio"}


def _fmt(v: float | int) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _words(key: str) -> str:
    k = key.split("##")[-1]
    k = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", k).replace("_", " ")
    return k.lower().strip()


def param_description(p: dict[str, Any], lookup: str) -> str:
    """Our own LLM-facing text for one param (``lookup`` is the fieldKey or, for '##' keys, the name)."""
    t = p["type"]
    base = PARAM_TEXT.get(lookup)
    if t in _MEDIA_WORD:
        noun = base or _words(lookup).capitalize()
        noun = noun.rstrip(".")
        where = (
            "list of public URLs, data URIs or local file paths"
            if p.get("multiple")
            else "public URL, data URI or local file path"
        )
        if p.get("multiple") and p.get("max_items"):
            noun += f" (up to {p['max_items']})"
        text = f"{noun}: {where}"
        limits = []
        if p.get("accept"):
            limits.append("/".join(p["accept"]))
        if p.get("max_size_mb"):
            limits.append(f"≤{_fmt(p['max_size_mb'])} MB")
        if limits:
            text += "; " + ", ".join(limits)
        text += "."
        if p.get("media_ref") == "file_name":
            text += " Uploaded first; the API receives the upload's file name."
        return text
    if base is None:
        w = _words(lookup)
        if t == "bool":
            base = f"{w.capitalize()} (true/false)."
        elif t == "lora":
            base = "LoRA file name to apply."
        else:
            base = f"{w.capitalize()}."
    text = base
    if t == "string" and p.get("multiple"):
        text += " Several values may be given" + (f" (up to {p['max_items']})." if p.get("max_items") else ".")
    if t == "list" and p.get("multi_select"):
        text += " Several options may be selected."
    if p.get("max_length") and t == "string":
        text += f" Max {p['max_length']} characters."
    if t in ("int", "float") and (p.get("min") is not None or p.get("max") is not None):
        lo, hi = p.get("min"), p.get("max")
        if lo is not None and hi is not None:
            text += f" Range {_fmt(lo)} to {_fmt(hi)}."
        elif lo is not None:
            text += f" Minimum {_fmt(lo)}."
        else:
            text += f" Maximum {_fmt(hi)}."
    return text


_MADE = {"image": "images", "video": "videos", "audio": "audio", "3d": "3D models", "text": "text"}


# (regex searched in the API path, what the endpoint does) for endpoints whose task says too little.
# Anchored to the path segment they name: a loose "/single" once matched skyreels-v3's
# single-shot video extension and called it a song generator (issue 13).
_WHAT_SPECIALS: list[tuple[str, str]] = [
    (r"sora-upload-character$", "Registers a character from a video for later Sora 2 videos; returns its id"),
    (r"^kling-elements$", "Creates a reusable Kling element (subject) from images; returns its id"),
    (r"^kling-lip-sync/identify-face$", "Finds faces in a video for Kling lip-sync; returns session and face ids"),
    (r"^kling-lip-sync/lip-sync-video$", "Lip-syncs a face in a video to audio (Kling lip-sync)"),
    (r"^kling-lip-sync/tts$", "Synthesizes speech for Kling lip-sync; returns an audio id"),
    (r"/image-audio-to-video$", "Animates a portrait image speaking to an audio track"),
    (r"/video-fps-increaser$", "Raises a video's frame rate"),
    (r"/voice-design$", "Designs a new voice from a text description"),
    (r"/text-to-audio/music-[^/]+$", "Generates music from a style prompt and lyrics"),
    (r"/text-to-audio/speech-[^/]+$", "Synthesizes speech from text"),
    (r"^rhart-audio/suno/lyrics$", "Writes song lyrics from a description"),
    (r"^rhart-audio/suno[^/]*/single$", "Generates a song from a short description"),
    (r"^rhart-audio/suno[^/]*/custom$", "Generates a song from lyrics, style tags and a title"),
    (r"/multi-image-to-3d$", "Builds a 3D model from multi-view images"),
    (r"/multi-image-to-world$", "Generates an explorable 3D world from several images"),
    (r"/upload-media-asset$", "Registers a media file for Marble world generation; returns an asset reference"),
    (r"/motion-control$", "Transfers the motion of a reference video onto a character image"),
    (r"dreamactor", "Transfers the motion of a reference video onto a character image"),
    (r"/video-restyling$", "Restyles an input video into a preset style"),
    (r"/shot-switching-video-extension$", "Extends a video with a new shot after a cut"),
]


def _what(task: str, path: str, output_type: str) -> str:
    """The front of an endpoint description: what it makes from what."""
    for pattern, text in _WHAT_SPECIALS:
        if re.search(pattern, path):
            return text
    made = _MADE[output_type]
    return {
        "text-to-image": "Generates images from a text prompt",
        "image-to-image": "Edits or transforms input images guided by a text prompt",
        "image-to-video": "Animates an input image into a video",
        "start-end-to-video": "Generates a video that runs from a first to a last frame",
        "reference-to-video": "Generates a video from reference images or clips plus a prompt",
        "text-to-video": "Generates a video from a text prompt",
        "video-edit": "Edits an input video following a text prompt",
        "video-extend": "Extends an input video",
        "video-to-video": "Transforms an input video guided by a prompt and references",
        "video-effects": "Applies a preset effect to make a video",
        "motion-control": "Transfers the motion of a reference video onto a character image",
        "audio-to-video": "Generates a video driven by audio",
        "upscale": f"Upscales and enhances {'a video' if output_type == 'video' else 'an image'}",
        "image-to-3d": "Builds a 3D model from an image",
        "text-to-3d": "Builds a 3D model from a text prompt",
        "image-to-world": "Generates an explorable 3D world from an image",
        "text-to-world": "Generates an explorable 3D world from a text prompt",
        "video-to-world": "Generates an explorable 3D world from a video",
        "image-to-text": "Answers a prompt about input images (vision LLM)",
        "video-to-text": "Answers a prompt about an input video",
        "text-to-text": "Generates a text reply to a prompt (LLM)",
        "text-to-audio": "Generates audio from text",
        "voice-clone": "Clones a voice from an audio sample (returns a preview)",
    }.get(task, f"Makes {made}")


def endpoint_description(ep: dict[str, Any]) -> str:
    what = _what(ep["task"], ep["path"], ep["output_type"])
    family = ep["model"].split("-")[0]
    named = len(family) > 2 and re.search(rf"\b{re.escape(family)}\b", what.lower())
    text = f"{what}." if named else f"{what} with {ep['model']}."
    if ep["output_type"] == "text" and ep["category"] != "text" and "returns" not in text:
        text += " Result comes back as text."
    if any(p["type"] == "lora" for p in ep["params"]):
        text += " Accepts LoRA files."
    if ep["variant"] == "low-price":
        text += " Low-price channel: cheaper, less stable."
    elif ep["variant"] == "official":
        text += " Official channel: stable, higher price."
    if ep["source"] == "capture" or any("##" in p["key"] for p in ep["params"]):
        text += " Open-source workflow hosted by RunningHub."
    if ep["open_params"]:
        text += " Parameters not published; keys are passed through."
    if ep["deprecated"]:
        text += " Deprecated upstream."
    if len(text) > 200:
        raise SystemExit(f"description too long for {ep['path']}: {text}")
    return text


# ---------------------------------------------------------------------------------------------
# Params
# ---------------------------------------------------------------------------------------------

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
    if p["type"] in _MEDIA_WORD:
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
    key = rp["fieldKey"]
    t = _TYPES[rp["type"]]
    p: dict[str, Any] = {
        "key": key,
        "name": key if _PY_IDENT.match(key) else re.sub(r"\W+", "_", key).strip("_"),
        "type": t,
        "required": bool(rp.get("required")),
    }
    dv = rp.get("defaultValue")
    if dv is not None and t not in _MEDIA_WORD:
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
    if t in _MEDIA_WORD:
        if rp.get("accept"):
            p["accept"] = list(dict.fromkeys(a.upper() for a in json.loads(rp["accept"])))
        if rp.get("maxSize"):
            p["max_size_mb"] = rp["maxSize"]
    return _finish_param(p, key)


def complex_param(key: str) -> dict[str, Any]:
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
        label = _P2_LABELS.get(it.get("label", ""))
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
        if "default" in it and t not in _MEDIA_WORD:
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
        if t in _MEDIA_WORD:
            p["media_ref"] = "file_name"
            if it.get("accept"):
                p["accept"] = [a.upper() for a in it["accept"]]
            if it.get("max_size_mb"):
                p["max_size_mb"] = it["max_size_mb"]
        lookup = re.sub(r"_\d+$", "", name)
        params.append(_finish_param(p, lookup))
    return params


# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def build(reference: Path) -> tuple[dict[str, Any], list[str]]:
    """The catalogue document and a list of notes (collisions, dropped aliases) for the log."""
    notes: list[str] = []
    reg_path, md_path, seed_path, api_path = (reference / f for f in (REGISTRY_FILE, ENDPOINTS_MD, SEED_FILE, API_MD))
    registry = json.loads(reg_path.read_text("utf-8"))
    md = md_path.read_text("utf-8")
    seed = seed_path.read_text("utf-8")
    api_md = api_path.read_text("utf-8")

    sidebar = parse_sidebar(seed)
    table = parse_sidebar_table(api_md)
    part2 = parse_part2(md)
    resolve_part2(part2)
    p2_by_path = {e["path"]: e for e in part2}

    # --- raw rows: registry, then capture-only ---
    rows: list[dict[str, Any]] = []
    for m in registry["models"]:
        path, marked = clean_path(m["endpoint"])
        rows.append(
            {
                "path": path,
                "name_en": clean_name_en(m["name_en"]),
                "deprecated": marked or path.endswith("-deprecated"),
                "output_type": OUTPUT_TYPES[m["output_type"]],
                "provider": PROVIDER_FIXES.get(
                    m["category"].removeprefix("RunningHub/"), m["category"].removeprefix("RunningHub/")
                ),
                "source": "registry",
                "reg_params": m["params"],
            }
        )
    reg_paths = {r["path"] for r in rows}
    if len(reg_paths) != len(rows):
        raise SystemExit("registry: duplicate endpoint paths")
    for e in part2:
        if e["path"] in reg_paths:
            continue
        rows.append(
            {
                "path": e["path"],
                "name_en": None,
                "deprecated": False,
                "output_type": None,
                "provider": CAPTURE_PROVIDER,
                "source": "capture",
                "reg_params": [],
            }
        )
    by_path = {r["path"]: r for r in rows}

    # --- sidebar name -> path ---
    table_by_name = {}
    for t in table:
        if t["name"] in table_by_name:
            raise SystemExit(f"sidebar table: {t['name']!r} listed twice")
        table_by_name[t["name"]] = t
    exceptions: dict[str, str] = {}
    sidebar_of: dict[str, list[tuple[str, str]]] = {}
    for name, group in sidebar:
        t = table_by_name.get(name)
        if t is None:
            exceptions[name] = "not in the sidebar -> endpoint table (runninghub-api.md 3.3)"
            continue
        if t["path"] not in by_path:
            exceptions[name] = f"maps to {t['path']}, which is in neither the registry nor the capture"
            continue
        if t["group"] != group:
            notes.append(f"sidebar group differs for {name!r}: seed {group!r}, table {t['group']!r}")
        sidebar_of.setdefault(t["path"], []).append((name, group))
    seed_names = {n for n, _ in sidebar}
    for t in table:
        if t["name"] not in seed_names:
            notes.append(f"table row {t['name']!r} is not in the seed sidebar")

    # --- classify ---
    endpoints: list[dict[str, Any]] = []
    for r in rows:
        names = sidebar_of.get(r["path"], [])
        sidebar_name, group = names[0] if names else (None, None)
        if r["source"] == "capture":
            # Part 2 endpoints: output is image or video; the sidebar group (or path) says which
            gcat = GROUP_CATEGORY.get((group or "").split("/")[0])
            r["output_type"] = gcat or ("video" if "-to-video" in r["path"] else "image")
        display = sidebar_name or r["name_en"] or p2_by_path[r["path"]].get("sidebar_hint") or r["path"]
        subgroup = group.split("/", 1)[1] if group and "/" in group else None
        category = category_for(group, r["output_type"])
        task = task_for(display, r["path"], subgroup, r["output_type"], category)
        # params
        if r["reg_params"]:
            params = [registry_param(rp) for rp in r["reg_params"]]
        elif r["path"] in p2_by_path:
            params = capture_params(p2_by_path[r["path"]]["items"])
        else:
            params = []
        params += [complex_param(k) for k in _complex_fields_for(r["path"], params)]
        aliases = [n for n, _ in names[1:]]
        if r["name_en"] and _norm(r["name_en"]) != _norm(display):
            aliases.append(r["name_en"])
        ep = {
            "tool_name": tool_name_for(display),
            "path": r["path"],
            "sidebar_name": display,
            "aliases": list(dict.fromkeys(aliases)),
            "category": category,
            "task": task,
            "output_type": r["output_type"],
            "variant": variant_for(display, r["path"]),
            "model": model_for(display, r["path"]),
            "provider": r["provider"],
            "description": "",
            "source": r["source"],
            "deprecated": r["deprecated"],
            "open_params": not params,
            "params": params,
            "_in_sidebar": bool(names),
            "_order": (0, [n for n, _ in sidebar].index(sidebar_name)) if names else (1, len(endpoints)),
        }
        ep["description"] = endpoint_description(ep)
        endpoints.append(ep)

    # --- tool-name collisions ---
    by_name: dict[str, list[dict[str, Any]]] = {}
    for ep in endpoints:
        by_name.setdefault(ep["tool_name"], []).append(ep)
    for name, group_eps in by_name.items():
        if len(group_eps) < 2:
            continue
        keeper = sorted(group_eps, key=lambda e: (not e["_in_sidebar"], endpoints.index(e)))[0]
        for ep in group_eps:
            if ep is keeper:
                continue
            have = set(name.split("_"))
            extra = [w for w in _NON_ALNUM.split(ep["path"].lower()) if w and w not in have]
            new = f"{name}_{'_'.join(extra)}"[:64].strip("_")
            notes.append(f"tool-name collision {name!r}: {keeper['path']} keeps it, {ep['path']} -> {new!r}")
            ep["tool_name"] = new
    names_seen = [ep["tool_name"] for ep in endpoints]
    dupes = {n for n in names_seen if names_seen.count(n) > 1}
    if dupes:
        raise SystemExit(f"unresolved tool-name collisions: {sorted(dupes)}")

    # --- aliases may not shadow another endpoint's identity ---
    owner: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        for key in (ep["tool_name"], _norm(ep["path"]), _norm(ep["sidebar_name"])):
            owner.setdefault(key, ep)
    for ep in endpoints:
        kept = []
        for a in ep["aliases"]:
            o = owner.get(_norm(a))
            if o is not None and o is not ep:
                notes.append(f"alias {a!r} of {ep['path']} dropped: it names {o['path']}")
                continue
            if o is ep:
                continue  # same as its own path/tool name/sidebar name
            kept.append(a)
            owner[_norm(a)] = ep
        ep["aliases"] = kept

    endpoints.sort(key=lambda e: e["_order"])
    for ep in endpoints:
        del ep["_in_sidebar"], ep["_order"]

    doc = {
        "format": 1,
        "generated_by": "scripts/build_catalogue.py",
        "sources": {
            "registry": {
                "file": REGISTRY_FILE,
                "version": registry.get("version"),
                "sha256": _sha256(reg_path),
            },
            "endpoints_md": {"file": ENDPOINTS_MD, "sha256": _sha256(md_path)},
            "seed": {"file": SEED_FILE, "sha256": _sha256(seed_path)},
            "sidebar_table": {"file": API_MD, "section": "3.3", "sha256": _sha256(api_path)},
        },
        "sidebar": [{"name": n, "group": g} for n, g in sidebar],
        "sidebar_exceptions": exceptions,
        "endpoints": endpoints,
    }
    return doc, notes


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def validate(doc: dict[str, Any]) -> None:
    """Validate rows with the package's pydantic models (skipped if pydantic is unavailable)."""
    sys.path.insert(0, str(REPO))
    try:
        from rh_tools.catalogue import Catalogue
        from rh_tools.catalogue._schema import Endpoint
    except ImportError as exc:  # pragma: no cover - CI installs pydantic
        print(f"warning: not validated ({exc})", file=sys.stderr)
        return
    finally:
        sys.path.pop(0)
    Catalogue([Endpoint.model_validate(row) for row in doc["endpoints"]])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="reference folder (read-only)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON file")
    ap.add_argument("--check", action="store_true", help="do not write; fail if --out is not up to date")
    ap.add_argument("-v", "--verbose", action="store_true", help="print notes (collisions, dropped aliases)")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        print(f"reference folder not found: {args.reference}", file=sys.stderr)
        return 2
    doc, notes = build(args.reference)
    validate(doc)
    text = render(doc)
    if args.verbose:
        for n in notes:
            print(n, file=sys.stderr)
    eps = doc["endpoints"]
    summary = (
        f"{len(eps)} endpoints ({sum(e['source'] == 'registry' for e in eps)} registry, "
        f"{sum(e['source'] == 'capture' for e in eps)} capture); {len(doc['sidebar'])} sidebar names, "
        f"{len(doc['sidebar_exceptions'])} exceptions"
    )
    if args.check:
        current = args.out.read_text("utf-8") if args.out.exists() else None
        if current != text:
            print(f"{args.out} is out of date: run python scripts/build_catalogue.py", file=sys.stderr)
            return 1
        print(f"up to date: {summary}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8", newline="\n")
    print(f"wrote {args.out}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
