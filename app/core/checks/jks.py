"""Java key stores (``.jks``): the format Java's ``keytool`` wrote before Java 9 made PKCS#12 its default, and
which Java-based API clients still keep their certificate (and often their own ``cacerts.jks``) in.

The format is Sun's own, read here without Java (as ``sun.security.provider.JavaKeyStore`` writes it):

- a header (magic ``FEEDFEED``, version, number of entries), then entries: a private key with its certificate
  chain, or a trusted certificate; each has a name (its *alias*);
- a private key is a PKCS#8 ``EncryptedPrivateKeyInfo`` under Sun's "key protector": the key XORed with a SHA-1
  stream of the password and a salt, then a SHA-1 check of the password and the plain key;
- at the end, a SHA-1 of the password, the words "Mighty Aphrodite" and everything before: the store's seal.

The structure and the names read without the password (as ``keytool -list`` does); the seal and the keys need
it, which tells a wrong password (the structure reads, the seal does not match) from a damaged file (the
structure does not read). JCEKS stores (magic ``CECECECE``) are recognised, not read.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field

from app.core.der import DerError, decode_oid, read_tlv

JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"
_KEY_PROTECTOR = "1.3.6.1.4.1.42.2.17.1.1"  # Sun's JKS key protector
_SEAL_WORDS = b"Mighty Aphrodite"
_PRIVATE_KEY, _TRUSTED_CERT = 1, 2


class JksError(ValueError):
    """A key store that cannot be used, in words for the details (never the password)."""


class WrongPassword(JksError):
    """The key's own check did not match: not the password its key was locked with."""


@dataclass(frozen=True)
class KeyEntry:
    """A private key entry: its name, the protected key, and its certificate chain (DER, the key's own first)."""

    alias: str
    protected_key: bytes = field(repr=False)
    chain: tuple[bytes, ...]


@dataclass(frozen=True)
class JavaKeyStore:
    """A key store's structure, read without its password.

    Attributes:
        keys: its private key entries.
        trusted: its trusted certificates (DER), as a ``cacerts.jks`` holds them.
    The seal (and the part of the file it covers) is kept to check a password with :meth:`seal_matches`.
    """

    keys: tuple[KeyEntry, ...]
    trusted: tuple[bytes, ...]
    _sealed: bytes = field(repr=False)
    _seal: bytes = field(repr=False)

    @property
    def aliases(self) -> tuple[str, ...]:
        """The names of the private key entries, as ``keytool -list`` shows them."""
        return tuple(k.alias for k in self.keys)

    def seal_matches(self, password: str) -> bool:
        """True when ``password`` is the store's (its seal matches)."""
        digest = hashlib.sha1(_password_bytes(password) + _SEAL_WORDS + self._sealed).digest()  # noqa: S324 (the format's)
        return hmac.compare_digest(digest, self._seal)


def is_jks(data: bytes) -> bool:
    """True when ``data`` starts as a JKS key store does."""
    return data[:4] == JKS_MAGIC


def is_jceks(data: bytes) -> bool:
    """True when ``data`` starts as a JCEKS key store does (Java's other old format, not read here)."""
    return data[:4] == JCEKS_MAGIC


def read_jks(data: bytes) -> JavaKeyStore:
    """Read a JKS key store's structure. Raises :class:`JksError` when it is damaged or not a JKS store."""
    if not is_jks(data):
        raise JksError("not a Java key store (JKS)")
    reader = _Reader(data)
    reader.take(4)
    version = reader.u4()
    if version not in (1, 2):
        raise JksError(f"a Java key store of an unknown version ({version})")
    count = reader.u4()
    keys: list[KeyEntry] = []
    trusted: list[bytes] = []
    for _ in range(count):
        tag = reader.u4()
        alias = reader.utf()
        reader.take(8)  # when the entry was made
        if tag == _PRIVATE_KEY:
            protected = reader.take(reader.u4())
            chain = tuple(_certificate(reader, version) for _ in range(reader.u4()))
            keys.append(KeyEntry(alias, protected, chain))
        elif tag == _TRUSTED_CERT:
            trusted.append(_certificate(reader, version))
        else:
            raise JksError(f"the Java key store has an entry of an unknown kind ({tag})")
    sealed_length = reader.offset
    seal = reader.take(20)
    if reader.offset != len(data):
        raise JksError("the Java key store is damaged: there is more after its end")
    return JavaKeyStore(tuple(keys), tuple(trusted), data[:sealed_length], seal)


def open_key(entry: KeyEntry, password: str) -> bytes:
    """The entry's private key (PKCS#8 DER), opened with ``password``. Raises :class:`WrongPassword` when the key's
    own check does not match (keytool gives a key the store's password unless told otherwise), :class:`JksError`
    when the key is damaged."""
    try:
        tag, body, end = read_tlv(entry.protected_key)
        algorithm_tag, algorithm, after = read_tlv(body)
        oid_tag, oid, _ = read_tlv(algorithm)
        octets_tag, protected, _ = read_tlv(body, after)
    except DerError:
        raise JksError("the private key in the Java key store is damaged") from None
    if (tag, algorithm_tag, oid_tag, octets_tag) != (0x30, 0x30, 0x06, 0x04) or end != len(entry.protected_key):
        raise JksError("the private key in the Java key store is damaged")
    if decode_oid(oid) != _KEY_PROTECTOR:
        raise JksError(f"the private key is protected in a way this program cannot read ({decode_oid(oid)})")
    if len(protected) < 41:
        raise JksError("the private key in the Java key store is damaged")
    secret = _password_bytes(password)
    salt, encrypted, check = protected[:20], protected[20:-20], protected[-20:]
    stream = bytearray()
    digest = salt
    while len(stream) < len(encrypted):
        digest = hashlib.sha1(secret + digest).digest()  # noqa: S324 (Sun's key protector is SHA-1)
        stream += digest
    plain = bytes(a ^ b for a, b in zip(encrypted, stream, strict=False))
    if not hmac.compare_digest(hashlib.sha1(secret + plain).digest(), check):  # noqa: S324
        raise WrongPassword("the private key did not open with the password given")
    return plain


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-16-be")  # Java's chars, two bytes each, high byte first


def _certificate(reader: _Reader, version: int) -> bytes:
    if version == 2:
        kind = reader.utf()
        if kind != "X.509":
            raise JksError(f"the Java key store holds a certificate of a kind this program cannot read ({kind})")
    return reader.take(reader.u4())


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.offset + n > len(self.data):
            raise JksError("the Java key store is damaged: it is cut short")
        chunk = self.data[self.offset : self.offset + n]
        self.offset += n
        return chunk

    def u4(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        length = int(struct.unpack(">H", self.take(2))[0])
        return self.take(length).decode("utf-8", errors="replace")  # Java's modified UTF-8, close enough for names
