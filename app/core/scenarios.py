"""The practice lab's scenarios: one local server per failure class, each with the codes it must produce.

The catalog's "Practice (this computer)" environment names these scenarios (``lab = "expired"``); the tests
and the documentation read the expected codes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.findings import Code


class Behaviour(StrEnum):
    """What the server does with a connection."""

    TLS = "tls"
    PLAIN_HTTP = "plain_http"  # answers in plain HTTP: not TLS at all
    SILENT = "silent"  # accepts the connection and never says a word
    RESET = "reset"  # accepts, reads the ClientHello, then resets the connection
    REFUSED = "refused"  # nothing listens on the port
    BACKLOG_FULL = "backlog_full"  # the listener's queue is full, so new connections get no answer (Linux)


@dataclass(frozen=True)
class Scenario:
    """One practice server.

    Attributes:
        name: the identifier the catalog uses.
        behaviour: what the server does.
        expect: the finding codes a check of it must produce (others may come too).
        http_status: what it answers to a request (TLS servers).
    """

    name: str
    behaviour: Behaviour
    expect: tuple[Code, ...]
    http_status: int = 200


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "ready",
        Behaviour.TLS,
        (Code.TLS12_OK, Code.TLS13_OK, Code.LEGACY_TLS_REFUSED, Code.CERT_OK, Code.REVOCATION_OK, Code.HTTP_OK),
    ),
    Scenario("tls12-only", Behaviour.TLS, (Code.TLS12_OK, Code.TLS13_NOT_OFFERED, Code.CERT_OK, Code.HTTP_OK)),
    Scenario("legacy-only", Behaviour.TLS, (Code.TLS12_REFUSED,)),
    Scenario("legacy-too", Behaviour.TLS, (Code.TLS12_OK, Code.LEGACY_TLS_ACCEPTED, Code.CERT_OK)),
    Scenario("no-common-cipher", Behaviour.TLS, (Code.HANDSHAKE_FAILED,)),
    Scenario("expired", Behaviour.TLS, (Code.TLS12_OK, Code.CERT_EXPIRED)),
    Scenario("not-yet-valid", Behaviour.TLS, (Code.CERT_NOT_YET_VALID,)),
    Scenario("expiring-soon", Behaviour.TLS, (Code.CERT_EXPIRING_SOON, Code.HTTP_OK)),
    Scenario("wrong-name", Behaviour.TLS, (Code.CERT_NAME_MISMATCH,)),
    Scenario("untrusted", Behaviour.TLS, (Code.CERT_UNTRUSTED,)),
    Scenario("self-signed", Behaviour.TLS, (Code.CERT_SELF_SIGNED,)),
    Scenario("weak-signature", Behaviour.TLS, (Code.CERT_WEAK_SIGNATURE,)),
    Scenario("weak-key", Behaviour.TLS, (Code.CERT_WEAK_KEY,)),
    Scenario("client-cert-tls12", Behaviour.TLS, (Code.TLS12_OK, Code.CLIENT_CERT_REQUIRED)),
    Scenario("client-cert-tls13", Behaviour.TLS, (Code.TLS12_OK, Code.TLS13_OK, Code.CLIENT_CERT_REQUIRED)),
    Scenario("forbidden", Behaviour.TLS, (Code.CERT_OK, Code.HTTP_FORBIDDEN), http_status=403),
    Scenario("wrong-path", Behaviour.TLS, (Code.CERT_OK, Code.HTTP_NOT_FOUND), http_status=404),
    Scenario("plain-http", Behaviour.PLAIN_HTTP, (Code.TCP_OK, Code.NOT_TLS)),
    Scenario("silent", Behaviour.SILENT, (Code.TCP_OK, Code.HANDSHAKE_TIMEOUT)),
    Scenario("reset", Behaviour.RESET, (Code.TCP_OK, Code.CONNECTION_RESET)),
    Scenario("refused", Behaviour.REFUSED, (Code.TCP_REFUSED,)),
    Scenario("no-answer", Behaviour.BACKLOG_FULL, (Code.TCP_TIMEOUT,)),
    # Seen on real server software (tests/test_real_servers.py), reproduced here with Python's own server:
    Scenario("missing-intermediate", Behaviour.TLS, (Code.TLS12_OK, Code.CERT_CHAIN_INCOMPLETE)),
    Scenario("private-root", Behaviour.TLS, (Code.TLS12_OK, Code.CERT_UNTRUSTED)),
    Scenario("rsa-key-exchange", Behaviour.TLS, (Code.TLS12_OK, Code.TLS12_WEAK_CIPHER, Code.HTTP_OK)),
    Scenario("name-required", Behaviour.TLS, (Code.TLS_NAME_REQUIRED,)),
    Scenario("client-cert-page", Behaviour.TLS, (Code.TLS12_OK, Code.CLIENT_CERT_REQUIRED)),
    # What Windows checks besides the certificate itself: whether it was withdrawn (revoked).
    Scenario("revoked", Behaviour.TLS, (Code.TLS12_OK, Code.CERT_OK, Code.CERT_REVOKED)),
    Scenario("revocation-offline", Behaviour.TLS, (Code.TLS12_OK, Code.CERT_OK, Code.REVOCATION_UNREACHABLE)),
    # A company's inspecting proxy: a certificate from the company's own authority, which this computer trusts,
    # where the catalog expects the lab's authority.
    Scenario("inspected", Behaviour.TLS, (Code.TLS_INSPECTION_SUSPECTED,)),
)
# Addressed by number (127.0.0.1), so that no name is sent: the server that needs one refuses.
BY_NUMBER = frozenset({"name-required"})

SCENARIO_NAMES = frozenset(s.name for s in SCENARIOS)


def scenario(name: str) -> Scenario:
    """The scenario called ``name``. Raises ``KeyError`` for an unknown one."""
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise KeyError(name)
