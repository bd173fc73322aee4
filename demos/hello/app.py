"""hello: the README's first application, served by twistd.

    uv run twistd -n cyclone -r demos.hello.app.application -p 8888

(``-n`` stays in the foreground; without it twistd daemonizes and writes
``twistd.pid`` and ``twistd.log``). ``python demos/hello/app.py`` serves it too.
"""

from twisted.internet import reactor

import cyclone.web


class MainHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


application = cyclone.web.Application([(r"/", MainHandler)])

if __name__ == "__main__":
    reactor.listenTCP(8888, application, interface="127.0.0.1")
    reactor.run()
