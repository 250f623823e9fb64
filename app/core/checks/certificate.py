"""Server certificates: the chain as sent, what each certificate says, and why verification failed."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
import sys
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from app.core.der import serial_of, tolerant_x509

EXPIRING_SOON_DAYS = 30
MIN_RSA_BITS = 2048
WEAK_HASHES = ("sha1", "md5", "md2", "md4")


@dataclass(frozen=True)
class CertificateInfo:
    """What one certificate says, in the terms a support engineer uses.

    Attributes:
        subject: the subject's distinguished name (RFC 4514).
        issuer: the issuer's distinguished name.
        alt_names: DNS names and IP addresses the certificate is for.
        not_before: start of validity (UTC).
        not_after: end of validity (UTC).
        key_type: RSA, EC, Ed25519...
        key_bits: key size in bits.
        signature_algorithm: for example ``sha256WithRSAEncryption``.
        signature_hash: the hash of the signature in lower case (``sha256``), or empty when it has none.
        serial: the serial number in hex.
        sha256: the certificate's SHA-256 fingerprint in hex.
        is_ca: True for a certificate authority.
        self_issued: True when subject and issuer are the same.
        der: the certificate itself.
    """

    subject: str
    issuer: str
    alt_names: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    key_type: str
    key_bits: int
    signature_algorithm: str
    signature_hash: str
    serial: str
    sha256: str
    is_ca: bool
    self_issued: bool
    der: bytes

    def days_left(self, now: dt.datetime) -> int:
        """Whole days from ``now`` to the end of validity (negative when expired)."""
        return (self.not_after - now).days

    @property
    def common_name(self) -> str:
        """The subject's common name (CN), such as "Pat Doe x1234", or empty."""
        with tolerant_x509():
            names = x509.load_der_x509_certificate(self.der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    @property
    def pem(self) -> str:
        """The certificate in PEM form, for the report and the bundle."""
        return ssl.DER_cert_to_PEM_cert(self.der)

    @property
    def has_weak_signature(self) -> bool:
        """True when signed with SHA-1 or MD5 (a self-signed root's own signature is never checked)."""
        return self.signature_hash in WEAK_HASHES and not self.self_issued

    @property
    def has_weak_key(self) -> bool:
        """True for an RSA or DSA key under 2048 bits."""
        return self.key_type in ("RSA", "DSA") and self.key_bits < MIN_RSA_BITS


def describe(der: bytes) -> CertificateInfo:
    """Describe one DER certificate. Raises ``ValueError`` when it cannot be parsed."""
    with tolerant_x509():
        cert = x509.load_der_x509_certificate(der)
    try:
        key_type, bits = _key_facts(cert.public_key())
    except (ValueError, UnsupportedAlgorithm):  # a damaged key, or a kind this library does not know
        key_type, bits = "unknown", 0
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(
            [str(n) for n in san.get_values_for_type(x509.DNSName)]
            + [str(n) for n in san.get_values_for_type(x509.IPAddress)]
        )
    except x509.ExtensionNotFound:
        names = ()
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    hash_alg = cert.signature_hash_algorithm
    try:
        sig_name = cert.signature_algorithm_oid._name
    except AttributeError:  # pragma: no cover - older cryptography
        sig_name = cert.signature_algorithm_oid.dotted_string
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        alt_names=names,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=key_type,
        key_bits=bits,
        signature_algorithm=sig_name,
        signature_hash=hash_alg.name.lower() if hash_alg is not None else "",
        serial=format(serial_of(cert), "x"),
        sha256=hashlib.sha256(der).hexdigest(),
        is_ca=is_ca,
        self_issued=cert.subject == cert.issuer,
        der=der,
    )


def _key_facts(key: object) -> tuple[str, int]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC ({key.curve.name})", key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, 0


def name_matches(info: CertificateInfo, host: str) -> bool:
    """Does the certificate name ``host``? Alternative names only (as browsers do); a wildcard stands for one
    whole left-most label."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for name in info.alt_names:
        if ip is not None:
            try:
                if ipaddress.ip_address(name) == ip:
                    return True
            except ValueError:
                continue
        elif _dns_match(name.lower().rstrip("."), host.lower().rstrip(".")):
            return True
    return False


def _dns_match(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if pattern.startswith("*.") and "*" not in pattern[2:]:
        label, _, rest = host.partition(".")
        return bool(label) and rest == pattern[2:] and rest.count(".") >= 1
    return False


def peer_chain(sslsock: ssl.SSLSocket) -> tuple[bytes, ...]:
    """The certificates the server sent (DER, leaf first), also after a failed verification.

    Public API from Python 3.13; on 3.11 and 3.12 the same call exists on the private ``_sslobj``.
    Duplicates (some versions put the leaf in twice) are dropped.
    """
    return _dedupe(_chain(sslsock, "get_unverified_chain"))


def verified_chain(sslsock: ssl.SSLSocket) -> tuple[bytes, ...]:
    """The chain OpenSSL built and verified, ending with the trust anchor (empty when not verified)."""
    return _dedupe(_chain(sslsock, "get_verified_chain"))


def _chain(sslsock: ssl.SSLSocket, method: str) -> list[bytes]:
    holder: object = sslsock if sys.version_info >= (3, 13) else getattr(sslsock, "_sslobj", None)
    getter = getattr(holder, method, None)
    if getter is None:
        return []
    try:
        certs = getter() or []
    except (ssl.SSLError, ValueError, OSError):
        return []
    out: list[bytes] = []
    for cert in certs:
        if isinstance(cert, bytes):
            out.append(cert)
        else:
            out.append(cert.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]
    return out


def _dedupe(chain: list[bytes]) -> tuple[bytes, ...]:
    seen: list[bytes] = []
    for der in chain:
        if der not in seen:
            seen.append(der)
    return tuple(seen)


def der_certificates_in_pem(text: str) -> list[bytes]:
    """Every certificate in a PEM text, as DER. Raises ``ValueError`` when one is corrupt."""
    with tolerant_x509():
        certs = x509.load_pem_x509_certificates(text.encode("ascii", "replace"))
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]
