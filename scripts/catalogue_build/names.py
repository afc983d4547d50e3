"""Tool names, the tie-break when two endpoints would share one, and aliases.

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
``sora-2/image-to-video-official-stable`` -> ``sora_2_image_to_video_official``. Steps 2 and 3 follow
the naming conventions noted in ``runninghub-api.md`` section 3.1 ("-channel-low-price" has no suffix in
the path; "-official-stable" is the ``-official`` channel).

Tie-break (``resolve_collisions``): if two endpoints get the same name, the one listed in the docs
sidebar (else the first in registry order) keeps it and every other one gets ``_`` + the words of its
API path that the name lacks (e.g. ``..._std``). The build fails if a collision survives that.

Aliases (``aliases_for``, ``drop_shadowing_aliases``): an endpoint is also found by its further sidebar
names and by the registry ``name_en`` when that differs from its display name; an alias that names
another endpoint (its tool name, path or sidebar name) is dropped and noted.
"""

from __future__ import annotations

import re
from typing import Any

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


def _norm(name: str) -> str:
    return name.strip().lower()


def aliases_for(other_sidebar_names: list[str], name_en: str | None, display: str) -> list[str]:
    """Further names that find an endpoint: its other sidebar names, then the registry name_en if it differs."""
    aliases = list(other_sidebar_names)
    if name_en and _norm(name_en) != _norm(display):
        aliases.append(name_en)
    return list(dict.fromkeys(aliases))


def resolve_collisions(endpoints: list[dict[str, Any]], notes: list[str]) -> None:
    """Give every endpoint a tool name of its own (in place); the tie-break is in the module docstring."""
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


def drop_shadowing_aliases(endpoints: list[dict[str, Any]], notes: list[str]) -> None:
    """Aliases may not shadow another endpoint's identity (tool name, path, sidebar name); in place."""
    owner: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        for key in (ep["tool_name"], _norm(ep["path"]), _norm(ep["sidebar_name"])):
            owner.setdefault(key, ep)
    for ep in endpoints:
        kept: list[str] = []
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
