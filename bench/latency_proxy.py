"""A TCP proxy on 127.0.0.1 that delays every byte by a fixed time in each direction (a long-distance link).

    .venv/bin/python bench/latency_proxy.py --delay-ms 50 LISTEN_PORT:TARGET_PORT [...]

Prints ``ready`` once listening. Each chunk read at time t is written at t + delay, in order, so a conversation
pays one round trip (2 x delay) per exchange, as on a real link, while bulk data still streams. A connection is
accepted at once (the client's TCP handshake is not delayed), so a TLS 1.2 handshake and one HTTP request
cost three round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()


async def _handle(
    client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, target: int, delay: float
) -> None:
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(
            _pipe(client_reader, server_writer, delay),
            _pipe(server_reader, client_writer, delay),
            return_exceptions=True,
        )
    finally:
        for w in (client_writer, server_writer):
            with contextlib.suppress(OSError):
                w.close()


async def serve(pairs: list[tuple[int, int]], delay: float) -> None:
    servers = []
    for listen, target in pairs:

        async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, t: int = target) -> None:
            await _handle(r, w, t, delay)

        servers.append(await asyncio.start_server(handler, "127.0.0.1", listen, backlog=256))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0, help="one-way delay (default 50 ms)")
    parser.add_argument("pairs", nargs="+", metavar="LISTEN:TARGET")
    args = parser.parse_args()
    pairs = [tuple(int(p) for p in pair.split(":")) for pair in args.pairs]
    try:
        asyncio.run(serve([(a, b) for a, b in pairs], args.delay_ms / 1000))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
