"""``wss://`` with a client that offers ALPN (``h2`` and ``http/1.1``, as browsers do).

The server must select ``http/1.1`` and complete the handshake (before the
Application declared its protocols, such a client got a TLS ``internal error``
alert), then the WebSocket upgrade and messages work as over plain TCP.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from twisted.internet import endpoints, reactor
from twisted.internet import ssl as twisted_ssl
from websockets.sync.client import connect
from wsraw import EchoHandler

from cyclone.testing import call
from cyclone.web import Application

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["listenSSL", "ssl-endpoint"])
def wss_port(request, certificate):
    key, cert = certificate
    app = Application([(r"/echo", EchoHandler, {"compression": {}})])
    if request.param == "listenSSL":
        pem = Path(cert).read_text() + Path(key).read_text()
        options = twisted_ssl.PrivateCertificate.loadPEM(pem).options()
        port = call(reactor.listenSSL, 0, app, options, interface="127.0.0.1")
    else:
        endpoint = endpoints.serverFromString(
            reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
        )
        port = call(endpoint.listen, app)
    yield port.getHost().port
    call(port.stopListening)


def test_websockets_client_offering_alpn_talks_over_wss(wss_port, certificate):
    _, cert = certificate
    context = ssl.create_default_context(cafile=cert)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with connect(f"wss://127.0.0.1:{wss_port}/echo", ssl=context, open_timeout=10) as ws:
        assert ws.socket.selected_alpn_protocol() == "http/1.1"
        ws.send("secure and negotiated")
        assert ws.recv(timeout=10) == "secure and negotiated"
        ws.send(bytes(100_000))
        assert ws.recv(timeout=10) == bytes(100_000)
