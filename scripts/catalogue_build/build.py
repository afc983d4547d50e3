"""Puts the catalogue document together: read the reference, make one row per endpoint, settle names.

The steps, each in the module named: read the four reference files (``reference``); parse the sidebar
and its name -> path table (``sidebar``) and the Part-2 capture (``capture``); one raw row per registry
model, then per capture-only endpoint (``rows``); per row its category, task, variant and model
(``classify``), params (``params``), names and aliases (``names``) and description (``descriptions``);
then tool-name collisions and shadowing aliases are settled (``names``). Endpoints in the docs sidebar
come first, in sidebar order, then the rest in registry order. The output is deterministic (no
timestamps): the same reference gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .capture import parse_part2, resolve_part2
from .classify import capture_output_type, category_for, model_for, task_for, variant_for
from .descriptions import endpoint_description
from .names import aliases_for, drop_shadowing_aliases, resolve_collisions, tool_name_for
from .params import endpoint_params
from .reference import read_reference, sources_block
from .rows import raw_rows
from .sidebar import map_sidebar, parse_sidebar, parse_sidebar_table


def build(reference: Path) -> tuple[dict[str, Any], list[str]]:
    """The catalogue document and a list of notes (collisions, dropped aliases) for the log."""
    notes: list[str] = []
    registry, md, seed, api_md = read_reference(reference)

    sidebar = parse_sidebar(seed)
    table = parse_sidebar_table(api_md)
    part2 = parse_part2(md)
    resolve_part2(part2)
    p2_by_path = {e["path"]: e for e in part2}

    rows = raw_rows(registry, part2)
    sidebar_of, exceptions = map_sidebar(sidebar, table, {r["path"] for r in rows}, notes)

    # --- classify ---
    endpoints: list[dict[str, Any]] = []
    for r in rows:
        names = sidebar_of.get(r["path"], [])
        sidebar_name, group = names[0] if names else (None, None)
        if r["source"] == "capture":
            r["output_type"] = capture_output_type(group, r["path"])
        display = sidebar_name or r["name_en"] or p2_by_path[r["path"]].get("sidebar_hint") or r["path"]
        subgroup = group.split("/", 1)[1] if group and "/" in group else None
        category = category_for(group, r["output_type"])
        task = task_for(display, r["path"], subgroup, r["output_type"], category)
        params = endpoint_params(r, p2_by_path)
        ep = {
            "tool_name": tool_name_for(display),
            "path": r["path"],
            "sidebar_name": display,
            "aliases": aliases_for([n for n, _ in names[1:]], r["name_en"], display),
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

    resolve_collisions(endpoints, notes)
    drop_shadowing_aliases(endpoints, notes)

    endpoints.sort(key=lambda e: e["_order"])
    for ep in endpoints:
        del ep["_in_sidebar"], ep["_order"]

    doc = {
        "format": 1,
        "generated_by": "scripts/build_catalogue.py",
        "sources": sources_block(reference, registry),
        "sidebar": [{"name": n, "group": g} for n, g in sidebar],
        "sidebar_exceptions": exceptions,
        "endpoints": endpoints,
    }
    return doc, notes
