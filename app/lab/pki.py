"""Certificates for the practice lab, made at start so they never expire.

Everything is generated in memory with ``cryptography``: a lab certificate authority (trusted only for the
practice environment), a second authority nobody trusts, an authority for client certificates, and leaves
with every defect the checker must recognise.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from app.core.checks.pkcs12 import compatible_encryption

LAB_HOSTS = ("localhost", "127.0.0.1", "::1")
CLIENT_SUBJECT = "Pat Practicex1234"
_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")  # sha256WithRSAEncryption AlgorithmIdentifier
_SHA1_RSA = bytes.fromhex("06092a864886f70d0101050500")  # sha1WithRSAEncryption


def _name(cn: str, org: str = "TLS Readiness Practice Lab", ou: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key (kept in memory only)."""

    cert: x509.Certificate
    key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...] = ()

    def cert_pem(self) -> bytes:
        """The certificate and its chain (without the root), PEM."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.cert, *self.chain))


class Authority:
    """A certificate authority that issues lab certificates: a root, or (with ``parent``) an intermediate."""

    def __init__(
        self,
        cn: str,
        key: CertificateIssuerPrivateKeyTypes,
        parent: Authority | None = None,
        crl_url: str | None = None,
        not_before: dt.datetime | None = None,
    ) -> None:
        now = _now()
        self.key = key
        self.parent = parent
        self.cert: x509.Certificate
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(parent.cert.subject if parent else _name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0 if parent else None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if parent is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), critical=False
            )
        if crl_url:  # where the authority above lists the intermediates it withdrew
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        self.cert = builder.sign(parent.key if parent else key, hashes.SHA256())
        self.revoked: dict[int, dt.datetime] = {}  # serial numbers this authority has withdrawn, and when

    def revoke(self, cert: x509.Certificate) -> None:
        """Withdraw a certificate this authority issued (its lists and answers say so from now on)."""
        self.revoked[cert.serial_number] = _now() - dt.timedelta(hours=1)

    def crl(self) -> bytes:
        """This authority's current list of withdrawn certificates, DER, signed, valid for a week."""
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + dt.timedelta(days=7))
        )
        for serial, when in self.revoked.items():
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            entry = entry.add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def ocsp_answer(self, request_der: bytes, issued: dict[int, x509.Certificate]) -> bytes:
        """A signed OCSP answer to a request about one of ``issued`` (by serial number): good or revoked; an
        unknown certificate gets "unauthorized", as real responders answer."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        cert = issued.get(request.serial_number)
        if cert is None or cert.issuer != self.cert.subject:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        now = _now()
        when = self.revoked.get(cert.serial_number)
        status = ocsp.OCSPCertStatus.REVOKED if when else ocsp.OCSPCertStatus.GOOD
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.cert,
                algorithm=hashes.SHA1(),  # noqa: S303 - the id the request used
                cert_status=status,
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + dt.timedelta(days=1),
                revocation_time=when,
                revocation_reason=x509.ReasonFlags.key_compromise if when else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.cert)
        )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def child(self, cn: str, crl_url: str | None = None) -> Authority:
        """An intermediate authority under this one (``crl_url``: where this one lists withdrawn intermediates)."""
        return Authority(cn, ec.generate_private_key(ec.SECP256R1()), parent=self, crl_url=crl_url)

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The certificates a server sends after its own: this authority and those above it, up to the root
        (which is left out, as servers should)."""
        if self.parent is None:
            return ()
        return (self.cert, *self.parent.intermediates)

    @property
    def der(self) -> bytes:
        """The authority's certificate, DER (as served at an Authority Information Access address)."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        """The authority's certificate, PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue(
        self,
        names: tuple[str, ...] = LAB_HOSTS,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        key: PrivateKeyTypes | None = None,
        client: bool = False,
        subject: str | None = None,
        ca_issuers: str | None = None,
        ocsp_url: str | None = None,
        crl_url: str | None = None,
    ) -> Issued:
        """Issue a server (or client) certificate; ``ca_issuers`` is the address where this authority's own
        certificate can be fetched (Authority Information Access), as public authorities write it;
        ``ocsp_url`` and ``crl_url`` where it answers whether the certificate was withdrawn."""
        now = _now()
        key = key or ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for n in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject or names[0], ou="people" if client else ""))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(days=1))
            .not_valid_after(not_after or now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if sans and not client:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        access = [
            x509.AccessDescription(method, x509.UniformResourceIdentifier(url))
            for method, url in (
                (AuthorityInformationAccessOID.OCSP, ocsp_url),
                (AuthorityInformationAccessOID.CA_ISSUERS, ca_issuers),
            )
            if url
        ]
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        if crl_url:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        return Issued(builder.sign(self.key, hashes.SHA256()), key, self.intermediates)

    def issue_sha1(self) -> Issued:
        """A server certificate signed with SHA-1, which ``cryptography`` no longer signs: we sign a SHA-256
        certificate's body again with SHA-1 and swap the algorithm identifiers (same length, so the DER
        lengths do not change). Needs an RSA authority."""
        assert isinstance(self.key, rsa.RSAPrivateKey)
        issued = self.issue()
        der = issued.cert.public_bytes(serialization.Encoding.DER)
        tbs = issued.cert.tbs_certificate_bytes
        new_tbs = tbs.replace(_SHA256_RSA, _SHA1_RSA, 1)
        signature = self.key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - the point
        old_sig = issued.cert.signature
        assert len(signature) == len(old_sig)
        out = der.replace(tbs, new_tbs, 1).replace(_SHA256_RSA, _SHA1_RSA)
        out = out[: -len(old_sig)] + signature
        return Issued(x509.load_der_x509_certificate(out), issued.key)


def self_signed(names: tuple[str, ...] = LAB_HOSTS) -> Issued:
    """A server certificate that signs itself (no authority vouches for it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(_name(names[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(names[0])]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


class LabPki:
    """Every certificate the practice lab needs."""

    def __init__(self) -> None:
        self.ca = Authority("TLS Readiness Practice Lab CA", rsa.generate_private_key(65537, 2048))
        self.stranger = Authority("Unknown Practice CA", ec.generate_private_key(ec.SECP256R1()))
        self.client_ca = Authority("Practice Client Certificates CA", ec.generate_private_key(ec.SECP256R1()))
        self.issuing = self.ca.child("TLS Readiness Practice Issuing CA")  # an intermediate, as public CAs use
        self.private_root = Authority("Practice Private Company Root", ec.generate_private_key(ec.SECP256R1()))
        # A company's TLS-inspecting proxy signs with its own authority, which the company installed in this
        # computer's store (the practice lab's system-store checks trust it, as such a computer would).
        self.inspection = Authority("Practice Company Inspection CA", ec.generate_private_key(ec.SECP256R1()))
        self.client = self.client_ca.issue(("client",), client=True, subject=CLIENT_SUBJECT)
        self.answered: dict[int, x509.Certificate] = {}  # what the lab's OCSP responder answers about, by serial

    def answers_for(self, issued: Issued) -> Issued:
        """Let the lab's OCSP responder answer about this certificate."""
        self.answered[issued.cert.serial_number] = issued.cert
        return issued

    def client_p12(self, password: str) -> bytes:
        """The practice client certificate as a password-protected ``.p12``, to try ``--client-cert``."""
        # Locked the way Windows exports by default (TripleDES-SHA1), which every Windows and Java opens.
        encryption = compatible_encryption(password.encode(), rounds=2048)
        return pkcs12.serialize_key_and_certificates(
            b"practice",
            self.client.key,  # type: ignore[arg-type]
            self.client.cert,
            None,
            encryption,
        )
