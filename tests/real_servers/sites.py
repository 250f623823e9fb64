"""What each real-server site does, whatever software serves it, and the certificates they use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from app.core.tls_contexts import TrustAnchors
from app.lab.pki import Authority, Issued

PASSWORD = "real-server-test"


class ClientAuth(StrEnum):
    """How a site asks for the client's certificate."""

    NONE = "none"
    REQUIRE = "require"  # the handshake fails without a certificate the server trusts
    HTTP = "http"  # the handshake completes either way; the HTTP answer refuses (nginx's 400, IIS's 403.7)
    LATER = "later"  # asked for only after the request, by renegotiating (Apache's per-<Location>, JSSE)


class Chain(StrEnum):
    """Which certificates the server sends."""

    FULL = "full"  # its own and the intermediate, as it should
    LEAF_ONLY = "leaf_only"  # its own only: a very common real mistake
    WITH_ROOT = "with_root"  # its own, the intermediate and the (private) root


@dataclass(frozen=True)
class Site:
    """One server set up one way (one port).

    Attributes:
        name: what the tests call it.
        cert: which server certificate (a key of :attr:`RealPki.servers`).
        chain: which certificates it sends.
        versions: the protocol versions it accepts.
        ciphers: an OpenSSL cipher list for TLS 1.2 and older ("" for the software's default).
        client_auth: how it asks for a client certificate.
        status: what it answers to ``GET /`` (any other path: 404).
        sni_only: it refuses a handshake that does not name the server (alert unrecognized_name).
        plain: it speaks plain HTTP, not TLS.
    """

    name: str
    cert: str = "good"
    chain: Chain = Chain.FULL
    versions: tuple[str, ...] = ("TLSv1.2", "TLSv1.3")
    ciphers: str = ""
    client_auth: ClientAuth = ClientAuth.NONE
    status: int = 200
    sni_only: bool = False
    plain: bool = False


LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
SITES = (
    Site("good"),
    Site("expired", cert="expired"),
    Site("wrong-name", cert="wrong-name"),
    Site("tls10-only", versions=("TLSv1",), ciphers=LEGACY_CIPHERS),
    Site("tls13-only", versions=("TLSv1.3",)),
    Site("missing-intermediate", cert="aia", chain=Chain.LEAF_ONLY),
    Site("missing-intermediate-unreachable", cert="aia-dead", chain=Chain.LEAF_ONLY),
    Site("private-root", cert="private", chain=Chain.WITH_ROOT),
    Site("rsa-key-exchange", versions=("TLSv1.2",), ciphers="AES256-GCM-SHA384"),
    Site("sni-only", sni_only=True),
    Site("mtls12", versions=("TLSv1.2",), client_auth=ClientAuth.REQUIRE),
    Site("mtls13", versions=("TLSv1.3",), client_auth=ClientAuth.REQUIRE),
    Site("mtls-http", client_auth=ClientAuth.HTTP),
    Site("mtls-http13", versions=("TLSv1.3",), client_auth=ClientAuth.HTTP),
    Site("mtls-later", versions=("TLSv1.2",), client_auth=ClientAuth.LATER),
    Site("no-access", client_auth=ClientAuth.REQUIRE, status=403),
    Site("plain-http", plain=True),
)
SITE = {s.name: s for s in SITES}


class RealPki:
    """The test PKI, written to a folder as servers want it (PEM files, PKCS#12 for Java).

    A trusted root with an issuing intermediate (as public authorities do), a private root nobody trusts, an
    authority for client certificates and a retired one, and clients: right, from the other authority, expired.
    """

    def __init__(self, folder: Path, aia_url: str, dead_aia_url: str) -> None:
        self.folder = folder
        now = dt.datetime.now(dt.UTC)
        self.root = Authority("Real Server Test Root", rsa.generate_private_key(65537, 2048))
        self.issuing = self.root.child("Real Server Test Issuing CA")
        self.private_root = Authority("Private Company Root", ec.generate_private_key(ec.SECP256R1()))
        self.client_ca = Authority("ISO Test Client CA", ec.generate_private_key(ec.SECP256R1()))
        self.retired_client_ca = Authority("Retired Client CA", ec.generate_private_key(ec.SECP256R1()))
        self.anchors = TrustAnchors.from_pem("real-server test root", self.root.pem)

        def rsa_key() -> rsa.RSAPrivateKey:  # RSA: the key exchange by RSA needs it, and every stack takes it
            return rsa.generate_private_key(65537, 2048)

        self.servers: dict[str, Issued] = {
            "good": self.issuing.issue(key=rsa_key()),
            "expired": self.issuing.issue(
                key=rsa_key(), not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=2)
            ),
            "wrong-name": self.issuing.issue(("other-server.example",), key=rsa_key()),
            "aia": self.issuing.issue(key=rsa_key(), ca_issuers=aia_url),
            "aia-dead": self.issuing.issue(key=rsa_key(), ca_issuers=dead_aia_url),
            "private": self.private_root.issue(key=rsa_key()),
        }
        self.clients: dict[str, Issued] = {
            "right": self.client_ca.issue(("client",), client=True, subject="Pat Realx1234"),
            "other-authority": self.retired_client_ca.issue(("client",), client=True, subject="Pat Retiredx1234"),
            "expired": self.client_ca.issue(
                ("client",),
                client=True,
                subject="Pat Expiredx1234",
                not_before=now - dt.timedelta(days=400),
                not_after=now - dt.timedelta(days=1),
            ),
        }
        self._write()

    def _write(self) -> None:
        pem = serialization.Encoding.PEM
        for name, issued in self.servers.items():
            key = issued.key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            (self.folder / f"{name}.key").write_bytes(key)
            leaf = issued.cert.public_bytes(pem)
            chain = b"".join(c.public_bytes(pem) for c in issued.chain)
            root = (self.private_root if name == "private" else self.root).cert.public_bytes(pem)
            (self.folder / f"{name}-leaf_only.pem").write_bytes(leaf)
            (self.folder / f"{name}-intermediates.pem").write_bytes(chain or root)
            (self.folder / f"{name}-full.pem").write_bytes(leaf + chain)
            (self.folder / f"{name}-with_root.pem").write_bytes(leaf + chain + root)
            for kind, extra in (
                ("full", issued.chain),
                ("leaf_only", ()),
                ("with_root", (*issued.chain, *([self.private_root.cert] if name == "private" else [self.root.cert]))),
            ):
                p12 = pkcs12.serialize_key_and_certificates(
                    b"server",
                    issued.key,  # type: ignore[arg-type]
                    issued.cert,
                    list(extra) or None,
                    serialization.BestAvailableEncryption(PASSWORD.encode()),
                )
                (self.folder / f"{name}-{kind}.p12").write_bytes(p12)
        (self.folder / "client-ca.pem").write_bytes(self.client_ca.cert.public_bytes(pem))
        for name, issued in self.clients.items():
            p12 = pkcs12.serialize_key_and_certificates(
                b"client",
                issued.key,  # type: ignore[arg-type]
                issued.cert,
                None,
                serialization.BestAvailableEncryption(PASSWORD.encode()),
            )
            (self.folder / f"client-{name}.p12").write_bytes(p12)

    def cert_file(self, site: Site) -> Path:
        """The server's certificate file for a site: the certificates it sends, in order."""
        return self.folder / f"{site.cert}-{site.chain.value}.pem"

    def key_file(self, site: Site) -> Path:
        """The server's private key (PEM, unencrypted: the test's own)."""
        return self.folder / f"{site.cert}.key"

    def keystore(self, site: Site) -> Path:
        """The same as a PKCS#12 key store (for Java), with :data:`PASSWORD`."""
        return self.folder / f"{site.cert}-{site.chain.value}.p12"

    def client_file(self, name: str) -> Path:
        """A client certificate as a ``.p12`` with :data:`PASSWORD`."""
        return self.folder / f"client-{name}.p12"
