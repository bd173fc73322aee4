"""WebSocket load generator for bench/ws.py (run pinned to the client core).

Usage::

    python bench/ws_client.py echo   --port P [--connections 16] [--size 64]
                                     [--duration 10] [--warmup 2] [--passes 3]
                                     [--client lean|websockets] [--server-pid PID]
    python bench/ws_client.py fanout --port P [--subscribers 1000] [--broadcasts 200]
                                     [--size 64] [--singles 100] [--passes 3]
                                     [--server-pid PID]

It prints one line ``WS_JSON {...}`` with the raw numbers of every pass.

Two clients:

- ``lean`` (the default, and the only one for fan-out): asyncio Protocols over
  plain sockets that do the opening handshake themselves (checking the 101
  and ``Sec-WebSocket-Accept``), parse the server's frames with a few integer
  operations and, for echo, send a frame built and masked once per connection
  (the same 4-byte key for every message of a connection: a load generator's
  shortcut; the server unmasks every frame all the same). It costs the client
  a few microseconds per message, so the server is what saturates.
- ``websockets`` (echo only, a cross-check): the ``websockets`` library's
  asyncio client, one ``send``/``recv`` loop per connection.

Echo: K connections each send a message, wait for its echo (checked
byte for byte) and send the next, for ``--duration`` seconds per pass;
messages/s is the echoes received during the pass divided by its length, and
every round trip's time goes into the p50/p99.

Fan-out: N subscribers on ``/sub`` and one publisher on ``/pub``. Per pass, a
burst: the publisher asks the server to broadcast M messages in one loop; the
time runs from sending that command until every subscriber has received the
last message (TCP keeps each subscriber's messages in order), and
deliveries/s is N x M over that time. Then the broadcast latency: S single
broadcasts, one after another, each timed from the command until all N
subscribers have it (p50/p99 over the S).

For every measured window the client records its own CPU time, the server's
(from /proc/PID/stat) and everything else's (from /proc/stat), so the report
can tell which side was the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 30.0


class ClientError(Exception):
    pass


def raise_fd_limit(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        if new < want:
            raise ClientError(f"need {want} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final client frame (masked, as RFC 6455 requires of clients)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    if not n:
        return header + key
    stream = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")
    return header + key + body


CLOSE_FRAME = masked_frame((1000).to_bytes(2, "big"), 0x8)


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


class CPU:
    """CPU seconds used by the client, the server and the rest of the machine in a window."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.start()

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.client0 = time.process_time()
        self.server0 = harness._process_cpu_seconds(self.server_pid)
        self.busy0 = harness._busy_cpu_seconds()

    def stop(self) -> dict:
        wall = time.perf_counter() - self.t0
        client = time.process_time() - self.client0
        server = harness._process_cpu_seconds(self.server_pid) - self.server0
        busy = harness._busy_cpu_seconds() - self.busy0
        return {
            "wall_s": round(wall, 4),
            "client_s": round(client, 3),
            "server_s": round(server, 3),
            "other_s": round(max(0.0, busy - client - server), 3),
        }


# -- the lean client ------------------------------------------------------------------------


class LeanWS(asyncio.Protocol):
    """A client WebSocket: handshake, then ``on_frame(opcode, buf, start, end)`` per frame."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.key = base64.b64encode(os.urandom(16))
        self.request = (
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            ).encode()
            + b"Sec-WebSocket-Key: "
            + self.key
            + b"\r\n\r\n"
        )
        self.expect = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.handshaking = True
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ClientError(f"connection lost in the handshake: {exc}"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.handshaking:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).split(b"\r\n")
            del buf[: end + 4]
            self.handshaking = False
            accept = None
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"sec-websocket-accept":
                    accept = value.strip()
            if not head[0].startswith(b"HTTP/1.1 101") or accept != self.expect:
                self.opened.set_exception(ClientError(f"bad handshake answer: {head!r}"))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.opened.set_result(None)
        pos = 0
        n = len(buf)
        on_frame = self.on_frame
        while n - pos >= 2:
            b0 = buf[pos]
            length = buf[pos + 1] & 0x7F
            if length < 126:
                start = pos + 2
            elif length == 126:
                if n - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            else:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > n:
                break
            if not b0 & 0x80:
                raise ClientError("the server sent a fragmented message")
            on_frame(b0 & 0x0F, buf, start, end)
            pos = end
        if pos:
            del buf[:pos]

    def on_frame(self, opcode: int, buf: bytearray, start: int, end: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(CLOSE_FRAME)
            self.transport.close()


async def connect(factory, host: str, port: int, path: str) -> LeanWS:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    _transport, proto = await loop.create_connection(lambda: factory(host, port, path), host, port)
    await asyncio.wait_for(proto.opened, TIMEOUT)
    return proto


class Control:
    def __init__(self) -> None:
        self.running = False
        self.latencies: list[float] = []
        self.count = 0
        self.idle = 0
        self.all_idle: asyncio.Event = asyncio.Event()
        self.connections = 0


class EchoConn(LeanWS):
    control: Control
    payload: bytes
    frame: bytes
    sent_at = 0.0

    def go(self) -> None:
        self.sent_at = time.perf_counter()
        self.transport.write(self.frame)  # type: ignore[union-attr]

    def on_frame(self, opcode: int, buf: bytearray, start: int, end: int) -> None:
        if opcode != 0x1 or buf[start:end] != self.payload:
            raise ClientError(f"unexpected echo: opcode {opcode}, {bytes(buf[start:end])[:80]!r}")
        now = time.perf_counter()
        control = self.control
        if control.running:
            control.latencies.append(now - self.sent_at)
            control.count += 1
            self.sent_at = now
            self.transport.write(self.frame)  # type: ignore[union-attr]
        else:
            control.idle += 1
            if control.idle == control.connections:
                control.all_idle.set()


async def echo_lean(args: argparse.Namespace) -> list[dict]:
    control = Control()
    payload = (b"echo " + b"e" * args.size)[: args.size]

    def factory(host: str, port: int, path: str) -> EchoConn:
        conn = EchoConn(host, port, path)
        conn.control = control
        conn.payload = payload
        conn.frame = masked_frame(payload)
        return conn

    conns = [
        await connect(factory, "127.0.0.1", args.port, "/echo") for _ in range(args.connections)
    ]
    control.connections = len(conns)

    async def window(seconds: float) -> dict:
        control.latencies = []
        control.count = 0
        control.idle = 0
        control.all_idle.clear()
        cpu = CPU(args.server_pid)
        control.running = True
        for c in conns:
            c.go()
        await asyncio.sleep(seconds)
        control.running = False
        usage = cpu.stop()
        count = control.count
        latencies = sorted(control.latencies)
        await asyncio.wait_for(control.all_idle.wait(), TIMEOUT)  # the last echoes come back
        if any(c.closed for c in conns):
            raise ClientError("the server closed an echo connection")
        return _echo_result(count, latencies, usage)

    try:
        if args.warmup > 0:
            await window(args.warmup)
        passes = []
        for _ in range(args.passes):
            passes.append(await _quiet_then(window, args.duration, args.quiet_wait))
        return passes
    finally:
        for c in conns:
            c.close()


def _echo_result(count: int, latencies: list[float], usage: dict) -> dict:
    return {
        "messages": count,
        "rate": count / usage["wall_s"],
        "p50_us": round(percentile(latencies, 0.50) * 1e6, 1),
        "p99_us": round(percentile(latencies, 0.99) * 1e6, 1),
        "cpu": usage,
    }


def _other_share(result: dict) -> float:
    cpu = result["burst"]["cpu"] if "burst" in result else result["cpu"]
    return cpu["other_s"] / cpu["wall_s"] if cpu["wall_s"] else 0.0


async def _quiet_then(coro_fn, *args_and_wait):  # type: ignore[no-untyped-def]
    """One measured pass after waiting for quiet; a pass during which other processes
    took more than harness.NOISY_PASS of a core is run again once (the quieter one is kept),
    as the HTTP harness does."""
    *args, quiet_wait = args_and_wait
    best = None
    for attempt in range(2):
        level = None
        if quiet_wait > 0:
            level = await asyncio.get_running_loop().run_in_executor(
                None, harness.wait_for_quiet, quiet_wait
            )
        result = await coro_fn(*args)
        result["quiet_level_before"] = None if level is None else round(level, 3)
        result["retried"] = attempt
        if best is None or _other_share(result) < _other_share(best):
            best = result
        if _other_share(result) <= harness.NOISY_PASS or quiet_wait <= 0:
            break
    return best


# -- the websockets-library echo client (cross-check) ---------------------------------------


async def echo_websockets(args: argparse.Namespace) -> list[dict]:
    import websockets

    uri = f"ws://127.0.0.1:{args.port}/echo"
    message = ("echo " + "e" * args.size)[: args.size]
    control = Control()
    conns = [
        await websockets.connect(uri, compression=None, max_size=None, ping_interval=None)
        for _ in range(args.connections)
    ]

    async def talk(ws) -> None:  # type: ignore[no-untyped-def]
        while control.running:
            t0 = time.perf_counter()
            await ws.send(message)
            answer = await ws.recv()
            if answer != message:
                raise ClientError(f"unexpected echo {answer[:80]!r}")
            if control.running:
                control.latencies.append(time.perf_counter() - t0)
                control.count += 1

    async def window(seconds: float) -> dict:
        control.latencies = []
        control.count = 0
        cpu = CPU(args.server_pid)
        control.running = True
        tasks = [asyncio.create_task(talk(ws)) for ws in conns]
        await asyncio.sleep(seconds)
        control.running = False
        usage = cpu.stop()
        count = control.count
        latencies = sorted(control.latencies)
        await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)  # the last echoes come back
        return _echo_result(count, latencies, usage)

    try:
        if args.warmup > 0:
            await window(args.warmup)
        passes = []
        for _ in range(args.passes):
            passes.append(await _quiet_then(window, args.duration, args.quiet_wait))
        return passes
    finally:
        for ws in conns:
            await ws.close()


# -- fan-out --------------------------------------------------------------------------------


class FanOut:
    def __init__(self, subscribers: int) -> None:
        self.subscribers = subscribers
        self.counts: dict[int, int] = {}
        self.done_at: dict[int, float] = {}
        self.delivered = 0
        self.waiting: tuple[int, asyncio.Future[float]] | None = None

    def arrived(self, seq: int) -> None:
        self.delivered += 1
        c = self.counts.get(seq, 0) + 1
        self.counts[seq] = c
        if c == self.subscribers:
            now = time.perf_counter()
            self.done_at[seq] = now
            del self.counts[seq]
            waiting = self.waiting
            if waiting is not None and waiting[0] == seq:
                self.waiting = None
                waiting[1].set_result(now)

    async def until_all_have(self, seq: int) -> float:
        if seq in self.done_at:
            return self.done_at[seq]
        future = asyncio.get_running_loop().create_future()
        self.waiting = (seq, future)
        return await asyncio.wait_for(future, TIMEOUT)


class SubConn(LeanWS):
    fanout: FanOut
    size: int

    def on_frame(self, opcode: int, buf: bytearray, start: int, end: int) -> None:
        if opcode != 0x1 or end - start != self.size:
            raise ClientError(f"unexpected broadcast: opcode {opcode}, {end - start} bytes")
        self.fanout.arrived(int(buf[start : start + 8]))


class PubConn(LeanWS):
    def __init__(self, host: str, port: int, path: str) -> None:
        super().__init__(host, port, path)
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def on_frame(self, opcode: int, buf: bytearray, start: int, end: int) -> None:
        self.replies.put_nowait(bytes(buf[start:end]))

    def send(self, text: str) -> None:
        self.transport.write(masked_frame(text.encode()))  # type: ignore[union-attr]


async def fanout(args: argparse.Namespace) -> dict:
    raise_fd_limit(args.subscribers + 256)
    state = FanOut(args.subscribers)

    def sub_factory(host: str, port: int, path: str) -> SubConn:
        conn = SubConn(host, port, path)
        conn.fanout = state
        conn.size = args.size
        return conn

    subs: list[LeanWS] = []
    pub: PubConn | None = None
    t0 = time.perf_counter()
    try:
        for i in range(0, args.subscribers, 100):
            batch = range(i, min(i + 100, args.subscribers))
            subs += await asyncio.gather(
                *(connect(sub_factory, "127.0.0.1", args.port, "/sub") for _ in batch)
            )
        pub = await connect(PubConn, "127.0.0.1", args.port, "/pub")  # type: ignore[assignment]
        assert pub is not None
        deadline = time.monotonic() + TIMEOUT
        while True:
            pub.send("count")
            n = int(await asyncio.wait_for(pub.replies.get(), TIMEOUT))
            if n == args.subscribers:
                break
            if time.monotonic() > deadline:
                raise ClientError(f"the server counts {n} subscribers, not {args.subscribers}")
            await asyncio.sleep(0.05)
        connect_s = time.perf_counter() - t0
        seq = 0

        async def burst(count: int) -> dict:
            nonlocal seq
            first, seq = seq, seq + count
            before = state.delivered
            cpu = CPU(args.server_pid)
            pub.send(f"burst {count} {args.size} {first}")
            done = await state.until_all_have(first + count - 1)
            usage = cpu.stop()
            elapsed = done - cpu.t0
            delivered = state.delivered - before
            if delivered != count * args.subscribers:
                raise ClientError(f"{delivered} deliveries, expected {count * args.subscribers}")
            return {
                "broadcasts": count,
                "deliveries": delivered,
                "seconds": round(elapsed, 4),
                "rate": delivered / elapsed,
                "cpu": usage,
            }

        async def singles(count: int) -> dict:
            nonlocal seq
            times = []
            cpu = CPU(args.server_pid)
            for _ in range(count):
                t = time.perf_counter()
                pub.send(f"burst 1 {args.size} {seq}")
                done = await state.until_all_have(seq)
                seq += 1
                times.append(done - t)
            usage = cpu.stop()
            times.sort()
            return {
                "broadcasts": count,
                "p50_us": round(percentile(times, 0.50) * 1e6, 1),
                "p99_us": round(percentile(times, 0.99) * 1e6, 1),
                "max_us": round(times[-1] * 1e6, 1),
                "cpu": usage,
            }

        async def one_pass() -> dict:
            return {"burst": await burst(args.broadcasts), "single": await singles(args.singles)}

        if args.warmup_broadcasts > 0:
            await burst(args.warmup_broadcasts)
            await singles(min(20, args.singles))
        passes = [await _quiet_then(one_pass, args.quiet_wait) for _ in range(args.passes)]
        if any(s.closed for s in subs):
            raise ClientError("the server closed a subscriber")
        return {"connect_s": round(connect_s, 3), "passes": passes}
    finally:
        for s in subs:
            s.close()
        if pub is not None:
            pub.close()


# -- main -----------------------------------------------------------------------------------


def summarize_echo(passes: list[dict]) -> dict:
    return {
        "rate": statistics.median(p["rate"] for p in passes),
        "p50_us": statistics.median(p["p50_us"] for p in passes),
        "p99_us": statistics.median(p["p99_us"] for p in passes),
        "client_cpu": statistics.median(p["cpu"]["client_s"] / p["cpu"]["wall_s"] for p in passes),
        "server_cpu": statistics.median(p["cpu"]["server_s"] / p["cpu"]["wall_s"] for p in passes),
        "other_cpu": max(p["cpu"]["other_s"] / p["cpu"]["wall_s"] for p in passes),
        "passes": passes,
    }


def summarize_fanout(result: dict) -> dict:
    passes = result["passes"]
    bursts = [p["burst"] for p in passes]
    singles = [p["single"] for p in passes]
    return {
        "rate": statistics.median(b["rate"] for b in bursts),
        "burst_s": statistics.median(b["seconds"] for b in bursts),
        "p50_us": statistics.median(s["p50_us"] for s in singles),
        "p99_us": statistics.median(s["p99_us"] for s in singles),
        "client_cpu": statistics.median(b["cpu"]["client_s"] / b["cpu"]["wall_s"] for b in bursts),
        "server_cpu": statistics.median(b["cpu"]["server_s"] / b["cpu"]["wall_s"] for b in bursts),
        "other_cpu": max(b["cpu"]["other_s"] / b["cpu"]["wall_s"] for b in bursts),
        "connect_s": result["connect_s"],
        "passes": passes,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenario", choices=("echo", "fanout"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--server-pid", type=int, default=None)
    p.add_argument("--size", type=int, default=64, help="message bytes (64)")
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--quiet-wait", type=float, default=0.0)
    p.add_argument("--connections", type=int, default=16, help="echo connections (16)")
    p.add_argument("--duration", type=float, default=10.0, help="echo seconds per pass (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="echo warm-up seconds (2)")
    p.add_argument("--client", choices=("lean", "websockets"), default="lean")
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--broadcasts", type=int, default=200, help="messages per burst (200)")
    p.add_argument("--warmup-broadcasts", type=int, default=50)
    p.add_argument("--singles", type=int, default=100, help="timed single broadcasts (100)")
    args = p.parse_args(argv)
    if args.size < 9:
        p.error("--size must be at least 9 (8 digits and a space)")
    return args


async def amain(args: argparse.Namespace) -> dict:
    if args.scenario == "echo":
        raise_fd_limit(args.connections + 64)
        passes = await (echo_websockets(args) if args.client == "websockets" else echo_lean(args))
        return summarize_echo(passes)
    return summarize_fanout(await fanout(args))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        result = asyncio.run(amain(args))
    except (ClientError, OSError, TimeoutError) as e:
        print(f"WS_ERROR {type(e).__name__}: {e}", flush=True)
        return 1
    result["client"] = args.client if args.scenario == "echo" else "lean"
    print("WS_JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
