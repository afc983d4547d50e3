#!/usr/bin/env python3
"""Build ``rh_tools/catalogue/endpoints.json`` from the reference material.

Usage::

    python scripts/build_catalogue.py [--reference DIR] [--out FILE] [--check] [-v]

The rules live in the ``catalogue_build`` package beside this script, one module per kind of rule; its
docstring (and docs/catalogue.md) says which module holds which rule.
"""

from __future__ import annotations

import sys

from catalogue_build.cli import main

if __name__ == "__main__":
    sys.exit(main())
