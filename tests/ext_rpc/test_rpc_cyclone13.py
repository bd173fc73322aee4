"""cyclone 1.3 from PyPI as an independent JSON-RPC server for cyclone 2's JsonRPC client.

cyclone 1.3 (``--no-deps``, with current Twisted) goes into a virtual environment
made by uv for this module; the peer script ``rpc_cyclone13.py`` runs there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cyclone.testing import call
from cyclone_ext_rpc import JsonRPC

pytestmark = pytest.mark.slow
PEER = Path(__file__).with_name("rpc_cyclone13.py")


@pytest.fixture(scope="module")
def python13(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    env_dir = tmp_path_factory.mktemp("cyclone13") / "venv"
    python = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    steps = [
        [uv, "venv", "-q", "--python", sys.executable, str(env_dir)],
        [uv, "pip", "install", "-q", "--python", str(python), "--no-deps", "cyclone==1.3"],
        [uv, "pip", "install", "-q", "--python", str(python), "twisted"],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=300, env=env)
        if result.returncode != 0:
            message = f"cannot install cyclone 1.3: {result.stderr[-500:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return python


@pytest.fixture
def server13(python13: Path) -> Iterator[int]:
    process = subprocess.Popen(
        [str(python13), str(PEER)], stdout=subprocess.PIPE, text=True, cwd=PEER.parent
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.strip().isdigit(), "cyclone 1.3's server did not start"
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_our_client_against_cyclone13s_server(server13):
    cli = JsonRPC(f"http://127.0.0.1:{server13}/jsonrpc", version="1.0")
    assert call(cli.echo, "to 1.3") == "to 1.3"
    assert call(cli.add, 20, 22) == 42
    # A 2.0 request: 1.3 ignores the "jsonrpc" member and answers in its own shape.
    assert call(JsonRPC(f"http://127.0.0.1:{server13}/jsonrpc").echo, "2.0") == "2.0"
