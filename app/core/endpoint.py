"""Checking one endpoint: DNS, then TCP, then the handshakes in parallel (at most a few connections at once
to one server), then the findings. Reports progress through a callback; never raises except on cancel."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TypeVar

from app.core import assess
from app.core.checks import dns, server_hello, tcp
from app.core.checks.certificate import CertificateInfo
from app.core.checks.chain import ChainCompletion, complete_chain
from app.core.checks.client_cert import ClientCertificate, PresentedCopy
from app.core.checks.handshake import HandshakeOutcome, HandshakeResult, TlsVersion, handshake, version_probe_context
from app.core.checks.revocation import RevocationChecker, RevocationResult
from app.core.checks.server_hello import HelloOutcome, ServerHelloResult
from app.core.computer.java import JavaGate, JavaResult, probe_findings
from app.core.computer.os_stack import (
    TURNED_OFF,
    CurlJob,
    CurlResult,
    curl_request,
    find_curl,
    os_stack_findings,
    store_certificate_findings,
    store_presenter,
)
from app.core.errors import Cancelled
from app.core.findings import CLIENT_CERT_ASKED, ENDPOINT_CHECKS, Check, Code, Finding
from app.core.model import CheckSettings, HandshakeRecord, Target, TargetReport, TrustResult
from app.core.net import SLICE, Budget, CancelFlag, Opener, ServerSlots, StepTimeout, close_quietly, connect, wait_for
from app.core.proxy import ProxyRefusal, ProxySettings, open_tunnel
from app.core.tls_contexts import ContextFactory, anchors_pem
from app.core.tls_errors import ClientCertAlert, client_cert_alert


@dataclass(frozen=True)
class CheckStarted:
    """A check of one endpoint started."""

    target_id: str
    check: Check


@dataclass(frozen=True)
class CheckFinished:
    """A check of one endpoint finished with these findings."""

    target_id: str
    check: Check
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class TargetFinished:
    """Every check of one endpoint is done."""

    report: TargetReport


Event = CheckStarted | CheckFinished | TargetFinished
EventSink = Callable[[Event], None]
_PROBE_CHECKS = ENDPOINT_CHECKS[ENDPOINT_CHECKS.index(Check.TLS12) :]  # what the handshakes answer
T = TypeVar("T")


_NOT_SPEAKING_TLS = (HandshakeOutcome.TIMEOUT, HandshakeOutcome.NOT_TLS, HandshakeOutcome.CLOSED)


def _other_programs_add_something(first: object) -> bool:
    """After this program's own TLS 1.2 handshake (True: it completed): can another program (Java) say anything
    new? Only where TLS 1.2 works here (or ends at the client certificate), or where the chain is unknown to the
    public roots, since which programs trust it is then the point (TLS inspection). Otherwise its failure is
    the same news."""
    if not isinstance(first, HandshakeResult):
        return first is True
    if first.accepted:
        return True
    if first.outcome is HandshakeOutcome.CERT_VERIFY_FAILED:
        return first.verify_error is None or first.verify_error.code in (Code.CERT_UNTRUSTED, Code.CERT_SELF_SIGNED)
    asked = first.transcript is not None and first.transcript.certificate_request is not None
    return first.outcome is HandshakeOutcome.PEER_ALERT and (
        asked or client_cert_alert(first.tls_reason) is not ClientCertAlert.NONE
    )


def _not_tried(version: TlsVersion) -> HandshakeResult:
    return HandshakeResult(version, HandshakeOutcome.NOT_TRIED, error="not tried: the server does not speak TLS")


@dataclass
class _Facts:
    """What an endpoint check learns besides findings, filled in as it goes (see :class:`TargetReport`)."""

    addresses: tuple[str, ...] = ()
    connected_address: str = ""
    protocol: str = ""
    cipher: str = ""
    chain: tuple[CertificateInfo, ...] = ()
    trust: tuple[TrustResult, ...] = ()
    acceptable_client_cas: tuple[str, ...] = ()
    clock_offset_s: float | None = None
    handshakes: tuple[HandshakeRecord, ...] = ()


ON_WINDOWS: bool = sys.platform == "win32"  # a plain flag, so both sides of the checks below are type-checked


def handshake_record(result: HandshakeResult) -> HandshakeRecord:
    """One handshake as a support engineer reads it: what was offered, what the server chose, what it asked."""
    transcript = result.transcript
    request = ""
    if transcript is not None and transcript.certificate_request is not None:
        asked = transcript.certificate_request
        named = "; ".join(asked.authorities) or "no authority (any it trusts)"
        when = "after the handshake (renegotiation)" if asked.renegotiation else "during the handshake"
        request = f"{asked.version}, {when}, naming: {named}"
    alerts = tuple(
        f"{a.sender} sent {'fatal ' if a.fatal else ''}{a.name}" for a in (transcript.alerts if transcript else ())
    )
    return HandshakeRecord(
        offered=f"{result.version.label} only",
        outcome=result.outcome.value,
        protocol=result.negotiated,
        cipher=result.cipher,
        messages=transcript.summary() if transcript is not None else "",
        certificate_request=request,
        alerts=alerts,
        error=result.error[:300],
    )


class EndpointCheck:
    """The checks of one endpoint, sharing a run's contexts, connection slots and probe threads."""

    def __init__(
        self,
        target: Target,
        settings: CheckSettings,
        contexts: ContextFactory,
        slots: ServerSlots,
        pool: ThreadPoolExecutor,
        cancel: threading.Event | CancelFlag,
        emit: EventSink,
        presented: PresentedCopy | None = None,
        java: JavaGate | None = None,
        revocation: RevocationChecker | None = None,
    ) -> None:
        self.target = target
        self.revocation = revocation  # the run's revocation questions, when they are to be asked
        self.presented = presented  # the user's certificate, for curl and Java to present too
        self.java = java  # the run's Java probe, when Java is to be tried
        self.settings = settings
        self.contexts = contexts
        self.slots = slots
        self.pool = pool
        self.cancel = cancel
        self.emit = emit
        self.timeout = settings.timeout_for(target)
        self.key = (target.address.host, target.address.port)
        # Set when the first handshake shows the server does not speak TLS: queued probes are then skipped.
        self.abandon = threading.Event()
        # What the TLS 1.2 handshake showed, as soon as it is known (True: it completed, before its request was
        # answered; else its result): Java waits for it to know whether it has something to add.
        self._tls12_known: Future[object] = Future()
        # The first chain a handshake verified (leaf to root), as soon as there is one (empty: none verified):
        # the revocation questions start with it, beside the request.
        self._chain_known: Future[tuple[bytes, ...]] = Future()
        self._chain_lock = threading.Lock()
        # How to read the server's clock when its certificate looked expired or not yet valid (see read_clock).
        self._clock_source: tuple[Opener, TlsVersion] | None = None
        # This address's answer from the run's one curl process, when the run asks curl for all at once.
        self.curl_answer: Future[CurlResult] | None = None

    def budget(self) -> Budget:
        """A fresh time limit for one step, tied to the run's cancel flag."""
        return Budget(self.timeout, self.cancel)

    def run(self) -> TargetReport:
        """Check the endpoint. Returns a report in every case (cancel and internal errors included)."""
        started = time.monotonic()
        findings: list[Finding] = []
        facts = _Facts()
        current: list[Check] = []
        try:
            self._run(findings, facts, current)
        except Cancelled:
            done = {f.check for f in findings}
            for check in current or [Check.DNS]:
                if check not in done:
                    cancelled = Finding(Code.CHECK_CANCELLED, check, {"host": self.target.address.host})
                    findings.append(cancelled)
                    self.emit(CheckFinished(self.target.id, check, (cancelled,)))
        except Exception:
            findings.append(
                Finding(
                    Code.INTERNAL_ERROR,
                    current[-1] if current else Check.DNS,
                    {"host": self.target.address.host},
                    traceback.format_exc(limit=8),
                )
            )
        report = TargetReport(
            target=self.target,
            findings=tuple(findings),
            addresses=facts.addresses,
            connected_address=facts.connected_address,
            protocol=facts.protocol,
            cipher=facts.cipher,
            chain=facts.chain,
            trust=facts.trust,
            acceptable_client_cas=facts.acceptable_client_cas,
            elapsed_ms=(time.monotonic() - started) * 1000.0,
            clock_offset_s=facts.clock_offset_s,
            handshakes=facts.handshakes,
        )
        self.emit(TargetFinished(report))
        return report

    def _step(self, check: Check, current: list[Check]) -> None:
        current.append(check)
        self.emit(CheckStarted(self.target.id, check))

    def _done(self, check: Check, findings: list[Finding], new: list[Finding]) -> None:
        findings.extend(new)
        self.emit(CheckFinished(self.target.id, check, tuple(new)))

    def _run(self, findings: list[Finding], facts: _Facts, current: list[Check]) -> None:
        if self.settings.proxy is not None:
            self._run_through_proxy(self.settings.proxy, findings, facts, current)
            return
        address = self.target.address
        self._step(Check.DNS, current)
        resolved = dns.resolve(address.host, address.port, self.budget())
        facts.addresses = tuple(a.ip for a in resolved.addresses)
        self._done(Check.DNS, findings, self._dns_words(assess.dns_findings(resolved)))
        if resolved.outcome is not dns.DnsOutcome.FOUND:
            return

        self._step(Check.TCP, current)
        self.slots.acquire(self.key, self.cancel)
        try:
            connected, sock = tcp.connect_first(resolved.addresses, self.budget())
        except BaseException:
            self.slots.release(self.key)
            raise
        self._done(Check.TCP, findings, assess.tcp_findings(connected, address.host, address.port))
        if connected.address is None or sock is None:
            self.slots.release(self.key)
            return
        facts.connected_address = connected.address.ip
        server = connected.address
        self._probe(findings, facts, current, sock, lambda budget: connect(server.sockaddr, server.family, budget))

    def _probe(
        self, findings: list[Finding], facts: _Facts, current: list[Check], sock: socket.socket, opener: Opener
    ) -> None:
        """The handshakes, on an open connection (with its slot held) and with a way to open more."""
        address = self.target.address
        for check in _PROBE_CHECKS:
            self._step(check, current)
        # The first handshake uses the connection just opened and gives its slot back when done; the other probes
        # each wait for a slot of their own. Java and the system's curl ask first: a new process's handshake and
        # request take longest, and the one-round-trip probes of old versions can wait for the slots they free.
        java = self._start_java(self._tls12_known)
        os_stack = self._start_os_stack(current)
        futures = self._start_probes(opener, sock)
        revocation = self._start_revocation(futures["hello"])
        try:
            probes = self._collect(futures)
        finally:
            self._chain_verified(())  # no handshake verified a chain (or none will now): nothing to ask
        probes = dataclasses.replace(probes, chain_completion=self._complete_chain(probes))
        facts.clock_offset_s = self._server_clock(probes, opener)
        facts.handshakes = tuple(handshake_record(r) for r in (probes.tls12, probes.tls13, *probes.legacy))

        now = dt.datetime.now(dt.UTC)
        main = probes.tls12 if probes.tls12.negotiated else probes.tls13
        facts.protocol = main.negotiated
        facts.cipher = main.cipher
        facts.acceptable_client_cas = assess.acceptable_client_cas(probes)
        protocol = assess.protocol_findings(probes, address.host)
        for check in (Check.TLS12, Check.TLS13, Check.LEGACY):
            self._done(check, findings, [f for f in protocol if f.check is check])
        anchor_label = ""
        for result in (probes.tls12, probes.tls13):
            if result.verified:
                anchor_label = self.contexts.is_extra_anchor(result.anchor, self.target.anchors)
                break
        own = self.target.anchors is not None and anchor_label == self.target.anchors.label
        cert, chain, trust = assess.certificate_findings(
            probes, address.host, now, anchor_label, own, self.target.expected_issuers
        )
        facts.chain = chain
        facts.trust = trust
        self._done(Check.CERTIFICATE, findings, cert)
        http = assess.http_findings(probes, address.host)
        if self._store_cert() is not None:
            # This program asked without the certificate, which Windows alone presents: its 403 is the answer
            # to no certificate. Windows' own answer (below) says whether the certificate gets access.
            http = [f for f in http if f.code is not Code.HTTP_FORBIDDEN]
        self._done(Check.HTTP, findings, http)
        client = assess.client_cert_findings(probes, address.host)
        store_cert = self._store_cert()
        if store_cert is None:
            self._done(Check.CLIENT_CERT, findings, client)
        if revocation is not None:
            verified = any(f.code in (Code.CERT_OK, Code.CERT_EXPIRING_SOON) for f in cert)
            answer = revocation.result()  # raises Cancelled when the run was cancelled
            self._done(
                Check.REVOCATION, findings, assess.revocation_findings(answer if verified else None, address.host)
            )
        curl_result = self._curl_result(os_stack)  # raises Cancelled when cancelled
        if store_cert is not None:
            # Only Windows presents it: its answer through curl.exe is the certificate's verdict.
            # Asked for, as this program's own handshakes (made without it) saw: also when it was optional.
            asked = bool(facts.acceptable_client_cas) or any(
                assess.client_cert_state(r, probes.hello, False).asked for r in (probes.tls12, probes.tls13)
            )
            found = (
                []
                if assess.server_problem(findings)
                else store_certificate_findings(
                    self.target,
                    curl_result if self._windows_presents() else None,  # curl's answer is about it only then
                    store_cert,
                    asked,
                    facts.acceptable_client_cas,
                    self._why_not_windows(),
                )
            )
            self._done(Check.CLIENT_CERT, findings, [f for f in found if f.check is Check.CLIENT_CERT])
            if any(f.check is Check.HTTP for f in found):
                self._done(Check.HTTP, findings, [f for f in found if f.check is Check.HTTP])
        if os_stack is not None and curl_result is not None:
            asked = any(f.code.value in CLIENT_CERT_ASKED for f in findings)
            accepted = any(f.code is Code.CLIENT_CERT_OK for f in findings)
            found = (
                []
                if assess.server_problem(findings)
                else os_stack_findings(self.target, curl_result, asked, self._curl_presented(), accepted)
            )
            self._done(Check.OS_STACK, findings, found)
        if java is not None:
            self._java_findings(java.result(), findings, facts)  # raises Cancelled when the run was cancelled

    def _server_clock(self, probes: assess.ProbeSet, opener: Opener) -> float | None:
        """The server's clock less this computer's, from a verified handshake's answer. When the certificate
        looked expired or not yet valid instead (so no answer came), the way to read the clock is kept for
        :meth:`read_clock`, which the run calls only when no server at all gave its time."""
        for result in (probes.tls12, probes.tls13):
            if result.http is not None and result.http.clock_offset_s is not None:
                return result.http.clock_offset_s
        dated = (Code.CERT_EXPIRED, Code.CERT_NOT_YET_VALID)
        for result in (probes.tls13, probes.tls12):  # TLS 1.3 first: one round trip fewer
            error = result.verify_error if result.outcome is HandshakeOutcome.CERT_VERIFY_FAILED else None
            if error is not None and error.code in dated:
                self._clock_source = (opener, result.version)
                break
        return None

    @property
    def can_read_clock(self) -> bool:
        """Whether :meth:`read_clock` has something to do (the certificate looked expired or not yet valid)."""
        return self._clock_source is not None

    def read_clock(self) -> float | None:
        """One more handshake that checks all but the dates, only to ask for the page and read the server's
        clock: so that when every certificate looks expired, a wrong clock here can be named as the cause."""
        if self._clock_source is None:
            return None
        opener, version = self._clock_source
        address, anchors = self.target.address, self.target.anchors
        with self.slots.hold(self.key, self.cancel):
            answer = handshake(
                opener,
                address.host,
                lambda: self.contexts.clock_reading(anchors),
                version,
                self.budget(),
                request_path=address.path,
                port=address.port,
            )
        return answer.http.clock_offset_s if answer.http is not None else None

    def _anchors_pem(self) -> str:
        """The extra certificates this endpoint's checks trust (the user's, and the practice lab's own)."""
        return anchors_pem(self.settings.extra_trust, self.target.anchors)

    def _complete_chain(self, probes: assess.ProbeSet) -> ChainCompletion | None:
        """When verification failed for want of an issuer the server did not send: fetch it and verify again."""
        if any(p.verified for p in (probes.tls12, probes.tls13)):
            return None
        failed = next(
            (p for p in (probes.tls12, probes.tls13) if p.outcome is HandshakeOutcome.CERT_VERIFY_FAILED), None
        )
        if failed is None or failed.verify_error is None or failed.verify_error.code is not Code.CERT_UNTRUSTED:
            return None
        return complete_chain(
            failed.chain, self.target.address.host, self._anchors_pem(), self.budget(), self.settings.proxy
        )

    def _chain_verified(self, chain: tuple[bytes, ...]) -> None:
        """A handshake verified this chain (empty: none did, or none will): the first one counts."""
        with self._chain_lock:
            if not self._chain_known.done():
                self._chain_known.set_result(chain)

    def _on_tls12_handshake(self, chain: tuple[bytes, ...]) -> None:
        if not self._tls12_known.done():
            self._tls12_known.set_result(True)
        self._chain_verified(chain)

    def _wait(self, future: Future[T]) -> T:
        """A future's result, waited for cancellably."""
        return wait_for(future, self.cancel)

    def _start_revocation(self, hello: Future[object]) -> Future[RevocationResult | None] | None:
        """The revocation questions about the chain, asked as soon as a handshake has verified it (beside the
        request and the other checks): the addresses it names are other servers, so no slot of this one is
        held. No answer when no chain verified."""
        checker = self.revocation
        if checker is None:
            return None

        def probe() -> RevocationResult | None:
            chain = self._wait(self._chain_known)
            if not chain:
                return None
            first = self._wait(hello)  # what the server staples comes in its TLS 1.2 first flight
            stapled = b""
            if isinstance(first, ServerHelloResult) and first.chain[:1] == chain[:1]:
                stapled = first.stapled
            return checker.check_chain(chain, stapled)

        return self.pool.submit(probe)

    def _start_java(self, first: Future[object]) -> Future[tuple[str, JavaResult | None]] | None:
        """Java's TLS 1.2 handshake, beside this program's own checks (it holds a connection slot like them):
        asked at once, not after this program's own TLS 1.2 handshake, so that Java's round trips overlap ours.
        Its answer is awaited only when that handshake (``first``) says Java has something to add. Gives Java's
        version and answer, or no answer when no Java runs the probe or there is nothing to ask it."""
        gate = self.java
        if gate is None or not self.settings.computer.java:
            return None

        def nothing_to_add() -> bool:
            return first.done() and not _other_programs_add_something(first.result())  # raises Cancelled

        def probe() -> tuple[str, JavaResult | None]:
            java = gate.wait(self.cancel)
            if java is None or nothing_to_add():
                return (java.version if java else ""), None
            self.slots.acquire(self.key, self.cancel)
            release = True
            try:
                if nothing_to_add():
                    return java.version, None
                answer = java.submit(self.target, self._anchors_pem(), self.timeout)
                deadline = time.monotonic() + self.timeout * 3 + 10  # connect, handshake and answer: each limited
                while True:
                    try:
                        return java.version, answer.result(timeout=SLICE)
                    except FutureTimeout:
                        if self.cancel.is_set():
                            raise Cancelled from None
                        if nothing_to_add():
                            # Java's answer would be the same news: not awaited. Its connection still counts
                            # against the server's limit until Java answers (or ends with the run).
                            release = False
                            answer.add_done_callback(lambda _answer: self.slots.release(self.key))
                            return java.version, None
                        if time.monotonic() > deadline:
                            return java.version, None
            finally:
                if release:
                    self.slots.release(self.key)

        return self.pool.submit(probe)

    def _java_findings(self, answer: tuple[str, JavaResult | None], findings: list[Finding], facts: _Facts) -> None:
        """Java's findings, where they add something: TLS 1.2 works here and the server's TLS and certificate
        are fine (or TLS inspection is suspected, where which programs trust the chain is the point)."""
        version, result = answer
        if not version or not any(f.code is Code.TLS12_OK for f in findings) or assess.server_problem(findings):
            return
        asked = any(f.code.value in CLIENT_CERT_ASKED for f in findings)
        accepted = any(f.code is Code.CLIENT_CERT_OK for f in findings)
        presented = self.presented is not None and not self.presented.store  # Java never gets a store's
        found, trust = probe_findings(self.target, version, result, asked, presented, accepted)
        facts.trust = (*facts.trust, trust)
        self._done(Check.JAVA, findings, found)

    def _start_os_stack(self, current: list[Check]) -> Future[CurlResult] | None:
        """The request through the system's curl, when asked for and curl exists: the run's one curl process
        asks it already, or one of its own starts now."""
        curl = find_curl() if self.settings.computer.os_stack else None
        if curl is None:
            return None
        self._step(Check.OS_STACK, current)
        if self.curl_answer is not None:
            return self.curl_answer
        job = self.curl_job()

        def probe() -> CurlResult:
            # Started at once (a new process takes a while to start): its answer is read only where it adds
            # something (see os_stack_findings' caller).
            with self.slots.hold(self.key, self.cancel):
                if self.cancel.is_set():
                    raise Cancelled
                if self.abandon.is_set():  # the server does not speak TLS: curl would only wait too
                    return CurlResult(-1, "", "not tried")
                return curl_request(
                    curl, self.target, self.budget(), job.extra_pem, self.settings.proxy, self.curl_copy()
                )

        return self.pool.submit(probe)

    def _curl_result(self, answer: Future[CurlResult] | None) -> CurlResult | None:
        """curl's answer, once it comes. The run's curl process limits each of its requests as this program's
        own steps are limited; a few seconds more, and no answer is taken as none."""
        if answer is None:
            return None
        try:
            return answer.result(timeout=self.timeout + 5 if answer is self.curl_answer else None)
        except FutureTimeout:
            return CurlResult(-1, "", "curl gave no answer in time")

    def curl_job(self) -> CurlJob:
        """What curl is asked of this address."""
        return CurlJob(self.target.address.url, self.timeout, self._anchors_pem())

    def curl_copy(self) -> PresentedCopy | None:
        """The certificate curl presents: the user's, except one of Windows' store where Windows' own curl.exe
        cannot present it."""
        presented = self.presented
        if presented is not None and presented.store and not self._windows_presents():
            return None
        return presented

    def _run_through_proxy(
        self, proxy: ProxySettings, findings: list[Finding], facts: _Facts, current: list[Check]
    ) -> None:
        """Through a proxy: this computer finds and reaches the proxy; the proxy finds and reaches the server."""
        address = self.target.address
        params = {"proxy": proxy.display, "host": address.host, "port": str(address.port)}
        self._step(Check.DNS, current)
        resolved = dns.resolve(proxy.host, proxy.port, self.budget())
        if resolved.outcome is not dns.DnsOutcome.FOUND:
            detail = f"the proxy's name {proxy.host}: {resolved.outcome.value} {resolved.error}"
            self._done(Check.DNS, findings, [Finding(Code.PROXY_UNREACHABLE, Check.DNS, params, detail)])
            return
        ips = ", ".join(a.ip for a in resolved.addresses)
        self._done(Check.DNS, findings, [Finding(Code.PROXY_USED, Check.DNS, params, f"{proxy.display} -> {ips}")])
        self._step(Check.TCP, current)
        self.slots.acquire(self.key, self.cancel)
        sock: socket.socket | None = None
        try:
            budget = self.budget()
            connected, sock = tcp.connect_first(resolved.addresses, budget)
            if connected.address is None or sock is None:
                tried = "; ".join(f"{a.address}: {a.outcome.value}" for a in connected.attempts)
                finding = Finding(Code.PROXY_UNREACHABLE, Check.TCP, params, tried)
            else:
                finding = self._tunnel_finding(sock, proxy, params, budget)
        except BaseException:
            close_quietly(sock)
            self.slots.release(self.key)
            raise
        self._done(Check.TCP, findings, [finding])
        if finding.code is not Code.TCP_OK or sock is None or connected.address is None:
            close_quietly(sock)
            self.slots.release(self.key)
            return
        proxy_address = connected.address
        facts.connected_address = f"{proxy_address.ip} (proxy {proxy.display})"

        def through_proxy(budget: Budget) -> socket.socket:
            tunnel = connect(proxy_address.sockaddr, proxy_address.family, budget)
            try:
                open_tunnel(tunnel, proxy, address.host, address.port, budget)
            except BaseException:
                close_quietly(tunnel)
                raise
            return tunnel

        self._probe(findings, facts, current, sock, through_proxy)

    def _tunnel_finding(
        self, sock: socket.socket, proxy: ProxySettings, params: dict[str, str], budget: Budget
    ) -> Finding:
        address = self.target.address
        try:
            open_tunnel(sock, proxy, address.host, address.port, budget)
        except ProxyRefusal as refusal:
            code = Code.PROXY_AUTH_REQUIRED if refusal.status == 407 else Code.PROXY_BLOCKED
            return Finding(code, Check.TCP, {**params, "status": str(refusal.status)}, str(refusal))
        except (OSError, StepTimeout) as exc:
            return Finding(Code.PROXY_UNREACHABLE, Check.TCP, params, f"no answer to CONNECT: {exc or 'timeout'}")
        detail = f"tunnel through {proxy.display} to {address.host}:{address.port} in {budget.elapsed_ms():.0f} ms"
        return Finding(Code.TCP_OK, Check.TCP, {**params, "ms": f"{budget.elapsed_ms():.0f}"}, detail)

    def _start_probes(self, address: Opener, sock: socket.socket) -> dict[str, Future[object]]:
        host, port, path = self.target.address.host, self.target.address.port, self.target.address.path
        anchors = self.target.anchors
        futures: dict[str, Future[object]] = {}
        futures["tls12"] = self.pool.submit(
            self._first_handshake,
            sock,
            lambda: handshake(
                address,
                host,
                lambda: self.contexts.verified(anchors),
                TlsVersion.TLS1_2,
                self.budget(),
                sock=sock,
                request_path=path,
                port=port,
                on_handshake=self._on_tls12_handshake,
            ),
        )
        futures["tls13"] = self.pool.submit(
            self._guarded,
            lambda: handshake(
                address,
                host,
                lambda: self.contexts.verified(anchors),
                TlsVersion.TLS1_3,
                self.budget(),
                request_path=path,
                port=port,
                on_handshake=self._chain_verified,
            ),
            _not_tried(TlsVersion.TLS1_3),
        )
        futures["hello"] = self.pool.submit(
            self._guarded, lambda: self._hello(address), ServerHelloResult(HelloOutcome.ERROR, error="not tried")
        )
        futures["system"] = self.pool.submit(
            self._guarded,
            lambda: handshake(
                address,
                host,
                lambda: self.contexts.system(self.target.system_anchors),
                TlsVersion.TLS1_2,
                self.budget(),
            ),
            _not_tried(TlsVersion.TLS1_2),
        )
        for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_1):
            futures[version.value] = self.pool.submit(
                self._guarded,
                functools.partial(
                    handshake, address, host, functools.partial(version_probe_context, version), version, self.budget()
                ),
                _not_tried(version),
            )
        return futures

    def _guarded(self, probe: Callable[[], object], skipped: object) -> object:
        with self.slots.hold(self.key, self.cancel):
            if self.cancel.is_set():
                raise Cancelled
            if self.abandon.is_set():
                return skipped
            return probe()

    def _first_handshake(self, sock: socket.socket, probe: Callable[[], HandshakeResult]) -> HandshakeResult:
        """Run the TLS 1.2 handshake on the TCP check's connection, then give back that connection's slot."""
        try:
            if self.cancel.is_set():
                raise Cancelled
            result = probe()
            if result.outcome in _NOT_SPEAKING_TLS:
                self.abandon.set()
            if not self._tls12_known.done():  # it failed: the failure is what others wait to know
                self._tls12_known.set_result(result)
            return result
        except BaseException as exc:
            if not self._tls12_known.done():
                self._tls12_known.set_exception(exc)
            raise
        finally:
            close_quietly(sock)
            self.slots.release(self.key)

    def _hello(self, opener: Opener) -> ServerHelloResult:
        budget = self.budget()
        try:
            sock = opener(budget)
        except Cancelled:
            raise
        except Exception as exc:
            return ServerHelloResult(HelloOutcome.CLOSED, error=str(exc) or type(exc).__name__)
        sni = None if self.target.address.is_ip else self.target.address.host
        return server_hello.read_first_flight(sock, sni, budget)

    def _collect(self, futures: dict[str, Future[object]]) -> assess.ProbeSet:
        results: dict[str, object] = {}
        cancelled = False
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Cancelled:
                cancelled = True
        if cancelled:
            raise Cancelled
        system = results["system"]
        assert isinstance(system, HandshakeResult)
        return assess.ProbeSet(
            tls12=results["tls12"],  # type: ignore[arg-type]
            tls13=results["tls13"],  # type: ignore[arg-type]
            legacy=(results["TLSv1"], results["TLSv1.1"]),  # type: ignore[arg-type]
            hello=results["hello"],  # type: ignore[arg-type]
            system=system if system.outcome is not HandshakeOutcome.LOCAL_UNSUPPORTED else None,
            client_cert_given=self._client_cert_given(),
            client_cert_issuers=self.contexts.client_cert.issuer_names if self.contexts.client_cert else (),
            client_cert_complete=bool(self.contexts.client_cert and self.contexts.client_cert.chain_complete),
        )

    def _dns_words(self, found: list[Finding]) -> list[Finding]:
        """A name from the catalog was not typed by the user: "check it letter by letter" is not for them."""
        if not self.target.application:
            return found
        return [
            dataclasses.replace(f, params={**f.params, "variant": "catalog"}) if f.code is Code.DNS_NOT_FOUND else f
            for f in found
        ]

    def _curl_presented(self) -> bool:
        return self.presented is not None and (not self.presented.store or self._windows_presents())

    def _store_cert(self) -> ClientCertificate | None:
        """The user's certificate when it is in Windows' store (which only Windows presents), else None."""
        cert = self.settings.client_cert
        return cert if isinstance(cert, ClientCertificate) and cert.in_store else None

    def _windows_presents(self) -> bool:
        """Whether curl.exe presents the certificate of Windows' store on this run."""
        return ON_WINDOWS and self.settings.computer.os_stack and store_presenter()[0] is not None

    def _why_not_windows(self) -> str:
        if not ON_WINDOWS:
            return "only Windows can present a certificate from its own store, and this is not Windows"
        if not self.settings.computer.os_stack:
            return TURNED_OFF
        return store_presenter()[1]

    def _client_cert_given(self) -> bool:
        return self.contexts.client_cert is not None
