"""Why each surviving mutant of ``scripts/mutation.py`` may survive: an equivalent mutant, or why the
behaviour it changes does not matter. Keyed by ``<file>::<function>::<line before> => <line after>``
(the mutated line as mutmut shows it), so a note outlives mutmut's renumbering of mutants.
"""

from __future__ import annotations

NOTES: dict[str, str] = {}
