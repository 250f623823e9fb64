"""Running the checks of many endpoints at once, with cancel and progress events. No Qt here: a window
subscribes with a callback (called from worker threads) and forwards events to its own thread."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.core.assess import server_problem
from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    PresentedCopy,
    local_findings,
    presented_copy,
)
from app.core.computer.checks import computer_findings
from app.core.computer.java import JavaProbe, find_runtimes, probe_findings, runtime_findings, start_probe
from app.core.endpoint import CheckFinished, CheckStarted, EndpointCheck, ServerSlots, TargetFinished
from app.core.errors import Cancelled
from app.core.findings import CLIENT_CERT_ASKED, Check, Code, Finding
from app.core.log import RunLog, log
from app.core.model import CheckSettings, RunReport, Target, TargetReport
from app.core.net import CancelFlag
from app.core.reference import new_reference
from app.core.tls_contexts import ContextFactory, TrustAnchors

PROBES_PER_ENDPOINT = 7  # six handshakes and the request through the system's curl


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
        self._java: JavaProbe | None = None
        self._java_running: JavaProbe | None = None  # the Java probe at work, for cancel to end
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
        probe = self._java_running
        if probe is not None:
            probe.stop()

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
                contexts = ContextFactory(self.settings.extra_trust, client_cert)
                with self._presented_copy(client_cert) as presented:
                    with ThreadPoolExecutor(1, thread_name_prefix="computer") as side:
                        computer = side.submit(self._computer)
                        reports = self._check_all(contexts, presented)
                        computer_found = computer.result()
                    reports = self._through_java(reports, presented)
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

    def _computer(self) -> tuple[Finding, ...]:
        try:
            proxy = self.settings.proxy
            found = tuple(computer_findings(self.settings.computer, proxy.display if proxy else ""))
            if self.settings.computer.java:
                runtimes = find_runtimes(cancel=self._cancel)
                found += tuple(runtime_findings(runtimes))
                self._java = start_probe(runtimes)  # compiles while the addresses are checked
        except Cancelled:
            found = ()
        except Exception:
            found = (
                Finding(
                    Code.INTERNAL_ERROR, Check.ADS_CLIENT, {"host": "this computer"}, traceback.format_exc(limit=6)
                ),
            )
        for f in found:
            log.info("this computer: %s %s", f.code.value, f.details)
        self._emit(ComputerChecked(found))
        return found

    def _presented_copy(
        self, cert: ClientCertificate | None
    ) -> contextlib.AbstractContextManager[PresentedCopy | None]:
        """The user's certificate for curl and Java to present too, when they run (removed after the run)."""
        computer = self.settings.computer
        if cert is None or not (computer.java or computer.os_stack):
            return contextlib.nullcontext()
        return presented_copy(cert)

    def _through_java(
        self, reports: tuple[TargetReport, ...], presented: PresentedCopy | None = None
    ) -> tuple[TargetReport, ...]:
        """A TLS 1.2 handshake through Java to every address that speaks TLS 1.2 (after the other checks, so
        Java never adds to their connections); each such report gains Java's findings and trust verdict."""
        probe, self._java = self._java, None
        if probe is None:
            return reports
        runtime = probe.runtime
        try:
            wanted = [
                r
                for r in reports
                if any(f.code is Code.TLS12_OK for f in r.findings) and not server_problem(r.findings)
            ]
            if self._cancel.is_set() or not wanted:
                return reports
            groups: dict[TrustAnchors | None, list[TargetReport]] = {}
            for r in wanted:  # addresses trusting different extra certificates are probed separately
                groups.setdefault(r.target.anchors, []).append(r)
            updated: dict[str, TargetReport] = {}
            for anchors, group in groups.items():
                runner, probe = probe or start_probe([runtime]), None
                if runner is None:
                    break
                extra = "".join(a.pem for a in (*self.settings.extra_trust, *((anchors,) if anchors else ())))
                timeout = max(self.settings.timeout_for(r.target) for r in group)
                self._java_running = runner
                if self._cancel.is_set():
                    break
                answers = runner.probe([r.target for r in group], extra, self.settings.proxy, timeout, presented)
                self._java_running = None
                for r in group:
                    asked = any(f.code.value in CLIENT_CERT_ASKED for f in r.findings)
                    accepted = any(f.code is Code.CLIENT_CERT_OK for f in r.findings)
                    answer = answers.get(r.target.id)
                    found, trust = probe_findings(
                        r.target, runner.version, answer, asked, presented is not None, accepted
                    )
                    fresh = dataclasses.replace(r, findings=(*r.findings, *found), trust=(*r.trust, trust))
                    updated[r.target.id] = fresh
                    self._emit(CheckFinished(r.target.id, Check.JAVA, tuple(found)))
                    self._emit(TargetFinished(fresh))
            return tuple(updated.get(r.target.id, r) for r in reports)
        finally:
            if probe is not None:
                probe.stop()

    def _client_cert_findings(self) -> tuple[list[Finding], ClientCertificate | None]:
        cert = self.settings.client_cert
        if isinstance(cert, ClientCertProblem):
            log.info("client certificate %s could not be used: %s", Path(cert.path).name, cert.code.value)
            return [Finding(cert.code, Check.CLIENT_CERT, {"file": Path(cert.path).name}, cert.details)], None
        if isinstance(cert, ClientCertificate):
            log.info(
                "client certificate %s: %s, valid until %s",
                Path(cert.path).name,
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
        with (
            ThreadPoolExecutor(endpoints, thread_name_prefix="endpoint") as endpoint_pool,
            ThreadPoolExecutor(endpoints * PROBES_PER_ENDPOINT, thread_name_prefix="probe") as probe_pool,
        ):
            futures: list[Future[TargetReport]] = [
                endpoint_pool.submit(
                    EndpointCheck(
                        target, self.settings, contexts, slots, probe_pool, self._cancel, self._emit, presented
                    ).run
                )
                for target in self.targets
            ]
            return tuple(f.result() for f in futures)


def run_checks(
    targets: Sequence[Target],
    settings: CheckSettings | None = None,
    listener: Listener | None = None,
    environment: str = "",
) -> RunReport:
    """Check ``targets`` and return the report (blocking)."""
    return Run(targets, settings, listener, environment).run()
