"""Java runtimes: which are installed, whether they offer TLS 1.2 by default (Java 7 does not), and a real TLS 1.2
handshake to each address through Java itself, so the verdict reflects the runtime that a company's own API
clients use. The probe (``app/resources/java/Probe.java``) ships compiled for Java 8 (``classes/``, made by
installers/compile-probe), which every runtime from Java 8 on runs at once; where the classes are missing, Java
11 and newer run the source itself (``java Probe.java``, which compiles it first: about 0.9 s)."""

from __future__ import annotations

import base64
import contextlib
import glob
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from app.core.checks.client_cert import PresentedCopy
from app.core.checks.http import page_words
from app.core.computer.java_start import (
    EXE,
    end_probe,
    major_version,
    probe_minimum,
    release_version,
    start_probe_process,
    take,
)
from app.core.errors import Cancelled
from app.core.findings import Check, Code, Finding
from app.core.log import log
from app.core.model import StoreVerdict, Target, TrustResult
from app.core.net import CancelFlag
from app.core.processes import run_program
from app.core.proxy import ProxySettings
from app.core.tls_errors import ClientCertAlert, http_client_cert_refusal

_USUAL = (
    "C:/Program Files/Java/*/bin/java.exe",
    "C:/Program Files (x86)/Java/*/bin/java.exe",
    "C:/Program Files/Eclipse Adoptium/*/bin/java.exe",
    "C:/Program Files/Microsoft/jdk-*/bin/java.exe",
    "/Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java",
    "/usr/lib/jvm/*/bin/java",
)
_PROTOCOL_OPTION = re.compile(r"-D(jdk\.tls\.client\.protocols|https\.protocols)=(\S+)")


@dataclass(frozen=True)
class JavaRuntime:
    """One installed Java.

    Attributes:
        path: the ``java`` program.
        version: its ``java.version`` (``17.0.15``, ``1.7.0_80``).
    """

    path: str
    version: str

    @property
    def major(self) -> int:
        """7 for ``1.7.0_80``, 17 for ``17.0.15``."""
        return major_version(self.version)


def find_runtimes(timeout: float = 10.0, cancel: threading.Event | CancelFlag | None = None) -> list[JavaRuntime]:
    """Installed Java runtimes: JAVA_HOME first, then PATH, then the usual folders. Raises ``Cancelled``."""
    candidates: list[str] = []
    home = os.environ.get("JAVA_HOME")
    if home:
        candidates.append(str(Path(home) / "bin" / EXE))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for pattern in _USUAL:
        candidates += sorted(glob.glob(pattern))
    runtimes, seen = [], set()
    for path in candidates:
        real = os.path.realpath(path)
        if real in seen or not os.path.isfile(real):
            continue
        seen.add(real)
        version = _version(path, timeout, cancel)
        if version:
            runtimes.append(JavaRuntime(path, version))
    return runtimes


def _version(java: str, timeout: float, cancel: threading.Event | CancelFlag | None) -> str:
    # A JDK or JRE (7 and newer) says its version in its "release" file: no need to start a JVM for it.
    known = release_version(java)
    if known:
        return known
    try:
        done = run_program([java, "-XshowSettings:properties", "-version"], timeout, cancel)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    match = re.search(r"^\s*java\.version = (\S+)", done.stderr, re.MULTILINE)
    return match.group(1) if match else ""


def runtime_findings(runtimes: Sequence[JavaRuntime], environment: dict[str, str] | None = None) -> list[Finding]:
    """JAVA_FOUND per runtime; JAVA_TLS12_NOT_DEFAULT for Java 7 and older, or when options for every Java
    (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS) leave TLS 1.2 out; JAVA_PROBE_UNAVAILABLE when none can run the probe."""
    env = os.environ if environment is None else environment
    options = " ".join(env.get(name, "") for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS"))
    limited = [m.group(0) for m in _PROTOCOL_OPTION.finditer(options) if "TLSv1.2" not in m.group(2)]
    findings = []
    for rt in runtimes:
        params = {"version": rt.version, "path": rt.path}
        findings.append(Finding(Code.JAVA_FOUND, Check.JAVA, params, f"{rt.path}: java.version {rt.version}"))
        if rt.major <= 7:
            findings.append(
                Finding(Code.JAVA_TLS12_NOT_DEFAULT, Check.JAVA, params, f"Java {rt.version} offers TLS 1.0 by default")
            )
        elif limited:
            findings.append(
                Finding(
                    Code.JAVA_TLS12_NOT_DEFAULT,
                    Check.JAVA,
                    params,
                    "options for every Java leave TLS 1.2 out: " + " ".join(limited),
                )
            )
    if runtimes and not any(can_run_probe(rt) for rt in runtimes):
        findings.append(
            Finding(
                Code.JAVA_PROBE_UNAVAILABLE,
                Check.JAVA,
                {"version": runtimes[0].version, "minimum": str(probe_minimum())},
                f"the probe needs Java {probe_minimum()} or newer",
            )
        )
    return findings


def can_run_probe(runtime: JavaRuntime) -> bool:
    """Can this runtime run the probe?"""
    return runtime.major >= probe_minimum()


@dataclass(frozen=True)
class JavaResult:
    """Java's answer for one address.

    Attributes:
        kind: ok, cert (not trusted), name (the certificate names another server), handshake, connect, timeout
            or proxy.
        protocol: the protocol agreed.
        cipher: the cipher suite agreed.
        message: Java's own error text.
        http_status: the status of the answer to one request after the handshake ("" when none came).
        page: the words of that answer's page (for a refusal that only the page explains).
    """

    kind: str
    protocol: str
    cipher: str
    message: str
    http_status: str = ""
    page: str = ""


class JavaProbe:
    """One Java process for a whole run: started early (the JVM starts while this program's own checks begin),
    set up once (the proxy, the user's certificate), then given each address as soon as its connection is open,
    so that Java's handshake runs beside this program's own instead of after them. Results come back as each is done."""

    def __init__(self, runtime: JavaRuntime, process: subprocess.Popen[str] | None = None) -> None:
        self.runtime = runtime
        self.version = runtime.version
        # The JVM the command line started before it loaded the engine, or one started now.
        self._process = process or start_probe_process(runtime.path)
        self._lock = threading.Lock()
        self._pending: dict[str, Future[JavaResult | None]] = {}
        self._trust: dict[str, str] = {}  # extra certificates (PEM) -> the name Java knows them by
        self._temp: list[str] = []
        self._count = 0
        self._ended = False
        self._reader = threading.Thread(target=self._read, name="java probe", daemon=True)
        self._reader.start()

    def configure(self, proxy: ProxySettings | None, client_cert: PresentedCopy | None) -> None:
        """Go through ``proxy``; present ``client_cert`` (its one-time password goes on Java's standard input)."""
        lines = []
        if proxy is not None:
            auth = base64.b64encode(f"{proxy.username}:{proxy.password}".encode()).decode() if proxy.username else ""
            lines.append(f"proxy {proxy.host} {proxy.port} {auth}".rstrip())
        if client_cert is not None and not client_cert.store:  # Java cannot reach into Windows' store here
            lines.append(f"clientcert {client_cert.path}")
            lines.append(f"clientpass {base64.b64encode(client_cert.password.encode()).decode()}")
        with self._lock:
            self._write(lines)

    def submit(self, target: Target, extra_pem: str, timeout: float) -> Future[JavaResult | None]:
        """Start a TLS 1.2 handshake and one request to ``target`` through Java; the future's result is None when
        Java gave no answer (it ended, or could not be started)."""
        future: Future[JavaResult | None] = Future()
        with self._lock:
            if self._ended:
                future.set_result(None)
                return future
            lines = []
            trust = "-"
            if extra_pem:
                trust = self._trust.get(extra_pem, "")
                if not trust:
                    trust = f"t{len(self._trust)}"
                    fd, name = tempfile.mkstemp(prefix="tlsrc-java-", suffix=".pem")
                    with os.fdopen(fd, "w", encoding="ascii") as fh:
                        fh.write(extra_pem)
                    self._temp.append(name)
                    self._trust[extra_pem] = trust
                    lines.append(f"trust {trust} {name}")
            self._count += 1
            key = str(self._count)
            self._pending[key] = future
            path = target.address.path.replace(" ", "%20") or "/"
            address = target.address
            lines.append(f"target {key} {address.host} {address.port} {int(timeout * 1000)} {path} {trust}")
            if not self._write(lines):
                self._pending.pop(key, None)
                future.set_result(None)
        return future

    def _write(self, lines: list[str]) -> bool:
        try:
            assert self._process.stdin is not None
            self._process.stdin.write("".join(line + "\n" for line in lines))
            self._process.stdin.flush()
        except (OSError, ValueError):  # Java has ended (or was stopped)
            return False
        return True

    def _read(self) -> None:
        assert self._process.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for line in self._process.stdout:
                fields = line.rstrip("\n").split("\t")
                if fields[0] == "result" and len(fields) >= 6:
                    with self._lock:
                        future = self._pending.pop(fields[1], None)
                    if future is not None:
                        future.set_result(JavaResult(*fields[2:8]))
                elif fields[0] == "done":
                    break
        with self._lock:  # Java ended: whatever it did not answer gets no answer
            self._ended = True
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_result(None)

    def stop(self, save: bool = True) -> None:
        """End the Java process and remove its temporary files (every answer still awaited becomes None). A JVM
        saving its classes for later runs is let save them when it has answered everything and ``save`` is
        true (not on Cancel: nothing waits then)."""
        with self._lock:
            self._write(["end"])
            answered = self._count > 0 and not self._pending
        try:
            end_probe(self._process, save=save and answered)
        except (OSError, subprocess.TimeoutExpired) as exc:  # a probe that will not end never ends the run
            log.warning("the Java probe did not end cleanly: %s", exc)
        self._reader.join(5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for name in self._temp:
            Path(name).unlink(missing_ok=True)
        self._temp.clear()


class JavaGate:
    """Where a run's checks get its Java probe, which starts on another thread: until it has started (or it is
    known that there is none), they wait, cancellably."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._probe: JavaProbe | None = None

    def open(self, probe: JavaProbe | None) -> None:
        """The probe is there (or None: no Java can run it, or Java is not to be tried)."""
        self._probe = probe
        self._ready.set()

    def wait(self, cancel: threading.Event | CancelFlag) -> JavaProbe | None:
        """The probe, once known. Raises ``Cancelled``."""
        while not self._ready.wait(0.05):
            if cancel.is_set():
                raise Cancelled
        return self._probe


def start_probe(runtimes: Sequence[JavaRuntime]) -> JavaProbe | None:
    """A probe on the first runtime that can run it (Java 8 or newer with the compiled probe), or None."""
    usable = next((rt for rt in runtimes if can_run_probe(rt)), None)
    return JavaProbe(usable, take(usable.path)) if usable else None


def probe_findings(
    target: Target,
    version: str,
    result: JavaResult | None,
    client_cert_asked: bool = False,
    presented: bool = False,
    client_cert_accepted: bool = False,
) -> tuple[list[Finding], TrustResult]:
    """JAVA_TLS12_OK, JAVA_TLS12_FAILED, JAVA_CERT_UNTRUSTED or JAVA_CERT_NAME_MISMATCH for one address, and
    Java's trust verdict.

    When the server asks for a client certificate, Java has checked the server's certificate before any refusal:
    a refusal then is about the client certificate. It is news only when this program's own check had the
    certificate accepted (``client_cert_accepted``) and Java, presenting the same one (``presented``), was
    refused; otherwise the certificate's own finding already says it, and TLS 1.2 through Java worked.
    """
    params = {"host": target.address.host, "version": version}
    trusted = TrustResult("java", StoreVerdict.TRUSTED, "Java's own trust store (cacerts) accepts it")
    if result is None:
        return [], TrustResult("java", StoreVerdict.NOT_CHECKED, "the Java probe gave no answer")
    refusal = ClientCertAlert.NONE
    page = page_words(result.page.encode("latin-1", "replace"))
    if result.kind == "ok" and result.http_status.isdigit():
        refusal = http_client_cert_refusal(int(result.http_status), page)
    refused = refusal is not ClientCertAlert.NONE or (result.kind in ("handshake", "connect") and client_cert_asked)
    if refused and presented and client_cert_accepted:
        why = "the server refused your certificate when Java presented it"
        said = result.message or f"HTTP {result.http_status}: {page}"
        detail = f"Java {version}: {said}"
        return [Finding(Code.JAVA_TLS12_FAILED, Check.JAVA, {**params, "why": why}, detail)], trusted
    if refused:
        detail = (
            f"Java {version}: TLS 1.2 and the server's certificate were accepted; the server then refused the "
            f"client certificate{' Java presented' if presented else ', which this test did not present'} "
            f"({result.message or 'HTTP ' + result.http_status})"
        )
        return [Finding(Code.JAVA_TLS12_OK, Check.JAVA, params, detail)], trusted
    if result.kind == "ok":
        answer = f", HTTP {result.http_status}" if result.http_status else ""
        detail = f"Java {version}: {result.protocol} {result.cipher}{answer}"
        return [Finding(Code.JAVA_TLS12_OK, Check.JAVA, params, detail)], trusted
    if result.kind == "name":
        return [Finding(Code.JAVA_CERT_NAME_MISMATCH, Check.JAVA, params, result.message)], TrustResult(
            "java", StoreVerdict.TRUSTED, f"Java trusts the authority, but: {result.message}"
        )
    if result.kind == "cert":
        return [Finding(Code.JAVA_CERT_UNTRUSTED, Check.JAVA, params, result.message)], TrustResult(
            "java", StoreVerdict.NOT_TRUSTED, result.message
        )
    why = {
        "handshake": "the TLS 1.2 handshake failed",
        "connect": "no connection",
        "timeout": "no answer in time",
        "proxy": "the proxy refused",
    }.get(result.kind, result.kind)
    return [Finding(Code.JAVA_TLS12_FAILED, Check.JAVA, {**params, "why": why}, result.message)], TrustResult(
        "java", StoreVerdict.NOT_CHECKED, why
    )
