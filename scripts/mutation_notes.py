"""Why each surviving mutant of ``scripts/mutation.py`` may survive: an equivalent mutant, or why the
behaviour it changes does not matter. Keyed by ``<file>::<function>::<line before> => <line after>``
(the mutated line as mutmut shows it), so a note outlives mutmut's renumbering of mutants; the
script prints the key of every survivor that has no note yet.
"""

from __future__ import annotations

NOTES: dict[str, str] = {}

#: (file, function glob, regex over "<before> => <after>", note): for families of survivors that
#: share one reason (e.g. the wording of a log line). Checked after NOTES.
PATTERNS: list[tuple[str, str, str, str]] = []
