"""The practice lab's servers: real sockets on 127.0.0.1, one per scenario, served by background threads.

Start it with :func:`start_lab` (in-process, ephemeral ports) or ``tls-readiness lab`` (in the foreground,
optionally on fixed ports). Every server stops when :meth:`PracticeLab.stop` is called.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import email.utils
import selectors
import socket
import ssl
import struct
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from app.core.keyload import load_cert_and_key
from app.core.scenarios import BY_NUMBER, SCENARIOS, Behaviour, Scenario
from app.core.silence import silenced
from app.core.tls_contexts import TrustAnchors
from app.lab.pki import Issued, LabPki, self_signed

LAB_HOST = "127.0.0.1"
ISSUER = "issuer"  # the lab's one plain-HTTP helper: its authority's web server (certificates, lists, OCSP)
URL_HOST = "localhost"
IO_TIMEOUT = 5.0


def _context(
    issued: Issued,
    *,
    low: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    high: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    ciphers: str | None = None,
    client_ca: str | None = None,
) -> ssl.SSLContext:
    with silenced(DeprecationWarning):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = low
        ctx.maximum_version = high
    if ciphers:
        ctx.set_ciphers(ciphers)
    load_cert_and_key(ctx, issued.cert_pem(), issued.key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=client_ca)
    return ctx


def _refuse_without_a_name(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> int | None:
    """A server holding several services: a handshake that names none is refused (alert unrecognized_name)."""
    return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME if name is None else None


def _contexts(pki: LabPki, web: str, offline: str) -> dict[str, ssl.SSLContext]:
    """Every scenario's server context. ``web`` is the lab authority's web server (its issuing authority's
    certificate, its list of withdrawn certificates, its OCSP responder); ``offline`` an address where nothing
    answers (a refused port), as a blocked responder looks to Windows."""
    now = dt.datetime.now(dt.UTC)
    ca = pki.ca
    issuer_url = f"{web}/issuing-ca.der"

    def issue(**kwargs: Any) -> Issued:
        """A certificate of the lab's authority naming its OCSP responder and list, as public ones do."""
        return pki.answers_for(ca.issue(ocsp_url=f"{web}/ocsp", crl_url=f"{web}/ca.crl", **kwargs))

    good = issue()
    revoked = issue()
    ca.revoke(revoked.cert)
    offline_cert = ca.issue(ocsp_url=f"{offline}/ocsp", crl_url=f"{offline}/ca.crl")
    name_required = _context(good)
    name_required.sni_callback = _refuse_without_a_name
    client_page = _context(good, client_ca=pki.client_ca.pem)
    client_page.verify_mode = ssl.CERT_OPTIONAL  # the handshake takes none; the answer refuses (as nginx does)
    leaf_only = dataclasses.replace(pki.issuing.issue(ca_issuers=issuer_url), chain=())
    private = pki.private_root.issue()
    legacy = "DEFAULT:@SECLEVEL=0"
    v10, v11, v12, v13 = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    return {
        "ready": _context(good),
        "tls12-only": _context(good, high=v12),
        "legacy-only": _context(good, low=v10, high=v11, ciphers=legacy),
        "legacy-too": _context(good, low=v10, high=v13, ciphers=legacy),
        "no-common-cipher": _context(good, high=v12, ciphers="NULL-SHA256:@SECLEVEL=0"),
        "expired": _context(issue(not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=3))),
        "not-yet-valid": _context(issue(not_before=now + dt.timedelta(days=5), not_after=now + dt.timedelta(days=400))),
        "expiring-soon": _context(issue(not_after=now + dt.timedelta(days=12))),
        "wrong-name": _context(issue(names=("other-server.example",))),
        "untrusted": _context(pki.stranger.issue()),
        "self-signed": _context(self_signed()),
        "weak-signature": _context(ca.issue_sha1(), ciphers=legacy),
        "weak-key": _context(issue(key=rsa.generate_private_key(65537, 1024)), ciphers=legacy),  # noqa: S505
        "client-cert-tls12": _context(good, high=v12, client_ca=pki.client_ca.pem),
        "client-cert-tls13": _context(good, client_ca=pki.client_ca.pem),
        "forbidden": _context(good),
        "wrong-path": _context(good),
        "missing-intermediate": _context(leaf_only),
        "private-root": _context(dataclasses.replace(private, chain=(pki.private_root.cert,))),
        "rsa-key-exchange": _context(
            issue(key=rsa.generate_private_key(65537, 2048)), high=v12, ciphers="AES256-GCM-SHA384"
        ),
        "name-required": name_required,
        "client-cert-page": client_page,
        "revoked": _context(revoked),
        "revocation-offline": _context(offline_cert),
        "inspected": _context(pki.inspection.issue()),
    }


@dataclass
class _Listener:
    scenario: Scenario
    sock: socket.socket
    context: ssl.SSLContext | None
    port: int


class PracticeLab:
    """Local servers reproducing every failure class. Use :func:`start_lab` to make and start one."""

    def __init__(self, port_base: int | None = None, authority_url: str = "") -> None:
        self.pki = LabPki()
        self._authority_url = authority_url.rstrip("/")  # what the certificates name, if not the server itself
        self.anchors = TrustAnchors.from_pem("practice lab", self.pki.ca.pem)
        # What the practice company installed in this computer's store (its inspecting proxy's authority).
        self.company = TrustAnchors.from_pem("practice company store", self.pki.inspection.pem)
        self._port_base = port_base
        self._listeners: dict[str, _Listener] = {}
        self._held: list[socket.socket] = []  # connections kept open on purpose (silent, backlog)
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        # Plain HTTP: the lab authority's web server (its certificate, its list, its OCSP responder).
        self._issuer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._offline = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound, never listening: refused
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> PracticeLab:
        """Open every server and start serving in a background thread."""
        # Where the "missing intermediate" server's certificate says its issuer can be fetched (plain HTTP).
        self._issuer.bind((LAB_HOST, 0))
        self._issuer.listen(16)
        self._issuer.setblocking(False)
        self._selector.register(self._issuer, selectors.EVENT_READ, ISSUER)
        self._offline.bind((LAB_HOST, 0))
        contexts = _contexts(
            self.pki,
            self._authority_url or self.authority_url,
            f"http://{LAB_HOST}:{self._offline.getsockname()[1]}",
        )
        for index, scenario in enumerate(SCENARIOS):
            port = 0 if self._port_base is None else self._port_base + index
            self._listeners[scenario.name] = self._open(scenario, contexts.get(scenario.name), port)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name="practice lab", daemon=True)
        self._thread.start()
        return self

    @property
    def authority_url(self) -> str:
        """The lab authority's own web server (its certificate, its list, its OCSP responder): plain HTTP."""
        return f"http://{LAB_HOST}:{self._issuer.getsockname()[1]}"

    def url(self, name: str) -> str:
        """The https address of a scenario's server."""
        host = LAB_HOST if name in BY_NUMBER else URL_HOST
        return f"https://{host}:{self._listeners[name].port}/"

    def port(self, name: str) -> int:
        """The port of a scenario's server."""
        return self._listeners[name].port

    def urls(self) -> dict[str, str]:
        """Every scenario's address."""
        return {name: self.url(name) for name in self._listeners}

    def stop(self) -> None:
        """Stop serving and close every socket."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            for sock in [
                *(li.sock for li in self._listeners.values()),
                *self._held,
                self._issuer,
                self._offline,
                self._wake_r,
                self._wake_w,
            ]:
                with contextlib.suppress(OSError):
                    sock.close()
            self._held.clear()
        self._selector.close()

    def __enter__(self) -> PracticeLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self, scenario: Scenario, context: ssl.SSLContext | None, port: int) -> _Listener:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LAB_HOST, port))
        port = sock.getsockname()[1]
        if scenario.behaviour is Behaviour.REFUSED:
            pass  # bound (so the port stays ours) but not listening: connections are refused
        elif scenario.behaviour is Behaviour.BACKLOG_FULL:
            sock.listen(0)
            # Fill the accept queue and never accept: further connection attempts get no answer at all.
            for _ in range(3):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                filler.setblocking(False)
                filler.connect_ex((LAB_HOST, port))
                self._held.append(filler)
        else:
            sock.listen(64)
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, scenario.name)
        return _Listener(scenario, sock, context, port)

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.5):
                if key.data is None:
                    return
                if key.data == ISSUER:
                    with contextlib.suppress(OSError):
                        conn, _ = self._issuer.accept()
                        threading.Thread(target=self._serve_issuer, args=(conn,), daemon=True).start()
                    continue
                listener = self._listeners[key.data]
                try:
                    conn, _ = listener.sock.accept()
                except OSError:
                    continue
                conn.setblocking(True)
                conn.settimeout(IO_TIMEOUT)
                threading.Thread(
                    target=self._handle, args=(listener, conn), daemon=True, name=f"lab {listener.scenario.name}"
                ).start()

    def _handle(self, listener: _Listener, conn: socket.socket) -> None:
        behaviour = listener.scenario.behaviour
        try:
            if behaviour is Behaviour.SILENT:
                with self._lock:
                    self._held.append(conn)
                return
            if behaviour is Behaviour.RESET:
                conn.recv(1024)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            if behaviour is Behaviour.PLAIN_HTTP:
                conn.recv(4096)
                conn.sendall(_http(400, "Bad Request", "This port speaks plain HTTP, not TLS.\n"))
                conn.close()
                return
            assert listener.context is not None
            with listener.context.wrap_socket(conn, server_side=True) as tls:
                read_head(tls)
                if listener.scenario.name == "client-cert-page" and not tls.getpeercert():
                    # nginx with ssl_verify_client: the handshake went through; the answer refuses.
                    page = "<html><head><title>400 No required SSL certificate was sent</title></head></html>\n"
                    tls.sendall(_http(400, "Bad Request", page))
                    return
                status = listener.scenario.http_status
                reason = {200: "OK", 403: "Forbidden", 404: "Not Found"}.get(status, "OK")
                tls.sendall(_http(status, reason, f"Practice lab: {listener.scenario.name}\n"))
        except (OSError, ValueError):
            pass  # clients that refuse our certificate, probes that hang up: all expected in a lab
        finally:
            if behaviour is not Behaviour.SILENT:
                conn.close()

    def _serve_issuer(self, conn: socket.socket) -> None:
        """The lab authority's web server, as a public authority's: its issuing authority's certificate
        (DER), its list of withdrawn certificates, and its OCSP responder (POST, and GET as RFC 5019)."""
        try:
            conn.setblocking(True)
            conn.settimeout(IO_TIMEOUT)
            head = read_head(conn)
            request, _, rest = head.partition(b"\r\n\r\n")
            method, _, target = request.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
            path = urlsplit(target.split(" ", 1)[0]).path
            if path == "/issuing-ca.der":
                kind, body = "application/pkix-cert", self.pki.issuing.der
            elif path == "/ca.crl":
                kind, body = "application/pkix-crl", self.pki.ca.crl()
            elif path == "/ocsp" and method == "POST":
                kind, body = (
                    "application/ocsp-response",
                    self.pki.ca.ocsp_answer(_body(conn, request, rest), self.pki.answered),
                )
            elif path.startswith("/ocsp/") and method == "GET":
                asked = base64.b64decode(unquote(path[len("/ocsp/") :]) + "==")
                kind, body = "application/ocsp-response", self.pki.ca.ocsp_answer(asked, self.pki.answered)
            else:
                conn.sendall(_http(404, "Not Found", "No such file.\n"))
                return
            head_out = f"HTTP/1.0 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
            conn.sendall(head_out.encode() + body)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()


def read_head(sock: socket.socket, limit: int = 16384) -> bytes:
    """Read an HTTP request's head (up to the blank line), or what came before the other side closed."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < limit:
        data = sock.recv(4096)
        if not data:
            break
        head += data
    return head


def _body(conn: socket.socket, head: bytes, start: bytes, limit: int = 65536) -> bytes:
    """A request's body, as long as its Content-Length says (``start`` is what came with the head)."""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = min(int(value.strip()), limit)
    body = start
    while len(body) < length:
        more = conn.recv(length - len(body))
        if not more:
            break
        body += more
    return body[:length]


def _http(status: int, reason: str, body: str) -> bytes:
    data = body.encode()
    date = email.utils.formatdate(usegmt=True)  # as every real server sends it: the client can compare clocks
    return (
        f"HTTP/1.1 {status} {reason}\r\nServer: practice-lab\r\nDate: {date}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


def start_lab(port_base: int | None = None, authority_url: str = "") -> PracticeLab:
    """Make the lab's certificates and start every server (ephemeral ports unless ``port_base`` is given).
    ``authority_url``: the address the certificates name for the lab's authority instead of its own server
    (a proxy in front of it, such as the benchmark's latency proxy)."""
    return PracticeLab(port_base, authority_url).start()


_shared: PracticeLab | None = None
_shared_lock = threading.Lock()


def shared_lab() -> PracticeLab:
    """The practice lab of this process, started on first use (the window and the tests share one)."""
    global _shared  # noqa: PLW0603 - one lab per process, by design
    with _shared_lock:
        if _shared is None:
            _shared = start_lab()
        return _shared


def stop_shared_lab() -> None:
    """Stop this process's shared lab, if it was started."""
    global _shared  # noqa: PLW0603
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None
