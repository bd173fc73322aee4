"""The SMTP server of the mail benchmark: aiosmtpd on 127.0.0.1:PORT, counting what it takes.

``python bench/apps/mail_sink.py PORT``; plain SMTP (no TLS, no AUTH), so the run
measures the clients. Stops on SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Count:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages += 1
        return "250 OK"


def main() -> None:
    port = int(sys.argv[1])
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
