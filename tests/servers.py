"""A small real TLS (or plain) server for tests that need settings the practice lab does not have."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time


class LoopbackListener:
    """Accepts connections on an ephemeral port of 127.0.0.1, each handled in its own thread by ``_handle``."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)  # here, not in the thread: stop() may close the socket before the thread starts
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/"

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class TestServer(LoopbackListener):
    """Serves on 127.0.0.1: TLS with ``context`` (or plain TCP when None), answering one HTTP status.

    Records the most client connections open at once (``max_concurrent``, sampled at each accept from the
    kernel's table) so tests can check the runner's limit.
    ``hold`` keeps each connection open that many seconds before the handshake.
    """

    __test__ = False  # not a test class

    def __init__(self, context: ssl.SSLContext | None, status: int = 200, hold: float = 0.0) -> None:
        super().__init__()
        self.context = context
        self.status = status
        self.hold = hold
        self.max_concurrent = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._thread.start()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self.max_concurrent = max(self.max_concurrent, open_client_connections(self.port))
        stream: socket.socket = conn
        try:
            conn.settimeout(5)
            if self.hold:
                time.sleep(self.hold)
            if self.context is not None:
                stream = self.context.wrap_socket(conn, server_side=True)
            data = stream.recv(4096)
            if data:
                stream.sendall(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        except (OSError, ValueError):
            pass
        finally:
            stream.close()
            conn.close()


def open_client_connections(port: int) -> int:
    """How many connections to 127.0.0.1:``port`` the clients on this machine hold open right now, as the
    kernel sees them (client side ESTABLISHED or SYN_SENT). Linux only; elsewhere 0.

    A client that closed its side is counted out at once, unlike a server thread that has yet to notice.
    """
    count = 0
    try:
        with open("/proc/net/tcp") as fh:
            lines = fh.readlines()[1:]
    except OSError:
        return 0
    for line in lines:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if int(remote.split(":")[1], 16) == port and state in ("01", "02"):  # ESTABLISHED, SYN_SENT
            count += 1
    return count


def server_context(issued: object, **settings: object) -> ssl.SSLContext:
    """A server context for a trustme LeafCert, with optional ``minimum_version``/``maximum_version``/
    ``ciphers``/``client_ca``."""
    from app.core.silence import silenced

    with silenced(DeprecationWarning):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if "minimum_version" in settings:
            ctx.minimum_version = settings["minimum_version"]  # type: ignore[assignment]
        if "maximum_version" in settings:
            ctx.maximum_version = settings["maximum_version"]  # type: ignore[assignment]
    if "ciphers" in settings:
        ctx.set_ciphers(str(settings["ciphers"]))
    issued.configure_cert(ctx)  # type: ignore[attr-defined]
    client_ca = settings.get("client_ca")
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(ctx)  # type: ignore[attr-defined]
    return ctx


class Served:
    """A plain HTTP server answering every GET with one body (what an authority's web server does)."""

    def __init__(self, body: bytes, status: int = 200, path: str = "/issuer.cer") -> None:
        outer = self
        self.body, self.status, self.hits = body, status, 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
