"""A fault-injecting TCP proxy on 127.0.0.1: stands in front of a real TLS server and breaks the server's side of
the conversation the way real networks and broken servers do."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import time
from enum import StrEnum

from tests.servers import LoopbackListener


class Fault(StrEnum):
    RESET_MID_HANDSHAKE = "reset-mid-handshake"  # the server's first flight is cut short by a TCP reset
    GARBAGE_AFTER_HELLO = "garbage-after-hello"  # the ServerHello record, then random bytes
    DRIP = "drip"  # the server's bytes arrive one per second
    SILENT = "silent"  # accepts the connection and never says a word
    HALF_CLOSE = "half-close"  # reads the ClientHello, then closes its sending side (FIN) and waits


class FaultProxy(LoopbackListener):
    """Listens on an ephemeral port; each connection is relayed to ``upstream`` with ``fault`` applied."""

    def __init__(self, upstream_port: int, fault: Fault) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self.fault = fault
        self._open: list[socket.socket] = []
        self._thread.start()

    def stop(self) -> None:
        super().stop()
        for s in self._open:
            with contextlib.suppress(OSError):
                s.close()

    def _handle(self, client: socket.socket) -> None:
        self._open.append(client)
        self._relay(client)

    def _relay(self, client: socket.socket) -> None:
        try:
            if self.fault is Fault.SILENT:
                while not self._stop.is_set() and client.recv(4096):
                    pass
                return
            if self.fault is Fault.HALF_CLOSE:
                client.recv(4096)
                client.shutdown(socket.SHUT_WR)
                while not self._stop.is_set() and client.recv(4096):
                    pass
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            self._open.append(server)
            self._pump(client, server)
        except OSError:
            pass
        finally:
            client.close()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        sent_to_client = 0
        from_server = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([client, server], [], [], 0.1)
            if client in ready:
                data = client.recv(65536)
                if not data:
                    return
                server.sendall(data)
            if server in ready:
                data = server.recv(65536)
                if not data:
                    return
                if self.fault is Fault.RESET_MID_HANDSHAKE:
                    # Half of the server's first flight, then a reset (SO_LINGER 0 turns close into RST).
                    client.sendall(data[: max(1, len(data) // 2)])
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if self.fault is Fault.GARBAGE_AFTER_HELLO:
                    from_server += data
                    if len(from_server) >= 5:
                        length = struct.unpack(">H", from_server[3:5])[0]
                        if len(from_server) >= 5 + length:
                            client.sendall(from_server[: 5 + length] + os.urandom(2000))
                            while not self._stop.is_set() and client.recv(4096):
                                pass
                            return
                    continue
                if self.fault is Fault.DRIP:
                    for byte in data:
                        if self._stop.is_set():
                            return
                        client.sendall(bytes([byte]))
                        sent_to_client += 1
                        time.sleep(1.0)
                    continue
                client.sendall(data)
