"""TLS handshakes pinned to one protocol version.

Two kinds: a *verified* handshake (full certificate and host-name verification, optionally presenting the
user's certificate, followed by an HTTP request), and a *version probe* that only asks "does the server still
accept TLS 1.0?" in its own isolated context. Each returns a :class:`HandshakeResult`; nothing is raised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from app.core.checks import http
from app.core.checks.certificate import peer_chain, verified_chain
from app.core.checks.dns import ResolvedAddress
from app.core.checks.transcript import RECORDER, Transcript
from app.core.net import Budget, Opener, StepTimeout, close_quietly, connect, ssl_step
from app.core.silence import silenced
from app.core.tls_errors import (
    HandshakeOutcome,
    VerifyError,
    handshake_outcome,
    reason_of,
    verifier_of,
    verify_error,
)

__all__ = [
    "HandshakeOutcome",
    "HandshakeResult",
    "TlsVersion",
    "handshake",
    "pin",
    "pinned_per_connection",
    "version_probe_context",
]


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
        verify_error: why the certificate was refused, in the terms of whoever verified it (OpenSSL,
            Windows or macOS), when verification failed.
        error: the full technical message.
        chain: the certificates the server sent, DER, leaf first (also after a failed verification).
        anchor: the trusted root that verification ended at, DER (empty when not verified).
        verified_chain: the chain verification built, leaf to root, DER (empty when not verified).
        http: the answer to our request after the handshake, when one was made.
        transcript: the handshake's messages and alerts as OpenSSL saw them (the server's certificate request,
            whether ours was sent, a renegotiation), when the context reports them.
        elapsed_ms: handshake time (connection included when this handshake opened its own).
    """

    version: TlsVersion
    outcome: HandshakeOutcome
    verified: bool = False
    negotiated: str = ""
    cipher: str = ""
    tls_reason: str = ""
    verify_error: VerifyError | None = None
    error: str = ""
    chain: tuple[bytes, ...] = ()
    anchor: bytes = b""
    verified_chain: tuple[bytes, ...] = ()
    http: http.HttpResult | None = None
    transcript: Transcript | None = None
    elapsed_ms: float = 0.0

    @property
    def accepted(self) -> bool:
        """True when the handshake completed."""
        return self.outcome is HandshakeOutcome.ACCEPTED


def pin(context: ssl.SSLContext, version: TlsVersion) -> None:
    """Allow exactly one protocol version (silencing the deprecation warning for 1.0 and 1.1 locally)."""
    with silenced(DeprecationWarning):
        context.minimum_version = version.ssl_version
        context.maximum_version = version.ssl_version


# Contexts that serve several versions: each connection is pinned as it is made (see pinned_per_connection).
_PINNED_PER_CONNECTION: weakref.WeakKeyDictionary[ssl.SSLContext, threading.Lock] = weakref.WeakKeyDictionary()


def pinned_per_connection(context: ssl.SSLContext) -> ssl.SSLContext:
    """Let one context serve handshakes of different versions: :func:`handshake` pins the context to each
    connection's version just before it makes the connection's TLS state, under a lock of the context's own.
    OpenSSL copies a context's versions into each connection when it makes it (``SSL_new``), so a connection
    keeps its version whatever the context is set to later. Loading a trust store into a context takes tens of
    milliseconds of processor time: the TLS 1.2 and 1.3 handshakes of a check share one store this way."""
    _PINNED_PER_CONNECTION[context] = threading.Lock()
    return context


def _wrap(ctx: ssl.SSLContext, sock: socket.socket, host: str, version: TlsVersion) -> ssl.SSLSocket:
    lock = _PINNED_PER_CONNECTION.get(ctx)
    with lock if lock is not None else contextlib.nullcontext():
        if lock is not None:
            pin(ctx, version)
        return ctx.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False, suppress_ragged_eofs=False)


def version_probe_context(version: TlsVersion) -> ssl.SSLContext:
    """An isolated context that can offer ``version`` (legacy suites allowed, security level 0).

    It verifies nothing: it only asks which versions the server accepts, and never carries a verdict on the
    certificate or a client certificate.
    """
    with silenced(DeprecationWarning):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    pin(context, version)
    RECORDER.install(context)
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
    on_handshake: Callable[[tuple[bytes, ...]], None] | None = None,
) -> HandshakeResult:
    """Connect (unless given an open ``sock``), handshake with ``context`` and, when ``request_path`` is
    given and the handshake succeeded, send one HTTP request. ``on_handshake`` is called as soon as the handshake
    has completed, before the request, with the verified chain (leaf to root; empty when the context verifies
    nothing). Raises only ``Cancelled``."""
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
    try:
        sslsock = _wrap(ctx, sock, host, version)
    except ValueError as exc:  # e.g. a host name the ssl module will not take
        close_quietly(sock)
        return HandshakeResult(version, HandshakeOutcome.ERROR, error=str(exc), elapsed_ms=ms())
    except OSError as exc:  # the connection broke before TLS began
        close_quietly(sock)
        return HandshakeResult(version, HandshakeOutcome.CLOSED, error=str(exc), elapsed_ms=ms())
    try:
        with RECORDER.recording(sslsock) as transcript:
            result = _handshake_and_ask(sslsock, ctx, version, budget, host, port, request_path, ms, on_handshake)
            return dataclasses.replace(result, transcript=transcript())
    finally:
        close_quietly(sslsock)


def _handshake_and_ask(
    sslsock: ssl.SSLSocket,
    ctx: ssl.SSLContext,
    version: TlsVersion,
    budget: Budget,
    host: str,
    port: int,
    request_path: str | None,
    ms: Callable[[], float],
    on_handshake: Callable[[tuple[bytes, ...]], None] | None = None,
) -> HandshakeResult:
    try:
        ssl_step(sslsock, sslsock.do_handshake, budget)
    except StepTimeout:
        return HandshakeResult(
            version,
            HandshakeOutcome.TIMEOUT,
            error="the handshake did not finish in time",
            chain=peer_chain(sslsock),
            elapsed_ms=ms(),
        )
    except ssl.SSLCertVerificationError as exc:
        return HandshakeResult(
            version,
            HandshakeOutcome.CERT_VERIFY_FAILED,
            tls_reason=reason_of(exc),
            verify_error=verify_error(exc, verifier_of(ctx)),
            error=str(exc),
            chain=peer_chain(sslsock),
            elapsed_ms=ms(),
        )
    except ssl.SSLError as exc:
        # When the server ends the handshake after our side verified its certificate (a refused client
        # certificate in TLS 1.2), OpenSSL still holds the verified chain: the certificate did verify.
        checked = verified_chain(sslsock) if ctx.verify_mode == ssl.CERT_REQUIRED else ()
        return HandshakeResult(
            version,
            handshake_outcome(exc),
            verified=bool(checked),
            tls_reason=reason_of(exc),
            error=str(exc),
            chain=peer_chain(sslsock),
            anchor=checked[-1] if checked else b"",
            verified_chain=checked,
            elapsed_ms=ms(),
        )
    except OSError as exc:  # reset, broken pipe
        return HandshakeResult(
            version,
            HandshakeOutcome.CLOSED,
            error=str(exc) or type(exc).__name__,
            chain=peer_chain(sslsock),
            elapsed_ms=ms(),
        )
    handshake_ms = ms()
    verified = ctx.verify_mode == ssl.CERT_REQUIRED
    checked = verified_chain(sslsock) if verified else ()
    if on_handshake is not None:
        on_handshake(checked)
    cipher = sslsock.cipher()
    answer = None
    if request_path is not None:
        answer = http.exchange(sslsock, host, port, request_path, budget.fresh())
    return HandshakeResult(
        version,
        HandshakeOutcome.ACCEPTED,
        verified=verified,
        negotiated=sslsock.version() or "",
        cipher=cipher[0] if cipher else "",
        chain=peer_chain(sslsock),
        anchor=checked[-1] if checked else b"",
        verified_chain=checked,
        http=answer,
        elapsed_ms=handshake_ms,
    )
