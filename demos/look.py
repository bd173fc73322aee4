"""The demos' shared look: one stylesheet (``demos/static/demo.css``) and a page frame.

Every demo that serves HTML serves ``demos/static`` as its static path (so the
stylesheet is at ``/static/demo.css``) and wraps its pages with :func:`page`, or
links ``{{ static_url("demo.css") }}`` from its templates.
"""

from __future__ import annotations

import html
import os

STATIC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STYLESHEET = "/static/demo.css"


def page(title: str, body: str, head: str = "") -> str:
    """A complete HTML page: ``title`` (escaped here), ``body`` and ``head`` as given HTML."""
    title = html.escape(title)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{title}</title>\n<link rel="stylesheet" href="{STYLESHEET}">\n{head}'
        f"</head>\n<body>\n<h1>{title}</h1>\n{body}\n"
        "<footer>A cyclone demo: every demo is listed in <code>demos/README.md</code>.</footer>\n"
        "</body></html>\n"
    )
