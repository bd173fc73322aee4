"""The hello-world from the README, over a real socket."""

import http.client

import cyclone.web


class MainHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


def test_hello_world_is_served(serve):
    port = serve(cyclone.web.Application([(r"/", MainHandler)]))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.read() == b"Hello, world"
    assert resp.getheader("Content-Type") == "text/html; charset=UTF-8"
