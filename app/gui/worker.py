"""The check running in a worker thread. It never touches a widget: it emits plain dataclasses through its own
small signals object, and the window (on the GUI thread) reacts."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from app.core.bundle import BundleContext, write_bundle
from app.core.catalog import Catalog
from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    certificate_from_store,
    load_client_certificate,
)
from app.core.computer import cert_store
from app.core.computer.cert_store import is_store_choice, parse_store_choice
from app.core.computer.checks import ComputerSettings
from app.core.crash import crash_sentence, write_crash_report
from app.core.errors import InputError
from app.core.model import CheckSettings, RunReport
from app.core.plan import plan_targets
from app.core.proxy import ProxySettings, parse_proxy
from app.core.runner import Run, RunEvent
from app.core.tls_contexts import load_trust_file
from app.lab import shared_lab


@dataclass(frozen=True)
class CheckRequest:
    """What the person asked for.

    Attributes:
        env_id: the environment.
        app_ids: the applications (empty for all).
        urls: typed addresses.
        client_cert_path: the certificate file, or empty.
        client_cert_password: its password (kept in memory for this run only, never stored).
        client_cert_alias: which certificate of a Java key store that holds several.
        ca_files: extra trusted certificate files.
        timeout: seconds per step.
        only: endpoint ids or addresses to keep (re-checking one address).
        ads_version: the ADS client version typed in ("" to look for it).
        proxy: the proxy address from Settings (empty for direct connections).
        proxy_user: the proxy's user name.
        proxy_password: its password (in memory for this run only).
    """

    env_id: str
    app_ids: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    client_cert_path: str = ""
    client_cert_password: str = ""
    client_cert_alias: str = ""
    ca_files: tuple[str, ...] = ()
    timeout: float | None = None
    only: tuple[str, ...] = ()
    ads_version: str = ""
    proxy: str = ""
    proxy_user: str = ""
    proxy_password: str = ""

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"CheckRequest(env_id={self.env_id!r}, app_ids={self.app_ids!r}, urls={self.urls!r})"


def _client_cert(r: CheckRequest) -> ClientCertificate | ClientCertProblem | None:
    """The chosen certificate: a file, or (``store:THUMBPRINT``) one of Windows' store."""
    if not r.client_cert_path:
        return None
    if not is_store_choice(r.client_cert_path):
        return load_client_certificate(r.client_cert_path, r.client_cert_password or None, r.client_cert_alias)
    store = cert_store.this_computers_store()
    thumbprint = parse_store_choice(r.client_cert_path)
    entry = cert_store.find_certificate(store, thumbprint) if store is not None else None
    if entry is None:
        raise InputError(
            "The certificate chosen from this computer is no longer in Windows' certificate store. Press Choose..."
            " next to Client certificate and choose it again."
        )
    return certificate_from_store(entry)


class TaskSignals(QObject):
    """What a check task reports, queued to the GUI thread.

    It is made by the window on the GUI thread and lives as long as the window, so it is never destroyed from a
    worker thread (a QObject must die in the thread that owns it).
    """

    progress = Signal(object)  # a RunEvent (not "event": that is QObject.event)
    failed = Signal(str)  # a plain sentence: the check could not start
    done = Signal()


class CheckTask(QRunnable):
    """Loads files, starts the practice lab if needed, and runs the checks, all off the GUI thread.

    Not auto-deleted: the window keeps it until it has finished, so Python, not the pool thread, frees it.
    """

    def __init__(self, request: CheckRequest, catalog: Catalog, signals: TaskSignals) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.request = request
        self.catalog = catalog
        self.signals = signals
        self._cancel = threading.Event()
        self._run: Run | None = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Stop as soon as possible (within about 50 ms once checks are running)."""
        with self._lock:
            self._cancel.set()
            if self._run is not None:
                self._run.cancel()

    def run(self) -> None:
        """Qt calls this in a pool thread."""
        try:
            self._work()
        except InputError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # a fault inside the program: a crash report, and plain words for the user
            path = write_crash_report(type(exc), exc, exc.__traceback__, where="the check")
            self.signals.failed.emit(crash_sentence(path))
        finally:
            self.signals.done.emit()

    def _work(self) -> None:
        r = self.request
        client_cert = _client_cert(r)
        proxy = None
        if r.proxy:
            base = parse_proxy(r.proxy, "Settings")
            proxy = ProxySettings(base.host, base.port, r.proxy_user, r.proxy_password, "Settings")
        settings = CheckSettings(
            timeout=r.timeout,
            extra_trust=tuple(load_trust_file(p) for p in r.ca_files),
            client_cert=client_cert,
            proxy=proxy,
            computer=ComputerSettings(ads_version=r.ads_version, java=True, os_stack=True),
        )
        targets = plan_targets(self.catalog, r.env_id or None, r.app_ids, r.urls, only=r.only, lab_provider=shared_lab)
        with self._lock:
            if self._cancel.is_set():
                return
            self._run = Run(targets, settings, self._emit, environment=r.env_id)
        self._run.run()

    def _emit(self, event: RunEvent) -> None:
        self.signals.progress.emit(event)


class BundleSignals(QObject):
    """What a bundle task reports (made by the window, on the GUI thread)."""

    written = Signal(str)  # the path
    failed = Signal(str)  # one sentence


class BundleTask(QRunnable):
    """Writes a diagnostic bundle off the GUI thread."""

    def __init__(self, path: Path, report: RunReport, context: BundleContext, signals: BundleSignals) -> None:
        super().__init__()
        self.path = path
        self.report = report
        self.context = context
        self.signals = signals

    def run(self) -> None:
        """Qt calls this in a pool thread."""
        try:
            result = write_bundle(self.path, self.report, self.context)
        except InputError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:
            self.signals.failed.emit(f"The diagnostic bundle could not be written: {exc}")
        else:
            self.signals.written.emit(str(result.path))
