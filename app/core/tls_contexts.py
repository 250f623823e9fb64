"""The TLS contexts a run uses, made once and shared by every endpoint (contexts are thread-safe to wrap
sockets with, and loading Mozilla's roots costs milliseconds each time)."""

from __future__ import annotations

import contextlib
import functools
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import truststore
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from app.core.checks import jks
from app.core.checks.certificate import der_certificates_in_pem
from app.core.checks.client_cert import ClientCertificate
from app.core.checks.handshake import pinned_per_connection
from app.core.checks.transcript import RECORDER
from app.core.der import looks_like_pkcs12, tolerant_x509
from app.core.errors import TrustFileError
from app.core.trust_stores import LOADS_SYSTEM_STORE, Store, fresh

if TYPE_CHECKING:
    from app.core.model import Target


@dataclass(frozen=True)
class TrustAnchors:
    """Extra certificates to trust, such as a company root or the practice lab's own authority.

    Attributes:
        label: where they came from (a file name, or "practice lab").
        pem: the certificates in PEM form.
        ders: the same certificates as DER, to tell which store a verified chain ended in.
    """

    label: str
    pem: str
    ders: frozenset[bytes]

    @classmethod
    def from_pem(cls, label: str, pem: str) -> TrustAnchors:
        """Build from PEM text. Raises ``ValueError`` when it holds no valid certificate."""
        ders = der_certificates_in_pem(pem)
        if not ders:
            raise ValueError("no certificate")
        return cls(label, pem, frozenset(ders))


def load_trust_file(path: str | Path) -> TrustAnchors:
    """Read an extra trusted-certificate file (``--ca-file``): PEM, one DER certificate (``.cer``/``.crt`` as
    Windows exports them), or a Java trust store (``cacerts``, ``.jks``: its trusted certificates, read as Java
    reads a trust store opened without its password). Raises :class:`TrustFileError` in plain words."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise TrustFileError(f"The trusted-certificate file {name} does not exist.") from None
    except OSError as exc:
        raise TrustFileError(f"The trusted-certificate file {name} cannot be read ({exc.strerror}).") from None
    label = Path(name).name
    if jks.is_jks(data):
        try:
            store = jks.read_jks(data)
        except jks.JksError as exc:
            raise TrustFileError(
                f"The trusted-certificate file {name} is a Java trust store that cannot be read: {exc}."
            ) from None
        if not store.trusted:
            raise TrustFileError(
                f"The trusted-certificate file {name} is a Java key store that holds no trusted certificate (a key"
                " store with your own certificate goes in --client-cert)."
            )
        return _from_ders(name, label, store.trusted)
    if (data[:1] == b"\x30" and _PKCS7_SIGNED_DATA in data[:32]) or b"-----BEGIN PKCS7-----" in data:
        return _from_ders(name, label, _pkcs7_certificates(name, data))
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return TrustAnchors.from_pem(label, data.decode("ascii", errors="replace"))
        except ValueError:
            raise TrustFileError(f"The trusted-certificate file {name} holds a damaged certificate.") from None
    if looks_like_pkcs12(data):
        return _from_ders(name, label, _pkcs12_trusted(name, data))
    if data[:1] == b"\x30":
        return _from_ders(name, label, (data,))
    raise TrustFileError(
        f"The trusted-certificate file {name} holds no certificate (PEM, DER, PKCS #7 or a Java trust store were"
        " looked for)."
    )


# The OID of PKCS#7 signedData (1.2.840.113549.1.7.2) as DER: how a .p7b (Windows' "PKCS #7" export) starts.
_PKCS7_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")


def _pkcs7_certificates(name: str, data: bytes) -> tuple[bytes, ...]:
    """The certificates of a .p7b (PKCS#7), as Windows exports a certificate with its chain."""
    try:
        if b"-----BEGIN PKCS7-----" in data:
            certs = pkcs7.load_pem_pkcs7_certificates(data)
        else:
            certs = pkcs7.load_der_pkcs7_certificates(data)
    except (ValueError, UnsupportedAlgorithm):
        raise TrustFileError(f"The PKCS #7 (.p7b) file {name} is damaged.") from None
    if not certs:
        raise TrustFileError(f"The PKCS #7 (.p7b) file {name} holds no certificate.")
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)


def _pkcs12_trusted(name: str, data: bytes) -> tuple[bytes, ...]:
    """The certificates of a PKCS#12 trust store (Java's own cacerts since Java 18), which opens without a
    password or with Java's well-known "changeit"."""
    for password in (None, b"changeit"):
        try:
            with tolerant_x509():
                opened = pkcs12.load_pkcs12(data, password)
        except (ValueError, UnsupportedAlgorithm):
            continue
        if opened.key is not None:
            raise TrustFileError(
                f"The file {name} holds a private key: it is a certificate of your own, for --client-cert, not a list"
                " of trusted certificates."
            )
        certs = [*([opened.cert] if opened.cert else []), *opened.additional_certs]
        if certs:
            return tuple(c.certificate.public_bytes(serialization.Encoding.DER) for c in certs)
    raise TrustFileError(
        f"The file {name} is a PKCS#12 (.p12/.pfx) file locked with a password. If it is your own certificate, give"
        " it as the client certificate; if it is a list of trusted certificates, save them as PEM or .cer files."
    )


def _from_ders(name: str, label: str, ders: tuple[bytes, ...]) -> TrustAnchors:
    try:
        with tolerant_x509():
            pem = "".join(
                x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode("ascii")
                for der in ders
            )
    except ValueError:
        raise TrustFileError(f"The trusted-certificate file {name} holds a damaged certificate.") from None
    return TrustAnchors(label, pem, frozenset(ders))  # the certificates as given (no second reading of the PEM)


def anchors_pem(extra: tuple[TrustAnchors, ...], target_anchors: TrustAnchors | None = None) -> str:
    """The extra certificates one endpoint's checks trust (the user's, and the practice lab's own), as PEM."""
    return "".join(a.pem for a in (*extra, *((target_anchors,) if target_anchors else ())))


# What this program offers in TLS 1.2: what the programs our users run offer (the union of Windows' SChannel and
# Java's TLS 1.2 defaults), strongest first, so that a server that only has an older choice (RSA key exchange,
# CBC) is reached as they reach it. The choice the server makes is reported; a weak one is a warning.
TLS12_CLIENT_CIPHERS = (
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AES:DHE+AES:RSA+AESGCM:RSA+AES"
    ":!aNULL:!eNULL:!MD5:!DSS:!PSK:!SRP:!CAMELLIA:!ARIA:!AESCCM"
)


X509_V_FLAG_NO_CHECK_TIME = 0x200000  # OpenSSL: verify everything but the certificates' dates


class ContextFactory:
    """Makes and caches the verified contexts of one run.

    Verified contexts trust Mozilla's roots (certifi) plus the extra anchors; the system context trusts this
    computer's own store (truststore). Both check the host name. The client certificate, when given, is loaded
    into the verified contexts only.
    """

    def __init__(self, extra: tuple[TrustAnchors, ...] = (), client_cert: ClientCertificate | None = None) -> None:
        self.extra = extra
        self.client_cert = client_cert
        self._cache: dict[tuple[str, TrustAnchors | None], ssl.SSLContext] = {}
        self._lock = threading.Lock()  # guards the two dicts; each context is made under a lock of its own, so
        self._making: dict[tuple[str, TrustAnchors | None], threading.Lock] = {}  # others are made meanwhile

    def verified(self, target_anchors: TrustAnchors | None = None) -> ssl.SSLContext:
        """The context that verifies against Mozilla's roots and the extra anchors, for the TLS 1.2 and the TLS 1.3
        handshakes alike: :func:`~app.core.checks.handshake.handshake` pins each connection to its version."""
        return self._verified("verified", target_anchors)

    def clock_reading(self, target_anchors: TrustAnchors | None = None) -> ssl.SSLContext:
        """The verified context, except that the certificates' dates are not checked: only to read a server's
        clock (its answer's Date header) when this computer's clock makes its certificate look expired or not
        yet valid. What it connects to is never a verdict on the certificate."""
        return self._verified("clock", target_anchors)

    def _verified(self, kind: str, target_anchors: TrustAnchors | None) -> ssl.SSLContext:
        def make() -> ssl.SSLContext:
            ctx = fresh(Store.MOZILLA)
            if kind == "clock":
                ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
            for anchors in self._anchor_sets(target_anchors):
                ctx.load_verify_locations(cadata=anchors.pem)
            # The TLS 1.2 choices; a TLS 1.3 connection offers only TLS 1.3's own suites, which these do not name.
            ctx.set_ciphers(TLS12_CLIENT_CIPHERS)
            if self.client_cert is not None:
                self.client_cert.load_into(ctx)
            return pinned_per_connection(ctx)

        return self._cached((kind, target_anchors), make)

    def system(self, company: TrustAnchors | None = None) -> ssl.SSLContext:
        """A context that verifies with this computer's own trust store (Windows, macOS or Linux's), and
        ``company``'s certificates as if they were in it (the practice lab's company authority)."""

        def make() -> ssl.SSLContext:
            # On Windows and macOS, the operating system's own verifier. Elsewhere the system's store is OpenSSL's
            # default locations: truststore reloads them on every connection under one lock (18 ms each, one
            # address after another); loading them once per run keeps the checks of many addresses in parallel.
            ctx = fresh(Store.SYSTEM) if LOADS_SYSTEM_STORE else truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if company is not None:
                ctx.load_verify_locations(cadata=company.pem)
            return ctx

        return self._cached(("system", company), make)

    def prepare(self, targets: Iterable[Target]) -> list[threading.Thread]:
        """Start making, in the background, the contexts the handshakes to ``targets`` will ask for, so that
        loading the stores (tens of milliseconds each) happens while names are looked up and connections open.
        A context that cannot be made here is made (and its fault met) where it is asked for. Returns the
        threads, for the run to wait for before it ends (one may be writing the certificate's key file)."""
        wanted: dict[tuple[object, ...], Callable[[], ssl.SSLContext]] = {}
        for target in targets:
            wanted[("verified", target.anchors)] = functools.partial(self.verified, target.anchors)
            wanted[("system", target.system_anchors)] = functools.partial(self.system, target.system_anchors)

        def make(ask: Callable[[], ssl.SSLContext]) -> None:
            with contextlib.suppress(Exception):
                ask()

        threads = [
            threading.Thread(target=make, args=(ask,), name="tls context", daemon=True) for ask in wanted.values()
        ]
        for thread in threads:
            thread.start()
        return threads

    def _cached(self, key: tuple[str, TrustAnchors | None], make: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        """The context for ``key``, made once (loading a store takes tens of milliseconds); while one is made,
        the others can be."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            ctx = make()
            RECORDER.install(ctx)
            with self._lock:
                self._cache[key] = ctx
            return ctx

    def is_extra_anchor(self, der: bytes, target_anchors: TrustAnchors | None = None) -> str:
        """The label of the extra anchor set holding ``der``, or empty when it is none of them."""
        for anchors in self._anchor_sets(target_anchors):
            if der in anchors.ders:
                return anchors.label
        return ""

    def _anchor_sets(self, target_anchors: TrustAnchors | None) -> tuple[TrustAnchors, ...]:
        return (*self.extra, target_anchors) if target_anchors else self.extra
