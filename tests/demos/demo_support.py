"""Demo servers run as real processes: started, waited for (bounded), stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from servers import accepts_connections
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TWISTD = str(BIN / "twistd")
CYCLONE = [sys.executable, "-m", "cyclone"]


class DemoProcess:
    """A demo server process; its output (stdout and stderr) goes to a file read on failure."""

    def __init__(self, command: list[str], cwd: Path, log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
                # A background job may start with SIGINT ignored: give it the default back.
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_port(self, port: int, timeout: float = 30) -> None:
        def listening() -> bool:
            assert self.proc.poll() is None, f"exited early:\n{self.output()}"
            return accepts_connections(port)

        wait_until(listening, timeout, lambda: f"not listening on {port}:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send ``sig`` and wait (bounded) for the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"did not stop within {timeout}s:\n{self.output()}") from None
