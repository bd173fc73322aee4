"""MkDocs hook: Sphinx cross-reference roles in docstrings read as plain code.

The docstrings say ``:class:`HTTPLimits``` or ``:meth:`~Template.generate```;
mkdocstrings renders the backquoted part as code and leaves the role in front of
it. This drops the role (and a leading ``~``) from the rendered HTML.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|const|ref):(<code>)~?")


def on_page_content(html: str, **_: Any) -> str:
    return ROLE.sub(r"\1", html)
