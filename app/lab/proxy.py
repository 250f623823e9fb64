"""A practice HTTP proxy on 127.0.0.1: CONNECT tunnels, plain ``GET http://...`` requests (as certificate
issuers' and revocation addresses are fetched), optional Basic credentials, and addresses it refuses.

It opens tunnels only to this computer (loopback addresses): anything else is refused with 403, so the
practice proxy can never reach out to the network.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import select
import socket
import threading
from urllib.parse import urlsplit

from app.lab.server import read_head


class PracticeProxy:
    """A small HTTP proxy. ``tunnels`` counts the tunnels it opened, ``forwarded`` the plain requests (for tests)."""

    def __init__(self, username: str = "", password: str = "", refuse: tuple[str, ...] = ()) -> None:
        self.username = username
        self.password = password
        self.refuse = refuse
        self.tunnels = 0
        self.forwarded = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="practice proxy", daemon=True)

    @property
    def url(self) -> str:
        """The proxy's address, without credentials."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PracticeProxy:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True, name="practice proxy tunnel").start()

    def _handle(self, conn: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            conn.settimeout(5)
            head = read_head(conn)
            if b"\r\n\r\n" not in head:
                return
            lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, target, *_ = ([*lines[0].split(" "), "", ""])[:3]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            plain = method in ("GET", "POST") and target.startswith("http://")
            if method != "CONNECT" and not plain:
                conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.username and not self._authorized(headers.get("proxy-authorization", "")):
                conn.sendall(
                    b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="practice"'
                    b"\r\nContent-Length: 0\r\n\r\n"
                )
                return
            if plain:
                parts = urlsplit(target)
                host, port = parts.hostname or "", str(parts.port or 80)
            else:
                host, _, port = target.rpartition(":")
                host = host.strip("[]")
            if host in self.refuse or not _is_loopback(host) or not port.isdigit():
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            if plain:  # forward the request in origin form, without the proxy's own header
                path = urlsplit(target).path or "/"
                kept = [line for line in lines[1:] if not line.lower().startswith("proxy-authorization:")]
                rest = head.split(b"\r\n\r\n", 1)[1]
                upstream.sendall(("\r\n".join([f"{method} {path} HTTP/1.0", *kept]) + "\r\n\r\n").encode() + rest)
                with self._lock:
                    self.forwarded += 1
            else:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                with self._lock:
                    self.tunnels += 1
            _pump(conn, upstream, self._stop)
        except OSError:
            pass
        finally:
            for s in (conn, upstream):
                if s is not None:
                    with contextlib.suppress(OSError):
                        s.close()

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.username and password == self.password


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pump(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    a.setblocking(False)
    b.setblocking(False)
    peers = {a: b, b: a}
    while not stop.is_set():
        readable, _, _ = select.select([a, b], [], [], 0.5)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                return
            peers[sock].setblocking(True)
            peers[sock].sendall(data)
            peers[sock].setblocking(False)
