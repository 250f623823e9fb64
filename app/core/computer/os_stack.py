"""The operating system's own TLS stack, through the system's ``curl`` (on Windows 10 and later ``curl.exe``
uses SChannel, Windows' own TLS): a TLS 1.2-pinned request to each address, so that "this program connects,
but Windows itself cannot" becomes visible."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from app.core.findings import Check, Code, Finding
from app.core.model import Target
from app.core.net import Budget
from app.core.processes import run_program
from app.core.proxy import ProxySettings

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
    """One request through curl: its exit code, HTTP status and message."""

    exit_code: int
    http_status: str
    message: str


def find_curl() -> str | None:
    """The system's curl, if any."""
    return shutil.which("curl.exe" if sys.platform == "win32" else "curl")


def curl_request(
    curl: str, target: Target, budget: Budget, extra_pem: str = "", proxy: ProxySettings | None = None
) -> CurlResult:
    """Run curl once (TLS 1.2 only). ``extra_pem`` adds trusted certificates (not on Windows, whose curl uses
    Windows' own store)."""
    seconds = max(1.0, budget.seconds)  # the same limit as this program's own steps
    command = [
        curl,
        "--silent",
        "--show-error",
        "--output",
        os.devnull,
        "--write-out",
        "%{http_code}",
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
    config = []
    temp_name = ""
    if extra_pem and sys.platform != "win32":
        fd, temp_name = tempfile.mkstemp(prefix="tlsrc-ca-", suffix=".pem")
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(extra_pem)
        command += ["--cacert", temp_name]
        capath = ssl.get_default_verify_paths().capath or ssl.get_default_verify_paths().openssl_capath
        if capath and os.path.isdir(capath):
            command += ["--capath", capath]
    if proxy is not None:
        config.append(f'proxy = "http://{proxy.host}:{proxy.port}"')
        if proxy.username:  # on standard input: never on a command line others can read
            config.append(f'proxy-user = "{_quote(proxy.username)}:{_quote(proxy.password)}"')
    else:
        config.append('noproxy = "*"')
    command.append(target.address.url)
    try:
        done = run_program(command, seconds + 5, budget.cancel, "\n".join(config) + "\n")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CurlResult(-1, "", f"curl could not run: {exc}")
    finally:
        if temp_name:
            os.unlink(temp_name)
    return CurlResult(done.returncode, done.stdout.strip(), done.stderr.strip()[:300])


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def os_stack_findings(target: Target, result: CurlResult, client_cert_asked: bool = False) -> list[Finding]:
    """OS_STACK_TLS12_OK or OS_STACK_TLS12_FAILED for one address.

    curl presents no client certificate. When the server asks for one, TLS 1.2 and the server's certificate
    are settled before the server refuses, so a refusal there (and not a certificate error) means they worked.
    """
    params = {"host": target.address.host}
    if result.exit_code == 0:
        return [Finding(Code.OS_STACK_TLS12_OK, Check.OS_STACK, params, f"curl: HTTP {result.http_status}")]
    if result.exit_code == -1:
        return []  # curl did not run: nothing to say about the system's TLS
    if client_cert_asked and result.exit_code in (35, 52, 55, 56):
        detail = (
            "TLS 1.2 and the server's certificate were accepted; the server then asked for a client "
            f"certificate, which this test does not present (curl exit {result.exit_code}: {result.message})"
        )
        return [Finding(Code.OS_STACK_TLS12_OK, Check.OS_STACK, params, detail)]
    meaning = (
        "the certificate was not accepted"
        if result.exit_code in _CERT_ERRORS
        else _MEANINGS.get(result.exit_code, "the connection failed")
    )
    params["why"] = meaning
    return [
        Finding(Code.OS_STACK_TLS12_FAILED, Check.OS_STACK, params, f"curl exit {result.exit_code}: {result.message}")
    ]
