"""crawler: ``yield`` on cyclone's HTTP client, a few fetches at a time, one site only.

    uv run python demos/crawler/crawler.py http://127.0.0.1:8888/
    uv run python demos/crawler/crawler.py        # crawls a small site it serves itself

Prints one line per page: status, URL and title. :func:`crawl` is an
``@inlineCallbacks`` function: each ``yield fetch(url)`` waits for a response
while the other fetches (at most ``concurrency``) carry on.
"""

from __future__ import annotations

import argparse
import html.parser
import sys
import urllib.parse
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, reactor

import cyclone.web
from cyclone.httpclient import fetch


@dataclass
class Page:
    """What the crawler saw at one URL."""

    url: str
    status: int
    title: str = ""
    links: list[str] = field(default_factory=list)


class _LinksAndTitle(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@defer.inlineCallbacks
def visit(url: str) -> Generator[defer.Deferred[Any], Any, Page]:
    """Fetch one page and read its title and links (made absolute, fragments dropped)."""
    response = yield fetch(url, timeout=10)
    page = Page(url, response.code)
    if "html" in (response.header("Content-Type") or ""):
        parser = _LinksAndTitle()
        parser.feed(response.body.decode("utf-8", "replace"))
        page.title = parser.title.strip()
        page.links = [urllib.parse.urldefrag(urllib.parse.urljoin(url, h))[0] for h in parser.links]
    return page


@defer.inlineCallbacks
def crawl(
    start: str, max_pages: int = 50, concurrency: int = 4
) -> Generator[defer.Deferred[Any], Any, list[Page]]:
    """Every page reachable from ``start`` on the same host, in the order they were found."""
    site = urllib.parse.urlsplit(start).netloc
    seen = {start}
    found: list[Page] = []
    limit = defer.DeferredSemaphore(concurrency)

    @defer.inlineCallbacks
    def one(url: str) -> Generator[defer.Deferred[Any], Any, None]:
        try:
            page = yield limit.run(visit, url)
        except Exception as e:  # a page that cannot be fetched is reported, not fatal
            found.append(Page(url, 0, title=f"error: {e}"))
            return
        found.append(page)
        news = []
        for link in page.links:
            if urllib.parse.urlsplit(link).netloc == site and link not in seen:
                if len(seen) >= max_pages:
                    break
                seen.add(link)
                news.append(one(link))
        yield defer.gatherResults(news)

    yield one(start)
    return found


class _SitePage(cyclone.web.RequestHandler):
    def get(self, number: str) -> None:
        n = int(number or 0)
        links = "".join(
            f'<li><a href="/page/{m}">page {m}</a></li>' for m in (2 * n + 1, 2 * n + 2)
        )
        links = links if n < 7 else ""
        self.write(
            f"<html><head><title>page {n}</title></head><body><ul>{links}</ul></body></html>"
        )


def demo_site() -> cyclone.web.Application:
    """A small site to crawl: ``/`` links pages 1 and 2, page n links 2n+1 and 2n+2, up to 14."""
    return cyclone.web.Application([(r"/(?:page/)?(\d*)", _SitePage)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="where to start (default: a site served here)")
    parser.add_argument("--max-pages", type=int, default=50)
    args = parser.parse_args(argv)
    start = args.url
    if start is None:
        port = reactor.listenTCP(0, demo_site(), interface="127.0.0.1")
        start = f"http://127.0.0.1:{port.getHost().port}/"
    status = []

    def report(pages: list[Page]) -> None:
        for page in pages:
            print(f"{page.status} {page.url} {page.title}")
        status.append(0 if pages and all(p.status == 200 for p in pages) else 1)

    def failed(failure: Any) -> None:
        print(f"crawl failed: {failure.getErrorMessage()}", file=sys.stderr)
        status.append(1)

    crawl(start, args.max_pages).addCallbacks(report, failed).addBoth(lambda _: reactor.stop())
    reactor.run()
    sys.exit(status[0] if status else 1)


if __name__ == "__main__":
    main()
