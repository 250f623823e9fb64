"""A server that sends only its own certificate, without its issuer's (a very common real mistake).

Browsers and Windows fetch the missing issuer from the address the certificate names (Authority Information
Access, "CA Issuers") and connect; Java, Python and OpenSSL-based programs do not. When verification failed
for want of an issuer, this fetches it (through the proxy in use, within the step's time limit, at most a few
hundred kilobytes, DER, PEM or PKCS#7) and verifies the chain again with it: the fetched certificate is never
trusted by itself, only used to build a chain to a root this program already trusts.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import certifi
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from app.core.der import tolerant_x509
from app.core.fetch import Fetched, fetch
from app.core.net import Budget
from app.core.proxy import ProxySettings

if TYPE_CHECKING:
    from cryptography.x509.verification import ServerVerifier, Store


@dataclass(frozen=True)
class ChainCompletion:
    """What fetching the missing issuer showed.

    Attributes:
        url: the address the server's certificate names for its issuer.
        fetched: the answer from that address.
        issuer: the fetched certificate's subject, when one came.
        completes: True when, with it, the chain reaches a trusted root.
        detail: why not, in technical words, when it does not.
    """

    url: str
    fetched: Fetched
    issuer: str = ""
    completes: bool = False
    detail: str = ""


def issuer_urls(leaf_der: bytes) -> tuple[str, ...]:
    """The "CA Issuers" addresses a certificate names (empty when it names none)."""
    try:
        with tolerant_x509():
            cert = x509.load_der_x509_certificate(leaf_der)
            access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (ValueError, x509.ExtensionNotFound):
        return ()
    return tuple(
        str(d.access_location.value)
        for d in access
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    )


def issuer_missing(chain: tuple[bytes, ...]) -> bool:
    """Does the chain as sent lack the certificate that issued the first one?"""
    try:
        with tolerant_x509():
            certs = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return False
    if not certs or certs[0].issuer == certs[0].subject:
        return False
    return all(c.subject != certs[0].issuer for c in certs[1:])


def complete_chain(
    chain: tuple[bytes, ...], host: str, anchors_pem: str, budget: Budget, proxy: ProxySettings | None
) -> ChainCompletion | None:
    """Fetch the first one's issuer and verify again. None when the chain lacks no issuer or its first
    certificate names no address to fetch it from. Raises only ``Cancelled``."""
    if not chain or not issuer_missing(chain):
        return None
    urls = issuer_urls(chain[0])
    if not urls:
        return None
    url = urls[0]
    fetched = fetch(url, budget, proxy)
    if not fetched.ok:
        return ChainCompletion(url, fetched)
    try:
        issuers = _certificates(fetched.body)
    except ValueError:
        return ChainCompletion(url, fetched, detail="the answer holds no certificate")
    subject = issuers[0].subject.rfc4514_string()
    from cryptography.x509.verification import VerificationError  # only for the rare missing issuer

    try:
        with tolerant_x509():
            leaf = x509.load_der_x509_certificate(chain[0])
            sent = [x509.load_der_x509_certificate(der) for der in chain[1:]]
        _verifier(leaf, host, anchors_pem, [leaf, *sent, *issuers]).verify(leaf, [*sent, *issuers])
    except VerificationError as exc:
        return ChainCompletion(url, fetched, subject, detail=f"the chain still does not verify: {exc}")
    except ValueError as exc:
        return ChainCompletion(url, fetched, subject, detail=f"the chain cannot be checked: {exc}")
    return ChainCompletion(url, fetched, subject, completes=True)


def _certificates(body: bytes) -> list[x509.Certificate]:
    """DER, PEM, or a PKCS#7 bundle (.p7c), as authorities publish them. Raises ``ValueError``."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    with tolerant_x509():
        if b"-----BEGIN CERTIFICATE-----" in body:
            return x509.load_pem_x509_certificates(body)
        try:
            return [x509.load_der_x509_certificate(body)]
        except ValueError:
            certs = pkcs7.load_der_pkcs7_certificates(body)
            if not certs:
                raise ValueError("an empty bundle") from None
            return certs


def _verifier(leaf: x509.Certificate, host: str, anchors_pem: str, chain: list[x509.Certificate]) -> ServerVerifier:
    """A verifier for the question "does this chain reach a trusted root?" alone: the leaf's own name, and a
    time when every certificate of the chain is valid (now, when it can be), since a wrong name or an expired
    certificate is reported for itself."""
    subject: x509.DNSName | x509.IPAddress
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        own = [*names.get_values_for_type(x509.DNSName), *names.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        own = []
    first = own[0] if own else host
    if isinstance(first, str):
        try:
            subject = x509.IPAddress(ipaddress.ip_address(first))
        except ValueError:
            subject = x509.DNSName(first.replace("*.", "any.", 1))
    else:
        subject = x509.IPAddress(first)
    latest_start = max(c.not_valid_before_utc for c in chain)
    earliest_end = min(c.not_valid_after_utc for c in chain)
    now = dt.datetime.now(dt.UTC)
    when = min(max(now, latest_start), earliest_end) if latest_start <= earliest_end else now
    from cryptography.x509.verification import PolicyBuilder

    builder = PolicyBuilder().store(_store(anchors_pem)).time(when)
    return builder.build_server_verifier(subject)


@functools.lru_cache(maxsize=8)
def _store(anchors_pem: str) -> Store:
    """Mozilla's roots and the extra anchors, as the program's verified connections trust them."""
    from cryptography.x509.verification import Store

    with open(certifi.where(), "rb") as f, tolerant_x509():
        roots = x509.load_pem_x509_certificates(f.read())
        if anchors_pem:
            roots += x509.load_pem_x509_certificates(anchors_pem.encode("ascii", "replace"))
    return Store(roots)
