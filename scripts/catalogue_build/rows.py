"""The raw endpoint rows: one per registry model, in registry order, then one per capture-only endpoint.

Facts per row come from ``model-registry.public.json``: ``endpoint`` (the API path), ``name_en``,
``output_type``, ``category`` (the provider) and ``params`` (turned into our params by ``params.py``).
The folder's SOURCE.md notes the two entries whose ``endpoint`` carries a bogus ``-[Deprecated]``
suffix (``clean_path``). Endpoints of ``runninghub-endpoints.md`` Part 2 that the registry lacks become
rows with no registry facts; their output type is settled later (``classify.capture_output_type``).
"""

from __future__ import annotations

from typing import Any

CAPTURE_PROVIDER = "Open-source (RunningHub-hosted)"
DEPRECATED_MARK = "-[Deprecated]"

# Registry category typo fixed for display ("RunningHub/Qwe" is the Qwen family).
PROVIDER_FIXES = {"Qwe": "Qwen"}

# Registry output_type -> ours ("string" results are text: LLM replies, ids).
OUTPUT_TYPES = {"string": "text", "3d": "3d", "audio": "audio", "image": "image", "video": "video"}


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


def raw_rows(registry: dict[str, Any], part2: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Registry rows, then the Part-2 endpoints the registry lacks; fails on a duplicate registry path."""
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
    return rows
