"""What the TLS library's errors mean: the one place that reads OpenSSL's reason strings and verification
numbers, the certificate errors of Windows and macOS, the cipher suites' names and the pages servers send when
they refuse a client certificate, and turns them into this program's outcomes.

The checks never look at ``exc.reason`` or ``exc.verify_code`` themselves; they ask this module. The same
server must give the same finding on every system, so certificate errors are classified by *number* and by
*who verified* (:class:`Verifier`), never by message text, which differs between systems and languages.

- OpenSSL (Linux; and the program's own verified connections everywhere): ``SSLCertVerificationError`` carries
  ``reason`` (``CERTIFICATE_VERIFY_FAILED``) and ``verify_code``, an ``X509_V_ERR_*`` number.
- Windows (truststore, through ``CertVerifyCertificateChainPolicy``): an ``SSLCertVerificationError`` made by
  truststore, with ``verify_code`` a ``CERT_E_*`` / ``TRUST_E_*`` / ``CRYPT_E_*`` HRESULT and no ``reason``.
- macOS (truststore, through ``SecTrustEvaluateWithError``): ``verify_code`` an ``errSec*`` OSStatus, no
  ``reason``.
"""

from __future__ import annotations

import re
import ssl
import sys
from dataclasses import dataclass
from enum import StrEnum

from app.core.findings import Code


class HandshakeOutcome(StrEnum):
    """How a handshake ended."""

    ACCEPTED = "accepted"
    VERSION_REFUSED = "version_refused"  # the server refused this version (alert 70, or chose an older one)
    CERT_VERIFY_FAILED = "cert_verify_failed"  # the server's certificate did not verify
    PEER_ALERT = "peer_alert"  # the server ended the handshake with another alert
    NOT_TLS = "not_tls"  # the answer was not TLS (a web page, a proxy's page)
    NAME_REQUIRED = "name_required"  # the server did not recognise the name asked for (or none was given)
    CLOSED = "closed"  # the server closed or reset the connection during the handshake
    TIMEOUT = "timeout"
    CONNECT_FAILED = "connect_failed"  # the TCP connection for this handshake failed
    LOCAL_UNSUPPORTED = "local_unsupported"  # this computer cannot offer this version: not the server's answer
    NOT_TRIED = "not_tried"  # skipped: an earlier handshake showed the server does not speak TLS
    ERROR = "error"


class Verifier(StrEnum):
    """Who verified a certificate, which says what its error numbers mean."""

    OPENSSL = "openssl"
    WINDOWS = "windows"
    MACOS = "macos"


def verifier_of(context: ssl.SSLContext) -> Verifier:
    """The verifier a context uses: truststore hands verification to Windows or macOS; else OpenSSL."""
    if type(context).__module__.startswith("truststore"):
        if sys.platform == "win32":
            return Verifier.WINDOWS
        if sys.platform == "darwin":
            return Verifier.MACOS
    return Verifier.OPENSSL


def reason_of(exc: ssl.SSLError) -> str:
    """OpenSSL's reason code (``TLSV1_ALERT_PROTOCOL_VERSION``), or "" when the error is not OpenSSL's own
    (truststore's errors on Windows and macOS have none)."""
    return getattr(exc, "reason", None) or ""


# ---- handshakes -----------------------------------------------------------------------------------------------

# The server refused the version we pinned: alert 70, or it answered with a version we do not allow.
VERSION_REFUSED_REASONS = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
        "WRONG_SSL_VERSION",
        "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
    }
)
# What came back was not TLS: an HTTP server, a proxy's page, something else on the port.
NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "HTTP_REQUEST",
        "HTTPS_PROXY_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
        "UNKNOWN_PROTOCOL",
        "RECORD_LENGTH_MISMATCH",
    }
)
# The server did not recognise the name it was asked for (alert 112), or was asked for none (by IP address).
NAME_REQUIRED_REASONS = frozenset({"TLSV1_UNRECOGNIZED_NAME", "TLSV1_ALERT_UNRECOGNIZED_NAME"})
# This computer could not make the offer at all: never the server's answer.
LOCAL_REASONS = frozenset({"NO_CIPHERS_AVAILABLE", "NO_PROTOCOLS_AVAILABLE", "NO_SUITABLE_SIGNATURE_ALGORITHM"})
# Alerts a server sends about the client's certificate: none was sent (TLS 1.3's alert 116) ...
CLIENT_CERT_MISSING_REASONS = frozenset({"TLSV13_ALERT_CERTIFICATE_REQUIRED"})
# ... or the one sent was not accepted.
CLIENT_CERT_REFUSED_REASONS = frozenset(
    {
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
        "TLSV1_ALERT_DECRYPT_ERROR",
    }
)
CLIENT_CERT_ALERT_REASONS = CLIENT_CERT_MISSING_REASONS | CLIENT_CERT_REFUSED_REASONS
HANDSHAKE_FAILURE_REASON = "SSLV3_ALERT_HANDSHAKE_FAILURE"  # alert 40: means "no" without saying why


def handshake_outcome(exc: ssl.SSLError) -> HandshakeOutcome:
    """How a handshake that raised ``exc`` ended (a certificate we could not verify included)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return HandshakeOutcome.CERT_VERIFY_FAILED
    reason = reason_of(exc)
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError) or reason == "UNEXPECTED_EOF_WHILE_READING":
        return HandshakeOutcome.CLOSED
    if reason in VERSION_REFUSED_REASONS:
        return HandshakeOutcome.VERSION_REFUSED
    if reason in NOT_TLS_REASONS:
        return HandshakeOutcome.NOT_TLS
    if reason in NAME_REQUIRED_REASONS:
        return HandshakeOutcome.NAME_REQUIRED
    if reason in LOCAL_REASONS:
        return HandshakeOutcome.LOCAL_UNSUPPORTED
    if "ALERT" in reason:
        return HandshakeOutcome.PEER_ALERT
    return HandshakeOutcome.ERROR


class ClientCertAlert(StrEnum):
    """What an alert says about the client's certificate."""

    MISSING = "missing"  # the server wanted one and got none
    REFUSED = "refused"  # the server did not accept the one it got
    NONE = "none"  # the alert is about something else


def client_cert_alert(reason: str) -> ClientCertAlert:
    """Is the alert with this reason about the client's certificate?"""
    if reason in CLIENT_CERT_MISSING_REASONS:
        return ClientCertAlert.MISSING
    if reason in CLIENT_CERT_REFUSED_REASONS:
        return ClientCertAlert.REFUSED
    return ClientCertAlert.NONE


_IIS_SUBSTATUS = re.compile(r"\b403\.(7|13|16|17)\b")


def http_client_cert_refusal(status: int | None, page: str) -> ClientCertAlert:
    """Does an HTTP answer refuse for want of a (good) client certificate? nginx completes the handshake and
    answers 400 "No required SSL certificate was sent" or "The SSL certificate error"; IIS answers 403.7
    (required), 403.13 (revoked), 403.16 (untrusted or invalid), 403.17 (expired); others use 496 (required) and
    495 (certificate error)."""
    words = page.lower()
    iis = _IIS_SUBSTATUS.search(words) if status == 403 else None
    if status == 496 or (status == 400 and "no required ssl certificate" in words) or (iis and iis.group(1) == "7"):
        return ClientCertAlert.MISSING
    if status == 495 or (status == 400 and "ssl certificate error" in words) or iis:
        return ClientCertAlert.REFUSED
    return ClientCertAlert.NONE


def http_name_required(status: int | None, page: str) -> bool:
    """Does an HTTP answer refuse because the server was not asked by its name? Apache with
    ``SSLStrictSNIVHostCheck`` answers 403 "...did not provide a hostname using Server Name Indication (SNI)";
    421 (Misdirected Request) means the name asked for in the handshake is not this server's."""
    return status == 421 or (status in (400, 403) and "server name indication" in page.lower())


# ---- cipher suites ----------------------------------------------------------------------------------------------

# IANA numbers of the TLS 1.2 suites a server may choose from our offer (or from the first-flight probe's), by
# OpenSSL's names.
SUITE_NAMES = {
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305",
    0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
    0x009E: "DHE-RSA-AES128-GCM-SHA256",
    0x009F: "DHE-RSA-AES256-GCM-SHA384",
    0xC009: "ECDHE-ECDSA-AES128-SHA",
    0xC013: "ECDHE-RSA-AES128-SHA",
    0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA",
    0xC023: "ECDHE-ECDSA-AES128-SHA256",
    0xC027: "ECDHE-RSA-AES128-SHA256",
    0xC024: "ECDHE-ECDSA-AES256-SHA384",
    0xC028: "ECDHE-RSA-AES256-SHA384",
    0x0033: "DHE-RSA-AES128-SHA",
    0x0039: "DHE-RSA-AES256-SHA",
    0x009C: "AES128-GCM-SHA256",
    0x009D: "AES256-GCM-SHA384",
    0x002F: "AES128-SHA",
    0x0035: "AES256-SHA",
    0x003C: "AES128-SHA256",
    0x003D: "AES256-SHA256",
    0x000A: "DES-CBC3-SHA",
}


def suite_name(number: int | None) -> str:
    """OpenSSL's name for a cipher suite's IANA number (``0xC02F`` for one it does not know)."""
    if number is None:
        return ""
    return SUITE_NAMES.get(number, f"0x{number:04X}")


class CipherWeakness(StrEnum):
    """Why an agreed TLS 1.2 cipher suite is an old choice (it works, but should be updated)."""

    NONE = "none"
    NO_FORWARD_SECRECY = "no_forward_secrecy"  # RSA key exchange: a stolen server key opens recorded traffic
    OLD_ENCRYPTION = "old_encryption"  # CBC, 3DES or RC4 rather than GCM or ChaCha20


def cipher_weakness(name: str) -> CipherWeakness:
    """How old a TLS 1.2 suite (by OpenSSL's name) is. TLS 1.3's suites are all modern."""
    if not name or name.startswith(("TLS_", "0x")):  # TLS 1.3's suites; a number this table does not name
        return CipherWeakness.NONE
    if not name.startswith(("ECDHE-", "DHE-")):
        return CipherWeakness.NO_FORWARD_SECRECY
    if "GCM" not in name and "CHACHA20" not in name:
        return CipherWeakness.OLD_ENCRYPTION
    return CipherWeakness.NONE


# ---- certificate verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyError:
    """One verifier's reason for refusing a certificate.

    Attributes:
        verifier: who verified (the numbers mean different things to each).
        number: the verifier's own error number (``X509_V_ERR_*``, an HRESULT, an OSStatus).
        message: the verifier's own text (in the system's language on Windows and macOS).
    """

    verifier: Verifier
    number: int | None
    message: str

    @property
    def name(self) -> str:
        """The symbolic name of the number (``CERT_E_EXPIRED``), or "" when this table does not know it."""
        return _NAMES[self.verifier].get(self.number, ("", Code.CERT_INVALID))[0] if self.number is not None else ""

    @property
    def code(self) -> Code:
        """The finding this error means."""
        return code_for_verify_error(self.verifier, self.number)

    def describe(self) -> str:
        """For the technical details: ``Windows: 0x800B0101 CERT_E_EXPIRED: <message>``."""
        who = {Verifier.OPENSSL: "OpenSSL", Verifier.WINDOWS: "Windows", Verifier.MACOS: "macOS"}[self.verifier]
        if self.number is None:
            return f"{who}: {self.message}"
        shown = f"0x{self.number:08X}" if self.verifier is Verifier.WINDOWS else str(self.number)
        name = f" {self.name}" if self.name else ""
        return f"{who}: error {shown}{name}: {self.message}"


def verify_error(exc: ssl.SSLCertVerificationError, verifier: Verifier) -> VerifyError:
    """Read a certificate error, whoever raised it."""
    number = getattr(exc, "verify_code", None)
    if isinstance(number, int) and verifier is Verifier.WINDOWS:
        number &= 0xFFFFFFFF  # an HRESULT, whether the binding handed it over signed or unsigned
    message = getattr(exc, "verify_message", None) or str(exc)
    return VerifyError(verifier, number if isinstance(number, int) else None, str(message))


def code_for_verify_error(verifier: Verifier, number: int | None) -> Code:
    """The finding code for a verifier's error number; unknown numbers are CERT_INVALID, no number at all
    (a verifier that gave no reason) CERT_UNTRUSTED."""
    if number is None:
        return Code.CERT_UNTRUSTED
    return _NAMES[verifier].get(number, ("", Code.CERT_INVALID))[1]


# OpenSSL's X509_V_ERR_* numbers (openssl/x509_vfy.h): the same on every system.
_OPENSSL: dict[int, tuple[str, Code]] = {
    2: ("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT", Code.CERT_UNTRUSTED),
    7: ("X509_V_ERR_CERT_SIGNATURE_FAILURE", Code.CERT_INVALID),
    9: ("X509_V_ERR_CERT_NOT_YET_VALID", Code.CERT_NOT_YET_VALID),
    10: ("X509_V_ERR_CERT_HAS_EXPIRED", Code.CERT_EXPIRED),
    18: ("X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", Code.CERT_SELF_SIGNED),
    19: ("X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN", Code.CERT_UNTRUSTED),  # a private root, sent along: not "self-signed"
    20: ("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", Code.CERT_UNTRUSTED),
    21: ("X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE", Code.CERT_UNTRUSTED),
    23: ("X509_V_ERR_CERT_REVOKED", Code.CERT_INVALID),
    24: ("X509_V_ERR_INVALID_CA", Code.CERT_INVALID),
    26: ("X509_V_ERR_INVALID_PURPOSE", Code.CERT_INVALID),
    27: ("X509_V_ERR_CERT_UNTRUSTED", Code.CERT_UNTRUSTED),
    28: ("X509_V_ERR_CERT_REJECTED", Code.CERT_UNTRUSTED),
    62: ("X509_V_ERR_HOSTNAME_MISMATCH", Code.CERT_NAME_MISMATCH),
    64: ("X509_V_ERR_IP_ADDRESS_MISMATCH", Code.CERT_NAME_MISMATCH),
    66: ("X509_V_ERR_EE_KEY_TOO_SMALL", Code.CERT_WEAK_KEY),
    67: ("X509_V_ERR_CA_KEY_TOO_SMALL", Code.CERT_WEAK_KEY),
    68: ("X509_V_ERR_CA_MD_TOO_WEAK", Code.CERT_WEAK_SIGNATURE),
}
# Windows' HRESULTs (winerror.h) from CertGetCertificateChain / CertVerifyCertificateChainPolicy. Windows has
# one number for "outside its validity period", expired or not yet valid: the certificate's own dates tell.
_WINDOWS: dict[int, tuple[str, Code]] = {
    0x800B0101: ("CERT_E_EXPIRED", Code.CERT_EXPIRED),
    0x800B0102: ("CERT_E_VALIDITYPERIODNESTING", Code.CERT_INVALID),
    0x800B0103: ("CERT_E_ROLE", Code.CERT_INVALID),
    0x800B0104: ("CERT_E_PATHLENCONST", Code.CERT_INVALID),
    0x800B0105: ("CERT_E_CRITICAL", Code.CERT_INVALID),
    0x800B0106: ("CERT_E_PURPOSE", Code.CERT_INVALID),
    0x800B0107: ("CERT_E_ISSUERCHAINING", Code.CERT_INVALID),
    0x800B0108: ("CERT_E_MALFORMED", Code.CERT_INVALID),
    0x800B0109: ("CERT_E_UNTRUSTEDROOT", Code.CERT_UNTRUSTED),
    0x800B010A: ("CERT_E_CHAINING", Code.CERT_UNTRUSTED),
    0x800B010B: ("TRUST_E_FAIL", Code.CERT_INVALID),
    0x800B010C: ("CERT_E_REVOKED", Code.CERT_INVALID),
    0x800B010D: ("CERT_E_UNTRUSTEDTESTROOT", Code.CERT_UNTRUSTED),
    0x800B010E: ("CERT_E_REVOCATION_FAILURE", Code.CERT_INVALID),
    0x800B010F: ("CERT_E_CN_NO_MATCH", Code.CERT_NAME_MISMATCH),
    0x800B0110: ("CERT_E_WRONG_USAGE", Code.CERT_INVALID),
    0x800B0111: ("TRUST_E_EXPLICIT_DISTRUST", Code.CERT_UNTRUSTED),
    0x800B0112: ("CERT_E_UNTRUSTEDCA", Code.CERT_UNTRUSTED),
    0x800B0113: ("CERT_E_INVALID_POLICY", Code.CERT_INVALID),
    0x800B0114: ("CERT_E_INVALID_NAME", Code.CERT_NAME_MISMATCH),
    0x80096004: ("TRUST_E_CERT_SIGNATURE", Code.CERT_INVALID),
    0x80096010: ("TRUST_E_BAD_DIGEST", Code.CERT_INVALID),
    0x80096019: ("TRUST_E_BASIC_CONSTRAINTS", Code.CERT_INVALID),
    0x80092010: ("CRYPT_E_REVOKED", Code.CERT_INVALID),
    0x80092012: ("CRYPT_E_NO_REVOCATION_CHECK", Code.CERT_INVALID),
    0x80092013: ("CRYPT_E_REVOCATION_OFFLINE", Code.CERT_INVALID),
    0x80090325: ("SEC_E_UNTRUSTED_ROOT", Code.CERT_UNTRUSTED),
    0x80090328: ("SEC_E_CERT_EXPIRED", Code.CERT_EXPIRED),
    0x80090322: ("SEC_E_WRONG_PRINCIPAL", Code.CERT_NAME_MISMATCH),
}
# macOS's OSStatus numbers (Security/SecBase.h) from SecTrustEvaluateWithError. truststore's path for macOS
# 10.13 and older gives SecTrustResultType values instead (5 and 6), which say only "not trusted".
_MACOS: dict[int, tuple[str, Code]] = {
    -67818: ("errSecCertificateExpired", Code.CERT_EXPIRED),
    -67819: ("errSecCertificateNotValidYet", Code.CERT_NOT_YET_VALID),
    -67820: ("errSecCertificateRevoked", Code.CERT_INVALID),
    -67843: ("errSecNotTrusted", Code.CERT_UNTRUSTED),
    -67602: ("errSecHostNameMismatch", Code.CERT_NAME_MISMATCH),
    5: ("kSecTrustResultRecoverableTrustFailure", Code.CERT_UNTRUSTED),
    6: ("kSecTrustResultFatalTrustFailure", Code.CERT_INVALID),
}
_NAMES: dict[Verifier, dict[int, tuple[str, Code]]] = {
    Verifier.OPENSSL: _OPENSSL,
    Verifier.WINDOWS: _WINDOWS,
    Verifier.MACOS: _MACOS,
}
