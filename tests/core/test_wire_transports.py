"""The Application is a plain Twisted ServerFactory: TCP, TLS, UNIX and endpoints serve it."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
from twisted.internet import endpoints, reactor
from twisted.internet import ssl as twisted_ssl
from waiting import wait_until
from wire import Client

import cyclone.web
from cyclone.testing import call


class WhoAmIHandler(cyclone.web.RequestHandler):
    def get(self):
        r = self.request
        self.write(
            {
                "protocol": r.protocol,
                "remote_ip": r.remote_ip,
                "host": r.host,
                "full_url": r.full_url(),
            }
        )


def make_app():
    return cyclone.web.Application([(r"/.*", WhoAmIHandler)])


@pytest.fixture
def listening():
    """Ports opened by a test, closed after it."""
    ports = []
    yield ports
    for port in ports:
        call(port.stopListening)


def ask(client, host="example.com"):
    client.send(f"GET /who?x=1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    response = client.response()
    assert response.status == 200
    return json.loads(response.body)


def test_listen_tcp(listening):
    port = call(reactor.listenTCP, 0, make_app(), interface="127.0.0.1")
    listening.append(port)
    with Client(port.getHost().port) as client:
        seen = ask(client)
    assert seen == {
        "protocol": "http",
        "remote_ip": "127.0.0.1",
        "host": "example.com",
        "full_url": "http://example.com/who?x=1",
    }


def test_listen_tcp_ipv6(listening):
    port = call(reactor.listenTCP, 0, make_app(), interface="::1")
    listening.append(port)
    sock = socket.create_connection(("::1", port.getHost().port), timeout=5)
    with Client(sock=sock) as client:
        assert ask(client)["remote_ip"] == "::1"


def tls_client(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return Client(sock=context.wrap_socket(raw, server_hostname="localhost"))


def test_listen_ssl(listening, certificate):
    key, cert = certificate
    factory = twisted_ssl.DefaultOpenSSLContextFactory(key, cert)
    port = call(reactor.listenSSL, 0, make_app(), factory, interface="127.0.0.1")
    listening.append(port)
    with tls_client(port.getHost().port) as client:
        first = ask(client)
        second = ask(client)  # keep-alive over TLS
    assert first["protocol"] == "https"
    assert first["full_url"] == "https://example.com/who?x=1"
    assert second == first


def test_ssl_endpoint_string(listening, certificate):
    key, cert = certificate
    endpoint = endpoints.serverFromString(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    port = call(endpoint.listen, make_app())
    listening.append(port)
    with tls_client(port.getHost().port) as client:
        assert ask(client)["protocol"] == "https"


def test_listen_unix(listening, tmp_path):
    path = str(tmp_path / "cyclone.sock")
    port = call(reactor.listenUNIX, path, make_app())
    listening.append(port)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(path)
    with Client(sock=sock) as client:
        seen = ask(client)
    # A UNIX socket peer has no address; it is on this host, so it reads as loopback.
    assert seen["remote_ip"] == "127.0.0.1"
    assert seen["protocol"] == "http"


def test_tcp_endpoint_string(listening):
    endpoint = endpoints.serverFromString(reactor, "tcp:0:interface=127.0.0.1")
    port = call(endpoint.listen, make_app())
    listening.append(port)
    with Client(port.getHost().port) as client:
        assert ask(client)["remote_ip"] == "127.0.0.1"


def test_one_application_serves_several_ports(listening):
    app = make_app()
    for _ in range(2):
        listening.append(call(reactor.listenTCP, 0, app, interface="127.0.0.1"))
    for port in listening:
        with Client(port.getHost().port) as client:
            assert ask(client)["protocol"] == "http"


def test_tls_idle_connection_is_closed_promptly_at_shutdown(certificate):
    key, cert = certificate
    app = make_app()
    factory = twisted_ssl.DefaultOpenSSLContextFactory(key, cert)
    port = call(reactor.listenSSL, 0, app, factory, interface="127.0.0.1")
    with tls_client(port.getHost().port) as client:
        ask(client)
        call(port.stopListening)
        # The server sends its TLS close alert and closes; it does not wait for the
        # grace timeout because a producer is still registered on the transport.
        assert client.is_closed(timeout=1)
    wait_until(lambda: not app.connections)
