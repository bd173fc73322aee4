"""What the HTTP harness (``run.py``) and the WebSocket one (``ws.py``) share.

Paths, CPU pinning, the servers and their virtual environments, a running
server process, the machine's CPU accounting and the run metadata. Both
harnesses import this module; neither imports the other at module level, and
this module imports neither, so there is no import circle between them.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
APPS = BENCH / "apps"
ENVS = BENCH / ".envs"
RESULTS = BENCH / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
LUA = BENCH / "wrk" / "report.lua"
REPO_PYTHON = ROOT / ".venv" / "bin" / "python"

SERVER_CPU = "0"
CLIENT_CPU = "1"
CONNECTIONS = 64
MODES = ("keep-alive", "close")
# Other engineers' test runs share this machine: before each pass the harness waits
# (up to --quiet-wait seconds) until other processes use less than this share of a
# core, and a pass during which they used more than NOISY_PASS is run again once.
QUIET_THRESHOLD = 0.15
NOISY_PASS = 0.25


def _check_hello(body: bytes) -> bool:
    return body.strip() == b"Hello, world"


def _check_json(body: bytes) -> bool:
    try:
        return json.loads(body) == {"message": "Hello, world"}
    except ValueError:
        return False


def _check_user(body: bytes) -> bool:
    return body.strip() == b"user 42"


# name, path wrk requests, body check
ENDPOINTS = (
    ("hello", "/", _check_hello),
    ("json", "/json", _check_json),
    ("user", "/user/42", _check_user),
)


@dataclass
class Server:
    name: str
    label: str
    app: str
    # pip install steps for the server's own venv; None: run from the repo's .venv
    install: list[list[str]] | None = None
    args: list[str] = field(default_factory=list)
    access_log: bool = False
    note: str = ""
    # the wrk modes this row is measured in (close mode only where a target needs it)
    modes: tuple[str, ...] = MODES

    @property
    def python(self) -> Path:
        if self.install is None:
            return REPO_PYTHON
        return ENVS / self.name / "bin" / "python"


UVICORN = ["uvicorn[standard]"]
KEEP_ALIVE = ("keep-alive",)

SERVERS = [
    Server(
        "cyclone2",
        "cyclone 2",
        "cyclone2_app.py",
        note="this repository, editable install in .venv; access log off",
    ),
    Server(
        "cyclone2-accesslog",
        "cyclone 2 (access log on)",
        "cyclone2_app.py",
        access_log=True,
        note="access_log_file=FILE: lines formatted and written in batches, every 1 s",
        modes=KEEP_ALIVE,
    ),
    Server(
        "cyclone2-accesslog-events",
        "cyclone 2 (access log as twisted.logger events)",
        "cyclone2_app.py",
        args=["--access-log-events", "FILE"],
        note="the default destination: twisted.logger events, Twisted's text observer "
        "writing each to a file (one write and flush per line)",
        modes=KEEP_ALIVE,
    ),
    Server(
        "cyclone2-twisted-epoll",
        "cyclone 2 (Twisted's own epoll reactor)",
        "cyclone2_app.py",
        args=["--reactor", "epoll"],
        note="twisted.internet.epollreactor instead of cyclone.epollreactor",
        modes=KEEP_ALIVE,
    ),
    Server(
        "cyclone2-uvloop",
        "cyclone 2 (asyncio reactor on uvloop)",
        "cyclone2_app.py",
        install=[["-e", str(ROOT)], ["uvloop"]],
        args=["--reactor", "uvloop"],
        note="this repository in its own venv with uvloop; twisted's asyncioreactor",
        modes=KEEP_ALIVE,
    ),
    Server(
        "bare",
        "bare floor (Twisted + httptools)",
        "bare_app.py",
        note="no framework: a Protocol feeding httptools and writing a prebuilt reply",
    ),
    Server(
        "bare-cyclone-reactor",
        "bare floor on cyclone's epoll reactor",
        "bare_app.py",
        args=["--reactor", "cyclone"],
        note="the same Protocol on cyclone.epollreactor, the reactor cyclone 2 runs on",
        modes=KEEP_ALIVE,
    ),
    Server(
        "starlette",
        "starlette + uvicorn",
        "starlette_app.py",
        install=[["starlette", *UVICORN]],
        note="uvicorn.run, loop=uvloop, http=httptools, 1 worker, access_log=False",
    ),
    Server(
        "starlette-accesslog",
        "starlette + uvicorn (access log on)",
        "starlette_app.py",
        install=[["starlette", *UVICORN]],
        access_log=True,
        note="uvicorn's access logger (its default format) to a logging.FileHandler",
        modes=KEEP_ALIVE,
    ),
    Server(
        "aiohttp",
        "aiohttp",
        "aiohttp_app.py",
        install=[["aiohttp", "jinja2"]],
        note="web.run_app, default asyncio loop, access_log=None",
    ),
    Server(
        "aiohttp-accesslog",
        "aiohttp (access log on)",
        "aiohttp_app.py",
        install=[["aiohttp", "jinja2"]],
        access_log=True,
        note="aiohttp's default access logger to a logging.FileHandler",
        modes=KEEP_ALIVE,
    ),
    Server(
        "fastapi",
        "FastAPI + uvicorn",
        "fastapi_app.py",
        install=[["fastapi", *UVICORN]],
        note="uvicorn.run, loop=uvloop, http=httptools, 1 worker, access_log=False",
        modes=KEEP_ALIVE,
    ),
    Server(
        "falcon",
        "Falcon (ASGI) + uvicorn",
        "falcon_app.py",
        install=[["falcon", *UVICORN]],
        note="falcon.asgi.App on uvicorn, loop=uvloop, http=httptools, access_log=False",
        modes=KEEP_ALIVE,
    ),
    Server(
        "twistedweb",
        "twisted.web",
        "twistedweb_app.py",
        install=[["twisted"]],
        note="Site over a plain Resource tree, Site.log replaced by a no-op",
        modes=KEEP_ALIVE,
    ),
    Server(
        "cyclone13",
        "cyclone 1.3",
        "cyclone13_app.py",
        install=[["--no-deps", "cyclone==1.3"], ["twisted"]],
        note="cyclone 1.3 from PyPI (--no-deps) on current Twisted, no shim needed",
        modes=KEEP_ALIVE,
    ),
    Server(
        "tornado",
        "Tornado 6.6",
        "tornado_app.py",
        install=[["tornado==6.6.*"]],
        note="default asyncio loop, log_function no-op",
        modes=KEEP_ALIVE,
    ),
]
BY_NAME = {s.name: s for s in SERVERS}
BASELINE = "cyclone2"
TARGET_PEER = "starlette"


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "BENCH_PROFILE"):
        env.pop(key, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# -- environments ---------------------------------------------------------------------------


def _base_python() -> str:
    """The interpreter the peers' venvs are made from: the one behind the repo's venv."""
    if REPO_PYTHON.exists():
        return str(REPO_PYTHON)
    return sys.executable


def ensure_env(server: Server) -> None:
    if server.install is None:
        if not REPO_PYTHON.exists():
            raise BenchError(f"{REPO_PYTHON} is missing: run `uv sync` in {ROOT} first")
        return
    env_dir = ENVS / server.name
    stamp = env_dir / ".bench-install.json"
    wanted = json.dumps(server.install)
    if stamp.exists() and stamp.read_text() == wanted and server.python.exists():
        return
    log(f"installing {server.name} into {env_dir}")
    if env_dir.exists():
        shutil.rmtree(env_dir)
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "--python", _base_python(), str(env_dir)], check=True)
        for step in server.install:
            cmd = [uv, "pip", "install", "-q", "--python", str(server.python), *step]
            subprocess.run(cmd, check=True)
    else:
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
        for step in server.install:
            cmd = [str(server.python), "-m", "pip", "install", "-q", *step]
            subprocess.run(cmd, check=True)
    stamp.write_text(wanted)


def freeze(server: Server) -> list[str]:
    uv = shutil.which("uv")
    if uv:
        cmd = [uv, "pip", "freeze", "--python", str(server.python)]
    else:
        cmd = [str(server.python), "-m", "pip", "freeze"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def python_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


# -- server processes -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A server process pinned to SERVER_CPU; stopped by its PID in ``stop``."""

    def __init__(
        self,
        server: Server,
        port: int,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.server = server
        self.port = port
        self.access_log: str | None = None
        args = list(server.args) + list(extra_args or ())
        if server.access_log or "FILE" in args:
            fd, self.access_log = tempfile.mkstemp(prefix="cyclone2-access-", suffix=".log")
            os.close(fd)
            args = [self.access_log if a == "FILE" else a for a in args]
            if server.access_log:
                args += ["--access-log", self.access_log]
        self.argv = [
            "taskset",
            "-c",
            SERVER_CPU,
            str(server.python),
            str(APPS / server.app),
            str(port),
            *args,
        ]
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=APPS,
            env={**_clean_env(), **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log_path = log_path

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.server.name} exited with {self.proc.returncode} before accepting; "
                    f"see {self.log_path}:\n{self.log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"{self.server.name} did not accept on port {self.port} in {timeout}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        if self.access_log:
            with contextlib.suppress(OSError):
                os.unlink(self.access_log)


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_cpu_seconds() -> float:
    """CPU time spent by everything on the machine so far (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    # user + nice + system: what processes' utime and stime add up to (interrupt
    # and softirq time, much of it the loopback traffic itself, is left out)
    return sum(int(v) for v in fields[:3]) / _CLK_TCK


def wait_for_quiet(max_wait: float, threshold: float = QUIET_THRESHOLD) -> float:
    """Wait until other processes use less than ``threshold`` of a core; the last level."""
    deadline = time.monotonic() + max_wait
    while True:
        before = _busy_cpu_seconds()
        time.sleep(0.5)
        level = (_busy_cpu_seconds() - before) / 0.5
        if level < threshold or time.monotonic() >= deadline:
            return level
        time.sleep(1.0)


def _process_cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "cyclone"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return rev + (" (cyclone/ has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environments(servers: list[Server]) -> dict:
    """Python version, pip freeze and install line of each server's environment."""
    envs: dict = {}
    seen: dict[Path, str] = {}
    for s in servers:
        if s.python in seen:
            envs[s.name] = {"same_as": seen[s.python]}
            continue
        seen[s.python] = s.name
        envs[s.name] = {
            "python": python_version(s.python),
            "freeze": freeze(s),
            "install": s.install,
        }
    return envs


def machine() -> dict:
    """When and where a run happens."""
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "host_python": platform.python_version(),
        "loadavg_start": list(os.getloadavg()),
    }
