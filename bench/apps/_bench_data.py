"""What every bench app's template endpoint renders, and the options they share.

The template row: 100 rows, each with text that must be escaped, in a page
that extends a base layout with blocks (``templates/rows.html`` for cyclone
and Tornado, which share the template language, ``templates/rows.j2`` for
Jinja2). The data is built once; the template is rendered per request.
"""

from __future__ import annotations

import sys
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLE = "Rows & <columns>"
ROWS = [
    {"id": i, "name": f"item <{i}>", "note": 'Tom & Jerry\'s "quoted" note'} for i in range(100)
]


def option(name: str) -> str | None:
    """The value after ``name`` in the command line, or None."""
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return None
