"""The docs sidebar users know, and which API path each of its names calls.

Two inputs, both in the reference folder:

* ``seed-api-doc-grok-image-to-image.txt`` -- a RunningHub API docs page; its sidebar's "Standard Model
  API" subtree lists the names users see (``parse_sidebar``). Sidebar names are marketing names, not
  paths (``runninghub-api.md`` section 3.1: "the mapping is not derivable by rule").
* ``runninghub-api.md`` section 3.3 -- the table from sidebar name to API path, built from the
  registry's ``name_en -> endpoint`` pairs plus the capture (``parse_sidebar_table``).

``map_sidebar`` joins the two: a sidebar name missing from the table, or mapped to a path that neither
the registry nor the capture has, becomes a ``sidebar_exceptions`` entry of endpoints.json.
"""

from __future__ import annotations

import re
from collections.abc import Container


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


def map_sidebar(
    sidebar: list[tuple[str, str]], table: list[dict[str, str]], known_paths: Container[str], notes: list[str]
) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str]]:
    """Sidebar names (with their groups) per API path, and the names that map to no known endpoint.

    Differences between the seed page and the table (a group, a name only one of them lists) go to ``notes``.
    """
    table_by_name: dict[str, dict[str, str]] = {}
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
        if t["path"] not in known_paths:
            exceptions[name] = f"maps to {t['path']}, which is in neither the registry nor the capture"
            continue
        if t["group"] != group:
            notes.append(f"sidebar group differs for {name!r}: seed {group!r}, table {t['group']!r}")
        sidebar_of.setdefault(t["path"], []).append((name, group))
    seed_names = {n for n, _ in sidebar}
    for t in table:
        if t["name"] not in seed_names:
            notes.append(f"table row {t['name']!r} is not in the seed sidebar")
    return sidebar_of, exceptions
