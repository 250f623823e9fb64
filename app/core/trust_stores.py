"""The trust stores a check's TLS contexts start from, loaded ahead of need.

Loading Mozilla's roots (certifi) or this computer's store into a context takes tens of milliseconds each time,
and a check needs two such contexts before its first handshakes. :func:`preload` starts loading them in the
background (the command line does so before it loads the engine, the window between checks), and
:func:`fresh` hands one out, waiting for it if it is still loading, or loads one itself. A context handed out
is the program's only copy: nothing else holds or changes it. Light on purpose (no cryptography): the command
line imports it first.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from enum import Enum

import certifi


class Store(Enum):
    """Which trust store a context starts from."""

    MOZILLA = "mozilla"  # certifi's copy of Mozilla's roots
    SYSTEM = "system"  # this (OpenSSL-based) computer's own store: see load_system_store


# On Windows and macOS the operating system verifies (truststore) and no store is loaded here; elsewhere the
# system's store is OpenSSL's, loaded into a context like Mozilla's.
LOADS_SYSTEM_STORE: bool = sys.platform not in ("win32", "darwin")

# Where Linux and BSD systems keep their trusted certificates when OpenSSL's own default does not exist
# (the same list truststore uses).
SYSTEM_CA_FILES = (
    "/etc/ssl/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/cert.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
)


def load_system_store(context: ssl.SSLContext) -> None:
    """Trust what this (OpenSSL-based) system trusts: OpenSSL's default locations, honouring SSL_CERT_FILE and
    SSL_CERT_DIR, or else the first of the usual bundle files."""
    defaults = ssl.get_default_verify_paths()
    has_dir = (
        bool(defaults.capath)
        and os.path.isdir(defaults.capath or "")
        and any(len(n) == 10 and n[8] == "." for n in os.listdir(defaults.capath or "."))
    )
    if defaults.cafile or has_dir:
        context.set_default_verify_paths()
        return
    for candidate in SYSTEM_CA_FILES:
        if os.path.isfile(candidate):
            context.load_verify_locations(cafile=candidate)
            return


def _where(store: Store) -> tuple[object, ...]:
    """What decides a store's contents: the settings and the files (their size and time). A context loaded
    under others (a company's authority installed since, SSL_CERT_FILE changed) is not handed out."""
    if store is Store.MOZILLA:
        files: tuple[str | None, ...] = (certifi.where(),)
        settings: tuple[str, ...] = ()
    else:
        defaults = ssl.get_default_verify_paths()
        files = (defaults.cafile, defaults.capath, *SYSTEM_CA_FILES)
        settings = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    return (*settings, *(_stamp(name) for name in files))


def _stamp(path: str | None) -> tuple[int, int] | None:
    try:
        facts = os.stat(path) if path else None
    except OSError:
        return None
    return (facts.st_size, facts.st_mtime_ns) if facts else None


def _load(store: Store) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if store is Store.MOZILLA:
        context.load_verify_locations(cafile=certifi.where())
    else:
        load_system_store(context)
    return context


class _Loading:
    """One context being loaded in the background."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.where: tuple[object, ...] | None = None  # what it was loaded under, once loaded (None: unknown)
        self.done = threading.Event()
        self.context: ssl.SSLContext | None = None
        threading.Thread(target=self._run, name="trust store", daemon=True).start()

    def _run(self) -> None:
        try:
            before = _where(self.store)
            self.context = _load(self.store)
            if _where(self.store) == before:  # nothing changed while it loaded
                self.where = before
        except (OSError, ssl.SSLError):
            self.context = None  # the one who asks loads it again and meets the fault there
        finally:
            self.done.set()


_lock = threading.Lock()
_ahead: list[_Loading] = []


def preload(mozilla: int = 1, system: int = 1) -> None:
    """Start loading contexts for a check to come (the one its TLS 1.2 and 1.3 handshakes share, and the
    system's); those already waiting count."""
    if not LOADS_SYSTEM_STORE:
        system = 0
    with _lock:
        for store, wanted in ((Store.MOZILLA, mozilla), (Store.SYSTEM, system)):
            have = sum(1 for entry in _ahead if entry.store is store)
            _ahead.extend(_Loading(store) for _ in range(max(0, wanted - have)))


def fresh(store: Store) -> ssl.SSLContext:
    """A new client context that trusts ``store`` (verifying certificates and host names): one loaded ahead if
    there is one, else loaded now."""
    while True:
        with _lock:
            entry = next((e for e in _ahead if e.store is store), None)
            if entry is None:
                break
            _ahead.remove(entry)
        entry.done.wait()
        if entry.context is not None and entry.where is not None and entry.where == _where(store):
            return entry.context
    return _load(store)
