"""Part 2 of ``runninghub-endpoints.md``: the ``<nodeId>##<field>``-keyed open-source endpoints.

These endpoints run RunningHub-hosted ComfyUI workflows and are absent from the registry (two registry
rows, rhart-image/f-dev and f-dev-lora, have no params; theirs come from here). Part 2 is a transcription
of a capture of RunningHub's logged-in model catalogue; its first lines name the capture and the clients
that cross-check the key form (also ``runninghub-api.md`` section 3.4).

Each item of a section's bullet lines is a backticked key ``NN##field``, ``*`` when required, a type
letter (Part 1's legend, plus ``M`` for a LoRA file name), then, where captured, ``{options}``,
``lo..hi``, ``step s``, ``default d``, ``≤N MB``, accepted formats (``JPG/PNG``) and the site's label.
``parse_part2`` reads the sections and items; ``resolve_part2`` settles, explicitly and
one by one, the shorthand the capture uses instead of spelling a list out ("as above", "as i2v", "as
text-to-video", "three LoRA slots", elided aspect ratios, missing options). How the parsed items become
params (friendly names, defaults, ``media_ref``) is ``params.capture_params``.
"""

from __future__ import annotations

import re
from typing import Any

_P2_TYPES = {"IMG": "image", "S": "string", "L": "list", "I": "int", "F": "float", "M": "lora", "B": "bool"}
_P2_ITEM = re.compile(r"^`(?P<key>\d+##[a-z_]+)`(?P<req>\*)?\s*(?P<type>IMG|S|L|I|F|M|B)?\b\s*(?P<rest>.*)$")
_P2_RANGE = re.compile(r"([−-]?\d*\.?\d+)\.\.([−-]?\d*\.?\d+)")
P2_LABELS = {
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
    """A captured number (the capture writes minus as U+2212); int unless written with a point."""
    t = text.replace("−", "-")
    v = float(t)
    return int(v) if v.is_integer() and "." not in t else v


def _parse_p2_item(item: str) -> dict[str, Any] | None:
    """One ``NN##field`` item as raw facts; None when it has no type letter (parse_part2 keeps it as unparsed)."""
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
    for label in sorted(P2_LABELS, key=len, reverse=True):
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
    """The item ``key`` of the Part-2 endpoint ``path``; the build fails if it is not there."""
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
    """A LoRA name and strength item per node id, for the LoRA slots the capture only names by node."""
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
