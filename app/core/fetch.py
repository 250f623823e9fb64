"""Plain HTTP requests to the other servers a check depends on, such as the address a certificate names for its
issuer's certificate (Authority Information Access): directly or through the proxy in use, within the step's
time limit and a size limit. A failure is a value (:class:`Fetched` with ``error``), never an exception.

These addresses are ``http://`` by design (RFC 5280): what they serve is signed, so it is never trusted for
coming from them, only checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from app import __version__
from app.core.checks import dns, tcp
from app.core.errors import Cancelled
from app.core.net import Budget, StepTimeout, close_quietly, recv_some, send_all
from app.core.proxy import ProxySettings

MAX_BYTES = 300 * 1024  # an issuer's certificate is a few kilobytes; a bundle of them (.p7c) a few dozen
PROXY_REFUSALS = frozenset({403, 407, 502, 503, 504})  # what a proxy answers when it will not fetch a page


class Failure(StrEnum):
    """Why a request did not work, by kind (for the words; ``Fetched.error`` has the technical text)."""

    NONE = ""
    NAME = "name"  # the server's (or the proxy's) name could not be found
    REFUSED = "refused"  # nothing listens there, or a firewall refused
    TIMEOUT = "timeout"  # no connection, or no complete answer, within the time limit
    UNREACHABLE = "unreachable"  # no route, or the connection broke
    PROXY = "proxy"  # the proxy refused to fetch it (its status says how)
    STATUS = "status"  # the server answered with an error status
    BAD_ANSWER = "bad_answer"  # not HTTP, cut short, too large
    ADDRESS = "address"  # not an http:// address this program can ask


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
        failure: the kind of failure (NONE when it worked).
    """

    url: str
    status: int | None = None
    body: bytes = b""
    error: str = ""
    elapsed_ms: float = 0.0
    failure: Failure = Failure.NONE

    @property
    def ok(self) -> bool:
        """True for a complete 200 answer."""
        return self.status == 200 and not self.error

    @property
    def how(self) -> str:
        """How it failed, in words a person can pass on to an IT department ("the connection was refused")."""
        return {
            Failure.NONE: "it answered",
            Failure.NAME: "the name could not be found",
            Failure.REFUSED: "the connection was refused",
            Failure.TIMEOUT: "no answer in time",
            Failure.UNREACHABLE: "the connection failed",
            Failure.PROXY: f"blocked by the proxy (answer {self.status})",
            Failure.STATUS: f"the server answered with error {self.status}",
            Failure.BAD_ANSWER: "the answer was not usable",
            Failure.ADDRESS: "not an address this program can ask",
        }[self.failure]


def _expected_total(data: bytes | bytearray) -> int | None:
    """How many bytes the whole answer has (its head, and as much body as its Content-Length says), once its
    head is in: None before that, -1 when it gives no length (the server closes when done: we asked for
    HTTP/1.0). A server that keeps the connection open after answering must not hold the fetch until its time
    limit."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return end + 4 + int(value.strip())
    return -1


_CONNECT_FAILURES = {
    tcp.TcpOutcome.REFUSED: Failure.REFUSED,
    tcp.TcpOutcome.TIMEOUT: Failure.TIMEOUT,
}


def fetch(
    url: str,
    budget: Budget,
    proxy: ProxySettings | None = None,
    limit: int = MAX_BYTES,
    *,
    post: bytes | None = None,
    content_type: str = "",
) -> Fetched:
    """GET ``url`` (``http://`` only), or POST ``post`` to it with ``content_type``. Raises only
    :class:`Cancelled`."""
    started = time.monotonic()

    def failed(failure: Failure, error: str, status: int | None = None) -> Fetched:
        return Fetched(url, status, error=error, elapsed_ms=(time.monotonic() - started) * 1000.0, failure=failure)

    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError:
        return failed(Failure.ADDRESS, "not a usable address")
    if parts.scheme.lower() != "http" or not parts.hostname:
        return failed(Failure.ADDRESS, "only http:// addresses are fetched")
    host = parts.hostname
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    where, where_port = (proxy.host, proxy.port) if proxy else (host, port)
    resolved = dns.resolve(where, where_port, budget)
    if resolved.outcome is not dns.DnsOutcome.FOUND:
        return failed(Failure.NAME, f"{'the proxy' if proxy else 'the name'} {where} could not be found")
    result, sock = tcp.connect_first(resolved.addresses, budget)
    if sock is None:
        return failed(
            _CONNECT_FAILURES.get(result.outcome, Failure.UNREACHABLE),
            f"no connection to {'the proxy ' if proxy else ''}{where}: {result.outcome.value}",
        )
    try:
        shown = f"[{host}]" if ":" in host else host
        authority = shown if port == 80 else f"{shown}:{port}"
        target = f"http://{authority}{path}" if proxy else path
        method = "GET" if post is None else "POST"
        lines = [
            f"{method} {target} HTTP/1.0",
            f"Host: {authority}",
            f"User-Agent: TLS-Readiness-Checker/{__version__}",
        ]
        if post is not None:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(post)}"]
        if proxy and proxy.username:
            lines.append(f"Proxy-Authorization: {proxy.authorization()}")
        send_all(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (post or b""), budget)
        received = bytearray()
        total: int | None = None
        while len(received) <= limit + 16384:
            if total is None:
                total = _expected_total(received)
            if total is not None and 0 <= total <= len(received):
                break
            more = recv_some(sock, budget)
            if not more:
                break
            received += more
        data = bytes(received)
    except StepTimeout:
        return failed(Failure.TIMEOUT, "no complete answer in time")
    except Cancelled:
        raise
    except OSError as exc:
        return failed(Failure.UNREACHABLE, f"the connection failed ({exc.strerror or exc})")
    except UnicodeError:
        return failed(Failure.ADDRESS, "the address holds characters an HTTP request cannot carry")
    finally:
        close_quietly(sock)
    head, separator, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    fields = status_line.split(" ", 2)
    if not separator or len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        return failed(Failure.BAD_ANSWER, "the answer is not HTTP (or it was cut short)")
    status = int(fields[1])
    if status != 200:
        by_proxy = proxy is not None and status in PROXY_REFUSALS
        who = "the proxy" if by_proxy else "the server"
        return failed(
            Failure.PROXY if by_proxy else Failure.STATUS, f"{who} answered {status_line.partition(' ')[2]}", status
        )
    if len(body) > limit:
        return failed(Failure.BAD_ANSWER, f"the answer is larger than {limit // 1024} KB", status)
    return Fetched(url, status, body, elapsed_ms=(time.monotonic() - started) * 1000.0)
