"""The user's own client certificate (mutual TLS): load it, check it locally, hand it to TLS contexts.

The password is used once to open the file and is never stored, logged or shown. The private key stays in
memory (see :mod:`app.core.keyload` for how ``ssl`` gets it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.core.checks import jks
from app.core.checks.certificate import EXPIRING_SOON_DAYS, CertificateInfo, describe
from app.core.checks.pkcs12 import NAMES as PKCS12_NAMES
from app.core.checks.pkcs12 import Pkcs12Facts, compatible_encryption, read_pkcs12
from app.core.computer.cert_store import KeyState, StoreCertificate
from app.core.der import DerError, looks_like_pkcs12, name_to_text, tolerant_x509
from app.core.findings import Check, Code, Finding
from app.core.keyload import load_cert_and_key
from app.core.log import log

MAX_FILE_BYTES = 1_000_000
_KEY_KIND = rb"(?:RSA |EC |ENCRYPTED |DSA )?PRIVATE KEY"
_KEY_BLOCK = re.compile(rb"-----BEGIN " + _KEY_KIND + rb"-----.+?-----END " + _KEY_KIND + rb"-----", re.DOTALL)


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate that opened correctly.

    Attributes:
        path: the file it came from.
        info: what the certificate says.
        chain: the certificate and any intermediates in the file (DER, certificate first).
        key_matches: True when the private key belongs to the certificate.
        protection: how a ``.p12``/``.pfx`` file is encrypted and sealed (None for PEM and Java key stores).
        alias: the entry's name in a Java key store (empty for other files).
        store_reference: for a certificate in Windows' own store, how Windows names it
            (``CurrentUser\\MY\\<thumbprint>``); its key stays there, and Windows itself presents it.
    """

    path: str
    info: CertificateInfo
    chain: tuple[bytes, ...]
    key_matches: bool
    _key: PrivateKeyTypes | None = field(repr=False, compare=False)  # None: the key stays in Windows' store
    protection: Pkcs12Facts | None = None  # how a .p12/.pfx file is encrypted (None: a PEM file)
    alias: str = ""
    store_reference: str = ""

    @property
    def in_store(self) -> bool:
        """True for a certificate in Windows' store: only Windows can present it (through curl.exe)."""
        return bool(self.store_reference)

    @property
    def name(self) -> str:
        """Where it is, for the words: the file's name, or "Windows' certificate store (Pat Doe x1234)"."""
        if self.in_store:
            return f"Windows' certificate store ({self.info.common_name or self.info.subject})"
        return Path(self.path).name

    @property
    def issuer_names(self) -> tuple[str, ...]:
        """The authorities a server's list can name for this certificate: its issuer first, then the subjects
        and issuers of the intermediates in the file (written as :func:`app.core.der.name_to_text` writes them,
        as the names of a server's request are)."""
        names: list[str] = []
        try:
            with tolerant_x509():
                certs = [x509.load_der_x509_certificate(der) for der in self.chain]
        except ValueError:
            return ()
        for index, cert in enumerate(certs):
            for name in (cert.issuer,) if index == 0 else (cert.subject, cert.issuer):
                try:
                    text = name_to_text(name.public_bytes())
                except DerError:
                    continue
                if text not in names:
                    names.append(text)
        return tuple(names)

    @property
    def chain_complete(self) -> bool:
        """Whether the file holds the certificates up to a root (a self-issued one): then the names a server's
        list can match are all known; else the authority above the last one is not."""
        try:
            with tolerant_x509():
                last = x509.load_der_x509_certificate(self.chain[-1])
        except (ValueError, IndexError):
            return False
        return len(self.chain) > 1 and last.subject == last.issuer

    def load_into(self, context: ssl.SSLContext) -> None:
        """Make ``context`` present this certificate (the key never reaches the disk unencrypted). Raises
        ``ValueError`` for a certificate in Windows' store, whose key this program never holds."""
        if self._key is None:
            raise ValueError("a certificate in Windows' store is presented by Windows itself")
        with tolerant_x509():
            pem = b"".join(
                x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM) for der in self.chain
            )
        load_cert_and_key(context, pem, self._key)


@dataclass(frozen=True)
class PresentedCopy:
    """A one-time copy of the user's certificate for the other programs that present it (curl, Java): a
    PKCS#12 file that only this user can read, locked with a random password made for it (never the user's),
    which goes to them on their standard input. :func:`presented_copy` removes it when the run is over.
    For a certificate in Windows' store there is no copy: ``store`` names it for curl.exe, and Windows
    presents it.

    Attributes:
        path: the file (empty for a certificate in Windows' store).
        password: its one-time password (kept out of every text the program shows or writes).
        store: ``CurrentUser\\MY\\<thumbprint>`` for a certificate in Windows' store, else empty.
    """

    path: str
    password: str = field(repr=False)
    store: str = ""


@contextmanager
def presented_copy(cert: ClientCertificate) -> Iterator[PresentedCopy | None]:
    """Write :class:`PresentedCopy` for ``cert``; the file is removed when the ``with`` block ends. None when it
    cannot be made (no temporary folder, a key of a kind PKCS#12 cannot hold): curl and Java then present none.

    The copy uses the PKCS#12 encryption every reader takes (Java 8, Windows, OpenSSL 3): its password is random
    and the file lives only as long as the run.
    """
    if cert.in_store:
        yield PresentedCopy("", "", cert.store_reference)  # Windows presents it: nothing to copy
        return
    password = secrets.token_urlsafe(24)
    path = ""
    try:
        with tolerant_x509():
            certs = [x509.load_der_x509_certificate(der) for der in cert.chain]
        encryption = compatible_encryption(password.encode())
        key = cast(pkcs12.PKCS12PrivateKeyTypes, cert._key)  # a key that opened from a .p12 or PEM file
        data = pkcs12.serialize_key_and_certificates(b"tls-readiness", key, certs[0], certs[1:] or None, encryption)
        fd, path = tempfile.mkstemp(prefix="tlsrc-cert-", suffix=".p12")  # readable by this user only
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except (OSError, ValueError, TypeError) as exc:
        log.info("curl and Java will present no certificate: its copy could not be made (%s)", type(exc).__name__)
        if path:
            with suppress(OSError):
                os.unlink(path)
        yield None
        return
    try:
        yield PresentedCopy(path, password)
    finally:
        with suppress(OSError):
            os.unlink(path)


@dataclass(frozen=True)
class ClientCertProblem:
    """A client certificate file that could not be used.

    Attributes:
        path: the file.
        code: CLIENT_CERT_UNREADABLE, CLIENT_CERT_BAD_PASSWORD or CLIENT_CERT_CHOOSE_ONE.
        details: what went wrong, for support (never the password).
        aliases: for CLIENT_CERT_CHOOSE_ONE, the names of the key store's certificates to choose from.
        variant: the words' variant, when the code's own words do not fit.
    """

    path: str
    code: Code
    details: str
    aliases: tuple[str, ...] = ()
    variant: str = ""  # which words of the code fit (``key_store``: a Java key store whose key has its own password)


def load_client_certificate(
    path: str | Path, password: str | None, alias: str = ""
) -> ClientCertificate | ClientCertProblem:
    """Open a ``.p12``/``.pfx``, PEM or Java key store (``.jks``) file: certificate and key; ``alias`` names the
    entry of a key store that holds several. Never raises for a bad file or password."""
    name = str(path)
    try:
        data = Path(path).read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, f"cannot read the file: {exc.strerror or exc}")
    if len(data) > MAX_FILE_BYTES:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, "the file is too large to be a certificate")
    secret = password.encode("utf-8") if password else None
    if secret and b"\x00" in secret:
        # No certificate password can hold a NUL character (and cryptography panics on one: found by fuzzing).
        return ClientCertProblem(name, Code.CLIENT_CERT_BAD_PASSWORD, "the password holds a character no password can")
    if jks.is_jks(data):
        return _load_jks(name, data, password or "", alias)
    if jks.is_jceks(data):
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_UNREADABLE,
            "a JCEKS key store, which this program does not read: make a PKCS#12 copy with keytool -importkeystore"
            " -deststoretype PKCS12",
        )
    if b"-----BEGIN" in data:
        return _load_pem(name, data, secret)
    return _load_pkcs12(name, data, secret)


def certificate_from_store(entry: StoreCertificate) -> ClientCertificate | ClientCertProblem:
    """A certificate of Windows' store as the client certificate (its key stays in the store)."""
    try:
        info = describe(entry.der)
    except ValueError as exc:
        return ClientCertProblem(
            f"store:{entry.thumbprint}", Code.CLIENT_CERT_UNREADABLE, f"the certificate cannot be read ({exc})"
        )
    if entry.key is KeyState.NONE:
        where = f"Windows' certificate store ({info.common_name or info.subject})"
        return ClientCertProblem(where, Code.CLIENT_CERT_KEY_UNUSABLE, "Windows' store has no private key for it")
    name = f"store:{entry.thumbprint}"
    return ClientCertificate(name, info, (entry.der, *entry.chain), True, None, store_reference=entry.reference)


def key_store_aliases(path: str | Path) -> tuple[str, ...]:
    """The names of the certificates with keys in a Java key store (read without its password, as
    ``keytool -list`` reads them); empty for any other file, or one that does not read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        return jks.read_jks(data).aliases if len(data) <= MAX_FILE_BYTES else ()
    except (OSError, jks.JksError):
        return ()


def _load_jks(name: str, data: bytes, password: str, alias: str) -> ClientCertificate | ClientCertProblem:
    try:
        store = jks.read_jks(data)
    except jks.JksError as exc:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, str(exc))
    if not store.keys:
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_UNREADABLE,
            f"the Java key store holds no private key, only {len(store.trusted)} trusted certificates"
            " (a trust store such as cacerts: give it as trusted certificates instead)",
        )
    if alias:
        chosen = [k for k in store.keys if k.alias.casefold() == alias.casefold()]  # keytool keeps names lower-case
        if not chosen:
            return ClientCertProblem(
                name,
                Code.CLIENT_CERT_CHOOSE_ONE,
                f"the Java key store has no certificate named {alias!r}; it has {', '.join(store.aliases)}",
                store.aliases,
            )
    elif len(store.keys) > 1:
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_CHOOSE_ONE,
            f"the Java key store holds {len(store.keys)} certificates with keys: {', '.join(store.aliases)}",
            store.aliases,
        )
    entry = chosen[0] if alias else store.keys[0]
    if not password:
        return ClientCertProblem(name, Code.CLIENT_CERT_BAD_PASSWORD, "the Java key store needs its password")
    # As Java does: the store's password must match its seal, and opens the key too (Java's key managers give
    # the key the store's password), so a store whose key has a password of its own is of no use to Java.
    sealed = store.seal_matches(password)
    try:
        plain = jks.open_key(entry, password)
    except jks.WrongPassword:
        if sealed:
            return ClientCertProblem(
                name,
                Code.CLIENT_CERT_BAD_PASSWORD,
                f"the key store opened with the password given, but its key {entry.alias!r} has a password of its own"
                " (Java programs open the key with the store's password, so they cannot use it either)",
                variant="key_store",
            )
        return ClientCertProblem(
            name, Code.CLIENT_CERT_BAD_PASSWORD, "the Java key store is whole but did not open with the password given"
        )
    except jks.JksError as exc:  # the key itself is damaged, or locked in a way not read here
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, str(exc))
    if not sealed:
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_BAD_PASSWORD,
            f"the password given opens the key {entry.alias!r} but not the key store: Java needs the store's password"
            " and opens the key with it",
            variant="key_store",
        )
    try:
        key = serialization.load_der_private_key(plain, None)
        with tolerant_x509():
            chain = tuple(x509.load_der_x509_certificate(der) for der in entry.chain)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_UNREADABLE,
            f"the key store's certificate or key cannot be read ({exc.__class__.__name__})",
        )
    if not chain:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, "the key store's entry holds no certificate")
    built = _build(name, key, chain)
    return dataclasses.replace(built, alias=entry.alias) if isinstance(built, ClientCertificate) else built


def _load_pkcs12(name: str, data: bytes, secret: bytes | None) -> ClientCertificate | ClientCertProblem:
    if not looks_like_pkcs12(data):
        # The first bytes of a PKCS#12 file (a SEQUENCE, then version 3) in a file cut short: damaged, not foreign.
        cut = len(data) > 8 and data[0] == 0x30 and b"\x02\x01\x03" in data[2:8]
        detail = "the PKCS#12 file is damaged: it is cut short" if cut else "not a PKCS#12 (.p12/.pfx) or PEM file"
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, detail)
    facts = read_pkcs12(data)  # the structure reads without the password: it tells the causes apart
    try:
        with tolerant_x509():
            key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except ValueError:
        if facts is None:
            return ClientCertProblem(
                name, Code.CLIENT_CERT_UNREADABLE, "the PKCS#12 file is damaged: its structure does not read"
            )
        unknown = [a for a in (*facts.key, *facts.certificates) if a not in PKCS12_NAMES]
        if unknown:
            return ClientCertProblem(
                name,
                Code.CLIENT_CERT_UNREADABLE,
                f"the PKCS#12 file uses an encryption this program cannot read ({', '.join(unknown)})",
            )
        return ClientCertProblem(
            name,
            Code.CLIENT_CERT_BAD_PASSWORD,
            f"the PKCS#12 file is whole ({facts.text()}) but did not open with the password given",
        )
    except Exception as exc:
        return ClientCertProblem(
            name, Code.CLIENT_CERT_UNREADABLE, f"the PKCS#12 file is damaged ({type(exc).__name__})"
        )
    if cert is None or key is None:
        missing = "certificate" if cert is None else "private key"
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, f"the file holds no {missing}")
    chain = (cert, *extra)
    built = _build(name, key, chain)
    return dataclasses.replace(built, protection=facts) if isinstance(built, ClientCertificate) else built


def _load_pem(name: str, data: bytes, secret: bytes | None) -> ClientCertificate | ClientCertProblem:
    try:
        with tolerant_x509():
            certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, "the PEM file holds no readable certificate")
    block = _KEY_BLOCK.search(data)
    if block is None:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, "the PEM file holds no private key")
    try:
        key = serialization.load_pem_private_key(block.group(0), secret)
    except TypeError:
        # Encrypted without a password given, or a password given for a key that has none.
        detail = "the private key is protected by a password" if secret is None else "the key has no password"
        if secret is None:
            return ClientCertProblem(name, Code.CLIENT_CERT_BAD_PASSWORD, detail)
        key = serialization.load_pem_private_key(block.group(0), None)
    except ValueError as exc:
        if "decrypt" in str(exc).lower() or "password" in str(exc).lower():
            return ClientCertProblem(
                name, Code.CLIENT_CERT_BAD_PASSWORD, "the private key did not open with the password given"
            )
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, "the private key is damaged")
    except Exception as exc:
        return ClientCertProblem(
            name, Code.CLIENT_CERT_UNREADABLE, f"the private key cannot be used ({type(exc).__name__})"
        )
    return _build(name, key, tuple(certs))


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _build(
    name: str, key: PrivateKeyTypes, chain: tuple[x509.Certificate, ...]
) -> ClientCertificate | ClientCertProblem:
    try:
        ders = tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)
        # The certificate that goes with the key comes first; files do not always put it there.
        public = _spki(key.public_key())
        ordered = sorted(zip(chain, ders, strict=True), key=lambda pair: _spki(pair[0].public_key()) != public)
        leaf, leaf_der = ordered[0]
        matches = _spki(leaf.public_key()) == public
    except (ValueError, UnsupportedAlgorithm) as exc:  # a damaged key, or one of a kind no program knows
        return ClientCertProblem(
            name, Code.CLIENT_CERT_UNREADABLE, f"a key in the file cannot be read ({type(exc).__name__})"
        )
    try:
        info = describe(leaf_der)
    except ValueError as exc:
        return ClientCertProblem(name, Code.CLIENT_CERT_UNREADABLE, f"the certificate cannot be read ({exc})")
    return ClientCertificate(name, info, tuple(d for _, d in ordered), matches, key)


def local_findings(cert: ClientCertificate, now: dt.datetime | None = None) -> list[Finding]:
    """What can be said about the certificate before any server sees it."""
    now = now or dt.datetime.now(dt.UTC)
    info = cert.info
    params = {
        "subject": info.subject,
        "file": cert.name,
        "until": info.not_after.date().isoformat(),
        "from": info.not_before.date().isoformat(),
        "days": str(info.days_left(now)),
    }
    findings: list[Finding] = []
    if not cert.key_matches:
        findings.append(
            Finding(
                Code.CLIENT_CERT_KEY_MISMATCH,
                Check.CLIENT_CERT,
                params,
                "the private key in the file does not belong to the certificate",
            )
        )
    if now > info.not_after:
        findings.append(Finding(Code.CLIENT_CERT_EXPIRED, Check.CLIENT_CERT, params, f"valid until {info.not_after}"))
    elif now < info.not_before:
        findings.append(
            Finding(Code.CLIENT_CERT_NOT_YET_VALID, Check.CLIENT_CERT, params, f"valid from {info.not_before}")
        )
    elif info.days_left(now) <= EXPIRING_SOON_DAYS:
        findings.append(
            Finding(Code.CLIENT_CERT_EXPIRING_SOON, Check.CLIENT_CERT, params, f"valid until {info.not_after}")
        )
    usage = usage_problem(info.der)
    if usage:
        findings.append(Finding(Code.CLIENT_CERT_WRONG_USAGE, Check.CLIENT_CERT, params, usage))
    if cert.protection is not None and cert.protection.new_encryption:
        findings.append(Finding(Code.CLIENT_CERT_FORMAT_OLD_WINDOWS, Check.CLIENT_CERT, params, cert.protection.text()))
    return findings


def usage_problem(der: bytes) -> str:
    """Why the certificate cannot identify a person to a server ("" when it can); raises ValueError when it does
    not read."""
    with tolerant_x509():
        cert = x509.load_der_x509_certificate(der)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.CLIENT_AUTH not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
            return "the certificate's extended key usage does not include client authentication"
    except x509.ExtensionNotFound:
        pass
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not ku.digital_signature:
            return "the certificate's key usage does not allow digital signatures"
    except x509.ExtensionNotFound:
        pass
    return ""
