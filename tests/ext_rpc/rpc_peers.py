"""Independent servers for the client tests, run in a subprocess: ``python rpc_peers.py KIND``.

``xmlrpc``: the standard library's SimpleXMLRPCServer. ``jsonrpc``: the
``jsonrpcserver`` library behind the standard library's http.server. Each prints
its port on the first line, then serves until killed.
"""

from __future__ import annotations

import http.server
import sys
import xmlrpc.server


def xmlrpc_peer() -> None:
    server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
    server.register_introspection_functions()
    server.register_multicall_functions()
    server.register_function(lambda value: value, "echo")
    server.register_function(lambda a, b: a + b, "math.add")

    def fail() -> None:
        raise ValueError("peer failure")

    server.register_function(fail, "fail")
    print(server.server_address[1], flush=True)
    server.serve_forever()


def jsonrpc_peer() -> None:
    from jsonrpcserver import Error, Success, dispatch, method

    @method
    def echo(value):  # type: ignore[no-untyped-def]
        return Success(value)

    @method
    def subtract(minuend, subtrahend):  # type: ignore[no-untyped-def]
        return Success(minuend - subtrahend)

    @method
    def refuse():  # type: ignore[no-untyped-def]
        return Error(77, "refused", {"by": "peer"})

    @method
    def log(value):  # type: ignore[no-untyped-def]
        return Success(None)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            answer = dispatch(self.rfile.read(length).decode())
            body = answer.encode()
            self.send_response(200 if body else 204)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    {"xmlrpc": xmlrpc_peer, "jsonrpc": jsonrpc_peer}[sys.argv[1]]()
