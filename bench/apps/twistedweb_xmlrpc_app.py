"""twisted.web.xmlrpc.XMLRPC serving the RPC benchmark's XML-RPC echo.

Usage: python twistedweb_xmlrpc_app.py PORT

``/RPC2`` is an ``XMLRPC`` resource with ``xmlrpc_echo``; the Site's access log
is replaced by a no-op.
"""

from __future__ import annotations

import sys

from twisted.internet import reactor
from twisted.web import resource, server, xmlrpc


class Echo(xmlrpc.XMLRPC):
    def xmlrpc_echo(self, value):
        return value


class QuietSite(server.Site):
    def log(self, request):
        pass


def main() -> None:
    root = resource.Resource()
    root.putChild(b"RPC2", Echo())
    reactor.listenTCP(int(sys.argv[1]), QuietSite(root), backlog=1024, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
