"""The template demo: inheritance, escaping, UI modules and their resources, a UI method."""

from __future__ import annotations

import urllib.request

from demos.template.app import Application


def test_the_page_uses_every_feature(serve):
    with urllib.request.urlopen(f"http://127.0.0.1:{serve(Application())}/", timeout=10) as r:
        page = r.read().decode()
    assert "<title>Template demo</title>" in page  # base.html's block
    assert '<small class="muted">2 entries</small>' in page  # overridden in index.html
    assert '<link rel="stylesheet" href="/static/demo.css?v=' in page  # static_url
    assert "<h2>Templates &lt;compiled&gt; to Python</h2>" in page  # autoescape
    assert '<a href="https://www.tornadoweb.org/">' in page  # linkify
    assert page.count('<article class="entry">') == 2  # the Entry module, once per entry
    assert [part.split("<", 1)[0] for part in page.split('<span class="tag">')[1:]] == [
        "#templates",
        "#speed",
        "#modules",
    ]  # the Template module
    assert "10 minutes ago" in page and "2 hours ago" in page  # the ago() UI method
    head, _, body = page.partition("</head>")
    # Each module's resources go in once, CSS before </head> and JavaScript before </body>.
    assert head.count(".entry {") == 1 and head.count(".tag {") == 1
    assert body.count("querySelectorAll") == 1 and body.rindex("<script>") > body.rindex(
        "</footer>"
    )
