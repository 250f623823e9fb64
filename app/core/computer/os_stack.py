"""The operating system's own TLS stack, through the system's ``curl`` (on Windows 10 and later ``curl.exe``
uses SChannel, Windows' own TLS): a TLS 1.2-pinned request to each address, so that "this program connects,
but Windows itself cannot" becomes visible."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from app.core.checks.client_cert import ClientCertificate, PresentedCopy
from app.core.checks.http import PAGE_STATUSES, page_words
from app.core.errors import Cancelled
from app.core.findings import Check, Code, Finding
from app.core.model import Target
from app.core.net import Budget
from app.core.processes import WINDOWLESS, run_program
from app.core.proxy import ProxySettings
from app.core.tls_errors import ClientCertAlert, http_client_cert_refusal

# curl's exit codes that say the certificate was not accepted, and a few others worth naming.
_CERT_ERRORS = {51, 58, 60, 77, 83, 90, 91}
_MEANINGS = {
    6: "the name could not be found",
    7: "no connection",
    28: "no answer in time",
    35: "the TLS handshake failed",
    52: "no answer",
    56: "the connection was cut",
    5: "the proxy's name could not be found",
    97: "the proxy refused",
}


@dataclass(frozen=True)
class CurlResult:
    """One request through curl: its exit code, HTTP status, message, and the words of the page it got."""

    exit_code: int
    http_status: str
    message: str
    page: str = ""


def find_curl() -> str | None:
    """The system's curl, if any: on Windows the one Windows ships (System32, built on SChannel, Windows' own
    TLS) before any other on the PATH (Git's, MSYS2's and conda's are built on OpenSSL)."""
    if sys.platform == "win32":
        inbox = os.path.join(os.environ.get("SYSTEMROOT", r"C:\Windows"), "System32", "curl.exe")
        if os.path.isfile(inbox):
            return inbox
        return shutil.which("curl.exe")
    return shutil.which("curl")


TURNED_OFF = "the check through this computer's own TLS was turned off"

# curl learnt to present a certificate from Windows' store (SChannel) in 7.60; Windows 10 1803 and 1809 first
# shipped 7.55.1, which sends none.
STORE_CERT_CURL = (7, 60)


@functools.cache
def _version_text(curl: str) -> tuple[str, str]:
    """What ``curl -V`` says (once per curl), or why it could not run."""
    try:
        done = run_program([curl, "-V"], 10.0, None)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "", str(exc)
    return done.stdout, ""


def _version_in(said: str) -> tuple[int, int] | None:
    """The version (major, minor) in what ``curl -V`` said, or None when it does not say."""
    match = re.match(r"curl (\d+)\.(\d+)", said)
    return (int(match.group(1)), int(match.group(2))) if match else None


@functools.cache
def store_presenter() -> tuple[str | None, str]:
    """The curl.exe that can present a certificate of Windows' store, or None and why not (in words)."""
    curl = find_curl()
    if curl is None:
        return None, "curl.exe is not on this computer (Windows before Windows 10 version 1803 lacks it)"
    said, error = _version_text(curl)
    if error:
        return None, f"curl.exe could not run ({error})"
    first = said.splitlines()[0] if said else ""
    version = _version_in(said)
    if "schannel" not in said.lower() or version is None:
        return None, f"the curl.exe found ({curl}) is not Windows' own (it does not use SChannel)"
    if version < STORE_CERT_CURL:
        return None, f"this computer's curl.exe ({first.split()[1]}) is too old to present a certificate"
    return curl, ""


MAX_PAGE_BYTES = 8 * 1024


def curl_request(
    curl: str,
    target: Target,
    budget: Budget,
    extra_pem: str = "",
    proxy: ProxySettings | None = None,
    client_cert: PresentedCopy | None = None,
) -> CurlResult:
    """Run curl once (TLS 1.2 only). ``extra_pem`` adds trusted certificates (not on Windows, whose curl uses
    Windows' own store). ``client_cert`` is presented when the server asks (its one-time password goes on
    curl's standard input, never on its command line)."""
    seconds = max(1.0, budget.seconds)  # the same limit as this program's own steps
    command = [
        curl,
        "--silent",
        "--show-error",
        "--write-out",
        "%{http_code}",
        "--globoff",
        "--tlsv1.2",
        "--tls-max",
        "1.2",
        "--connect-timeout",
        f"{seconds:g}",
        "--max-time",
        f"{seconds:g}",
        "--config",
        "-",
    ]
    temp_name = ""
    try:
        fd, page_file = tempfile.mkstemp(prefix="tlsrc-page-")  # the answer's page: read only for its words
    except OSError as exc:
        return CurlResult(-1, "", f"curl could not run: no temporary file ({exc.strerror or exc})")
    os.close(fd)
    command += ["--output", page_file]
    if extra_pem and sys.platform != "win32":
        fd, temp_name = tempfile.mkstemp(prefix="tlsrc-ca-", suffix=".pem")
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(extra_pem)
        command += ["--cacert", temp_name]
        capath = _system_capath()
        if capath:
            command += ["--capath", capath]
    config = _private_options(proxy, client_cert)
    command.append(target.address.url)
    try:
        done = run_program(command, seconds + 5, budget.cancel, "\n".join(config) + "\n")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CurlResult(-1, "", f"curl could not run: {exc}")
    finally:
        body = _read_start(page_file)
        for name in (temp_name, page_file):
            if name:
                with contextlib.suppress(OSError):
                    os.unlink(name)
    return _result(done.returncode, done.stdout.strip(), done.stderr.strip(), body)


def _result(exit_code: int, status: str, message: str, body: bytes) -> CurlResult:
    page = page_words(body) if status.isdigit() and int(status) in PAGE_STATUSES else ""
    return CurlResult(exit_code, status, message[:300], page)


# One curl process for every address of a run: --parallel came in curl 7.66, and each transfer's own exit code
# and message in its --write-out in 7.75. An older curl runs once per address; so does Windows' own curl.exe, whose
# TLS (SChannel) checks a certificate's revocation synchronously, in the one thread all of a process's transfers
# share: one revocation server out of reach would hold up every address's request until its time limit.
BATCH_CURL = (7, 75)
_ANSWER = "tlsrc-answer"  # how each transfer's line of answer begins


@dataclass(frozen=True)
class CurlJob:
    """One address for a batch: its URL, the time limit, the extra certificates it trusts (PEM)."""

    url: str
    seconds: float
    extra_pem: str = ""


def can_batch(curl: str) -> bool:
    """Whether this curl checks many addresses in one process: new enough, its names looked up without blocking
    the other transfers ("AsynchDNS"), and not built on SChannel."""
    said = _version_text(curl)[0]
    version = _version_in(said)
    return (
        version is not None and version >= BATCH_CURL and "asynchdns" in said.lower() and "schannel" not in said.lower()
    )


class CurlBatch:
    """The TLS 1.2 requests to many addresses through one curl process, each answer as soon as it comes.

    A curl process takes a while to start (on Windows, with its virus scanner, much longer): one for the whole
    run instead of one per address saves that each time. :attr:`answers` holds one future per job, in order;
    ``answered(i)`` is called (from the reading thread) as each comes. Every future gets a result: curl's
    answer, ``CurlResult(-1, ...)`` when curl gave none, or :class:`Cancelled` after :meth:`close` on cancel.
    """

    def __init__(
        self,
        curl: str,
        jobs: Sequence[CurlJob],
        proxy: ProxySettings | None,
        client_cert: PresentedCopy | None,
        answered: Callable[[int], None] | None = None,
    ) -> None:
        self.answers: list[Future[CurlResult]] = [Future() for _ in jobs]
        self._answered = answered
        self._lock = threading.Lock()
        self._temp: list[str] = []
        self._pages: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        try:
            config = self._config(jobs, proxy, client_cert)
            self._process = subprocess.Popen(
                [curl, "--config", "-"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,  # the answers: standard error is not held back in a buffer
                text=True,
                encoding="utf-8",
                errors="replace",
                creationflags=WINDOWLESS,
            )
        except (OSError, ValueError) as exc:
            self._give_up(f"curl could not run: {getattr(exc, 'strerror', None) or exc}")
            self._remove_files()
            return
        self._reader = threading.Thread(target=self._read, args=(config,), name="curl", daemon=True)
        self._reader.start()

    def _config(self, jobs: Sequence[CurlJob], proxy: ProxySettings | None, client_cert: PresentedCopy | None) -> str:
        lines = [
            "silent",
            "no-progress-meter",
            "parallel",
            "parallel-immediate",
            f"parallel-max = {max(1, min(len(jobs), 300))}",  # all at once: each holds a connection slot already
        ]
        private = _private_options(proxy, client_cert)
        capath = _system_capath()
        trust: dict[str, str] = {}  # extra certificates (PEM) -> the file that holds them
        for index, job in enumerate(jobs):
            fd, page = tempfile.mkstemp(prefix="tlsrc-page-")  # the answer's page: read only for its words
            os.close(fd)
            self._temp.append(page)
            self._pages.append(page)
            seconds = f"{max(1.0, job.seconds):g}"  # the same limit as this program's own steps
            lines += [
                *(["next"] if index else []),
                f'url = "{_quote(job.url)}"',
                f'output = "{_quote(page)}"',
                "no-buffer",  # the page is in its file when the answer's line is written
                "globoff",  # the address as it is: [] and {} are not curl's patterns
                "fresh-connect",  # each address its own connection and full handshake, as a curl of its own
                "forbid-reuse",
                "no-sessionid",
                f'write-out = "%{{stderr}}{_ANSWER} {index} %{{exitcode}} %{{http_code}} %{{errormsg}}\\n"',
                "tlsv1.2",
                'tls-max = "1.2"',
                f"connect-timeout = {seconds}",
                f"max-time = {seconds}",
            ]
            if job.extra_pem and sys.platform != "win32":  # Windows' curl trusts what Windows trusts
                if job.extra_pem not in trust:
                    fd, name = tempfile.mkstemp(prefix="tlsrc-ca-", suffix=".pem")
                    with os.fdopen(fd, "w", encoding="ascii") as fh:
                        fh.write(job.extra_pem)
                    self._temp.append(name)
                    trust[job.extra_pem] = name
                lines.append(f'cacert = "{_quote(trust[job.extra_pem])}"')
                if capath:
                    lines.append(f'capath = "{_quote(capath)}"')
            lines += private
        return "\n".join(lines) + "\n"

    def _read(self, config: str) -> None:
        process = self._process
        assert process is not None and process.stdin is not None and process.stderr is not None
        said: list[str] = []  # curl's own words, other than answers
        with contextlib.suppress(OSError, ValueError):
            process.stdin.write(config)
            process.stdin.close()
        with contextlib.suppress(OSError, ValueError):
            for line in process.stderr:
                fields = line.rstrip("\n").split(" ", 4)
                if fields[0] != _ANSWER or len(fields) < 4 or not fields[1].isdigit() or not fields[2].isdigit():
                    said.append(line.strip())
                    continue
                index = int(fields[1])
                if index >= len(self.answers):
                    continue
                body = _read_start(self._pages[index])
                message = fields[4] if len(fields) > 4 else ""
                self._answer(index, _result(int(fields[2]), fields[3], message, body))
        process.wait()
        self._give_up(f"curl gave no answer (exit {process.returncode}{': ' if said else ''}{' '.join(said)[:200]})")

    def _answer(self, index: int, result: CurlResult | BaseException) -> None:
        with self._lock:
            future = self.answers[index]
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self._answered is not None:
            self._answered(index)

    def _give_up(self, why: str | BaseException) -> None:
        """Every answer still awaited: ``why`` (words: no answer; an exception: raised to whoever waits)."""
        for index in range(len(self.answers)):
            self._answer(index, why if isinstance(why, BaseException) else CurlResult(-1, "", why))

    def stop(self, cancelled: bool = False) -> None:
        """End curl at once, without waiting (on cancel: whoever waits for an answer gets :class:`Cancelled`)."""
        if cancelled:
            self._give_up(Cancelled())
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._process.kill()

    def close(self) -> None:
        """End curl (whoever needed an answer has it) and remove its files."""
        self.stop()
        if self._reader is not None:
            self._reader.join(5)
        self._give_up("not needed")
        if self._process is not None and self._process.stderr is not None:
            with contextlib.suppress(OSError):
                self._process.stderr.close()
        self._remove_files()

    def _remove_files(self) -> None:
        for name in self._temp:
            with contextlib.suppress(OSError):
                os.unlink(name)
        self._temp.clear()


def _private_options(proxy: ProxySettings | None, client_cert: PresentedCopy | None) -> list[str]:
    """The proxy and the certificate to present, as lines of a curl config file (read from standard input:
    never on a command line others can read)."""
    config = []
    if proxy is not None:
        config.append(f'proxy = "http://{proxy.host}:{proxy.port}"')
        if proxy.username:
            config.append(f'proxy-user = "{_quote(proxy.username)}:{_quote(proxy.password)}"')
    else:
        config.append('noproxy = "*"')
    if client_cert is not None and client_cert.store:
        # Windows' own TLS presents it from its store, as the ADS client and the browser do (curl.exe on
        # Windows 10 and later is built on SChannel; the key never leaves the store).
        config.append(f'cert = "{_quote(client_cert.store)}"')
    elif client_cert is not None:
        config += [
            f'cert = "{_quote(client_cert.path)}"',
            'cert-type = "P12"',
            f'pass = "{_quote(client_cert.password)}"',
        ]
    return config


def _system_capath() -> str:
    """The system's folder of trusted certificates, which curl keeps trusting beside a file of extra ones."""
    paths = ssl.get_default_verify_paths()
    capath = paths.capath or paths.openssl_capath
    return capath if capath and os.path.isdir(capath) else ""


def _read_start(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_PAGE_BYTES)
    except OSError:
        return b""


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# What SChannel says when the server ended the handshake with an alert (as when it refuses a certificate); other
# failures of curl's exit 35 (a revocation list out of reach, no cipher in common) are not refusals.
_ALERT_WORDS = (
    "SEC_E_ILLEGAL_MESSAGE",  # SChannel: "a fatal SSL/TLS alert is received"
    "failed to receive handshake",
    "alert",  # OpenSSL: "tlsv13 alert certificate required", "sslv3 alert handshake failure"
    "reset",  # the connection reset: "Connection reset by peer", "Connection was reset"
    "SSL_ERROR_SYSCALL",
    "unexpected eof",
)


def refused_by_server(result: CurlResult) -> bool:
    """True when curl's failure is the server ending the connection (an alert, a reset, no answer): what a
    refused client certificate looks like from the client."""
    if result.exit_code in (52, 55, 56):
        return True
    return result.exit_code == 35 and any(w.lower() in result.message.lower() for w in _ALERT_WORDS)


def os_stack_findings(
    target: Target,
    result: CurlResult,
    client_cert_asked: bool = False,
    presented: bool = False,
    client_cert_accepted: bool = False,
) -> list[Finding]:
    """OS_STACK_TLS12_OK or OS_STACK_TLS12_FAILED for one address.

    When the server asks for a client certificate, TLS 1.2 and the server's certificate are settled before any
    refusal, so a refusal there is about the client certificate. It is news only when this program's own check
    had the certificate accepted (``client_cert_accepted``) and curl, presenting the same one (``presented``),
    was refused; otherwise the certificate's own finding already says it, and the system's TLS 1.2 worked.
    """
    params = {"host": target.address.host}
    if result.exit_code == -1:
        return []  # curl did not run: nothing to say about the system's TLS
    status = int(result.http_status) if result.http_status.isdigit() else None
    page_refusal = result.exit_code == 0 and http_client_cert_refusal(status, result.page) is not ClientCertAlert.NONE
    refused = page_refusal or (client_cert_asked and refused_by_server(result))
    said = f"curl exit {result.exit_code}: {result.message}" if result.exit_code else f"HTTP {status}: {result.page}"
    if refused and presented and client_cert_accepted:
        params["why"] = "the server refused your certificate when this computer's own TLS presented it"
        return [Finding(Code.OS_STACK_TLS12_FAILED, Check.OS_STACK, params, said)]
    if refused:
        detail = (
            "TLS 1.2 and the server's certificate were accepted; the server then refused the client certificate"
            f"{' curl presented' if presented else ', which this test did not present'} ({said})"
        )
        return [Finding(Code.OS_STACK_TLS12_OK, Check.OS_STACK, params, detail)]
    if result.exit_code == 0:
        return [Finding(Code.OS_STACK_TLS12_OK, Check.OS_STACK, params, f"curl: HTTP {result.http_status}")]
    meaning = (
        "the certificate was not accepted"
        if result.exit_code in _CERT_ERRORS
        else _MEANINGS.get(result.exit_code, "the connection failed")
    )
    params["why"] = meaning
    return [
        Finding(Code.OS_STACK_TLS12_FAILED, Check.OS_STACK, params, f"curl exit {result.exit_code}: {result.message}")
    ]


# What curl.exe (SChannel) says when Windows cannot use a certificate of its store: it is not in the store
# any more (exit 58: "schannel: client cert not found in cert store", or the store does not open), or its
# private key cannot be reached (exit 35: "schannel: AcquireCredentialsHandle failed: SEC_E_NO_CREDENTIALS").
_KEY_UNUSABLE_WORDS = ("SEC_E_NO_CREDENTIALS", "AcquireCredentialsHandle", "cert store", "certificate from")


def store_certificate_findings(
    target: Target,
    result: CurlResult | None,
    cert: ClientCertificate,
    asked: bool,
    cas: tuple[str, ...],
    why_not: str = "",
) -> list[Finding]:
    """The verdict for a certificate in Windows' store, which only Windows presents: what the server made of it
    when curl.exe (SChannel) presented it, as the ADS client and the browser do.

    ``asked`` is whether the server asked for a certificate (this program's own handshakes, made without it,
    saw the request); ``cas`` the authorities it named; ``result`` curl.exe's answer, or None when it did not
    run, and then ``why_not`` says why (not Windows, no curl.exe, turned off).
    """
    host = target.address.host
    params = {
        "host": host,
        "file": cert.name,
        "cas": "; ".join(cas) if cas else "any authority it trusts (it did not name one)",
    }
    mismatch = bool(cas) and not set(cas) & set(cert.issuer_names)
    if result is None or result.exit_code == -1:
        if not asked:  # nothing to present it to
            return [Finding(Code.CLIENT_CERT_NOT_REQUESTED, Check.CLIENT_CERT, params, "the server asked for none")]
        params["why"] = why_not or "curl.exe could not run"
        if why_not == TURNED_OFF:
            params["variant"] = "off"
        detail = result.message if result is not None else params["why"]
        return [Finding(Code.CLIENT_CERT_NOT_PRESENTED, Check.CLIENT_CERT, params, detail)]
    status = int(result.http_status) if result.http_status.isdigit() else None
    said = "through Windows (curl.exe): " + (
        f"exit {result.exit_code}: {result.message}" if result.exit_code else f"HTTP {status}"
    )
    if result.exit_code in (35, 58) and any(w in result.message for w in _KEY_UNUSABLE_WORDS):
        return [Finding(Code.CLIENT_CERT_KEY_UNUSABLE, Check.CLIENT_CERT, params, said)]
    page_refusal = result.exit_code == 0 and http_client_cert_refusal(status, result.page) is not ClientCertAlert.NONE
    refused = page_refusal or refused_by_server(result)
    if not asked and not refused:
        # No request was seen without the certificate; and with it, Windows was let in (or failed otherwise).
        return [
            Finding(Code.CLIENT_CERT_NOT_REQUESTED, Check.CLIENT_CERT, params, f"the server asked for none; {said}")
        ]
    if refused and mismatch:
        # SChannel chooses by the server's list: a certificate from an authority it does not name is not sent.
        wrong = {**params, "issuer": cert.issuer_names[0] if cert.issuer_names else cert.info.issuer}
        wrong["variant"] = "store"
        detail = f"{said}; ours comes from {wrong['issuer']}, which the server does not name"
        return [Finding(Code.CLIENT_CERT_WRONG_ISSUER, Check.CLIENT_CERT, wrong, detail)]
    if refused:
        return [Finding(Code.CLIENT_CERT_REJECTED, Check.CLIENT_CERT, params, said)]
    if result.exit_code == 0:
        accepted = Finding(Code.CLIENT_CERT_OK, Check.CLIENT_CERT, params, said)
        if status == 403:  # let in, but without access to this application: what the user must ask for
            access = {"host": host, "with_cert": "yes"}
            return [accepted, Finding(Code.HTTP_FORBIDDEN, Check.HTTP, access, f"{said} with your certificate")]
        return [accepted]
    params["why"] = _MEANINGS.get(result.exit_code, "the connection through Windows failed")
    return [Finding(Code.CLIENT_CERT_NOT_PRESENTED, Check.CLIENT_CERT, params, said)]
