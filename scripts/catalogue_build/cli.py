"""Build ``rh_tools/catalogue/endpoints.json`` from the reference material.

The command line behind ``python scripts/build_catalogue.py [--reference DIR] [--out FILE] [--check] [-v]``:
build the document (``build.py``), validate its rows with the package's own pydantic models, then write
it, or with ``--check`` fail when the committed file is stale. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .build import build
from .reference import DEFAULT_REFERENCE, REPO

DEFAULT_OUT = REPO / "rh_tools" / "catalogue" / "endpoints.json"


def render(doc: dict[str, Any]) -> str:
    """endpoints.json as text: one-space indent, UTF-8 kept, keys in build order, a final newline."""
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
    """Run the command line; the exit status is 0 when written or up to date, 1 when stale, 2 on a bad folder."""
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
