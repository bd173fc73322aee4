"""Every Python example marked runnable in docs/*.md and README.md runs as written.

The markers (an HTML comment on the line before the fence) are described in
docs/index.md, "Examples in these docs":

- ``<!-- runnable -->``: a script that must exit 0;
- ``<!-- runnable: serve URL [URL...] -->``: a server script; each URL must answer
  200, then SIGTERM must stop it with status 0;
- ``<!-- runnable: app NAME GET /path -->`` (or ``WS /path``): the block defines an
  Application ``NAME``, served here on a free port;
- ``<!-- fragment -->``: an excerpt that cannot run alone (it names what the page
  around it defines). It is compiled, not run.

A ``python`` block with neither marker fails the test: a block that can run should
run, and a fragment says that it is one. Every page under docs/ is read, subfolders
included.

Each block runs in a fresh temporary directory holding a self-signed key.pem and
cert.pem. Server scripts use fixed ports (8888...): they run one at a time, under a
lock shared with other runs of this module on the machine, and the process is
killed by its PID whatever happens.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import re
import shutil
import signal
import ssl
import subprocess
import sys
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from servers import accepts_connections
from twisted.internet import defer, reactor
from waiting import wait_until

from cyclone.testing import call

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
MARKER = re.compile(r"^<!--\s*runnable(?::\s*(?P<spec>.*?))?\s*-->$")
FRAGMENT = re.compile(r"^<!--\s*fragment(?::.*?)?\s*-->$")
PYTHON_FENCE = re.compile(r"^```\s*(python|py|python3)\s*$")
SCRIPT_TIMEOUT = 60.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
PORT_TIMEOUT = 30.0
LOCK = Path("/tmp/cyclone-doc-examples.lock")


@dataclass
class Example:
    page: Path
    line: int  # 1-based line of the marker
    spec: str  # "" for a plain script
    code: str
    error: str | None = None  # a malformed marker or block

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Fragment:
    page: Path
    line: int  # 1-based line of the fence
    code: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _block(lines: list[str], fence: int) -> str | None:
    """The code of the block whose opening fence is lines[fence], None if never closed."""
    end = next((j for j in range(fence + 1, len(lines)) if lines[j].startswith("```")), None)
    return None if end is None else "\n".join(lines[fence + 1 : end]) + "\n"


def find_fragments(page: Path) -> list[Fragment]:
    lines = page.read_text(encoding="utf-8").splitlines()
    return [
        Fragment(page, i + 2, _block(lines, i + 1) or "")
        for i, line in enumerate(lines[:-1])
        if FRAGMENT.match(line.strip()) and PYTHON_FENCE.match(lines[i + 1].strip())
    ]


def find_examples(page: Path) -> list[Example]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    for i, line in enumerate(lines):
        if PYTHON_FENCE.match(line.strip()) and line.startswith("```"):
            before = lines[i - 1].strip() if i else ""
            if not MARKER.match(before) and not FRAGMENT.match(before):
                found.append(
                    Example(
                        page, i + 1, "", "",
                        error="a python block marked neither <!-- runnable... --> nor "
                        "<!-- fragment --> on the line before its fence (a block that can "
                        "run should run; an excerpt says it is a fragment)",
                    )
                )
            continue
        match = MARKER.match(line.strip())
        if match is None:
            continue
        example = Example(page, i + 1, (match.group("spec") or "").strip(), "")
        if i + 1 >= len(lines) or lines[i + 1].strip() != "```python":
            example.error = "the marker is not on the line before a ```python fence"
        else:
            end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
            if end is None:
                example.error = "the code block is never closed"
            else:
                example.code = "\n".join(lines[i + 2 : end]) + "\n"
        found.append(example)
    return found


EXAMPLES = [example for page in PAGES for example in find_examples(page)]
FRAGMENTS = [fragment for page in PAGES for fragment in find_fragments(page)]


def test_the_pages_have_runnable_examples() -> None:
    names = [e.name for e in EXAMPLES]
    assert any(n.startswith("README.md:") for n in names), names
    assert any(n.startswith("docs/index.md:") for n in names), names
    assert any(n.startswith("docs/server.md:") for n in names), names
    assert len(EXAMPLES) >= 8, names


# -- the working directory ----------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, certificate: tuple[str, str]) -> Path:
    for pem in certificate:
        shutil.copy(pem, tmp_path / Path(pem).name)
    return tmp_path


def _write_script(example: Example, workdir: Path) -> Path:
    script = workdir / "example.py"
    script.write_text(example.code, encoding="utf-8")
    return script


def _output(workdir: Path) -> str:
    parts = []
    for name in ("stdout.txt", "stderr.txt"):
        path = workdir / name
        if path.exists():
            parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
    return "\n".join(parts)


# -- kinds of examples ----------------------------------------------------------------


def run_script(example: Example, workdir: Path) -> None:
    script = _write_script(example, workdir)
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{example.name} still running after {SCRIPT_TIMEOUT}s") from e
    assert done.returncode == 0, (
        f"{example.name} exited with {done.returncode}\n{done.stdout}\n{done.stderr}"
    )


def _wait_ports_free(ports: list[int], what: str) -> None:
    busy = ports

    def free() -> bool:
        nonlocal busy
        busy = [p for p in ports if accepts_connections(p)]
        return not busy

    wait_until(free, PORT_TIMEOUT, lambda: f"ports {busy} still answer {what} ({PORT_TIMEOUT}s)")


def _get_status(url: str) -> int:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the example's self-signed certificate
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def _wait_answers_200(
    example: Example, process: subprocess.Popen[bytes], workdir: Path, url: str
) -> None:
    status: int | str = "no answer"

    def answered() -> bool:
        nonlocal status
        if process.poll() is not None:
            raise AssertionError(
                f"{example.name} exited with {process.returncode} before {url} "
                f"answered\n{_output(workdir)}"
            )
        try:
            status = _get_status(url)
        except OSError as e:
            status = repr(e)
        return status == 200

    wait_until(
        answered,
        START_TIMEOUT,
        lambda: (
            f"{example.name}: {url} answered {status}, not 200, within "
            f"{START_TIMEOUT}s\n{_output(workdir)}"
        ),
    )


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    """Serialize fixed-port examples with other runs of this module on the machine."""
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_server(example: Example, workdir: Path, urls: list[str]) -> None:
    assert urls, f"{example.name}: serve needs at least one URL"
    ports = sorted({urlsplit(u).port or (443 if u.startswith("https:") else 80) for u in urls})
    script = _write_script(example, workdir)
    with _machine_lock():
        _wait_ports_free(ports, "before the example starts: someone else holds them")
        with open(workdir / "stdout.txt", "wb") as out, open(workdir / "stderr.txt", "wb") as err:
            process = subprocess.Popen(
                [sys.executable, str(script)], cwd=workdir, stdout=out, stderr=err
            )
        try:
            for url in urls:
                _wait_answers_200(example, process, workdir, url)
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired as e:
                raise AssertionError(
                    f"{example.name} did not stop within {STOP_TIMEOUT}s of SIGTERM"
                ) from e
            assert code == 0, f"{example.name} exited with {code} on SIGTERM\n{_output(workdir)}"
        finally:
            if process.poll() is None:
                process.kill()  # by PID: the process this test started
                process.wait(STOP_TIMEOUT)
            _wait_ports_free(ports, "after the example stopped")


def run_app(example: Example, workdir: Path, words: list[str], serve: Any) -> None:
    assert len(words) == 3 and words[1] in ("GET", "WS"), (
        f"{example.name}: expected 'app NAME GET /path' or 'app NAME WS /path', got {words}"
    )
    name, verb, path = words
    module = types.ModuleType("doc_example")
    module.__file__ = str(_write_script(example, workdir))
    with contextlib.chdir(workdir):
        exec(compile(example.code, example.name, "exec"), module.__dict__)
        app = getattr(module, name, None)
        assert app is not None, f"{example.name} defines no {name!r}"
        port = serve(app)
        if verb == "GET":
            status = _get_status(f"http://127.0.0.1:{port}{path}")
            assert status == 200, f"{example.name}: GET {path} answered {status}"
        else:
            _websocket_exchange(example, f"ws://127.0.0.1:{port}{path}")


def _websocket_exchange(example: Example, url: str) -> None:
    from cyclone.websocket import websocket_connect

    connection = call(lambda: websocket_connect(url, connect_timeout=5))
    try:
        call(connection.write_message, "hello")
        try:
            reply = call(lambda: connection.read_message().addTimeout(5, reactor))
        except defer.TimeoutError as e:
            raise AssertionError(f"{example.name}: {url} sent nothing back within 5s") from e
        assert reply is not None, f"{example.name}: {url} closed without answering 'hello'"
    finally:
        call(connection.close)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs_as_written(example: Example, workdir: Path, serve: Any) -> None:
    assert example.error is None, f"{example.name}: {example.error}"
    kind, *words = example.spec.split() or [""]
    if not kind:
        run_script(example, workdir)
    elif kind == "serve":
        run_server(example, workdir, words)
    elif kind == "app":
        run_app(example, workdir, words, serve)
    else:
        raise AssertionError(f"{example.name}: unknown marker 'runnable: {example.spec}'")


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=[f.name for f in FRAGMENTS])
def test_fragment_is_python(fragment: Fragment) -> None:
    """A fragment does not run, but it must at least be Python that compiles."""
    try:
        # Top-level await is allowed: an excerpt of an async method often shows one line.
        compile(fragment.code, fragment.name, "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, True)
    except SyntaxError as e:
        raise AssertionError(f"{fragment.name}: the fragment does not compile: {e}") from e
