"""Rebuild the recorded-HTTP cassettes from the built-in emulator (no key, no credits).

    python scripts/record_cassettes.py            # rebuild cassettes/test_recorded/ from the emulator

To re-record against the real API instead (spends credits):

    RUNNINGHUB_API_KEY=... pytest tests/test_recorded.py --record-mode=rewrite

Cassettes are written as if the answers came from https://www.runninghub.ai, with the API key,
``apiKey`` body fields and signed-URL tokens replaced by REDACTED (see tests/cassette_support.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["test_recorded"]


ORIGIN = "emulator, from the API reference's documented shapes and examples (not a live recording)"


def write_index() -> None:
    """cassettes/README.md lists every cassette and where it came from."""
    readme = ROOT / "cassettes" / "README.md"
    head = readme.read_text("utf-8").split("<!-- index -->")[0] if readme.exists() else "# Cassettes\n\n"
    rows = [
        f"| `{p.relative_to(ROOT / 'cassettes')}` | {ORIGIN} |" for p in sorted((ROOT / "cassettes").rglob("*.yaml"))
    ]
    table = "\n".join(["| cassette | origin |", "|---|---|", *rows])
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


if __name__ == "__main__":
    sys.exit(main())
