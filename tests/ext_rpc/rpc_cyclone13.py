"""Run with cyclone 1.3's interpreter: ``python rpc_cyclone13.py``.

Serves 1.3's own ``JsonrpcRequestHandler`` on a free port, prints the port and
runs until killed. (1.3's ``httpclient.JsonRPC`` cannot be used as a peer: on
current Twisted its ``fetch`` passes ``str`` methods and URLs to ``Agent``; its
``cyclone.xmlrpc`` imports Python 2's ``xmlrpclib``.)
"""

from twisted.internet import defer, reactor


def server():
    import cyclone.jsonrpc
    import cyclone.web

    class Handler(cyclone.jsonrpc.JsonrpcRequestHandler):
        def jsonrpc_echo(self, text):
            return text

        @defer.inlineCallbacks
        def jsonrpc_add(self, a, b):
            yield None
            defer.returnValue(a + b)

    port = reactor.listenTCP(
        0, cyclone.web.Application([(r"/jsonrpc", Handler)]), interface="127.0.0.1"
    )
    print(port.getHost().port, flush=True)
    reactor.run()


if __name__ == "__main__":
    server()
