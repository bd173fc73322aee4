"""``cyclone app``: every skeleton, generated, installed and run the way a user would.

The fast tests run the command from this checkout. The slow ones share one fresh
venv holding the wheels of this checkout (``test_packaging``'s ``wheelhouse``):
there the venv's own ``cyclone app`` writes each skeleton (so the templates are
proven to be in the wheel), pip installs the project, the project's own test
suite runs, and the project is started and its pages fetched over TCP.
"""

from __future__ import annotations

import gettext
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from test_packaging import VERSION, _clean_env, _make_venv, _run
from waiting import wait_until

from cyclone._skeleton import compile_po

APP_SKELETONS = ("default", "signup", "foreman")


def run_app(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cyclone", "app", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


# -- the command ---------------------------------------------------------------------------


def test_help_shows_every_option_with_its_default():
    result = run_app("--help")
    assert result.returncode == 0
    out = " ".join(result.stdout.split())
    for flags in (
        "-p NAME, --project NAME",
        "-g, --git",
        "-m NAME, --modname NAME",
        "-v VERSION, --version VERSION",
        "-s, --set-pkg-version",
        "-t DIR, --target DIR",
        "-l FILE, --license FILE",
        "-a {default,signup,foreman,extension}",
    ):
        assert flags in out, flags
    assert "(default: 0.1)" in out
    assert "(default: Apache 2)" in out
    assert "(default: the current directory)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "my-app"], "'my-app' is not a valid Python identifier"),
        (["-p", "ok", "-m", "2fast"], "module name '2fast' is not a valid Python identifier"),
        (["-p", "class"], "module name 'class' is not a valid Python identifier"),
        (["-p", "x/y", "-m", "xy"], "project name 'x/y' must be"),
    ],
)
def test_invalid_names_are_refused(tmp_path: Path, args: list[str], message: str):
    result = run_app(*args, "-t", tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary dir


def test_the_suggested_module_name_works(tmp_path: Path):
    assert "-m my_app" in run_app("-p", "my-app", "-t", tmp_path).stderr
    assert run_app("-p", "my-app", "-m", "my_app", "-t", tmp_path).returncode == 0
    assert (tmp_path / "my-app" / "my_app" / "web.py").is_file()
    assert 'name = "my-app"' in (tmp_path / "my-app" / "pyproject.toml").read_text()


def test_an_existing_target_is_never_overwritten(tmp_path: Path):
    (tmp_path / "app1").mkdir()
    (tmp_path / "app1" / "keep.txt").write_text("mine")
    result = run_app("-p", "app1", "-t", tmp_path)
    assert result.returncode == 2
    assert "already exists; cyclone app never overwrites" in result.stderr
    assert [p.name for p in (tmp_path / "app1").iterdir()] == ["keep.txt"]
    assert (tmp_path / "app1" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app1"]


def test_git_makes_a_repository_with_a_first_commit(tmp_path: Path):
    assert run_app("-p", "repo", "-g", "-a", "signup", "-t", tmp_path).returncode == 0
    project = tmp_path / "repo"

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=project, capture_output=True, text=True, check=True
        ).stdout

    assert len(git("log", "--oneline").splitlines()) == 1
    assert git("status", "--porcelain") == ""
    tracked = git("ls-files").split()
    assert "repo/auth.py" in tracked and "deploy/repo@.service" in tracked
    assert "repo/locale/pt_BR/LC_MESSAGES/repo.mo" in tracked


def test_version_license_and_set_pkg_version(tmp_path: Path):
    license_file = tmp_path / "MIT.txt"
    license_file.write_text("MIT License\n\nCopyright (c) me\n")
    target = tmp_path / "out"
    target.mkdir()
    args = ("-v", "1.2.3", "-s", "-l", license_file, "-t", target)
    assert run_app("-p", "versioned", *args).returncode == 0
    project = target / "versioned"
    assert '__version__ = "1.2.3"' in (project / "versioned" / "__init__.py").read_text()
    pyproject = (project / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "versioned/__init__.py"' in pyproject
    assert 'license-files = ["LICENSE"]' in pyproject
    assert (project / "LICENSE").read_text() == license_file.read_text()

    assert run_app("-p", "plain", "-t", target).returncode == 0
    pyproject = (target / "plain" / "pyproject.toml").read_text()
    assert 'version = "0.1"' in pyproject and 'license = "Apache-2.0"' in pyproject
    assert "Apache License, Version 2.0" in (target / "plain" / "LICENSE").read_text()


@pytest.mark.parametrize("skeleton", APP_SKELETONS)
def test_application_skeletons_carry_deployment_files(tmp_path: Path, skeleton: str):
    assert run_app("-p", "site", "-a", skeleton, "-t", tmp_path).returncode == 0
    project = tmp_path / "site"
    deploy = project / "deploy"
    unit = (deploy / "site.service").read_text()
    assert "ExecStart=/srv/site/.venv/bin/cyclone run" in unit
    assert "-c /srv/site/site.conf" in unit
    template = (deploy / "site@.service").read_text()
    assert "-p %i" in template and "systemctl enable --now site@$port" in template
    init = deploy / "site.init"
    assert init.stat().st_mode & 0o111
    assert "### BEGIN INIT INFO" in init.read_text()
    assert "twistd" in init.read_text() and "--appopts=" in init.read_text()
    subprocess.run(["sh", "-n", str(init)], check=True)
    nginx = (deploy / "nginx.conf").read_text()
    assert "location /static/" in nginx and "alias /srv/site/site/static/;" in nginx
    assert "proxy_set_header X-Real-Ip $remote_addr;" in nginx
    conf = (project / "site.conf").read_text()
    assert "xheaders = false" in conf and "db = sqlite:///site.db" in conf
    assert "# db = postgresql://" in conf and "# cache = redis://" in conf
    readme = (project / "README.md").read_text()
    assert "pytest" in readme
    if skeleton == "foreman":
        assert (project / "Procfile").read_text() == "web: python -m site\n"
        assert "PORT=5000" in (project / ".env").read_text()
    else:
        assert "cyclone run -r site.web.Application -c site.conf" in readme
    # The catalogue is compiled and gettext reads it.
    mo = project / "site" / "locale" / "pt_BR" / "LC_MESSAGES" / "site.mo"
    with mo.open("rb") as f:
        assert gettext.GNUTranslations(f).gettext("Home") == "Início"


def test_compile_po_skips_fuzzy_and_untranslated_entries():
    source = (
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "a"\nmsgstr "b"\n\n#, fuzzy\nmsgid "c"\nmsgstr "d"\n\n'
        'msgid "e"\nmsgstr ""\n\nmsgid ""\n"long "\n"one"\nmsgstr "x" "y"\n'
    )
    path = Path(__import__("tempfile").mkdtemp()) / "t.mo"
    path.write_bytes(compile_po(source))
    with path.open("rb") as f:
        catalogue = gettext.GNUTranslations(f)
    assert catalogue.gettext("a") == "b"
    assert catalogue.gettext("c") == "c"
    assert catalogue.gettext("e") == "e"
    assert catalogue.gettext("long one") == "xy"


# -- installed into a fresh venv, tested and served ------------------------------------------


@pytest.fixture(scope="module")
def venv(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv for every skeleton: cyclone[sql,mail] from the wheels, pytest, aiosmtpd."""
    root = tmp_path_factory.mktemp("skeleton-venv")
    python = _make_venv(root / "venv")
    _run(
        python, "-m", "pip", "install", "--find-links", wheelhouse,
        f"cyclone[sql,mail]>={VERSION}", "pytest>=8", "aiosmtpd>=1.4", "hatchling>=1.24",
        cwd=root,
    )  # fmt: skip
    return root / "venv" / "bin"


def _generate(venv: Path, tmp_path: Path, name: str, skeleton: str) -> Path:
    _run(venv / "cyclone", "app", "-p", name, "-a", skeleton, "-t", tmp_path, cwd=tmp_path)
    return tmp_path / name


def _install(venv: Path, wheelhouse: Path, project: Path) -> None:
    _run(
        venv / "python", "-m", "pip", "install", "--no-build-isolation",
        "--find-links", wheelhouse, f"{project}[test]", cwd=project,
    )  # fmt: skip


def _install_and_test(venv: Path, wheelhouse: Path, project: Path) -> str:
    _install(venv, wheelhouse, project)
    result = _run(venv / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout
    return result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve_project() -> Iterator:
    """``serve(venv, project, modname) -> base URL``: ``cyclone run`` in the project."""
    processes: list[subprocess.Popen] = []

    def serve(venv: Path, project: Path, modname: str) -> str:
        process = subprocess.Popen(
            [
                str(venv / "cyclone"), "run", "-r", f"{modname}.web.Application",
                "-c", f"{modname}.conf", "-p", "0", "--quiet",
            ],
            cwd=project, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        processes.append(process)
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # warnings may come first
            seen.append(line)
            found = re.search(r"serving \S+ on (http://\S+?)/?$", line.strip())
            if found:
                return found.group(1)
            assert len(seen) < 50, "".join(seen)
        pytest.fail("cyclone run exited:\n" + "".join(seen))

    yield serve
    for process in processes:
        process.terminate()
        process.wait(timeout=15)


def _get(session, url: str):
    response = session.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_default_skeleton(venv: Path, wheelhouse: Path, tmp_path: Path, serve_project):
    import requests

    project = _generate(venv, tmp_path, "hello", "default")
    assert "4 passed" in _install_and_test(venv, wheelhouse, project)
    url = serve_project(venv, project, "hello")
    with requests.Session() as session:
        assert "Welcome to hello" in _get(session, url + "/").text
        assert "Bem-vindo" in _get(session, url + "/?lang=pt_BR").text
        assert _get(session, url + "/static/style.css").headers["Content-Type"].startswith(
            "text/css"
        )
    assert (project / "hello.db").is_file()  # the SQLite service of hello.conf


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_foreman_skeleton(venv: Path, wheelhouse: Path, tmp_path: Path):
    import requests

    project = _generate(venv, tmp_path, "worker", "foreman")
    _install(venv, wheelhouse, project)
    # Its suite starts the Procfile's command on $PORT and checks the log on stdout.
    out = _run(venv / "python", "-m", "pytest", "-v", "-p", "no:cacheprovider", cwd=project)
    assert "test_procfile.py::test_procfile_web_process PASSED" in out.stdout, out.stdout
    assert "failed" not in out.stdout
    port = _free_port()
    env = {**_clean_env(), "PORT": str(port), "HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [str(venv / "python"), "-m", "worker"], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:

        def answers() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok
            except requests.ConnectionError:
                assert process.poll() is None
                return False

        wait_until(answers, 20, "python -m worker did not answer on $PORT")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert f"worker serving on http://127.0.0.1:{port}/" in output
    assert "200 GET /health (127.0.0.1)" in output


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_signup_skeleton(venv: Path, wheelhouse: Path, tmp_path: Path, serve_project):
    import requests
    from aiosmtpd.controller import Controller

    project = _generate(venv, tmp_path, "accounts", "signup")
    assert "9 passed" in _install_and_test(venv, wheelhouse, project)

    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    controller = Controller(Inbox(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        conf = project / "accounts.conf"
        conf.write_text(
            conf.read_text().replace(
                "mail = smtp://127.0.0.1:25", f"mail = smtp://127.0.0.1:{controller.port}"
            )
        )
        url = serve_project(venv, project, "accounts")
        with requests.Session() as browser:

            def submit(path: str, **fields: str) -> requests.Response:
                page = _get(browser, url + path)
                token = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
                assert token, page.text
                return browser.post(
                    url + path, data={**fields, "_xsrf": token.group(1)}, timeout=10
                )

            email, password = "zoe@example.com", "a long passphrase"
            response = submit("/signup", email=email, password=password)
            assert response.status_code == 200 and email in response.text  # redirected home
            assert browser.post(url + "/signout", timeout=10).status_code == 403  # no XSRF
            page = _get(browser, url + "/")
            token = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
            browser.post(url + "/signout", data={"_xsrf": token}, timeout=10)
            assert email not in _get(browser, url + "/").text

            assert submit("/signin", email=email, password="wrong").status_code == 403
            response = submit("/signin", email=email, password=password)
            assert response.status_code == 200 and email in response.text

            response = submit("/reset", email=email)
            assert "on its way" in response.text
            wait_until(lambda: received, 10, "no reset mail reached aiosmtpd")
            message = message_from_bytes(received[0])
            assert message["To"] == email
            body = message.get_payload(decode=True).decode()
            link = re.search(r"(http://\S+/reset/[\w-]+)", body).group(1)
            assert link.startswith(url)
            response = submit(link[len(url) :], password="another passphrase")
            assert response.status_code == 200 and "Sign in" in response.text
    finally:
        controller.stop()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_extension_skeleton(venv: Path, wheelhouse: Path, tmp_path: Path):
    project = _generate(venv, tmp_path, "memo", "extension")
    assert "4 passed" in _install_and_test(venv, wheelhouse, project)
    listing = _run(venv / "cyclone", "plugins", "--check", cwd=tmp_path).stdout
    assert re.search(r"^\s+memo\s+cyclone-ext-memo 0\.1\s+cyclone_ext_memo:factory\s+ok$",
                     listing, re.M), listing  # fmt: skip
