"""Running the checks of many endpoints at once, with cancel and progress events. No Qt here: a window
subscribes with a callback (called from worker threads) and forwards events to its own thread."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    PresentedCopy,
    local_findings,
    presented_copy,
)
from app.core.checks.revocation import RevocationChecker
from app.core.computer.checks import computer_findings
from app.core.computer.clock import clock_findings, servers_offset
from app.core.computer.java import JavaGate, JavaProbe, find_runtimes, runtime_findings, start_probe
from app.core.computer.os_stack import CurlBatch, can_batch, find_curl
from app.core.endpoint import CheckFinished, CheckStarted, EndpointCheck, TargetFinished
from app.core.errors import Cancelled
from app.core.findings import Check, Code, Finding
from app.core.log import RunLog, log
from app.core.model import DEFAULT_TIMEOUT, CheckSettings, RunReport, Target, TargetReport
from app.core.net import CancelFlag, ServerSlots
from app.core.reference import new_reference
from app.core.tls_contexts import ContextFactory

PREPARE_WAIT = 30.0  # seconds a context being made ahead is waited for at the end (a store takes tens of ms)
PROBES_PER_ENDPOINT = 9  # six handshakes, the request through the system's curl, Java's, the revocation questions


@dataclass(frozen=True)
class RunStarted:
    """A run began with these endpoints."""

    targets: tuple[Target, ...]


@dataclass(frozen=True)
class ComputerChecked:
    """The checks of this computer as a whole are done."""

    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RunFinished:
    """A run ended (completed or cancelled)."""

    report: RunReport


RunEvent = RunStarted | CheckStarted | CheckFinished | TargetFinished | ComputerChecked | RunFinished
Listener = Callable[[RunEvent], None]


def client_chain_findings(cert: ClientCertificate | None, reports: Sequence[TargetReport]) -> list[Finding]:
    """CLIENT_CERT_CHAIN_INCOMPLETE: the file holds the certificate alone, without the authority that issued it,
    and a server refused it. Named only then: many servers accept a certificate alone (they hold its authority),
    and Windows adds the authority from its own store; Java and this program send only what the file holds."""
    if cert is None or cert.in_store or len(cert.chain) > 1 or cert.info.self_issued:
        return []
    refused = [t.target.address.host for t in reports if any(f.code is Code.CLIENT_CERT_REJECTED for f in t.findings)]
    if not refused:
        return []
    params = {"file": cert.name, "issuer": cert.info.issuer, "hosts": ", ".join(dict.fromkeys(refused))}
    detail = f"the file holds 1 certificate, issued by {cert.info.issuer}; refused by {params['hosts']}"
    return [Finding(Code.CLIENT_CERT_CHAIN_INCOMPLETE, Check.CLIENT_CERT, params, detail)]


class Run:
    """One run over a list of targets.

    ``start()`` returns at once and works in background threads; ``wait()`` blocks for the report;
    ``cancel()`` stops every check within about 50 ms. ``listener`` is called from worker threads.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        settings: CheckSettings | None = None,
        listener: Listener | None = None,
        environment: str = "",
    ) -> None:
        self.targets = tuple(targets)
        self.settings = settings or CheckSettings()
        self.environment = environment
        self.reference = new_reference()
        self._java: JavaProbe | None = None  # the run's Java probe, once started (for cancel to end)
        self._curl: CurlBatch | None = None  # the run's one curl process, once started (for cancel to end)
        self._java_gate = JavaGate()
        self._listener = listener
        self._cancel = CancelFlag()
        self._done = threading.Event()
        self._report: RunReport | None = None
        self._thread: threading.Thread | None = None
        self._listener_lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Stop every check promptly; the report then says what was not finished."""
        self._cancel.set()
        probe = self._java
        if probe is not None:
            probe.stop(save=False)
        curl = self._curl
        if curl is not None:
            curl.stop(cancelled=True)

    def start(self) -> None:
        """Begin in a background thread."""
        self._thread = threading.Thread(target=self._main, name="tls-readiness run", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> RunReport | None:
        """The report, once the run is over (None when ``timeout`` passed first)."""
        self._done.wait(timeout)
        return self._report

    def run(self) -> RunReport:
        """Run in the calling thread and return the report."""
        self._main()
        assert self._report is not None
        return self._report

    def _emit(self, event: RunEvent) -> None:
        if self._listener is None:
            return
        # One event at a time, so listeners need no locking of their own; a listener's bug must not break checks.
        with self._listener_lock, contextlib.suppress(Exception):
            self._listener(event)

    def _main(self) -> None:
        started = dt.datetime.now(dt.UTC)
        run_log = RunLog()
        try:
            with run_log:
                log.info(
                    "run %s started: %d addresses, environment %r, time limit %s",
                    self.reference,
                    len(self.targets),
                    self.environment,
                    self.settings.timeout or "per address",
                )
                self._emit(RunStarted(self.targets))
                run_findings, client_cert = self._client_cert_findings()
                # A certificate in Windows' store is presented by Windows only (curl.exe): this program's own
                # handshakes go without it, and its verdict comes from Windows' answer.
                own = client_cert if client_cert is not None and not client_cert.in_store else None
                contexts = ContextFactory(self.settings.extra_trust, own)
                preparing = contexts.prepare(self.targets)  # the stores load while names are looked up
                with self._presented_copy(client_cert) as presented:
                    try:
                        with ThreadPoolExecutor(1, thread_name_prefix="computer") as side:
                            computer = side.submit(self._computer, presented)
                            reports = self._check_all(contexts, presented)
                            computer_found = computer.result()
                    finally:
                        if self._java is not None:
                            self._java.stop(save=not self._cancel.is_set())
                        for thread in preparing:  # every one done before the run is (none outlives it)
                            thread.join(PREPARE_WAIT)
                reports, computer_found = self._clock(reports, computer_found)
                run_findings += client_chain_findings(client_cert, reports)
                for t in reports:
                    problems = " ".join(f.code.value for f in t.problems) or "no problems"
                    log.info(
                        "%s %s: %s (%s) in %.0f ms",
                        t.target.id,
                        t.target.address.url,
                        t.verdict.value,
                        problems,
                        t.elapsed_ms,
                    )
                cancelled = self._cancel.is_set()
                log.info("run %s %s", self.reference, "cancelled" if cancelled else "finished")
            self._report = RunReport(
                targets=reports,
                findings=tuple(run_findings),
                environment=self.environment,
                started=started,
                finished=dt.datetime.now(dt.UTC),
                cancelled=cancelled,
                client_cert=client_cert,
                reference=self.reference,
                log=tuple(run_log.lines),
                computer=computer_found,
            )
            self._emit(RunFinished(self._report))
        finally:
            self._cancel.close()  # every check has returned: nobody waits on it any more
            self._done.set()

    def _clock(
        self, reports: tuple[TargetReport, ...], computer: tuple[Finding, ...]
    ) -> tuple[tuple[TargetReport, ...], tuple[Finding, ...]]:
        """This computer's clock against the servers': when it is wrong, CLOCK_WRONG joins this computer's
        findings, and the addresses whose certificate dates it explains are told again, worded so."""
        found, explained = clock_findings(reports, dt.datetime.now(dt.UTC))
        if not found:
            return reports, computer
        for f in found:
            log.info("this computer: %s %s", f.code.value, f.details)
        for before, after in zip(reports, explained, strict=True):
            if after is not before:
                self._emit(TargetFinished(after))
        computer = (*found, *computer)
        self._emit(ComputerChecked(computer))
        return explained, computer

    def _computer(self, presented: PresentedCopy | None) -> tuple[Finding, ...]:
        try:
            proxy = self.settings.proxy
            if self.settings.computer.java:
                # First, so that the JVM starts while the addresses are checked: each is given to Java at once.
                runtimes = find_runtimes(cancel=self._cancel)
                self._java = start_probe(runtimes)
                if self._java is not None:
                    self._java.configure(proxy, presented)
            self._java_gate.open(self._java)
            found = tuple(computer_findings(self.settings.computer, proxy.display if proxy else ""))
            if self.settings.computer.java:
                found += tuple(runtime_findings(runtimes))
        except Cancelled:
            found = ()
        except Exception:
            found = (
                Finding(
                    Code.INTERNAL_ERROR, Check.ADS_CLIENT, {"host": "this computer"}, traceback.format_exc(limit=6)
                ),
            )
        finally:
            self._java_gate.open(self._java)  # never leave an address waiting for a Java that will not come
        for f in found:
            log.info("this computer: %s %s", f.code.value, f.details)
        self._emit(ComputerChecked(found))
        return found

    def _presented_copy(
        self, cert: ClientCertificate | None
    ) -> contextlib.AbstractContextManager[PresentedCopy | None]:
        """The user's certificate for curl and Java to present too, when they run (removed after the run)."""
        computer = self.settings.computer
        if cert is None or not (computer.java or (computer.os_stack and find_curl() is not None)):
            return contextlib.nullcontext()
        return presented_copy(cert)

    def _client_cert_findings(self) -> tuple[list[Finding], ClientCertificate | None]:
        cert = self.settings.client_cert
        if isinstance(cert, ClientCertProblem):
            log.info("client certificate %s could not be used: %s", Path(cert.path).name, cert.code.value)
            params = {"file": Path(cert.path).name}
            if cert.code is Code.CLIENT_CERT_CHOOSE_ONE:
                params["names"] = ", ".join(cert.aliases)
            if cert.variant:
                params["variant"] = cert.variant
            return [Finding(cert.code, Check.CLIENT_CERT, params, cert.details)], None
        if isinstance(cert, ClientCertificate):
            log.info(
                "client certificate %s: %s, valid until %s",
                cert.name,
                cert.info.subject,
                cert.info.not_after.date(),
            )
            return local_findings(cert), cert
        return [], None

    def _check_all(self, contexts: ContextFactory, presented: PresentedCopy | None) -> tuple[TargetReport, ...]:
        if not self.targets:
            return ()
        slots = ServerSlots(self.settings.connections_per_server)
        endpoints = max(1, min(self.settings.parallel_endpoints, len(self.targets)))
        revocation = (
            RevocationChecker(self.settings.proxy, self._cancel, self.settings.timeout or DEFAULT_TIMEOUT, endpoints)
            if self.settings.revocation
            else None
        )
        try:
            with (
                ThreadPoolExecutor(endpoints, thread_name_prefix="endpoint") as endpoint_pool,
                ThreadPoolExecutor(endpoints * PROBES_PER_ENDPOINT, thread_name_prefix="probe") as probe_pool,
            ):
                checks = [
                    EndpointCheck(
                        target,
                        self.settings,
                        contexts,
                        slots,
                        probe_pool,
                        self._cancel,
                        self._emit,
                        presented,
                        self._java_gate,
                        revocation,
                    )
                    for target in self.targets
                ]
                self._curl_batch(checks, slots)
                futures: list[Future[TargetReport]] = [endpoint_pool.submit(c.run) for c in checks]
                return self._read_clocks(tuple(f.result() for f in futures), checks, probe_pool)
        finally:
            if self._curl is not None:
                self._curl.close()
            if revocation is not None:
                log.info("revocation: %d requests for the run", revocation.requests)
                revocation.close()

    def _curl_batch(self, checks: Sequence[EndpointCheck], slots: ServerSlots) -> None:
        """One curl process asks every address at once (a curl that can), each request holding one of its
        server's connection slots until its answer comes; one slot of each server is left for the address's
        own checks. An address that gets no slot now, or a curl too old, is asked by a curl of its own."""
        curl = find_curl() if self.settings.computer.os_stack else None
        if curl is None or self._cancel.is_set() or not can_batch(curl):
            return
        taken: Counter[tuple[str, int]] = Counter()
        members: list[EndpointCheck] = []
        for check in checks:
            if taken[check.key] < self.settings.connections_per_server - 1 and slots.try_acquire(check.key):
                taken[check.key] += 1
                members.append(check)
        if not members:
            return
        keys = [check.key for check in members]
        batch = CurlBatch(
            curl,
            [check.curl_job() for check in members],
            self.settings.proxy,
            members[0].curl_copy(),
            lambda index: slots.release(keys[index]),
        )
        for check, answer in zip(members, batch.answers, strict=True):
            check.curl_answer = answer
        self._curl = batch
        if self._cancel.is_set():  # cancelled while it started: cancel() did not see it
            batch.stop(cancelled=True)

    def _read_clocks(
        self, reports: tuple[TargetReport, ...], checks: Sequence[EndpointCheck], pool: ThreadPoolExecutor
    ) -> tuple[TargetReport, ...]:
        """When no server gave its time (every certificate looked expired or not yet valid: what a wrong clock
        here does), ask a few of those servers for it, at once; else the answers already have it, and nothing
        more is asked."""
        if self._cancel.is_set() or servers_offset(reports) is not None:
            return reports
        readers = [i for i, c in enumerate(checks) if c.can_read_clock][:MAX_CLOCK_READINGS]
        futures = {i: pool.submit(checks[i].read_clock) for i in readers}
        updated = list(reports)
        for i, future in futures.items():
            try:
                offset = future.result()
            except Cancelled:
                return reports
            if offset is not None:
                updated[i] = dataclasses.replace(updated[i], clock_offset_s=offset)
        if readers:
            log.info(
                "clock: %d of %d servers asked gave their time",
                sum(r.clock_offset_s is not None for r in updated),
                len(readers),
            )
        return tuple(updated)


MAX_CLOCK_READINGS = 4  # servers asked for their time when none gave it (a median of a few is enough)


def run_checks(
    targets: Sequence[Target],
    settings: CheckSettings | None = None,
    listener: Listener | None = None,
    environment: str = "",
) -> RunReport:
    """Check ``targets`` and return the report (blocking)."""
    return Run(targets, settings, listener, environment).run()
