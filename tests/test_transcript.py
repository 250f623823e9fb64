"""The handshake transcript from OpenSSL's message callback (a private hook of Python's ssl, kept to one module):
the server's certificate request in TLS 1.2 and 1.3 (where it is encrypted on the wire), its authorities,
whether ours was sent, and alerts."""

from __future__ import annotations

import ssl
import struct

import pytest
import trustme

from app.core.checks.handshake import TlsVersion, handshake, pin
from app.core.checks.transcript import RECORDER, certificate_request_authorities
from app.core.der import name_to_text
from app.core.net import Budget
from tests.servers import server_context
from tests.test_checks import at


def test_pythons_ssl_still_has_the_message_callback():
    # The transcript depends on it: if a Python release removes it, this says so first.
    assert hasattr(ssl.SSLContext, "_msg_callback")


def _names(*ders: bytes) -> bytes:
    body = b"".join(struct.pack("!H", len(d)) + d for d in ders)
    return struct.pack("!H", len(body)) + body


def test_certificate_request_authorities_in_both_versions():
    ca = trustme.CA(organization_name="ISO Test")
    from cryptography import x509

    der = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject.public_bytes()
    tls12 = b"\x01\x01" + struct.pack("!H", 2) + b"\x04\x03" + _names(der)
    assert certificate_request_authorities(tls12, tls13=False) == (name_to_text(der),)
    ext = _names(der)
    sigalgs = struct.pack("!HH", 13, 4) + struct.pack("!H", 2) + b"\x04\x03"
    extensions = sigalgs + struct.pack("!HH", 47, len(ext)) + ext
    tls13 = b"\x00" + struct.pack("!H", len(extensions)) + extensions
    assert certificate_request_authorities(tls13, tls13=True) == (name_to_text(der),)
    assert certificate_request_authorities(b"\x05", tls13=True) == ()  # damaged: names none, raises nothing


@pytest.mark.parametrize("version", [TlsVersion.TLS1_2, TlsVersion.TLS1_3])
def test_a_real_handshake_records_the_request_and_what_was_sent(server_factory, version):
    ca, client_ca = trustme.CA(), trustme.CA(organization_name="Client Authority")
    server_ctx = server_context(ca.issue_cert("localhost"))
    server_ctx.verify_mode = ssl.CERT_OPTIONAL
    client_ca.configure_trust(server_ctx)
    server = server_factory(server_ctx)
    for with_cert in (False, True):
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ca.configure_trust(client)
        pin(client, version)
        if with_cert:
            client_ca.issue_cert("pat@example.com").configure_cert(client)
        RECORDER.install(client)
        result = handshake(at(server.port), "localhost", client, version, Budget(5), request_path="/")
        assert result.accepted and result.transcript is not None
        request = result.transcript.certificate_request
        assert request is not None and request.version == version.value
        assert result.transcript.client_certificate_sent is with_cert
        assert "CertificateRequest" in result.transcript.summary()
