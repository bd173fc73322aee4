"""The template demo's UI module: an entry, with the CSS and JavaScript entries need."""

from __future__ import annotations

from typing import Any

import cyclone.web


class Entry(cyclone.web.UIModule):
    def render(self, entry: dict[str, Any], show_tags: bool = True) -> bytes:
        return self.render_string("modules/entry.html", entry=entry, show_tags=show_tags)

    def embedded_css(self) -> str:
        return ".entry { border-left: 3px solid var(--accent); padding-left: 0.75em; }"

    def embedded_javascript(self) -> str:
        return 'document.body.dataset.entries = document.querySelectorAll(".entry").length;'
