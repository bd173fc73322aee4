"""One client run of the mail benchmark; prints ``{"messages": N, "seconds": S}`` as JSON.

``python bench/mail_client.py cyclone|aiosmtplib batch|each PORT COUNT``:
``batch`` sends COUNT messages over one connection (cyclone's ``send_many``,
aiosmtplib's ``SMTP`` session with ``send_message`` in a loop), ``each`` sends
them one by one, a connection per message (cyclone's ``send``, ``aiosmtplib.send``).
The clock covers building the messages (cyclone's ``Message``, the standard
library's ``EmailMessage`` for aiosmtplib) and sending them, as an application would.
"""

from __future__ import annotations

import json
import sys
import time


def cyclone(mode: str, port: int, count: int) -> None:
    """Runs under ``task.react``, which exits the process: prints its own result."""
    from twisted.internet import defer, task

    from cyclone_ext_mail import Message, SendResult, smtp

    mailer = smtp(f"smtp://127.0.0.1:{port}?starttls=off&local_hostname=bench.local")

    async def run(reactor: object) -> None:
        start = time.perf_counter()
        messages = [
            Message("bench@example.com", f"r{i}@example.com", f"message {i}", text="hello\n")
            for i in range(count)
        ]
        if mode == "batch":
            outcomes = await mailer.send_many(messages)
        else:
            outcomes = [await mailer.send(m) for m in messages]
        seconds = time.perf_counter() - start
        assert all(isinstance(o, SendResult) for o in outcomes), outcomes[:3]
        print(json.dumps({"messages": count, "seconds": seconds}), flush=True)

    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))


def aiosmtplib_run(mode: str, port: int, count: int) -> float:
    import asyncio
    from email.message import EmailMessage

    import aiosmtplib

    def build(i: int) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = "bench@example.com"
        msg["To"] = f"r{i}@example.com"
        msg["Subject"] = f"message {i}"
        msg.set_content("hello\n")
        return msg

    async def run() -> float:
        start = time.perf_counter()
        messages = [build(i) for i in range(count)]
        if mode == "batch":
            async with aiosmtplib.SMTP(
                hostname="127.0.0.1", port=port, local_hostname="bench.local", start_tls=False
            ) as client:
                for m in messages:
                    await client.send_message(m)
        else:
            for m in messages:
                await aiosmtplib.send(
                    m, hostname="127.0.0.1", port=port, local_hostname="bench.local",
                    start_tls=False,
                )  # fmt: skip
        return time.perf_counter() - start

    return asyncio.run(run())


def main() -> None:
    client, mode, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if client == "cyclone":
        cyclone(mode, port, count)
    else:
        seconds = aiosmtplib_run(mode, port, count)
        print(json.dumps({"messages": count, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
