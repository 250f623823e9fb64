"""What a run checks (targets, settings) and what it reports. Plain frozen dataclasses, no behaviour beyond
derived properties, so they cross threads and serialise without surprises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from app.core.addresses import Address
from app.core.checks.certificate import CertificateInfo
from app.core.checks.client_cert import ClientCertificate, ClientCertProblem
from app.core.checks.issuers import ExpectedIssuer
from app.core.computer.checks import ComputerSettings
from app.core.findings import Check, Finding, Status, Verdict, overall_verdict, verdict_of
from app.core.proxy import ProxySettings
from app.core.tls_contexts import TrustAnchors

DEFAULT_TIMEOUT = 10.0
CONNECTIONS_PER_SERVER = 6  # what browsers allow themselves per server: the ISO's servers see no more from us


class ClientCertExpectation(StrEnum):
    """Whether the ISO expects a client certificate at an endpoint (from the catalog)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """One endpoint to check.

    Attributes:
        id: the catalog's endpoint id, or the address for one typed by the user.
        name: what people call it.
        address: the parsed https address.
        environment: the environment id ("" for a typed address).
        application: the application id ("" for a typed address).
        client_certificate: whether the ISO expects a client certificate there.
        source: where the address comes from.
        timeout: this endpoint's own time limit per step, when the catalog sets one.
        anchors: certificates to trust for this endpoint only (the practice lab's authority).
        expected_issuers: the authorities its certificate is expected to come from (empty: not known).
        system_anchors: certificates the checks with this computer's own store trust besides it (the practice
            lab's company authority, as a company installs it in that store).
    """

    id: str
    name: str
    address: Address
    environment: str = ""
    application: str = ""
    client_certificate: ClientCertExpectation = ClientCertExpectation.UNKNOWN
    source: str = ""
    timeout: float | None = None
    anchors: TrustAnchors | None = None
    expected_issuers: tuple[ExpectedIssuer, ...] = ()
    system_anchors: TrustAnchors | None = None


@dataclass(frozen=True)
class CheckSettings:
    """How a run checks.

    Attributes:
        timeout: time limit per step in seconds; None means the default (or an endpoint's own limit).
        extra_trust: extra trusted certificates given by the user (``--ca-file``).
        client_cert: the user's certificate, or the problem opening it, or None.
        connections_per_server: at most this many connections at once to one server.
        parallel_endpoints: how many endpoints are checked at once.
        proxy: an HTTP proxy to go through, or None for direct connections.
        computer: what to look at on this computer (the ADS client, Windows settings...).
        revocation: ask the addresses each verified certificate names whether it was withdrawn (as Windows).
    """

    timeout: float | None = None
    extra_trust: tuple[TrustAnchors, ...] = ()
    client_cert: ClientCertificate | ClientCertProblem | None = None
    connections_per_server: int = CONNECTIONS_PER_SERVER
    parallel_endpoints: int = 16
    proxy: ProxySettings | None = None
    computer: ComputerSettings = field(default_factory=ComputerSettings)
    revocation: bool = True

    def timeout_for(self, target: Target) -> float:
        """The step time limit for one target: the user's choice, else the endpoint's, else the default."""
        if self.timeout is not None:
            return self.timeout
        return target.timeout if target.timeout is not None else DEFAULT_TIMEOUT


class StoreVerdict(StrEnum):
    """What one trust store said about a server's chain."""

    TRUSTED = "trusted"
    NOT_TRUSTED = "not_trusted"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True)
class TrustResult:
    """One trust store's answer.

    Attributes:
        store: ``mozilla`` (certifi, with any extra anchors), ``system`` (this computer's own store).
        verdict: trusted, not trusted or not checked.
        detail: the anchor it ended at, or why it failed.
    """

    store: str
    verdict: StoreVerdict
    detail: str = ""


@dataclass(frozen=True)
class HandshakeRecord:
    """One handshake this program made to an address, as a support engineer reads it (report.html).

    Attributes:
        offered: what was offered ("TLS 1.2 only").
        outcome: how it ended (``accepted``, ``refused``...).
        protocol: the version agreed, when one was.
        cipher: the cipher suite agreed.
        messages: the handshake's messages in order (``C:ClientHello S:ServerHello ...``), when seen.
        certificate_request: the server's request for a client certificate and the authorities it named.
        alerts: the alerts either side sent.
        error: the library's own message on failure.
    """

    offered: str
    outcome: str
    protocol: str = ""
    cipher: str = ""
    messages: str = ""
    certificate_request: str = ""
    alerts: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class TargetReport:
    """Everything found about one endpoint.

    Attributes:
        target: the endpoint.
        findings: every finding, in check order.
        addresses: every address DNS gave.
        connected_address: the address that accepted the connection.
        protocol: the protocol agreed by the verified TLS 1.2 handshake (or TLS 1.3 when 1.2 failed).
        cipher: the cipher suite agreed.
        chain: the certificates the server sent, leaf first.
        trust: what each trust store said.
        acceptable_client_cas: the authorities the server named for client certificates (TLS 1.2 or 1.3).
        elapsed_ms: time for the whole endpoint.
        clock_offset_s: the server's clock less this computer's (seconds), when it gave its time.
        handshakes: the handshakes made, for support engineers (what was offered, what the server chose).
    """

    target: Target
    findings: tuple[Finding, ...]
    addresses: tuple[str, ...] = ()
    connected_address: str = ""
    protocol: str = ""
    cipher: str = ""
    chain: tuple[CertificateInfo, ...] = ()
    trust: tuple[TrustResult, ...] = ()
    acceptable_client_cas: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    clock_offset_s: float | None = None
    handshakes: tuple[HandshakeRecord, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """Ready, action needed or could not check."""
        return verdict_of(self.findings)

    def findings_for(self, check: Check) -> tuple[Finding, ...]:
        """The findings of one check."""
        return tuple(f for f in self.findings if f.check is check)

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Findings a person should read: failures, errors and warnings."""
        return tuple(f for f in self.findings if f.status in (Status.FAIL, Status.ERROR, Status.WARNING))


@dataclass(frozen=True)
class RunReport:
    """The answer of one run.

    Attributes:
        targets: one report per endpoint, in the order asked.
        findings: findings about the run itself (the client certificate file).
        environment: the environment id, when one was chosen.
        started: when the run started (UTC).
        finished: when it finished (UTC).
        cancelled: True when the user cancelled.
        client_cert: the user's certificate, when one opened.
        reference: the run's short reference, for the help desk (``K7QM-3XPA``).
        log: the lines logged during the run (for the diagnostic bundle).
        computer: findings about this computer as a whole (ADS client, Windows settings, Java, proxies).
    """

    targets: tuple[TargetReport, ...]
    findings: tuple[Finding, ...] = ()
    environment: str = ""
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    cancelled: bool = False
    client_cert: ClientCertificate | None = None
    reference: str = ""
    log: tuple[str, ...] = ()
    computer: tuple[Finding, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """The worst of the endpoints' verdicts and the run's own findings."""
        own = verdict_of((*self.findings, *self.computer))
        if not self.targets:  # nothing reached: only a problem of this computer's own is an answer
            return own if own is Verdict.ACTION_NEEDED else Verdict.COULD_NOT_CHECK
        verdicts = [t.verdict for t in self.targets]
        if self.findings or self.computer:
            verdicts.append(own)
        return overall_verdict(verdicts)

    @property
    def elapsed_ms(self) -> float:
        """Wall-clock time of the run."""
        return (self.finished - self.started).total_seconds() * 1000.0
