"""cyclone.epollreactor: cyclone run's default reactor behaves as Twisted's epoll reactor does.

Each check runs in a fresh interpreter (a reactor is installed once per
process), once on cyclone's reactor and once on Twisted's own, and the two
must report the same thing: the legacy log context of a request, a socket
whose ``logPrefix`` raises, a reader that fails, and a served request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent(
    """
    import json, os, socket, sys, threading

    if sys.argv[1] == "cyclone":
        from cyclone import epollreactor
    else:
        from twisted.internet import epollreactor
    epollreactor.install()

    from twisted.internet import reactor
    from twisted.python import log
    import cyclone.web

    seen = {"reactor": type(reactor).__module__, "errors": [], "read": None}

    def observer(event):
        if event.get("message") == ("in handler",):
            seen["system"] = event.get("system")
        if event.get("isError"):
            seen["errors"].append(
                (event.get("system"), type(event["failure"].value).__name__)
            )

    log.addObserver(observer)


    class Hello(cyclone.web.RequestHandler):
        def get(self):
            log.msg("in handler")
            self.write("hello")


    class BadPrefix:
        # A reader whose logPrefix raises, then one whose doRead raises.
        def __init__(self, fd, fail_read):
            self.fd, self.fail_read = fd, fail_read

        def fileno(self):
            return self.fd

        def logPrefix(self):
            if self.fail_read:
                return "FailingReader"
            raise RuntimeError("broken logPrefix")

        def doRead(self):
            data = os.read(self.fd, 100)
            if self.fail_read:
                raise ValueError("doRead failed")
            seen["read"] = data.decode()
            reactor.removeReader(self)

        def connectionLost(self, reason):
            seen.setdefault("lost", []).append(type(reason.value).__name__)


    port = reactor.listenTCP(0, cyclone.web.Application([(r"/", Hello)]), interface="127.0.0.1")

    def client():
        with socket.create_connection(("127.0.0.1", port.getHost().port)) as s:
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        seen["response"] = data.split(b"\\r\\n\\r\\n", 1)[1].decode()
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        reactor.callFromThread(reactor.addReader, BadPrefix(r1, False))
        reactor.callFromThread(reactor.addReader, BadPrefix(r2, True))
        os.write(w1, b"through")
        os.write(w2, b"boom")
        reactor.callFromThread(reactor.callLater, 0.5, reactor.stop)

    reactor.callWhenRunning(threading.Thread(target=client, daemon=True).start)
    reactor.run()
    print(json.dumps(seen))
    """
)


def _probe(tmp_path, which: str) -> dict:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    proc = subprocess.run(
        [sys.executable, str(script), which], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cyclone_reactor_behaves_as_twisted_epoll(tmp_path):
    ours = _probe(tmp_path, "cyclone")
    theirs = _probe(tmp_path, "twisted")
    assert ours["reactor"] == "cyclone.epollreactor"
    assert theirs["reactor"] == "twisted.internet.epollreactor"
    for seen in (ours, theirs):
        assert seen["response"] == "hello"
        # log.msg in a handler carries the connection's prefix as its system
        assert seen["system"].startswith("HTTPConnection,")
        # the reader with the broken logPrefix still got its bytes
        assert seen["read"] == "through"
        # the failing doRead disconnected its reader, with the error logged
        assert seen["lost"] == ["ValueError"]
    assert ours["system"] == theirs["system"]
    assert sorted(map(tuple, ours["errors"])) == sorted(map(tuple, theirs["errors"]))
    assert ("(buggy logPrefix method)", "RuntimeError") in map(tuple, ours["errors"])


def test_twistd_lists_the_cyclone_reactor():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "twistd"), "--help-reactors"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "cyclone" in proc.stdout and "leaner socket dispatch" in proc.stdout
