"""What was said in a handshake, as OpenSSL saw it: every handshake message and alert, in both directions.

In TLS 1.3 the server's certificate request travels inside the encrypted handshake, where no reading of the
wire can see it; OpenSSL's message callback sees the messages after decryption. From it a transcript tells:
whether the server asked for a client certificate (in the first handshake, or later by renegotiating), which
authorities it named, whether ours was sent, and which alerts ended things.

Python exposes the callback only as the private ``SSLContext._msg_callback`` (used by CPython's own tests); it
is kept to this module, with a test. A context's callback is shared by every connection made with it, so
:class:`Recorder` hands each message to the transcript of the connection it belongs to.
"""

from __future__ import annotations

import ssl
import struct
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from app.core.der import DerError, name_to_text

HELLO_REQUEST = 0
CLIENT_HELLO = 1
SERVER_HELLO = 2
CERTIFICATE = 11
CERTIFICATE_REQUEST = 13
CERTIFICATE_STATUS = 22
_CERTIFICATE_AUTHORITIES = 47  # the TLS 1.3 extension that names them
_HANDSHAKE = 22
_ALERT = 21

ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}


@dataclass(frozen=True)
class CertificateRequest:
    """The server's request for a client certificate.

    Attributes:
        version: the protocol it came in (``TLSv1.2``, ``TLSv1.3``).
        authorities: the authorities it named (empty: "any I trust"), as distinguished names.
        renegotiation: True when it came after the first handshake (the server asked later, TLS 1.2).
    """

    version: str
    authorities: tuple[str, ...]
    renegotiation: bool = False


@dataclass(frozen=True)
class Alert:
    """One alert: who sent it (``server`` or ``client``), how grave, and its name."""

    sender: str
    fatal: bool
    name: str


_MESSAGE_NAMES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    22: "CertificateStatus",
}


@dataclass(frozen=True)
class Transcript:
    """One connection's handshake, message by message.

    Attributes:
        messages: ``(sender, message type)`` in order, for the technical details.
        certificate_request: the server's request for a client certificate, when it made one.
        client_certificate_sent: None when this side sent no Certificate message, else whether it held a
            certificate (an empty one means "I have none").
        renegotiation_requested: the server asked to renegotiate (HelloRequest) after the first handshake.
        alerts: every alert, both ways.
        ocsp_stapled: the server sent a revocation answer with its certificate (CertificateStatus).
    """

    messages: tuple[tuple[str, int], ...] = ()
    certificate_request: CertificateRequest | None = None
    client_certificate_sent: bool | None = None
    renegotiation_requested: bool = False
    alerts: tuple[Alert, ...] = ()
    ocsp_stapled: bool = False

    @property
    def server_alert(self) -> Alert | None:
        """The first fatal alert the server sent, if any."""
        return next((a for a in self.alerts if a.sender == "server" and a.fatal), None)

    def summary(self) -> str:
        """One line for the technical details: the messages each side sent, and the alerts."""
        parts = [
            f"{'S' if who == 'server' else 'C'}:{_MESSAGE_NAMES.get(kind, str(kind))}" for who, kind in self.messages
        ]
        parts += [f"{a.sender} alert {a.name}" for a in self.alerts]
        return " ".join(parts)


@dataclass
class _Recording:
    """A transcript being written by the message callback (one connection's, while it lasts)."""

    messages: list[tuple[str, int]] = field(default_factory=list)
    certificate_request: CertificateRequest | None = None
    client_certificate_sent: bool | None = None
    renegotiation_requested: bool = False
    alerts: list[Alert] = field(default_factory=list)
    ocsp_stapled: bool = False

    def freeze(self) -> Transcript:
        return Transcript(
            tuple(self.messages),
            self.certificate_request,
            self.client_certificate_sent,
            self.renegotiation_requested,
            tuple(self.alerts),
            self.ocsp_stapled,
        )

    def handshake(self, sender: str, version: int, data: bytes) -> None:
        if len(data) < 4:
            return
        kind, body = data[0], data[4:]
        self.messages.append((sender, kind))
        tls13 = version == ssl.TLSVersion.TLSv1_3
        if sender == "server" and kind == HELLO_REQUEST:
            self.renegotiation_requested = True
        elif sender == "server" and kind == CERTIFICATE_REQUEST and self.certificate_request is None:
            self.certificate_request = CertificateRequest(
                "TLSv1.3" if tls13 else "TLSv1.2",
                certificate_request_authorities(body, tls13=tls13),
                renegotiation=self.renegotiation_requested,
            )
        elif sender == "client" and kind == CERTIFICATE:
            self.client_certificate_sent = _holds_a_certificate(body, tls13)
        elif sender == "server" and kind == CERTIFICATE_STATUS:
            self.ocsp_stapled = True

    def alert(self, sender: str, data: bytes) -> None:
        if len(data) >= 2:
            self.alerts.append(Alert(sender, data[0] == 2, ALERT_NAMES.get(data[1], f"alert {data[1]}")))


def certificate_request_authorities(body: bytes, *, tls13: bool) -> tuple[str, ...]:
    """The authorities a CertificateRequest names (TLS 1.2: its list; TLS 1.3: its certificate_authorities
    extension). A damaged message names none."""
    try:
        if tls13:
            pos = 1 + body[0]  # certificate_request_context
            end = pos + 2 + struct.unpack("!H", body[pos : pos + 2])[0]
            pos += 2
            while pos + 4 <= end:
                kind, size = struct.unpack("!HH", body[pos : pos + 4])
                if kind == _CERTIFICATE_AUTHORITIES:
                    return _names(body[pos + 4 : pos + 4 + size])
                pos += 4 + size
            return ()
        pos = 1 + body[0]  # certificate types
        pos += 2 + struct.unpack("!H", body[pos : pos + 2])[0]  # signature algorithms
        return _names(body[pos:])
    except (IndexError, struct.error):
        return ()


def _names(data: bytes) -> tuple[str, ...]:
    total = struct.unpack("!H", data[:2])[0]
    pos, end, names = 2, 2 + total, []
    while pos + 2 <= min(end, len(data)):
        size = struct.unpack("!H", data[pos : pos + 2])[0]
        try:
            names.append(name_to_text(data[pos + 2 : pos + 2 + size]))
        except DerError:
            names.append("(an unreadable name)")
        pos += 2 + size
    return tuple(names)


def _holds_a_certificate(body: bytes, tls13: bool) -> bool:
    pos = 1 + body[0] if tls13 and body else 0  # TLS 1.3: certificate_request_context first
    return len(body) >= pos + 3 and int.from_bytes(body[pos : pos + 3], "big") > 0


class Recorder:
    """The message callback of every context this program makes: routes each message to its connection's
    transcript (connections are told apart by their socket; contexts are shared across threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: weakref.WeakKeyDictionary[object, _Recording] = weakref.WeakKeyDictionary()

    def install(self, context: ssl.SSLContext) -> None:
        """Have ``context`` report its messages here (a no-op where the context cannot, such as truststore's)."""
        if isinstance(context, ssl.SSLContext) and type(context) is ssl.SSLContext:
            context._msg_callback = self._callback  # type: ignore[attr-defined]

    @contextmanager
    def recording(self, sslsock: ssl.SSLSocket) -> Iterator[Callable[[], Transcript | None]]:
        """Record ``sslsock``'s messages for the duration of the ``with`` block; the value it gives returns the
        transcript so far (call it when the handshake, or the request after it, is done), or None when the
        socket's context does not report to this recorder (then nothing is known, rather than "nothing sent")."""
        if getattr(sslsock.context, "_msg_callback", None) != self._callback:
            yield lambda: None
            return
        recording = _Recording()
        with self._lock:
            self._live[sslsock] = recording
        try:
            yield recording.freeze
        finally:
            with self._lock:
                self._live.pop(sslsock, None)

    def _callback(
        self, conn: object, direction: str, version: int, content_type: int, msg_type: int, data: bytes
    ) -> None:
        with self._lock:
            recording = self._live.get(conn)
        if recording is None:
            return
        sender = "client" if direction == "write" else "server"
        try:
            if content_type == _HANDSHAKE:
                recording.handshake(sender, version, data)
            elif content_type == _ALERT:
                recording.alert(sender, data)
        except Exception:  # noqa: S110 - a message we cannot read must never break the handshake it describes
            pass


RECORDER = Recorder()
