"""TLS handshakes pinned to one protocol version.

Two kinds: a *verified* handshake (full certificate and host-name verification, optionally presenting the
user's certificate, followed by an HTTP request), and a *version probe* that only asks "does the server still
accept TLS 1.0?" in its own isolated context. Each returns a :class:`HandshakeResult`; nothing is raised.
"""

from __future__ import annotations

import socket
import ssl
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.core.checks import http
from app.core.checks.certificate import peer_chain, verified_chain
from app.core.checks.dns import ResolvedAddress
from app.core.net import Budget, Opener, StepTimeout, close_quietly, connect, ssl_step


class TlsVersion(StrEnum):
    """The protocol versions we test, by the names ``SSLSocket.version()`` uses."""

    TLS1_0 = "TLSv1"
    TLS1_1 = "TLSv1.1"
    TLS1_2 = "TLSv1.2"
    TLS1_3 = "TLSv1.3"

    @property
    def label(self) -> str:
        """How people write it: ``TLS 1.2``."""
        return {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}[self.value]

    @property
    def ssl_version(self) -> ssl.TLSVersion:
        """The matching ``ssl.TLSVersion``."""
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[self.value]

    @property
    def locally_available(self) -> bool:
        """Can this computer's TLS library offer this version at all?"""
        flag = {"TLSv1": "HAS_TLSv1", "TLSv1.1": "HAS_TLSv1_1", "TLSv1.2": "HAS_TLSv1_2", "TLSv1.3": "HAS_TLSv1_3"}
        return bool(getattr(ssl, flag[self.value], False))


class HandshakeOutcome(StrEnum):
    """How a handshake ended."""

    ACCEPTED = "accepted"
    VERSION_REFUSED = "version_refused"  # the server refused this version (alert 70, or chose an older one)
    CERT_VERIFY_FAILED = "cert_verify_failed"  # the server's certificate did not verify
    PEER_ALERT = "peer_alert"  # the server ended the handshake with another alert
    NOT_TLS = "not_tls"  # the answer was not TLS (a web page, a proxy's page)
    CLOSED = "closed"  # the server closed or reset the connection during the handshake
    TIMEOUT = "timeout"
    CONNECT_FAILED = "connect_failed"  # the TCP connection for this handshake failed
    LOCAL_UNSUPPORTED = "local_unsupported"  # this computer cannot offer this version: not the server's answer
    NOT_TRIED = "not_tried"  # skipped: an earlier handshake showed the server does not speak TLS
    ERROR = "error"


_VERSION_REFUSED = {
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "VERSION_TOO_LOW",
    "VERSION_TOO_HIGH",
    "WRONG_SSL_VERSION",
    "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
}
_NOT_TLS = {
    "WRONG_VERSION_NUMBER",
    "HTTP_REQUEST",
    "HTTPS_PROXY_REQUEST",
    "PACKET_LENGTH_TOO_LONG",
    "RECORD_LAYER_FAILURE",
    "UNKNOWN_PROTOCOL",
    "RECORD_LENGTH_MISMATCH",
}
_LOCAL = {"NO_CIPHERS_AVAILABLE", "NO_PROTOCOLS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM"}


@dataclass(frozen=True)
class HandshakeResult:
    """The result of one handshake.

    Attributes:
        version: the version we asked for (the context was pinned to it).
        outcome: accepted, refused, certificate not verified...
        verified: True when our side verified the server's certificate (also when the server then ended the
            handshake, as it does over a client certificate).
        negotiated: the version actually agreed.
        cipher: the cipher suite agreed.
        tls_reason: OpenSSL's reason code on failure (``TLSV1_ALERT_PROTOCOL_VERSION``).
        verify_code: OpenSSL's X509_V_ERR number when verification failed.
        verify_message: its text.
        error: the full technical message.
        chain: the certificates the server sent, DER, leaf first (also after a failed verification).
        anchor: the trusted root that verification ended at, DER (empty when not verified).
        http: the answer to our request after the handshake, when one was made.
        elapsed_ms: handshake time (connection included when this handshake opened its own).
    """

    version: TlsVersion
    outcome: HandshakeOutcome
    verified: bool = False
    negotiated: str = ""
    cipher: str = ""
    tls_reason: str = ""
    verify_code: int | None = None
    verify_message: str = ""
    error: str = ""
    chain: tuple[bytes, ...] = ()
    anchor: bytes = b""
    http: http.HttpResult | None = None
    elapsed_ms: float = 0.0

    @property
    def accepted(self) -> bool:
        """True when the handshake completed."""
        return self.outcome is HandshakeOutcome.ACCEPTED


def pin(context: ssl.SSLContext, version: TlsVersion) -> None:
    """Allow exactly one protocol version (silencing the deprecation warning for 1.0 and 1.1 locally)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version.ssl_version
        context.maximum_version = version.ssl_version


def version_probe_context(version: TlsVersion) -> ssl.SSLContext:
    """An isolated context that can offer ``version`` (legacy suites allowed, security level 0).

    It verifies nothing: it only asks which versions the server accepts, and never carries a verdict on the
    certificate or a client certificate.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    pin(context, version)
    return context


def handshake(
    address: ResolvedAddress | Opener,
    host: str,
    context: ssl.SSLContext | Callable[[], ssl.SSLContext],
    version: TlsVersion,
    budget: Budget,
    *,
    sock: socket.socket | None = None,
    request_path: str | None = None,
    port: int = 443,
) -> HandshakeResult:
    """Connect (unless given an open ``sock``), handshake with ``context`` and, when ``request_path`` is
    given and the handshake succeeded, send one HTTP request. Raises only ``Cancelled``."""
    started = time.monotonic()

    def ms() -> float:
        return (time.monotonic() - started) * 1000.0

    if not version.locally_available:
        return HandshakeResult(
            version, HandshakeOutcome.LOCAL_UNSUPPORTED, error=f"this Python's OpenSSL has no {version.label}"
        )
    try:
        ctx = context() if callable(context) else context
    except (ssl.SSLError, ValueError) as exc:
        return HandshakeResult(version, HandshakeOutcome.LOCAL_UNSUPPORTED, error=str(exc))
    if sock is None:
        try:
            sock = address(budget) if callable(address) else connect(address.sockaddr, address.family, budget)
        except StepTimeout:
            return HandshakeResult(
                version, HandshakeOutcome.CONNECT_FAILED, error="connection timed out", elapsed_ms=ms()
            )
        except OSError as exc:
            return HandshakeResult(version, HandshakeOutcome.CONNECT_FAILED, error=str(exc), elapsed_ms=ms())
    sslsock: ssl.SSLSocket | None = None
    try:
        sslsock = ctx.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False, suppress_ragged_eofs=False)
        ssl_step(sslsock, sslsock.do_handshake, budget)
    except StepTimeout:
        return HandshakeResult(
            version,
            HandshakeOutcome.TIMEOUT,
            error="the handshake did not finish in time",
            chain=_chain_of(sslsock),
            elapsed_ms=ms(),
        )
    except ssl.SSLCertVerificationError as exc:
        return HandshakeResult(
            version,
            HandshakeOutcome.CERT_VERIFY_FAILED,
            tls_reason=exc.reason or "",
            verify_code=getattr(exc, "verify_code", None),
            verify_message=getattr(exc, "verify_message", "") or "",
            error=str(exc),
            chain=_chain_of(sslsock),
            elapsed_ms=ms(),
        )
    except ssl.SSLError as exc:
        # When the server ends the handshake after our side verified its certificate (a refused client
        # certificate in TLS 1.2), OpenSSL still holds the verified chain: the certificate did verify.
        checked = verified_chain(sslsock) if sslsock is not None and ctx.verify_mode == ssl.CERT_REQUIRED else ()
        return HandshakeResult(
            version,
            _classify(exc),
            verified=bool(checked),
            tls_reason=exc.reason or "",
            error=str(exc),
            chain=_chain_of(sslsock),
            anchor=checked[-1] if checked else b"",
            elapsed_ms=ms(),
        )
    except OSError as exc:  # reset, broken pipe
        return HandshakeResult(
            version,
            HandshakeOutcome.CLOSED,
            error=str(exc) or type(exc).__name__,
            chain=_chain_of(sslsock),
            elapsed_ms=ms(),
        )
    except ValueError as exc:  # e.g. a host name the ssl module will not take
        close_quietly(sock)
        return HandshakeResult(version, HandshakeOutcome.ERROR, error=str(exc), elapsed_ms=ms())
    else:
        handshake_ms = ms()
        cipher = sslsock.cipher()
        negotiated = sslsock.version() or ""
        verified = ctx.verify_mode == ssl.CERT_REQUIRED
        chain = peer_chain(sslsock)
        anchor = (verified_chain(sslsock) or (b"",))[-1] if verified else b""
        answer = None
        if request_path is not None:
            answer = http.exchange(sslsock, host, port, request_path, budget.fresh())
        return HandshakeResult(
            version,
            HandshakeOutcome.ACCEPTED,
            verified=verified,
            negotiated=negotiated,
            cipher=cipher[0] if cipher else "",
            chain=chain,
            anchor=anchor,
            http=answer,
            elapsed_ms=handshake_ms,
        )
    finally:
        close_quietly(sslsock or sock)


def _classify(exc: ssl.SSLError) -> HandshakeOutcome:
    reason = exc.reason or ""
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError) or reason in ("UNEXPECTED_EOF_WHILE_READING",):
        return HandshakeOutcome.CLOSED
    if reason in _VERSION_REFUSED:
        return HandshakeOutcome.VERSION_REFUSED
    if reason in _NOT_TLS:
        return HandshakeOutcome.NOT_TLS
    if reason in _LOCAL:
        return HandshakeOutcome.LOCAL_UNSUPPORTED
    if "ALERT" in reason:
        return HandshakeOutcome.PEER_ALERT
    return HandshakeOutcome.ERROR


def _chain_of(sslsock: ssl.SSLSocket | None) -> tuple[bytes, ...]:
    return peer_chain(sslsock) if sslsock is not None else ()
