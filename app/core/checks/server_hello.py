"""Read a TLS 1.2 server's first flight in the clear: does it ask for a client certificate, and which
certificate authorities does it name (what ``openssl s_client`` prints as "Acceptable client certificate CA
names")? Python's ``ssl`` hides both. In TLS 1.2 these messages are not encrypted, so one ClientHello and a
read of the answer tell us; the connection is then closed without finishing the handshake.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from enum import StrEnum

from app.core.checks.transcript import ALERT_NAMES, certificate_request_authorities
from app.core.der import DerError
from app.core.net import Budget, StepTimeout, close_quietly, recv_some, send_all

_CIPHERS = (
    0xC02B,
    0xC02F,
    0xC02C,
    0xC030,
    0xCCA9,
    0xCCA8,
    0xC009,
    0xC013,
    0xC00A,
    0xC014,
    0xC023,
    0xC027,
    0xC024,
    0xC028,
    0x009C,
    0x009D,
    0x002F,
    0x0035,
    0x003C,
    0x003D,
    0x009E,
    0x009F,
    0x0033,
    0x0039,
    0x000A,
    0x00FF,
)
_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x0100)
_SIGALGS = (0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203)
_MAX_FLIGHT = 256 * 1024


class HelloOutcome(StrEnum):
    """How far the conversation went."""

    COMPLETE = "complete"  # read the whole first flight up to ServerHelloDone
    ALERT = "alert"  # the server answered with an alert
    NOT_TLS = "not_tls"
    CLOSED = "closed"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True)
class ServerHelloResult:
    """What a TLS 1.2 server's first flight says.

    Attributes:
        outcome: how far it went.
        version: the protocol version the server chose (``TLSv1.2``), when it answered.
        cipher_suite: the IANA number of the chosen cipher suite.
        chain: the certificates the server sent, DER, leaf first.
        client_cert_requested: True when the server sent a CertificateRequest.
        acceptable_cas: the certificate authorities named in that request (may be empty: "any").
        alert: the alert's name when the server sent one.
        error: a technical description when something went wrong.
        stapled: the OCSP answer the server sent about its own certificate (CertificateStatus), DER.
    """

    outcome: HelloOutcome
    version: str = ""
    cipher_suite: int | None = None
    chain: tuple[bytes, ...] = ()
    client_cert_requested: bool = False
    acceptable_cas: tuple[str, ...] = ()
    alert: str = ""
    error: str = ""
    stapled: bytes = b""


def client_hello(host: str | None) -> bytes:
    """A TLS 1.2 ClientHello offering the common suites, with SNI when ``host`` is a name."""
    suites = b"".join(struct.pack("!H", c) for c in _CIPHERS)
    exts = b""
    if host:
        name = host.encode("ascii")
        entry = b"\x00" + struct.pack("!H", len(name)) + name
        exts += _ext(0, struct.pack("!H", len(entry)) + entry)
    groups = b"".join(struct.pack("!H", g) for g in _GROUPS)
    exts += _ext(10, struct.pack("!H", len(groups)) + groups)
    exts += _ext(11, b"\x01\x00")
    sigs = b"".join(struct.pack("!H", s) for s in _SIGALGS)
    exts += _ext(13, struct.pack("!H", len(sigs)) + sigs)
    exts += _ext(23, b"")
    exts += _ext(5, b"\x01\x00\x00\x00\x00")  # status_request (OCSP), as Windows asks: is an answer stapled?
    body = (
        b"\x03\x03"
        + os.urandom(32)
        + b"\x00"
        + struct.pack("!H", len(suites))
        + suites
        + b"\x01\x00"
        + struct.pack("!H", len(exts))
        + exts
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def _ext(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def read_first_flight(sock: socket.socket, host: str | None, budget: Budget) -> ServerHelloResult:
    """Send a ClientHello on a connected plain socket and read up to ServerHelloDone. Closes the socket.

    Raises only :class:`~app.core.errors.Cancelled`.
    """
    try:
        send_all(sock, client_hello(host), budget)
        return _read(sock, budget)
    except StepTimeout:
        return ServerHelloResult(HelloOutcome.TIMEOUT, error="no answer in time")
    except OSError as exc:
        return ServerHelloResult(HelloOutcome.CLOSED, error=str(exc) or type(exc).__name__)
    finally:
        close_quietly(sock)


def _read(sock: socket.socket, budget: Budget) -> ServerHelloResult:
    buffer = b""
    handshake = b""
    state = _Flight()
    while True:
        while len(buffer) >= 5:
            ctype, major, _minor, length = struct.unpack("!BBBH", buffer[:5])
            if ctype not in (21, 22) or major != 3:
                return ServerHelloResult(HelloOutcome.NOT_TLS, error=f"the answer starts with {buffer[:8]!r}")
            if len(buffer) < 5 + length:
                break
            payload, buffer = buffer[5 : 5 + length], buffer[5 + length :]
            if ctype == 21:
                alert = ALERT_NAMES.get(payload[1], str(payload[1])) if len(payload) >= 2 else "?"
                return state.result(HelloOutcome.ALERT, alert=alert)
            handshake += payload
            try:
                handshake, done = state.consume(handshake)
            except (ValueError, IndexError, struct.error, DerError) as exc:
                return state.result(HelloOutcome.ERROR, error=f"could not parse the server's answer: {exc}")
            if done:
                return state.result(HelloOutcome.COMPLETE)
        if len(buffer) + len(handshake) > _MAX_FLIGHT:
            return state.result(HelloOutcome.ERROR, error="the server's first answer is unreasonably large")
        data = recv_some(sock, budget)
        if not data:
            if not buffer and not handshake and not state.version:
                return ServerHelloResult(HelloOutcome.CLOSED, error="the server closed the connection")
            return state.result(HelloOutcome.CLOSED, error="the server closed the connection mid-answer")
        buffer += data


class _Flight:
    def __init__(self) -> None:
        self.version = ""
        self.cipher: int | None = None
        self.chain: tuple[bytes, ...] = ()
        self.requested = False
        self.cas: tuple[str, ...] = ()
        self.stapled = b""

    def consume(self, data: bytes) -> tuple[bytes, bool]:
        """Handle every complete handshake message; return what is left and whether ServerHelloDone came."""
        while len(data) >= 4:
            kind = data[0]
            length = int.from_bytes(data[1:4], "big")
            if len(data) < 4 + length:
                break
            body, data = data[4 : 4 + length], data[4 + length :]
            if kind == 2:
                self._server_hello(body)
            elif kind == 11:
                self._certificate(body)
            elif kind == 13:
                self._certificate_request(body)
            elif kind == 22 and body[:1] == b"\x01":  # CertificateStatus, OCSP
                self.stapled = body[4 : 4 + int.from_bytes(body[1:4], "big")]
            elif kind == 14:
                return data, True
        return data, False

    def _server_hello(self, body: bytes) -> None:
        major, minor = body[0], body[1]
        self.version = {(3, 1): "TLSv1", (3, 2): "TLSv1.1", (3, 3): "TLSv1.2"}.get((major, minor), f"{major}.{minor}")
        sid_len = body[34]
        self.cipher = struct.unpack("!H", body[35 + sid_len : 37 + sid_len])[0]

    def _certificate(self, body: bytes) -> None:
        total = int.from_bytes(body[:3], "big")
        pos, end, certs = 3, 3 + total, []
        while pos < end:
            size = int.from_bytes(body[pos : pos + 3], "big")
            certs.append(body[pos + 3 : pos + 3 + size])
            pos += 3 + size
        self.chain = tuple(certs)

    def _certificate_request(self, body: bytes) -> None:
        self.requested = True
        self.cas = certificate_request_authorities(body, tls13=False)

    def result(self, outcome: HelloOutcome, alert: str = "", error: str = "") -> ServerHelloResult:
        return ServerHelloResult(
            outcome, self.version, self.cipher, self.chain, self.requested, self.cas, alert, error, self.stapled
        )
