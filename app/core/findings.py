"""Findings: what a check concluded, under a stable code.

The code is the contract with the help desk, the JSON report and the tests; each code has one fixed status
(one, REVOCATION_UNREACHABLE, is fixed per operating system: see its entry).
The sentences a person reads (title, explanation, action) live in ``app/resources/explanations.toml`` and are
looked up by :mod:`app.core.words`, so wording can improve without code changes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    """How a finding bears on readiness. Ordered from best to worst by :data:`STATUS_RANK`."""

    PASS = "pass"
    INFO = "info"
    SKIPPED = "skipped"
    WARNING = "warning"
    ERROR = "error"  # we could not find out (not the user's fault, not proof of a problem)
    FAIL = "fail"


STATUS_RANK: Mapping[Status, int] = MappingProxyType(
    {Status.PASS: 0, Status.INFO: 1, Status.SKIPPED: 2, Status.WARNING: 3, Status.ERROR: 4, Status.FAIL: 5}
)
# What stops a computer (a failure) or leaves it unknown (an error): the problems support codes carry, causes
# are grouped by, and contacts are named for.
PROBLEM_STATUSES = frozenset({Status.FAIL, Status.ERROR})


class Check(StrEnum):
    """The checks made for each endpoint, in the order a person would read them."""

    DNS = "dns"
    TCP = "tcp"
    TLS12 = "tls12"
    TLS13 = "tls13"
    LEGACY = "legacy"
    CERTIFICATE = "certificate"
    REVOCATION = "revocation"
    HTTP = "http"
    CLIENT_CERT = "client_cert"
    ADS_CLIENT = "ads_client"
    WINDOWS = "windows"
    JAVA = "java"
    OS_STACK = "os_stack"
    PROXY = "proxy"
    CLOCK = "clock"


ENDPOINT_CHECKS: tuple[Check, ...] = (
    Check.DNS,
    Check.TCP,
    Check.TLS12,
    Check.TLS13,
    Check.LEGACY,
    Check.CERTIFICATE,
    Check.REVOCATION,
    Check.HTTP,
    Check.CLIENT_CERT,
)
COMPUTER_CHECKS: tuple[Check, ...] = (
    Check.CLOCK,
    Check.ADS_CLIENT,
    Check.WINDOWS,
    Check.JAVA,
    Check.OS_STACK,
    Check.PROXY,
)


class Code(StrEnum):
    """Stable finding codes. Never rename one: help desks and saved reports refer to them."""

    DNS_OK = "DNS_OK"
    DNS_NOT_FOUND = "DNS_NOT_FOUND"
    DNS_FAILED = "DNS_FAILED"
    TCP_OK = "TCP_OK"
    TCP_REFUSED = "TCP_REFUSED"
    TCP_TIMEOUT = "TCP_TIMEOUT"
    TCP_UNREACHABLE = "TCP_UNREACHABLE"
    CONNECTION_RESET = "CONNECTION_RESET"
    NOT_TLS = "NOT_TLS"
    HANDSHAKE_TIMEOUT = "HANDSHAKE_TIMEOUT"
    HANDSHAKE_FAILED = "HANDSHAKE_FAILED"
    TLS12_OK = "TLS12_OK"
    TLS12_REFUSED = "TLS12_REFUSED"
    TLS13_OK = "TLS13_OK"
    TLS13_NOT_OFFERED = "TLS13_NOT_OFFERED"
    LEGACY_TLS_ACCEPTED = "LEGACY_TLS_ACCEPTED"
    LEGACY_TLS_REFUSED = "LEGACY_TLS_REFUSED"
    LEGACY_TLS_NOT_TESTED = "LEGACY_TLS_NOT_TESTED"
    CERT_OK = "CERT_OK"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    CERT_EXPIRING_SOON = "CERT_EXPIRING_SOON"
    CERT_NAME_MISMATCH = "CERT_NAME_MISMATCH"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_SELF_SIGNED = "CERT_SELF_SIGNED"
    CERT_WEAK_SIGNATURE = "CERT_WEAK_SIGNATURE"
    CERT_WEAK_KEY = "CERT_WEAK_KEY"
    CERT_INVALID = "CERT_INVALID"
    CERT_NOT_TRUSTED_BY_SYSTEM = "CERT_NOT_TRUSTED_BY_SYSTEM"
    HTTP_OK = "HTTP_OK"
    HTTP_FORBIDDEN = "HTTP_FORBIDDEN"
    HTTP_NOT_FOUND = "HTTP_NOT_FOUND"
    HTTP_NO_ANSWER = "HTTP_NO_ANSWER"
    CLIENT_CERT_REQUIRED = "CLIENT_CERT_REQUIRED"
    CLIENT_CERT_OK = "CLIENT_CERT_OK"
    CLIENT_CERT_REJECTED = "CLIENT_CERT_REJECTED"
    CLIENT_CERT_NOT_REQUESTED = "CLIENT_CERT_NOT_REQUESTED"
    CLIENT_CERT_EXPIRED = "CLIENT_CERT_EXPIRED"
    CLIENT_CERT_NOT_YET_VALID = "CLIENT_CERT_NOT_YET_VALID"
    CLIENT_CERT_EXPIRING_SOON = "CLIENT_CERT_EXPIRING_SOON"
    CLIENT_CERT_WRONG_USAGE = "CLIENT_CERT_WRONG_USAGE"
    CLIENT_CERT_KEY_MISMATCH = "CLIENT_CERT_KEY_MISMATCH"
    CLIENT_CERT_BAD_PASSWORD = "CLIENT_CERT_BAD_PASSWORD"
    CLIENT_CERT_UNREADABLE = "CLIENT_CERT_UNREADABLE"
    CHECK_CANCELLED = "CHECK_CANCELLED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    TLS_INSPECTION_SUSPECTED = "TLS_INSPECTION_SUSPECTED"
    PROXY_USED = "PROXY_USED"
    PROXY_UNREACHABLE = "PROXY_UNREACHABLE"
    PROXY_AUTH_REQUIRED = "PROXY_AUTH_REQUIRED"
    PROXY_BLOCKED = "PROXY_BLOCKED"
    ADS_CLIENT_OUTDATED = "ADS_CLIENT_OUTDATED"
    ADS_CLIENT_OK = "ADS_CLIENT_OK"
    ADS_CLIENT_NOT_FOUND = "ADS_CLIENT_NOT_FOUND"
    WINDOWS_TLS_OK = "WINDOWS_TLS_OK"
    WINDOWS_TOO_OLD = "WINDOWS_TOO_OLD"
    WINDOWS_TLS12_DISABLED = "WINDOWS_TLS12_DISABLED"
    WINHTTP_TLS12_OFF = "WINHTTP_TLS12_OFF"
    INTERNET_OPTIONS_TLS12_OFF = "INTERNET_OPTIONS_TLS12_OFF"
    DOTNET_TLS12_NOT_DEFAULT = "DOTNET_TLS12_NOT_DEFAULT"
    OS_STACK_TLS12_OK = "OS_STACK_TLS12_OK"
    OS_STACK_TLS12_FAILED = "OS_STACK_TLS12_FAILED"
    JAVA_FOUND = "JAVA_FOUND"
    JAVA_TLS12_NOT_DEFAULT = "JAVA_TLS12_NOT_DEFAULT"
    JAVA_PROBE_UNAVAILABLE = "JAVA_PROBE_UNAVAILABLE"
    JAVA_TLS12_OK = "JAVA_TLS12_OK"
    JAVA_TLS12_FAILED = "JAVA_TLS12_FAILED"
    JAVA_CERT_UNTRUSTED = "JAVA_CERT_UNTRUSTED"
    PROXY_DETECTED = "PROXY_DETECTED"
    PROXY_AUTOMATIC = "PROXY_AUTOMATIC"
    CERT_CHAIN_INCOMPLETE = "CERT_CHAIN_INCOMPLETE"
    CERT_CHAIN_INCOMPLETE_UNREACHABLE = "CERT_CHAIN_INCOMPLETE_UNREACHABLE"
    TLS12_WEAK_CIPHER = "TLS12_WEAK_CIPHER"
    TLS_NAME_REQUIRED = "TLS_NAME_REQUIRED"
    JAVA_CERT_NAME_MISMATCH = "JAVA_CERT_NAME_MISMATCH"
    CERT_REVOKED = "CERT_REVOKED"
    REVOCATION_OK = "REVOCATION_OK"
    REVOCATION_UNREACHABLE = "REVOCATION_UNREACHABLE"
    REVOCATION_NOT_CHECKED = "REVOCATION_NOT_CHECKED"
    CLOCK_WRONG = "CLOCK_WRONG"
    CLIENT_CERT_WRONG_ISSUER = "CLIENT_CERT_WRONG_ISSUER"
    CLIENT_CERT_FORMAT_OLD_WINDOWS = "CLIENT_CERT_FORMAT_OLD_WINDOWS"
    CLIENT_CERT_CHOOSE_ONE = "CLIENT_CERT_CHOOSE_ONE"
    CLIENT_CERT_NOT_PRESENTED = "CLIENT_CERT_NOT_PRESENTED"
    CLIENT_CERT_KEY_UNUSABLE = "CLIENT_CERT_KEY_UNUSABLE"
    CLIENT_CERT_CHAIN_INCOMPLETE = "CLIENT_CERT_CHAIN_INCOMPLETE"


_S = Status
# Windows' own TLS refuses (or waits long for) a server whose revocation it cannot check; elsewhere programs
# do not ask, so there it is a warning about the Windows computers of the same network.
_REVOCATION_UNREACHABLE_STATUS = _S.FAIL if sys.platform == "win32" else _S.WARNING
# Each code's number in support codes (frozen: docs/code-numbers.txt is append-only, so a number is
# never changed or reused and a code read from an older version still decodes) and its status (the same
# wherever it is found): the one table that defines both.
CODES: Mapping[Code, tuple[int, Status]] = MappingProxyType(
    {
        Code.DNS_OK: (1, _S.PASS),
        Code.DNS_NOT_FOUND: (2, _S.FAIL),
        Code.DNS_FAILED: (3, _S.FAIL),
        Code.TCP_OK: (4, _S.PASS),
        Code.TCP_REFUSED: (5, _S.FAIL),
        Code.TCP_TIMEOUT: (6, _S.FAIL),
        Code.TCP_UNREACHABLE: (7, _S.FAIL),
        Code.CONNECTION_RESET: (8, _S.FAIL),
        Code.NOT_TLS: (9, _S.FAIL),
        Code.HANDSHAKE_TIMEOUT: (10, _S.FAIL),
        Code.HANDSHAKE_FAILED: (11, _S.FAIL),
        Code.TLS12_OK: (12, _S.PASS),
        Code.TLS12_REFUSED: (13, _S.FAIL),
        Code.TLS13_OK: (14, _S.PASS),
        Code.TLS13_NOT_OFFERED: (15, _S.INFO),
        Code.LEGACY_TLS_ACCEPTED: (16, _S.INFO),
        Code.LEGACY_TLS_REFUSED: (17, _S.PASS),
        Code.LEGACY_TLS_NOT_TESTED: (18, _S.SKIPPED),
        Code.CERT_OK: (19, _S.PASS),
        Code.CERT_EXPIRED: (20, _S.FAIL),
        Code.CERT_NOT_YET_VALID: (21, _S.FAIL),
        Code.CERT_EXPIRING_SOON: (22, _S.WARNING),
        Code.CERT_NAME_MISMATCH: (23, _S.FAIL),
        Code.CERT_UNTRUSTED: (24, _S.FAIL),
        Code.CERT_SELF_SIGNED: (25, _S.FAIL),
        Code.CERT_WEAK_SIGNATURE: (26, _S.FAIL),
        Code.CERT_WEAK_KEY: (27, _S.FAIL),
        Code.CERT_INVALID: (28, _S.FAIL),
        Code.CERT_NOT_TRUSTED_BY_SYSTEM: (29, _S.WARNING),
        Code.HTTP_OK: (30, _S.PASS),
        Code.HTTP_FORBIDDEN: (31, _S.FAIL),
        Code.HTTP_NOT_FOUND: (32, _S.WARNING),
        Code.HTTP_NO_ANSWER: (33, _S.WARNING),
        Code.CLIENT_CERT_REQUIRED: (34, _S.FAIL),
        Code.CLIENT_CERT_OK: (35, _S.PASS),
        Code.CLIENT_CERT_REJECTED: (36, _S.FAIL),
        Code.CLIENT_CERT_NOT_REQUESTED: (37, _S.INFO),
        Code.CLIENT_CERT_EXPIRED: (38, _S.FAIL),
        Code.CLIENT_CERT_NOT_YET_VALID: (39, _S.FAIL),
        Code.CLIENT_CERT_EXPIRING_SOON: (40, _S.WARNING),
        Code.CLIENT_CERT_WRONG_USAGE: (41, _S.FAIL),
        Code.CLIENT_CERT_KEY_MISMATCH: (42, _S.FAIL),
        Code.CLIENT_CERT_BAD_PASSWORD: (43, _S.FAIL),
        Code.CLIENT_CERT_UNREADABLE: (44, _S.FAIL),
        Code.CHECK_CANCELLED: (45, _S.SKIPPED),
        Code.INTERNAL_ERROR: (46, _S.ERROR),
        Code.TLS_INSPECTION_SUSPECTED: (47, _S.FAIL),
        Code.PROXY_USED: (48, _S.INFO),
        Code.PROXY_UNREACHABLE: (49, _S.FAIL),
        Code.PROXY_AUTH_REQUIRED: (50, _S.FAIL),
        Code.PROXY_BLOCKED: (51, _S.FAIL),
        Code.ADS_CLIENT_OUTDATED: (52, _S.FAIL),
        Code.ADS_CLIENT_OK: (53, _S.PASS),
        Code.ADS_CLIENT_NOT_FOUND: (54, _S.INFO),
        Code.WINDOWS_TLS_OK: (55, _S.PASS),
        Code.WINDOWS_TOO_OLD: (56, _S.FAIL),
        Code.WINDOWS_TLS12_DISABLED: (57, _S.FAIL),
        Code.WINHTTP_TLS12_OFF: (58, _S.FAIL),
        Code.INTERNET_OPTIONS_TLS12_OFF: (59, _S.FAIL),
        Code.DOTNET_TLS12_NOT_DEFAULT: (60, _S.WARNING),
        Code.OS_STACK_TLS12_OK: (61, _S.PASS),
        Code.OS_STACK_TLS12_FAILED: (62, _S.FAIL),
        Code.JAVA_FOUND: (63, _S.INFO),
        Code.JAVA_TLS12_NOT_DEFAULT: (64, _S.FAIL),
        Code.JAVA_PROBE_UNAVAILABLE: (65, _S.INFO),
        Code.JAVA_TLS12_OK: (66, _S.PASS),
        Code.JAVA_TLS12_FAILED: (67, _S.FAIL),
        Code.JAVA_CERT_UNTRUSTED: (68, _S.FAIL),
        Code.PROXY_DETECTED: (69, _S.INFO),
        Code.PROXY_AUTOMATIC: (70, _S.WARNING),
        Code.CERT_CHAIN_INCOMPLETE: (71, _S.FAIL),
        Code.CERT_CHAIN_INCOMPLETE_UNREACHABLE: (72, _S.FAIL),
        Code.TLS12_WEAK_CIPHER: (73, _S.WARNING),
        Code.TLS_NAME_REQUIRED: (74, _S.FAIL),
        Code.JAVA_CERT_NAME_MISMATCH: (75, _S.FAIL),
        Code.CERT_REVOKED: (76, _S.FAIL),
        Code.REVOCATION_OK: (77, _S.PASS),
        Code.REVOCATION_UNREACHABLE: (78, _REVOCATION_UNREACHABLE_STATUS),
        Code.REVOCATION_NOT_CHECKED: (79, _S.SKIPPED),
        Code.CLOCK_WRONG: (80, _S.FAIL),
        Code.CLIENT_CERT_WRONG_ISSUER: (81, _S.FAIL),
        Code.CLIENT_CERT_FORMAT_OLD_WINDOWS: (82, _S.WARNING),
        Code.CLIENT_CERT_CHOOSE_ONE: (83, _S.FAIL),
        Code.CLIENT_CERT_NOT_PRESENTED: (84, _S.ERROR),
        Code.CLIENT_CERT_KEY_UNUSABLE: (85, _S.FAIL),
        Code.CLIENT_CERT_CHAIN_INCOMPLETE: (86, _S.WARNING),
    }
)
STATUS_OF: Mapping[Code, Status] = MappingProxyType({code: status for code, (_, status) in CODES.items()})
CODE_NUMBERS: Mapping[Code, int] = MappingProxyType({code: number for code, (number, _) in CODES.items()})


# The server asks for a client certificate: what other programs' handshakes without one must be read against.
CLIENT_CERT_ASKED = frozenset(
    {"CLIENT_CERT_REQUIRED", "CLIENT_CERT_OK", "CLIENT_CERT_REJECTED", "CLIENT_CERT_WRONG_ISSUER"}
)


@dataclass(frozen=True)
class Finding:
    """One conclusion about one endpoint (or about the client certificate).

    Attributes:
        code: the stable code; its status and words follow from it.
        check: which check produced it.
        params: values the words refer to, such as ``{"days": "12"}``; plain strings, never secrets.
        details: technical details for support engineers (error texts, codes, numbers).
    """

    code: Code
    check: Check
    params: Mapping[str, str] = field(default_factory=dict)
    details: str = ""

    @property
    def status(self) -> Status:
        """The status that this finding's code always has."""
        return STATUS_OF[self.code]


class Verdict(StrEnum):
    """The answer for an endpoint, or for a whole run."""

    READY = "ready"
    ACTION_NEEDED = "action_needed"
    COULD_NOT_CHECK = "could_not_check"


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """Action needed when anything failed; could not check when something could not be found out or was
    cancelled; otherwise ready (warnings and information do not stop a computer from working)."""
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return Verdict.ACTION_NEEDED
    if Status.ERROR in statuses or any(f.code is Code.CHECK_CANCELLED for f in findings):
        return Verdict.COULD_NOT_CHECK
    return Verdict.READY


def overall_verdict(verdicts: Iterable[Verdict]) -> Verdict:
    """The run's verdict: the worst of its endpoints' (an empty run could not check anything)."""
    seen = set(verdicts)
    if not seen:
        return Verdict.COULD_NOT_CHECK
    if Verdict.ACTION_NEEDED in seen:
        return Verdict.ACTION_NEEDED
    if Verdict.COULD_NOT_CHECK in seen:
        return Verdict.COULD_NOT_CHECK
    return Verdict.READY
