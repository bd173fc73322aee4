"""The clock (``@asynchronous`` long polling), delayed (``yield sleep``) and crawler demos."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from waiting import wait_until

from cyclone.testing import call
from demos.clock.app import Application as Clock
from demos.crawler.crawler import crawl, demo_site
from demos.delayed.app import Application as Delayed


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return json.loads(r.read())


def test_every_waiting_client_gets_the_same_tick(serve):
    app = Clock(interval=0.2)
    port = serve(app)
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + "/", timeout=10) as r:
        body = r.read().decode()
    assert 'fetch("/clock")' in body and "/static/demo.css" in body
    with ThreadPoolExecutor(3) as pool:
        ticks = list(pool.map(get_json, [base + "/clock"] * 3))
    assert len({t["tick"] for t in ticks}) == 1, ticks  # answered together by one tick
    assert get_json(base + "/clock")["tick"] > ticks[0]["tick"]


def test_a_client_that_leaves_is_forgotten_and_the_clock_stops(serve):
    app = Clock(interval=0.2)
    clock = app.settings.clock
    port = serve(app)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /clock HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: len(clock.waiting) == 1)
    wait_until(lambda: not clock.waiting, message="the closed request is still waiting")
    wait_until(lambda: not clock.ticker.running, message="the clock ticks for nobody")


def test_sleeping_requests_do_not_block_each_other(serve):
    port = serve(Delayed(delay=0.5))
    urls = [f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/await"] * 3
    started = time.monotonic()
    with ThreadPoolExecutor(len(urls)) as pool:
        answers = list(pool.map(get_json, urls))
    elapsed = time.monotonic() - started
    assert all(a["slept"] >= 0.49 for a in answers), answers
    assert {a["style"] for a in answers} == {"inlineCallbacks", "async def"}
    assert elapsed < 2.5, f"six 0.5 s sleeps took {elapsed:.2f}s: they ran one after another"


def test_the_crawler_finds_every_page_of_the_site(serve):
    port = serve(demo_site())
    start = f"http://127.0.0.1:{port}/"
    pages = call(crawl, start)
    titles = {p.title for p in pages}
    assert titles == {f"page {n}" for n in range(15)}, titles
    assert all(p.status == 200 for p in pages)
    assert len({p.url for p in pages}) == 15
    assert len(call(crawl, start, 5)) == 5


def test_the_crawler_command(serve):
    port = serve(demo_site())
    result = subprocess.run(
        [sys.executable, "demos/crawler/crawler.py", f"http://127.0.0.1:{port}/page/3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert lines == sorted(f"200 http://127.0.0.1:{port}/page/{n} page {n}" for n in (3, 7, 8)), (
        result.stdout
    )


def test_the_crawler_crawls_its_own_site_without_arguments():
    result = subprocess.run(
        [sys.executable, "demos/crawler/crawler.py"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 15
