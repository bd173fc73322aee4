"""The options ``twistd cyclone`` and ``cyclone run`` share, as a user sees them.

``--help`` shows every option with its default; ``--appopts`` reaches the factory;
``--ssl-app`` serves a second Application over TLS in the same process, with the
certificate and key found under their default names.
"""

from __future__ import annotations

import re
import shutil
import signal
import ssl
import subprocess
import textwrap
import urllib.request

import pytest
from ops_support import CYCLONE_RUN, TWISTD, get

COMMANDS = pytest.mark.parametrize(
    "command", [CYCLONE_RUN, [TWISTD, "-n", "--pidfile=", "cyclone"]], ids=["run", "twistd"]
)

# (option, its default as shown, or None)
SEED_OPTIONS = [
    ("-p, --port=", "8888"),
    ("-l, --listen=", "127.0.0.1"),
    ("-r, --app=", None),
    ("-c, --appopts=", None),
    ("--unix=", None),
    ("--ssl-port=", "8443"),
    ("--ssl-listen=", "127.0.0.1"),
    ("--ssl-cert=", "server.crt"),
    ("--ssl-key=", "server.key"),
    ("--ssl-app=", None),
    ("--ssl-appopts=", None),
]


def _help(command: list[str]) -> str:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_twistd_cyclone_help_shows_every_seed_option_with_its_default():
    text = _help([TWISTD, "cyclone", "--help"])
    # One option per entry; a long description wraps onto the following lines.
    entries = re.split(r"\n(?=  (?:-\w, |    )--)", text)
    for option, default in SEED_OPTIONS:
        entry = next((e for e in entries if option in e), None)
        assert entry is not None, f"{option} missing from:\n{text}"
        if default is not None:
            assert f"[default: {default}]" in " ".join(entry.split()), entry


def test_cyclone_run_help_shows_the_same_options_and_workers_and_reload():
    text = " ".join(_help([*CYCLONE_RUN, "--help"]).split())
    for option, default in SEED_OPTIONS:
        long = option.split("--")[1].rstrip("=")
        assert f"--{long}" in text, long
        if default is not None:
            assert re.search(rf"--{long} \S+ .*?\(default: {re.escape(default)}\)", text), long
    for extra in ("-w N, --workers N", "--reload", "--no-reload"):
        assert extra in text
    assert "--worker-fds" not in text  # the supervisor's own option stays hidden


CONFIG_APP = textwrap.dedent(
    """
    import configparser
    import os

    import cyclone.web


    class Greeting(cyclone.web.RequestHandler):
        def get(self):
            self.write(f"{self.settings.greeting} {os.getpid()}")


    def Application(appopts):
        config = configparser.ConfigParser()
        config.read(appopts)
        return cyclone.web.Application(
            [(r"/", Greeting)], greeting=config["app"]["greeting"]
        )
    """
)


@COMMANDS
def test_appopts_is_passed_to_the_application_factory(command, tmp_path, server):
    """A 1.x application that reads its configuration file from --appopts works as is."""
    (tmp_path / "configured.py").write_text(CONFIG_APP)
    (tmp_path / "app.ini").write_text("[app]\ngreeting = hello from app.ini\n")
    proc = server([*command, "-r", "configured.Application", "-c", "app.ini", "-p", "0"], tmp_path)
    url = proc.wait_for_line(r"serving configured\.Application on (http://\S+)$").group(1)
    status, body = get(url)
    assert status == 200 and body.startswith(b"hello from app.ini ")
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() in (0, -signal.SIGTERM), proc.output()


def test_appopts_given_to_a_factory_without_arguments_is_refused(tmp_path):
    (tmp_path / "plain.py").write_text(
        "import cyclone.web\n\ndef Application():\n    return cyclone.web.Application([])\n"
    )
    proc = subprocess.run(
        [*CYCLONE_RUN, "-r", "plain.Application", "-c", "x.ini", "-p", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "cyclone run: plain.Application takes no argument, so it cannot be given --appopts"
    ]


TWO_APPS = textwrap.dedent(
    """
    import os

    import cyclone.web


    class Public(cyclone.web.RequestHandler):
        def get(self):
            self.write(f"public {self.request.protocol} {os.getpid()}")


    class Private(cyclone.web.RequestHandler):
        def get(self):
            self.write(f"private {self.settings.opts} {self.request.protocol} {os.getpid()}")


    Application = cyclone.web.Application([(r"/", Public)])


    def SecureApplication(opts):
        return cyclone.web.Application([(r"/", Private)], opts=opts)
    """
)


@COMMANDS
def test_ssl_app_serves_other_routes_over_tls_in_the_same_process(
    command, tmp_path, server, certificate
):
    key, cert = certificate
    # The seed's defaults: server.crt and server.key in the working directory.
    shutil.copy(cert, tmp_path / "server.crt")
    shutil.copy(key, tmp_path / "server.key")
    (tmp_path / "sites.py").write_text(TWO_APPS)
    proc = server(
        [
            *command,
            "-r", "sites.Application", "-p", "0",
            "--ssl-app", "sites.SecureApplication", "--ssl-appopts", "admin", "--ssl-port", "0",
        ],
        tmp_path,
    )  # fmt: skip
    http_url = proc.wait_for_line(r"serving sites\.Application on (http://\S+)$").group(1)
    https_url = proc.wait_for_line(r"serving sites\.SecureApplication on (https://\S+)$").group(1)
    status, plain = get(http_url)
    assert status == 200
    context = ssl.create_default_context(cafile=cert)
    with urllib.request.urlopen(https_url, timeout=10, context=context) as resp:
        secure = resp.read()
    pid = str(proc.proc.pid).encode()
    assert plain == b"public http " + pid
    assert secure == b"private admin https " + pid
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() in (0, -signal.SIGTERM), proc.output()


def test_the_same_app_for_http_and_https_is_one_application(tmp_path, monkeypatch):
    """``--app X --ssl-app X``: one instance serves both (shared state, services started once)."""
    from cyclone._options import DEFAULTS, plan_listeners
    from cyclone._serve import load_applications

    (tmp_path / "sites_once.py").write_text(TWO_APPS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    values = {**DEFAULTS, "app": "sites_once.Application", "ssl-app": "sites_once.Application"}
    listeners = plan_listeners(values, {"app", "ssl-app"})
    assert [(x.port, x.tls) for x in listeners] == [(8888, False), (8443, True)]
    assert [x.cert for x in listeners] == [None, "server.crt"]
    assert len(load_applications(listeners)) == 1


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture
def chain_dir(tmp_path):
    """root CA -> intermediate CA -> leaf for 127.0.0.1; fullchain.pem = leaf + intermediate."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", "-days", "2",
             "-subj", "/CN=test root", "-addext", "basicConstraints=critical,CA:TRUE",
             cwd=tmp_path)  # fmt: skip
    (tmp_path / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\n")
    (tmp_path / "leaf.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, issuer, subject, ext in [
        ("mid", "root", "/CN=test intermediate", "ca.ext"),
        ("leaf", "mid", "/CN=127.0.0.1", "leaf.ext"),
    ]:
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                 cwd=tmp_path)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey",
                 f"{issuer}.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
                 "-extfile", ext, cwd=tmp_path)  # fmt: skip
    full = (tmp_path / "leaf.pem").read_bytes() + (tmp_path / "mid.pem").read_bytes()
    (tmp_path / "fullchain.pem").write_bytes(full)
    (tmp_path / "tlsapp.py").write_text(TWO_APPS)
    return tmp_path


@pytest.mark.parametrize("workers", [[], ["-w", "2"]], ids=["one-process", "workers"])
def test_a_fullchain_certificate_sends_its_chain(chain_dir, server, workers):
    """A client that trusts only the root verifies the server: the intermediate was sent."""
    proc = server(
        [*CYCLONE_RUN, "-r", "tlsapp.Application", "-p", "0", *workers,
         "--ssl-cert", "fullchain.pem", "--ssl-key", "leaf.key"],
        chain_dir,
    )  # fmt: skip
    url = proc.wait_for_line(r"serving tlsapp\.Application on (https://\S+)$").group(1)
    context = ssl.create_default_context(cafile=str(chain_dir / "root.pem"))
    with urllib.request.urlopen(url, timeout=20, context=context) as resp:
        assert resp.read().startswith(b"public https ")
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()
