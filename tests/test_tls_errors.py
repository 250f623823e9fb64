"""The one table from library errors to outcomes: OpenSSL's reasons and numbers, Windows' and macOS's
certificate errors; and real handshakes through this computer's own verifier, whichever it is."""

from __future__ import annotations

import datetime as dt
import ssl
import sys

import pytest
import trustme

from app.core.checks.handshake import TlsVersion, handshake
from app.core.findings import Code
from app.core.net import Budget
from app.core.tls_contexts import ContextFactory
from app.core.tls_errors import (
    CipherWeakness,
    ClientCertAlert,
    HandshakeOutcome,
    Verifier,
    VerifyError,
    cipher_weakness,
    client_cert_alert,
    code_for_verify_error,
    handshake_outcome,
    http_client_cert_refusal,
    http_name_required,
    suite_name,
    verify_error,
)
from tests.servers import server_context
from tests.test_checks import at
from tests.wine import UNDER_WINE


@pytest.mark.parametrize(
    ("verifier", "number", "code", "name"),
    [
        (Verifier.OPENSSL, 10, Code.CERT_EXPIRED, "X509_V_ERR_CERT_HAS_EXPIRED"),
        (Verifier.OPENSSL, 9, Code.CERT_NOT_YET_VALID, "X509_V_ERR_CERT_NOT_YET_VALID"),
        (Verifier.OPENSSL, 62, Code.CERT_NAME_MISMATCH, "X509_V_ERR_HOSTNAME_MISMATCH"),
        (Verifier.OPENSSL, 20, Code.CERT_UNTRUSTED, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),
        (Verifier.OPENSSL, 18, Code.CERT_SELF_SIGNED, "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"),
        # 19: a private root sent along with the chain. The server's certificate is issued by it, not self-signed.
        (Verifier.OPENSSL, 19, Code.CERT_UNTRUSTED, "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN"),
        (Verifier.OPENSSL, 9999, Code.CERT_INVALID, ""),
        (Verifier.WINDOWS, 0x800B0101, Code.CERT_EXPIRED, "CERT_E_EXPIRED"),
        (Verifier.WINDOWS, 0x800B010F, Code.CERT_NAME_MISMATCH, "CERT_E_CN_NO_MATCH"),
        (Verifier.WINDOWS, 0x800B0109, Code.CERT_UNTRUSTED, "CERT_E_UNTRUSTEDROOT"),
        (Verifier.WINDOWS, 0x800B010A, Code.CERT_UNTRUSTED, "CERT_E_CHAINING"),
        (Verifier.WINDOWS, 0x12345678, Code.CERT_INVALID, ""),
        (Verifier.MACOS, -67818, Code.CERT_EXPIRED, "errSecCertificateExpired"),
        (Verifier.MACOS, -67602, Code.CERT_NAME_MISMATCH, "errSecHostNameMismatch"),
        (Verifier.MACOS, -67843, Code.CERT_UNTRUSTED, "errSecNotTrusted"),
        # The same number means different things to different verifiers: 10 is "expired" only to OpenSSL.
        (Verifier.MACOS, 10, Code.CERT_INVALID, ""),
    ],
)
def test_certificate_error_numbers_by_verifier(verifier, number, code, name):
    error = VerifyError(verifier, number, "text in the system's language")
    assert error.code is code and code_for_verify_error(verifier, number) is code
    assert error.name == name
    assert ("0x" in error.describe()) is (verifier is Verifier.WINDOWS)


def test_a_windows_error_as_truststore_raises_it():
    # truststore builds its own SSLCertVerificationError on Windows: verify_code and verify_message, no reason.
    exc = ssl.SSLCertVerificationError("A required certificate is not within its validity period")
    exc.verify_code = 0x800B0101
    exc.verify_message = "A required certificate is not within its validity period"
    assert not hasattr(exc, "reason")
    assert handshake_outcome(exc) is HandshakeOutcome.CERT_VERIFY_FAILED
    error = verify_error(exc, Verifier.WINDOWS)
    assert error.code is Code.CERT_EXPIRED
    assert error.describe().startswith("Windows: error 0x800B0101 CERT_E_EXPIRED: A required")
    negative = ssl.SSLCertVerificationError("x")
    negative.verify_code = 0x800B010F - (1 << 32)  # an HRESULT handed over as a signed number
    assert verify_error(negative, Verifier.WINDOWS).code is Code.CERT_NAME_MISMATCH


@pytest.mark.parametrize(
    ("reason", "alert"),
    [
        ("TLSV13_ALERT_CERTIFICATE_REQUIRED", ClientCertAlert.MISSING),
        ("SSLV3_ALERT_BAD_CERTIFICATE", ClientCertAlert.REFUSED),
        ("TLSV1_ALERT_UNKNOWN_CA", ClientCertAlert.REFUSED),
        ("TLSV1_ALERT_PROTOCOL_VERSION", ClientCertAlert.NONE),
        ("", ClientCertAlert.NONE),
    ],
)
def test_alerts_about_the_client_certificate(reason, alert):
    assert client_cert_alert(reason) is alert


@pytest.mark.parametrize(
    ("status", "page", "alert"),
    [
        (400, "400 No required SSL certificate was sent nginx/1.22.1", ClientCertAlert.MISSING),  # nginx
        (400, "400 The SSL certificate error nginx", ClientCertAlert.REFUSED),
        (400, "400 The plain HTTP request was sent to HTTPS port", ClientCertAlert.NONE),
        (403, "HTTP Error 403.7 - Forbidden: ... requires ... client certificate", ClientCertAlert.MISSING),  # IIS
        (403, "HTTP Error 403.16 - Forbidden: Your client certificate is either not trusted", ClientCertAlert.REFUSED),
        (403, "403.17 - Client certificate has expired or is not yet valid", ClientCertAlert.REFUSED),
        (403, "403 Forbidden: you have no access", ClientCertAlert.NONE),
        (496, "", ClientCertAlert.MISSING),
        (495, "", ClientCertAlert.REFUSED),
        (200, "No required SSL certificate was sent", ClientCertAlert.NONE),  # only a refusal's words count
    ],
)
def test_pages_that_refuse_for_a_client_certificate(status, page, alert):
    assert http_client_cert_refusal(status, page) is alert


def test_pages_that_refuse_for_want_of_the_servers_name():
    apache = "Reason: The client software did not provide a hostname using Server Name Indication (SNI)"
    assert http_name_required(403, apache) and http_name_required(421, "")
    assert not http_name_required(403, "Forbidden") and not http_name_required(200, apache)


@pytest.mark.parametrize(
    ("name", "weakness"),
    [
        ("ECDHE-RSA-AES256-GCM-SHA384", CipherWeakness.NONE),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", CipherWeakness.NONE),
        ("TLS_AES_256_GCM_SHA384", CipherWeakness.NONE),
        ("AES256-GCM-SHA384", CipherWeakness.NO_FORWARD_SECRECY),  # RSA key exchange (old load balancers)
        ("AES128-SHA", CipherWeakness.NO_FORWARD_SECRECY),
        ("ECDHE-RSA-AES128-SHA", CipherWeakness.OLD_ENCRYPTION),
        ("DHE-RSA-AES256-SHA256", CipherWeakness.OLD_ENCRYPTION),
    ],
)
def test_cipher_suites_by_age(name, weakness):
    assert cipher_weakness(name) is weakness


def test_suite_names():
    assert suite_name(0xC030) == "ECDHE-RSA-AES256-GCM-SHA384" and suite_name(0x009D) == "AES256-GCM-SHA384"
    assert suite_name(0x1301) == "0x1301" and suite_name(None) == ""


def test_unrecognized_name_is_its_own_outcome():
    class Raised(ssl.SSLError):
        reason = "TLSV1_UNRECOGNIZED_NAME"

    assert handshake_outcome(Raised()) is HandshakeOutcome.NAME_REQUIRED


def _now(days: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


CASES = {  # validity (from, until) in days from now, the certificate's name, the finding
    "expired": ((-30, -1), "localhost", Code.CERT_EXPIRED),
    "not yet valid": ((2, 30), "localhost", Code.CERT_NOT_YET_VALID),
    "wrong name": ((-1, 30), "other.example", Code.CERT_NAME_MISMATCH),
}


@pytest.mark.parametrize("case", list(CASES))
def test_this_computers_own_verifier_names_the_problem(case, server_factory, monkeypatch, tmp_path):
    """The handshake through this computer's own store (truststore on Windows) gives the certificate's problem,
    not an internal error; on Linux the test authority is made part of the system store with SSL_CERT_FILE."""
    if sys.platform == "darwin" or (sys.platform == "win32" and not UNDER_WINE):
        pytest.skip("needs the test authority in this computer's own store (Wine's verifier accepts any root)")
    (start, end), name, expected = CASES[case]
    ca = trustme.CA()
    leaf = ca.issue_cert(name, not_before=_now(start), not_after=_now(end))
    server = server_factory(server_context(leaf))
    bundle = tmp_path / "system-store.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    result = handshake(at(server.port), "localhost", ContextFactory().system, TlsVersion.TLS1_2, Budget(5))
    assert result.outcome is HandshakeOutcome.CERT_VERIFY_FAILED, result
    assert result.verify_error is not None
    assert result.verify_error.verifier is (Verifier.WINDOWS if sys.platform == "win32" else Verifier.OPENSSL)
    if expected is Code.CERT_NOT_YET_VALID and result.verify_error.verifier is Verifier.WINDOWS:
        expected = Code.CERT_EXPIRED  # Windows has one number for both; the certificate's dates tell them apart
    assert result.verify_error.code is expected, result.verify_error.describe()
