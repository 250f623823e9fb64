"""The certificates in Windows' own certificate store ("Personal": ``CurrentUser\\MY`` and ``LocalMachine\\MY``),
where most people's ISO certificate lives after they import it into Edge once.

Read through a small interface, as the registry is (:mod:`app.core.computer.registry`): what the certificates
*mean* is tested anywhere with recorded snapshots; the live layer (``crypt32`` through ``ctypes``) stays thin and
runs on Windows, and under Wine in the Windows lane, whose ``crypt32`` has real stores.

The program never takes the private key out of the store: Windows itself presents the certificate, through
``curl.exe`` (see :mod:`app.core.computer.os_stack`), exactly as the ADS client and the browser do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.x509.oid import NameOID

from app.core.der import tolerant_x509
from app.core.errors import InputError

LOCATIONS = ("CurrentUser", "LocalMachine")
STORE_PREFIX = "store:"
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")


class KeyState(StrEnum):
    """What the store says of a certificate's private key."""

    NONE = "none"  # no private key: it cannot identify anyone
    PRESENT = "present"  # a key, whether it may be exported unknown (a smart card, say)
    EXPORTABLE = "exportable"
    NOT_EXPORTABLE = "not_exportable"


@dataclass(frozen=True)
class StoreCertificate:
    """One certificate of a Personal store.

    Attributes:
        location: "CurrentUser" or "LocalMachine".
        der: the certificate.
        key: what is known of its private key.
        friendly_name: the name Windows shows beside it (often empty).
        chain: the authorities above it that Windows finds (DER, nearest first), as SChannel sends and matches
            them against a server's list; empty when unknown.
    """

    location: str
    der: bytes
    key: KeyState
    friendly_name: str = ""
    chain: tuple[bytes, ...] = ()

    @property
    def thumbprint(self) -> str:
        """Its SHA-1 thumbprint as Windows shows it (40 hexadecimal digits, upper case)."""
        return hashlib.sha1(self.der).hexdigest().upper()  # noqa: S324 - Windows names certificates by it

    @property
    def reference(self) -> str:
        """How curl.exe (and the ISO's instructions) name it: ``CurrentUser\\MY\\<thumbprint>``."""
        return f"{self.location}\\MY\\{self.thumbprint}"

    def label(self) -> str:
        """For a person: "Pat Doe x1234, issued by ISO Client CA, valid until 2027-12-01"."""
        with tolerant_x509():
            cert = x509.load_der_x509_certificate(self.der)
        return (
            f"{_common_name(cert.subject)}, issued by {_common_name(cert.issuer)},"
            f" valid until {cert.not_valid_after_utc.date().isoformat()}"
        )


class CertStore(Protocol):
    """What the program needs of the certificate store."""

    def certificates(self) -> list[StoreCertificate]:
        """Every certificate of CurrentUser\\MY and LocalMachine\\MY (those it can read)."""
        ...

    def certificate(self, thumbprint: str) -> StoreCertificate | None:
        """The certificate with this thumbprint (40 upper-case hexadecimal digits), or None."""
        ...


class StoreError(InputError):
    """A store (or a snapshot of one) that cannot be read, in one sentence."""


class SnapshotCertStore:
    """A store recorded as JSON: ``{"description": "...", "certificates": [{"location": "CurrentUser", "der":
    "<base64>", "key": "exportable", "friendly_name": ""}, ...]}``."""

    def __init__(self, certs: Sequence[StoreCertificate], description: str = "") -> None:
        self.description = description
        self._certs = list(certs)

    @classmethod
    def load(cls, path: Path) -> SnapshotCertStore:
        """Read a recorded snapshot. Raises :class:`StoreError`."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            certs = [
                StoreCertificate(
                    str(c["location"]),
                    base64.b64decode(c["der"], validate=True),
                    KeyState(c.get("key", "none")),
                    str(c.get("friendly_name", "")),
                    tuple(base64.b64decode(d, validate=True) for d in c.get("chain", [])),
                )
                for c in data["certificates"]
            ]
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise StoreError(f"The certificate store snapshot {path} cannot be read ({exc}).") from None
        return cls(certs, str(data.get("description", "")))

    def dump(self) -> str:
        """The snapshot as JSON (certificates only: a store's snapshot never holds a key)."""
        rows = [
            {
                "location": c.location,
                "der": base64.b64encode(c.der).decode("ascii"),
                "key": c.key.value,
                "friendly_name": c.friendly_name,
                "chain": [base64.b64encode(d).decode("ascii") for d in c.chain],
            }
            for c in self._certs
        ]
        return json.dumps({"description": self.description, "certificates": rows}, indent=2)

    def certificates(self) -> list[StoreCertificate]:
        """The recorded certificates."""
        return list(self._certs)

    def certificate(self, thumbprint: str) -> StoreCertificate | None:
        """The recorded certificate with this thumbprint, or None."""
        return next((c for c in self._certs if c.thumbprint == thumbprint), None)


def client_certificates(store: CertStore) -> list[StoreCertificate]:
    """The certificates that can identify a person to a server: a private key is there, and the certificate is
    marked for client authentication or for nothing in particular. Expired ones too (the check says so)."""
    from app.core.checks.client_cert import usage_problem

    found = []
    for cert in store.certificates():
        try:
            usable = cert.key is not KeyState.NONE and not usage_problem(cert.der)
        except ValueError:  # a certificate Windows took and this program cannot read: not one to offer
            continue
        if usable:
            found.append(cert)
    return found


def find_certificate(store: CertStore, thumbprint: str) -> StoreCertificate | None:
    """The store's certificate with this thumbprint (spaces and case ignored, as Windows shows it)."""
    return store.certificate(thumbprint.replace(" ", "").replace(":", "").upper())


def is_store_choice(text: str) -> bool:
    """True for ``store:`` and ``store:THUMBPRINT`` (``--client-cert``)."""
    return text.lower().startswith(STORE_PREFIX)


def parse_store_choice(text: str) -> str:
    """The thumbprint of ``store:THUMBPRINT`` ("" for the bare ``store:``). Raises :class:`StoreError`."""
    thumbprint = text[len(STORE_PREFIX) :].replace(" ", "").replace(":", "")
    if thumbprint and not _THUMBPRINT.match(thumbprint):
        raise StoreError(
            f"{text[len(STORE_PREFIX) :]} is not a certificate thumbprint (40 letters and digits, 0-9 and A-F);"
            " --client-cert store: lists this computer's certificates."
        )
    return thumbprint.upper()


def _common_name(name: x509.Name) -> str:
    names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    return name.rfc4514_string() or "(no name)"


def this_computers_store() -> CertStore | None:
    """Windows' own store on Windows; None elsewhere (there is no such store)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from app.core.computer.cert_store_windows import LiveCertStore

        return LiveCertStore()
    return None
