"""A TCP proxy on 127.0.0.1 that delays every byte by a fixed time in each direction (a long-distance link).

    .venv/bin/python bench/latency_proxy.py --delay-ms 50 LISTEN_PORT:TARGET_PORT [...]

Prints ``ready`` once listening. Each chunk read at time t is written at t + delay, in order, so a conversation
pays one round trip (2 x delay) per exchange, as on a real link, while bulk data still streams. A connection is
accepted at once (the client's TCP handshake is not delayed), so a TLS 1.2 handshake and one HTTP request
cost three round trips.

It runs on the machine being measured, where a real link's delay costs nothing: it is written to use as little
processor time as it can (asyncio's transports and one timer per direction, not streams and a task per chunk:
the streams version took 0.13 processor-seconds per 8-address check, about 7 % of the machine's work then).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import typing

_CLOSE = None  # in a direction's queue: close the whole link once what came before is delivered


class _Link:
    """One proxied connection: the client's socket, the target's, and a delayed direction each way. It closes
    when both directions have passed on their end of stream, or when either socket is lost."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        self.loop = loop
        self.delay = delay
        self.up = _Direction(self)  # client to target
        self.down = _Direction(self)  # target to client
        self.transports: list[asyncio.BaseTransport] = []
        self.ended = 0
        self.closed = False

    def direction_ended(self) -> None:
        self.ended += 1
        if self.ended == 2:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for direction in (self.up, self.down):
            direction.stop()
        for transport in self.transports:
            transport.close()


class _Direction:
    """Chunks wait ``delay`` and are then written, in order, to ``out`` (once it is there)."""

    def __init__(self, link: _Link) -> None:
        self.link = link
        self.out: asyncio.Transport | None = None
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None
        self.eof_seen = False

    def put(self, data: bytes | None) -> None:
        if self.link.closed or (data is not None and self.eof_seen):
            return
        self.eof_seen = self.eof_seen or data == b""
        self.queue.append((self.link.loop.time() + self.link.delay, data))
        self._schedule()

    def attach(self, out: asyncio.Transport) -> None:
        self.out = out
        self._schedule()

    def stop(self) -> None:
        self.queue.clear()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _schedule(self) -> None:
        if self.timer is None and self.queue and self.out is not None:
            self.timer = self.link.loop.call_at(self.queue[0][0], self._deliver)

    def _deliver(self) -> None:
        self.timer = None
        out, now = self.out, self.link.loop.time()
        while self.queue and self.queue[0][0] <= now and out is not None and not self.link.closed:
            _, data = self.queue.popleft()
            if data is _CLOSE:
                self.link.close()
                return
            if data:
                out.write(data)
                continue
            if out.can_write_eof():
                try:
                    out.write_eof()
                except OSError:  # the other side has gone meanwhile
                    self.link.close()
                    return
            self.link.direction_ended()
        self._schedule()


class _Side(asyncio.Protocol):
    """One socket of a link: what it receives goes ``onward``; it writes what ``back`` delivers."""

    def __init__(self, onward: _Direction, back: _Direction) -> None:
        self.onward, self.back = onward, back

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = typing.cast(asyncio.Transport, transport)  # uvloop's are not asyncio's class, but alike
        if self.onward.link.closed:  # the target answered after the client had gone
            transport.close()
            return
        self.onward.link.transports.append(transport)
        self.back.attach(transport)

    def data_received(self, data: bytes) -> None:
        self.onward.put(data)

    def eof_received(self) -> bool:
        self.onward.put(b"")
        return True  # half-closed: the other way may still be talking

    def connection_lost(self, exc: Exception | None) -> None:
        self.onward.put(_CLOSE)  # what is on its way still arrives, then the link closes


async def _accept(listen: int, target: int, delay: float, connecting: set[asyncio.Task[None]]) -> asyncio.Server:
    loop = asyncio.get_running_loop()

    def client_side() -> _Side:
        link = _Link(loop, delay)

        async def connect() -> None:
            try:
                await loop.create_connection(lambda: _Side(onward=link.down, back=link.up), "127.0.0.1", target)
            except OSError:
                link.close()

        task = loop.create_task(connect())
        connecting.add(task)
        task.add_done_callback(connecting.discard)
        return _Side(onward=link.up, back=link.down)

    return await loop.create_server(client_side, "127.0.0.1", listen, backlog=256)


async def serve(pairs: list[tuple[int, int]], delay: float) -> None:
    connecting: set[asyncio.Task[None]] = set()
    servers = [await _accept(listen, target, delay, connecting) for listen, target in pairs]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (default 50 ms)")
    parser.add_argument("pairs", nargs="+", metavar="LISTEN:TARGET")
    args = parser.parse_args()
    pairs = [tuple(int(p) for p in pair.split(":")) for pair in args.pairs]
    try:
        try:
            import uvloop  # the event loop in C: a third of the processor time asyncio's own needs here
        except ImportError:
            asyncio.run(serve([(a, b) for a, b in pairs], args.delay_ms / 1000))
        else:
            uvloop.run(serve([(a, b) for a, b in pairs], args.delay_ms / 1000))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
