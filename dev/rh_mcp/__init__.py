"""``rh_mcp`` for a development checkout: the MCP server package under the name a wheel installs.

A wheel installs the repository's ``mcp_server/`` folder as ``rh_mcp`` (see ``[tool.hatch.build]``
in pyproject.toml): a project-specific name, so it never clashes with another project's
``mcp_server``. An editable install cannot rename a folder; it puts this ``dev/`` folder on
``sys.path`` instead, and this module loads ``mcp_server/__init__.py`` as ``rh_mcp`` with
``mcp_server/`` as its package path. ``rh-mcp``, ``python -m rh_mcp`` and ``import rh_mcp`` then
run the checkout's live files, exactly as they run the wheel's.

Never shipped: the wheel holds the real ``rh_mcp`` package, not this file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[2] / "mcp_server"


def _load() -> None:
    # The importlib recipe for importing a package from its folder; the module replaces this one in
    # sys.modules, and `import rh_mcp` hands back what sys.modules holds once this body has run.
    spec = importlib.util.spec_from_file_location(
        __name__, _SOURCE / "__init__.py", submodule_search_locations=[str(_SOURCE)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"rh_mcp: cannot load the MCP server package from {_SOURCE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[__name__] = module
    spec.loader.exec_module(module)


_load()
