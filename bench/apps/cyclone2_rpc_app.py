"""cyclone 2 (this repository) serving the RPC benchmark: echo over XML-RPC and JSON-RPC.

Usage: python cyclone2_rpc_app.py PORT

``/RPC2`` is an ``XmlrpcRequestHandler`` and ``/jsonrpc`` a
``JsonrpcRequestHandler``, each with an ``echo`` method; the access log is off.
"""

from __future__ import annotations

import sys

from _runner import run_reactor
from twisted.internet import reactor

import cyclone.web
from cyclone_ext_rpc import JsonrpcRequestHandler, XmlrpcRequestHandler


class XmlEcho(XmlrpcRequestHandler):
    def xmlrpc_echo(self, value):
        return value


class JsonEcho(JsonrpcRequestHandler):
    def jsonrpc_echo(self, value):
        return value


def main() -> None:
    app = cyclone.web.Application(
        [(r"/RPC2", XmlEcho), (r"/jsonrpc", JsonEcho)], log_function=lambda handler: None
    )
    reactor.listenTCP(int(sys.argv[1]), app, backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
