"""The floor: a bare Twisted protocol that parses with httptools and writes a fixed reply.

Usage: python bare_app.py PORT [--reactor cyclone]

No framework at all: every complete request gets a prebuilt response chosen
by path (the JSON body is still made with ``json.dumps`` per request, like the
frameworks do). It honours ``Connection: close`` and HTTP/1.0 so wrk's close
mode works. This is the cost of Twisted + httptools alone; with ``--reactor
cyclone`` on :mod:`cyclone.epollreactor` (the floor under cyclone 2's default).
"""

from __future__ import annotations

import json
import sys

import httptools

if "--reactor" in sys.argv and sys.argv[sys.argv.index("--reactor") + 1] == "cyclone":
    from cyclone import epollreactor

    epollreactor.install()

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol

HELLO = b"Hello, world"


def _reply(body: bytes, content_type: bytes, keep_alive: bool) -> bytes:
    return b"".join(
        (
            b"HTTP/1.1 200 OK\r\nServer: bare\r\nContent-Type: ",
            content_type,
            b"\r\nContent-Length: ",
            str(len(body)).encode(),
            b"\r\n" if keep_alive else b"\r\nConnection: close\r\n",
            b"\r\n",
            body,
        )
    )


class BareHTTP(Protocol):
    def connectionMade(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        url, self.url = self.url, b""
        keep_alive = self.parser.should_keep_alive()
        if url == b"/":
            out = _reply(HELLO, b"text/plain; charset=UTF-8", keep_alive)
        elif url == b"/json":
            body = json.dumps({"message": "Hello, world"}).encode()
            out = _reply(body, b"application/json", keep_alive)
        elif url.startswith(b"/user/"):
            out = _reply(b"user " + url[6:], b"text/plain; charset=UTF-8", keep_alive)
        else:
            out = _reply(b"not found", b"text/plain", keep_alive).replace(
                b"200 OK", b"404 Not Found", 1
            )
        self.transport.write(out)
        if not keep_alive:
            self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.abortConnection()


class BareFactory(Factory):
    protocol = BareHTTP


def main() -> None:
    reactor.listenTCP(int(sys.argv[1]), BareFactory(), backlog=1024, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
