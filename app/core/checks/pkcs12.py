"""What a ``.p12``/``.pfx`` file is made of, read from its structure without the password (RFC 7292).

The password protects the contents, not the structure: how the key and the certificates are encrypted and how
the file's integrity is sealed can be read by anyone. That tells apart a damaged file (the structure does not
read), a wrong password (it reads, the contents do not open) and a file made the new way (AES-256 with PBES2,
OpenSSL 3's default), which Windows before Windows 10 1709 / Server 2019 and Java 8 before update 301 cannot
import.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from app.core.der import DerError, decode_oid, read_all, read_tlv

_DATA = "1.2.840.113549.1.7.1"
_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_PBES2 = "1.2.840.113549.1.5.13"
NAMES = {
    "1.2.840.113549.1.12.1.3": "3DES (pbeWithSHAAnd3-KeyTripleDES-CBC)",
    "1.2.840.113549.1.12.1.6": "RC2-40 (pbeWithSHAAnd40BitRC2-CBC)",
    "1.2.840.113549.1.12.1.1": "RC4-128 (pbeWithSHAAnd128BitRC4)",
    "1.2.840.113549.1.12.1.5": "RC2-128 (pbeWithSHAAnd128BitRC2-CBC)",
    "2.16.840.1.101.3.4.1.2": "AES-128 (PBES2)",
    "2.16.840.1.101.3.4.1.22": "AES-192 (PBES2)",
    "2.16.840.1.101.3.4.1.42": "AES-256 (PBES2)",
    "1.2.840.113549.3.7": "3DES (PBES2)",
    "1.3.14.3.2.26": "SHA-1",
    "2.16.840.1.101.3.4.2.1": "SHA-256",
    "2.16.840.1.101.3.4.2.2": "SHA-384",
    "2.16.840.1.101.3.4.2.3": "SHA-512",
}
_OLD_WINDOWS_READS = {"1.2.840.113549.1.12.1.3", "1.2.840.113549.1.12.1.6", "1.2.840.113549.1.12.1.1"}


@dataclass(frozen=True)
class Pkcs12Facts:
    """How a PKCS#12 file is protected.

    Attributes:
        key: the private key's encryption (dotted OIDs; for PBES2, its cipher's), one per key in the file.
        certificates: the certificates' encryption (empty: not encrypted).
        mac: the integrity seal's hash (empty: none).
    """

    key: tuple[str, ...]
    certificates: tuple[str, ...]
    mac: str

    @property
    def new_encryption(self) -> bool:
        """True when anything is encrypted the new way (PBES2), which old Windows and Java 8 cannot read."""
        return any(alg not in _OLD_WINDOWS_READS for alg in (*self.key, *self.certificates))

    def text(self) -> str:
        """For the details: "key AES-256 (PBES2), certificates AES-256 (PBES2), integrity SHA-256"."""

        def shown(algs: tuple[str, ...]) -> str:
            return ", ".join(NAMES.get(a, a) for a in dict.fromkeys(algs)) or "none"

        return (
            f"key {shown(self.key)}; certificates {shown(self.certificates)}; "
            f"integrity {NAMES.get(self.mac, self.mac) if self.mac else 'none'}"
        )


def compatible_encryption(password: bytes, rounds: int = 50_000) -> serialization.KeySerializationEncryption:
    """The PKCS#12 encryption every reader takes (Windows, Java 8, OpenSSL 3): TripleDES and a SHA-1 seal, as
    Windows exports by default."""
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the integrity check every reader (Java 8 too) takes
        .build(password)
    )


def read_pkcs12(data: bytes) -> Pkcs12Facts | None:
    """The file's protection, or None when its structure does not read (a damaged file, or not PKCS#12)."""
    try:
        return _read(data)
    except (DerError, IndexError, ValueError):
        return None


def _read(data: bytes) -> Pkcs12Facts:
    tag, pfx, _ = read_tlv(data)
    parts = read_all(pfx) if tag == 0x30 else []
    if len(parts) < 2 or parts[0][0] != 0x02:
        raise DerError("not a PFX")
    safe = _data_content(parts[1][1])
    keys: list[str] = []
    certs: list[str] = []
    for info_tag, info in read_all(read_tlv(safe)[1]):
        if info_tag != 0x30:
            continue
        fields = read_all(info)
        kind = decode_oid(fields[0][1])
        if kind == _DATA:
            keys.extend(_bag_algorithms(_data_content(info)))
        elif kind == _ENCRYPTED_DATA:
            encrypted = read_all(read_tlv(fields[1][1])[1])  # [0] EXPLICIT EncryptedData
            content_info = read_all(encrypted[1][1])  # EncryptedContentInfo
            certs.append(_algorithm(content_info[1][1]))
    mac = ""
    if len(parts) >= 3 and parts[2][0] == 0x30:
        digest_info = read_all(parts[2][1])[0][1]
        mac = decode_oid(read_all(read_all(digest_info)[0][1])[0][1])
    return Pkcs12Facts(tuple(keys), tuple(certs), mac)


def _data_content(content_info: bytes) -> bytes:
    """The octets of a ContentInfo of type data: ``[0] EXPLICIT OCTET STRING``."""
    fields = read_all(content_info)
    if decode_oid(fields[0][1]) != _DATA or fields[1][0] != 0xA0:
        raise DerError("not data")
    tag, octets, _ = read_tlv(fields[1][1])
    if tag != 0x04:
        raise DerError("not an OCTET STRING")
    return octets


def _bag_algorithms(safe_contents: bytes) -> list[str]:
    found = []
    for bag_tag, bag in read_all(read_tlv(safe_contents)[1]):
        if bag_tag != 0x30:
            continue
        fields = read_all(bag)
        if decode_oid(fields[0][1]) == _SHROUDED_KEY_BAG:
            shrouded = read_all(read_tlv(fields[1][1])[1])  # [0] EXPLICIT EncryptedPrivateKeyInfo
            found.append(_algorithm(shrouded[0][1]))
    return found


def _algorithm(identifier: bytes) -> str:
    """An AlgorithmIdentifier's OID; for PBES2, the cipher of its encryption scheme."""
    fields = read_all(identifier)
    oid = decode_oid(fields[0][1])
    if oid != _PBES2:
        return oid
    scheme = read_all(fields[1][1])  # PBES2-params: keyDerivationFunc, encryptionScheme
    return decode_oid(read_all(scheme[1][1])[0][1])
