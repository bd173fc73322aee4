"""ssl: HTTP and HTTPS in one process, each port with its own Application.

    sh demos/ssl/make_certificate.sh          # server.key and server.crt, self-signed
    uv run cyclone run -r demos.ssl.app.HTTPApplication -p 8888 \\
        --ssl-app demos.ssl.app.HTTPSApplication --ssl-port 8443 \\
        --ssl-cert server.crt --ssl-key server.key

or ``uv run python demos/ssl/app.py`` (the same, with Twisted's ``listenTCP`` and
``listenSSL``). http://127.0.0.1:8888/ is the plain application: it sends
``/account`` to the HTTPS port. https://127.0.0.1:8443/ is the other one, where
``self.request.protocol`` is ``https`` (``curl -k``, or ``--cacert server.crt``).
"""

from __future__ import annotations

import argparse
import urllib.parse

import cyclone.web
from demos.look import STATIC_PATH, page


class PlainHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(
            page(
                "Plain HTTP",
                f"<p>This is the HTTP application (protocol <code>{self.request.protocol}</code>)."
                ' The <a href="/account">account page</a> is only served over HTTPS.</p>',
            )
        )


class ToHTTPSHandler(cyclone.web.RequestHandler):
    """Everything else on the plain port moves to the same path on the HTTPS port."""

    def get(self, path: str) -> None:
        host = urllib.parse.urlsplit("//" + self.request.host).hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        self.redirect(f"https://{host}:{self.settings.https_port}/{path}", permanent=True)


class SecureHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(
            page(
                "HTTPS",
                f"<p>This is the HTTPS application (protocol <code>{self.request.protocol}</code>)."
                ' Your <a href="/account">account</a>.</p>',
            )
        )


class AccountHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write({"account": "demo", "protocol": self.request.protocol})


def HTTPApplication(https_port: str | None = None) -> cyclone.web.Application:
    """The plain application; ``https_port`` (``-c`` of cyclone run) is where it redirects."""
    return cyclone.web.Application(
        [(r"/", PlainHandler), (r"/(.+)", ToHTTPSHandler)],
        static_path=STATIC_PATH,
        https_port=int(https_port or 8443),
    )


def HTTPSApplication() -> cyclone.web.Application:
    """The application on the TLS port."""
    return cyclone.web.Application(
        [(r"/", SecureHandler), (r"/account", AccountHandler)], static_path=STATIC_PATH
    )


def main() -> None:
    from twisted.internet import reactor, ssl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--ssl-port", type=int, default=8443)
    parser.add_argument("--cert", default="server.crt")
    parser.add_argument("--key", default="server.key")
    args = parser.parse_args()
    tls = ssl.DefaultOpenSSLContextFactory(args.key, args.cert)
    reactor.listenTCP(args.port, HTTPApplication(str(args.ssl_port)), interface="127.0.0.1")
    reactor.listenSSL(args.ssl_port, HTTPSApplication(), tls, interface="127.0.0.1")
    print(f"http://127.0.0.1:{args.port}/ and https://127.0.0.1:{args.ssl_port}/")
    reactor.run()


if __name__ == "__main__":
    main()
