"""Plain HTTP requests to the other servers a check depends on, such as the address a certificate names for its
issuer's certificate (Authority Information Access): directly or through the proxy in use, within the step's
time limit and a size limit. A failure is a value (:class:`Fetched` with ``error``), never an exception.

These addresses are ``http://`` by design (RFC 5280): what they serve is signed, so it is never trusted for
coming from them, only checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from app import __version__
from app.core.checks import dns, tcp
from app.core.errors import Cancelled
from app.core.net import Budget, StepTimeout, close_quietly, recv_some, send_all
from app.core.proxy import ProxySettings

MAX_BYTES = 300 * 1024  # an issuer's certificate is a few kilobytes; a bundle of them (.p7c) a few dozen


@dataclass(frozen=True)
class Fetched:
    """The answer to one request.

    Attributes:
        url: what was asked for.
        status: the HTTP status, when the server (or the proxy) answered.
        body: what it sent, up to the size limit.
        error: why it did not work, in plain technical words ("connection refused", "the proxy answered 403
            Forbidden"); empty when it worked.
        elapsed_ms: how long it took.
    """

    url: str
    status: int | None = None
    body: bytes = b""
    error: str = ""
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True for a complete 200 answer."""
        return self.status == 200 and not self.error


def _complete(data: bytes) -> bool:
    """Has the whole answer come (its head, and as much body as its Content-Length says)? A server that keeps
    the connection open after answering must not hold the fetch until its time limit."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False  # no length given: the server closes when done (we asked for HTTP/1.0)


def fetch(url: str, budget: Budget, proxy: ProxySettings | None = None, limit: int = MAX_BYTES) -> Fetched:
    """GET ``url`` (``http://`` only). Raises only :class:`Cancelled`."""
    started = time.monotonic()

    def failed(error: str, status: int | None = None) -> Fetched:
        return Fetched(url, status, error=error, elapsed_ms=(time.monotonic() - started) * 1000.0)

    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError:
        return failed("not a usable address")
    if parts.scheme.lower() != "http" or not parts.hostname:
        return failed("only http:// addresses are fetched")
    host = parts.hostname
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where, where_port = (proxy.host, proxy.port) if proxy else (host, port)
    resolved = dns.resolve(where, where_port, budget)
    if resolved.outcome is not dns.DnsOutcome.FOUND:
        return failed(f"{'the proxy' if proxy else 'the name'} {where} could not be found")
    result, sock = tcp.connect_first(resolved.addresses, budget)
    if sock is None:
        return failed(f"no connection to {'the proxy ' if proxy else ''}{where}: {result.outcome.value}")
    try:
        shown = f"[{host}]" if ":" in host else host
        authority = shown if port == 80 else f"{shown}:{port}"
        target = f"http://{authority}{path}" if proxy else path
        lines = [f"GET {target} HTTP/1.0", f"Host: {authority}", f"User-Agent: TLS-Readiness-Checker/{__version__}"]
        if proxy and proxy.username:
            lines.append(f"Proxy-Authorization: {proxy.authorization()}")
        send_all(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("ascii"), budget)
        data = b""
        while len(data) <= limit + 16384 and not _complete(data):
            more = recv_some(sock, budget)
            if not more:
                break
            data += more
    except StepTimeout:
        return failed("no complete answer in time")
    except Cancelled:
        raise
    except OSError as exc:
        return failed(f"the connection failed ({exc.strerror or exc})")
    except UnicodeError:
        return failed("the address holds characters an HTTP request cannot carry")
    finally:
        close_quietly(sock)
    head, separator, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status_line.split(" ", 2)
    if not separator or len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        return failed("the answer is not HTTP (or it was cut short)")
    status = int(fields[1])
    elapsed = (time.monotonic() - started) * 1000.0
    if status != 200:
        who = "the proxy" if proxy and status in (403, 407, 502, 503, 504) else "the server"
        return Fetched(url, status, error=f"{who} answered {status_line.partition(' ')[2]}", elapsed_ms=elapsed)
    if len(body) > limit:
        return Fetched(url, status, error=f"the answer is larger than {limit // 1024} KB", elapsed_ms=elapsed)
    return Fetched(url, status, body, elapsed_ms=elapsed)
