"""The benchmark's latency proxy (bench/latency_proxy.py), run as the benchmark runs it, in front of a real TCP
server on 127.0.0.1: each exchange pays one round trip, a stream half-closed one way still answers the other,
and a link ends when the server ends it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROXY = Path(__file__).resolve().parents[1] / "bench" / "latency_proxy.py"
DELAY_MS = 50


def _answer(conn: socket.socket) -> None:
    """PING gets PONG; anything else is counted, and the count is the answer once the client stops sending."""
    with conn:
        count = 0
        while data := conn.recv(65536):
            if data == b"PING":
                conn.sendall(b"PONG")
            elif data == b"BYE":
                return  # the server ends the connection
            else:
                count += len(data)
        conn.sendall(b"GOT %d" % count)


@pytest.fixture
def proxied() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0), backlog=128)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        listen = probe.getsockname()[1]
    pair = f"{listen}:{server.getsockname()[1]}"
    proc = subprocess.Popen(
        [sys.executable, str(PROXY), "--delay-ms", str(DELAY_MS), pair], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield listen
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        server.close()


def _read_all(sock: socket.socket) -> bytes:
    got = b""
    while data := sock.recv(65536):
        got += data
    return got


def test_each_exchange_pays_one_round_trip_and_streams_keep_their_order(proxied):
    with socket.create_connection(("127.0.0.1", proxied), timeout=10) as sock:
        taken = []
        for _ in range(3):
            started = time.perf_counter()
            sock.sendall(b"PING")
            assert sock.recv(16) == b"PONG"
            taken.append(time.perf_counter() - started)
        assert min(taken) >= 2 * DELAY_MS / 1000 * 0.95  # never faster than the link
        sock.sendall(b"x" * 2_000_000)  # then half-closed: the answer still comes back
        sock.shutdown(socket.SHUT_WR)
        assert _read_all(sock) == b"GOT 2000000"


def test_many_links_at_once_each_pay_their_own_delay_and_the_server_can_end_one(proxied):
    results: list[float] = []

    def talk() -> None:
        with socket.create_connection(("127.0.0.1", proxied), timeout=10) as sock:
            started = time.perf_counter()
            for _ in range(2):
                sock.sendall(b"PING")
                assert sock.recv(16) == b"PONG"
            results.append(time.perf_counter() - started)

    threads = [threading.Thread(target=talk) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 40 and min(results) >= 2 * 2 * DELAY_MS / 1000 * 0.95
    with socket.create_connection(("127.0.0.1", proxied), timeout=10) as sock:
        sock.sendall(b"BYE")
        assert _read_all(sock) == b""  # the server's end reaches the client: the link is closed
