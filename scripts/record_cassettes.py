"""Rebuild the recorded-HTTP cassettes from the built-in emulator (no key, no credits).

    python scripts/record_cassettes.py            # rebuild cassettes/test_recorded/ from the emulator

To re-record against the real API instead (spends credits):

    RUNNINGHUB_API_KEY=... pytest tests/test_recorded.py --record-mode=rewrite

Cassettes are written as if the API answers came from https://www.runninghub.ai (result and upload
files keep the loopback storage host the emulator really served them from), with the API key,
``apiKey`` body fields and signed-URL tokens replaced by REDACTED (see tests/cassette_support.py).
Each file starts with its ``origin`` (emulator or live, and when); the README index is built from it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["test_recorded"]


def _origin(path: Path) -> str:
    data = yaml.safe_load(path.read_text("utf-8"))
    origin = data.get("origin") if isinstance(data, dict) else None
    if not isinstance(origin, dict):
        return "unknown (no origin in the file)"
    return f"{origin.get('source')} | {origin.get('recorded')} | {origin.get('detail')}"


def write_index() -> None:
    """cassettes/README.md lists every cassette and where it came from (read from the file itself)."""
    readme = ROOT / "cassettes" / "README.md"
    head = readme.read_text("utf-8").split("<!-- index -->")[0] if readme.exists() else "# Cassettes\n\n"
    rows = [
        f"| `{p.relative_to(ROOT / 'cassettes')}` | {_origin(p)} |"
        for p in sorted((ROOT / "cassettes").rglob("*.yaml"))
    ]
    table = "\n".join(["| cassette | origin | recorded | how |", "|---|---|---|---|", *rows])
    readme.write_text(f"{head}<!-- index -->\n{table}\n", "utf-8")


def main() -> int:
    for module in MODULES:
        shutil.rmtree(ROOT / "cassettes" / module, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--cassettes-from-emulator",
        *[f"tests/{m}.py" for m in MODULES],
    ]
    code = subprocess.call(cmd, cwd=ROOT)
    write_index()
    return code


def index_only() -> int:
    """``--index``: rebuild the README table after a live re-recording (pytest --record-mode=rewrite)."""
    write_index()
    return 0


if __name__ == "__main__":
    sys.exit(index_only() if "--index" in sys.argv[1:] else main())
