"""The authorities a server's certificate is expected to come from (the catalog's ``expected_issuers``).

An entry is either a subject name in the RFC 4514 form (``CN=DigiCert Global Root G2, O=DigiCert Inc, C=US``:
the order and case of its parts do not matter, and the parts given are enough, so ``CN=DigiCert Global Root G2``
will do) or the SHA-256 fingerprint of a certificate's public key (``sha256:`` and 64 hexadecimal digits, colons
allowed), of the root or of an intermediate. A chain *ends at* an expected issuer when one of its authorities'
certificates (never the server's own) is that issuer, or when its last certificate names that issuer as its own
(a root that the server does not send).
"""

from __future__ import annotations

import contextlib
import hashlib
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from app.core.der import tolerant_x509

FINGERPRINT_PREFIX = "sha256:"


@dataclass(frozen=True)
class ExpectedIssuer:
    """One expected authority.

    Attributes:
        text: as the catalog wrote it (shown in the words and details).
        fingerprint: the public key's SHA-256, when given so (lower-case hexadecimal).
        name: the subject name's parts, normalised, when given so.
    """

    text: str
    fingerprint: str = ""
    name: frozenset[tuple[str, str]] = frozenset()


def parse_expected_issuer(text: str) -> ExpectedIssuer:
    """Read one entry. Raises ``ValueError`` with a sentence saying what is wrong."""
    stripped = text.strip()
    if stripped.lower().startswith(FINGERPRINT_PREFIX):
        digits = stripped[len(FINGERPRINT_PREFIX) :].replace(":", "").replace(" ", "").lower()
        if len(digits) != 64 or not set(digits) <= set(string.hexdigits.lower()):
            raise ValueError(
                "a fingerprint is 'sha256:' followed by 64 hexadecimal digits (the SHA-256 of the public key)"
            )
        return ExpectedIssuer(stripped, fingerprint=digits)
    try:
        name = x509.Name.from_rfc4514_string(_tidied(stripped))
    except ValueError:
        raise ValueError(
            "an issuer is a name such as 'CN=Example Root, O=Example, C=US' or 'sha256:' and a fingerprint"
        ) from None
    parts = _normalised(name)
    if not parts:
        raise ValueError("an issuer's name needs at least one part, such as 'CN=Example Root'")
    return ExpectedIssuer(stripped, name=parts)


def _tidied(text: str) -> str:
    """A name as people write it ("cn=Example Root, O=Example") in the strict form the parser reads
    ("CN=Example Root,O=Example"): spaces around the parts and the "=" dropped, attribute types in capitals.
    Escaped commas (``\\,``) stay inside their part."""
    parts, current, escaped = [], "", False
    for char in text:
        if char == "," and not escaped:
            parts.append(current)
            current = ""
            continue
        escaped = char == "\\" and not escaped
        current += char
    parts.append(current)
    tidied = []
    for part in parts:
        kind, equals, value = part.partition("=")
        tidied.append(f"{kind.strip().upper()}{equals}{value.strip()}" if equals else part.strip())
    return ",".join(tidied)


def _normalised(name: x509.Name) -> frozenset[tuple[str, str]]:
    return frozenset((a.oid.dotted_string, str(a.value).strip().casefold()) for a in name)


def key_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of a certificate's SubjectPublicKeyInfo, hexadecimal."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def chain_end(chain: Sequence[bytes]) -> str:
    """The authority a chain ends at, for a person: the last certificate's issuer, by its common name when it
    has one (``""`` for no chain)."""
    certs = _load(chain)
    return display_name(certs[-1].issuer) if certs else ""


def display_name(name: x509.Name) -> str:
    """A certificate name as a person reads it: its common name, else the whole name."""
    common = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()


def shown(expected: Iterable[ExpectedIssuer]) -> str:
    """The expected issuers for a sentence: "A or B"."""
    return " or ".join(e.text for e in expected)


def ends_at(chain: Sequence[bytes], expected: Iterable[ExpectedIssuer]) -> ExpectedIssuer | None:
    """The expected issuer the chain ends at, or None."""
    certs = _load(chain)
    if not certs:
        return None
    # The authorities only: never the leaf's own name, which a re-signing device copies from the real server.
    authorities = certs[1:]
    names = [_normalised(c.subject) for c in authorities] + [_normalised(certs[-1].issuer)]
    fingerprints = set()
    for cert in authorities:
        with contextlib.suppress(UnsupportedAlgorithm, ValueError, TypeError):  # a key of a kind no one reads
            fingerprints.add(key_fingerprint(cert))
    for issuer in expected:
        if issuer.fingerprint and issuer.fingerprint in fingerprints:
            return issuer
        if issuer.name and any(issuer.name <= n for n in names):  # the parts given are enough
            return issuer
    return None


def _load(chain: Sequence[bytes]) -> list[x509.Certificate]:
    certs = []
    for der in chain:
        try:
            with tolerant_x509():
                certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    return certs
