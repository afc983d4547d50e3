"""Where the reference material lives, reading it, and the fingerprint of it kept in endpoints.json.

Inputs (read-only; default ``<repo>/../shared/reference``):

* ``model-registry.public.json`` -- RunningHub's registry of Standard Model endpoints (Apache-2.0; the
  folder's SOURCE.md says where it was copied from). Only *facts* are taken from it: paths, names,
  categories, output types, parameter keys, types, required flags, enum values, ranges and limits. Its
  prose (descriptions, labels, example prompts in ``defaultValue``) is never copied; every description in
  the output is generated from our own templates (``descriptions.py``). Read by ``rows.py`` (one row per
  model) and ``params.py`` (``registry_param``).
* ``runninghub-endpoints.md`` Part 2 -- the capture of the ``<nodeId>##<field>``-keyed open-source
  endpoints, plus the COMPLEX fields the registry omits. Read by ``capture.py``.
* ``seed-api-doc-grok-image-to-image.txt`` -- the docs page whose sidebar lists the endpoints users
  expect. Read by ``sidebar.py``.
* ``runninghub-api.md`` section 3.3 -- the authoritative sidebar name -> API path table. Read by
  ``sidebar.py``.

The output records each file's SHA-256 (``sources_block``), so a changed reference shows in the diff.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"

REGISTRY_FILE = "model-registry.public.json"
ENDPOINTS_MD = "runninghub-endpoints.md"
SEED_FILE = "seed-api-doc-grok-image-to-image.txt"
API_MD = "runninghub-api.md"


def _paths(reference: Path) -> tuple[Path, Path, Path, Path]:
    registry, endpoints_md, seed, api_md = (reference / f for f in (REGISTRY_FILE, ENDPOINTS_MD, SEED_FILE, API_MD))
    return registry, endpoints_md, seed, api_md


def read_reference(reference: Path) -> tuple[dict[str, Any], str, str, str]:
    """The parsed registry, then the text of runninghub-endpoints.md, the seed page and runninghub-api.md."""
    reg_path, md_path, seed_path, api_path = _paths(reference)
    registry = json.loads(reg_path.read_text("utf-8"))
    md = md_path.read_text("utf-8")
    seed = seed_path.read_text("utf-8")
    api_md = api_path.read_text("utf-8")
    return registry, md, seed, api_md


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sources_block(reference: Path, registry: dict[str, Any]) -> dict[str, Any]:
    """The ``sources`` entry of endpoints.json: which reference files (and registry version) it was built from."""
    reg_path, md_path, seed_path, api_path = _paths(reference)
    return {
        "registry": {
            "file": REGISTRY_FILE,
            "version": registry.get("version"),
            "sha256": _sha256(reg_path),
        },
        "endpoints_md": {"file": ENDPOINTS_MD, "sha256": _sha256(md_path)},
        "seed": {"file": SEED_FILE, "sha256": _sha256(seed_path)},
        "sidebar_table": {"file": API_MD, "section": "3.3", "sha256": _sha256(api_path)},
    }
