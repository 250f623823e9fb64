"""Just enough DER reading to recognise a PKCS#12 file and to print distinguished names from a TLS
CertificateRequest (cryptography parses certificates, not bare names); and tolerant certificate parsing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from app.core.silence import silenced

_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress",
}


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Read one tag-length-value at ``pos``: returns (tag, value, position after it)."""
    if pos + 2 > len(data):
        raise DerError("truncated")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("truncated")
    return tag, data[pos:end], end


def read_all(data: bytes) -> list[tuple[int, bytes]]:
    """Every TLV inside a constructed value."""
    items = []
    pos = 0
    while pos < len(data):
        tag, value, pos = read_tlv(data, pos)
        items.append((tag, value))
    return items


def decode_oid(value: bytes) -> str:
    """An OBJECT IDENTIFIER's dotted form."""
    if not value:
        raise DerError("empty OID")
    parts = [value[0] // 40, value[0] % 40] if value[0] < 80 else [2, value[0] - 80]
    acc = 0
    for byte in value[1:]:
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(acc)
            acc = 0
    return ".".join(str(p) for p in parts)


def name_to_text(der: bytes) -> str:
    """A distinguished name as ``CN=..., OU=..., O=..., C=...`` (most specific first, as RFC 4514)."""
    tag, value, _ = read_tlv(der)
    if tag != 0x30:
        raise DerError("a name is a SEQUENCE")
    parts = []
    for set_tag, rdn in read_all(value):
        if set_tag != 0x31:
            raise DerError("an RDN is a SET")
        for _, atv in read_all(rdn):
            items = read_all(atv)
            if len(items) < 2:
                raise DerError("an attribute has a type and a value")
            (oid_tag, oid), (vtag, raw) = items[:2]
            if oid_tag != 0x06:
                raise DerError("an attribute starts with its OID")
            dotted = decode_oid(oid)
            text = raw.decode("utf-16-be" if vtag == 0x1E else "utf-8", "replace")
            parts.append(f"{_NAMES.get(dotted, dotted)}={text}")
    return ", ".join(reversed(parts))


def looks_like_pkcs12(data: bytes) -> bool:
    """True when ``data`` has the outer shape of a PKCS#12 file (a SEQUENCE starting with version 3)."""
    try:
        tag, value, _ = read_tlv(data)
        if tag != 0x30:
            return False
        vtag, version, _ = read_tlv(value)
    except DerError:
        return False
    return vtag == 0x02 and version == b"\x03"


@contextmanager
def tolerant_x509() -> Iterator[None]:
    """Parse certificates that break RFC 5280 in small ways (a serial number that is not positive, say) without
    a warning: servers and files in the wild carry them, and whether they are acceptable is for verification to
    say. (cryptography warns about them now; when it refuses them, its ValueError is handled as damage.)"""
    with silenced(CryptographyDeprecationWarning):
        yield


def serial_of(cert: x509.Certificate) -> int:
    """A certificate's serial number (reading one that is not positive warns, as parsing it did)."""
    with tolerant_x509():
        return cert.serial_number
