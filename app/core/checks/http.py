"""After the handshake: one minimal HTTP request and its answer.

This is what reveals a TLS 1.3 server that demands a client certificate (the refusal only arrives on the
first read) and an HTTP 403 (the certificate has no access to that application in that environment).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.utils
import html
import re
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum

from app import __version__
from app.core.net import Budget, StepTimeout, recv_some, send_all
from app.core.tls_errors import ClientCertAlert, client_cert_alert, reason_of

MAX_HEADER_BYTES = 32 * 1024
MAX_PAGE_BYTES = 8 * 1024
PAGE_SECONDS = 1.0  # at most this long for the page's words once its status line is in
# Answers whose page may say why (nginx's "No required SSL certificate was sent" comes as a 400, IIS's
# "403.7 - Client certificate required" as a 403, Apache's "did not provide a hostname using Server Name
# Indication" as a 403, other servers use 495 and 496): their words are read too.
PAGE_STATUSES = frozenset({400, 401, 403, 421, 495, 496})


class HttpOutcome(StrEnum):
    """How the request ended."""

    ANSWERED = "answered"
    CLIENT_CERT_REQUIRED = "client_cert_required"  # alert 116 after a TLS 1.3 handshake
    CLIENT_CERT_REFUSED = "client_cert_refused"  # an alert about the certificate we presented
    CLOSED = "closed"  # closed without answering
    TIMEOUT = "timeout"
    NOT_HTTP = "not_http"
    ERROR = "error"


@dataclass(frozen=True)
class HttpResult:
    """The server's answer to our request.

    Attributes:
        outcome: answered, refused for the client certificate, closed, timed out...
        status: the HTTP status code when it answered.
        reason: the status line's reason text.
        server: the ``Server`` header, when sent.
        tls_reason: the OpenSSL reason code when TLS ended the exchange (``TLSV13_ALERT_CERTIFICATE_REQUIRED``).
        text: the page's own words, shortened (read only for answers that may explain a refusal).
        error: a technical description when something went wrong.
        elapsed_ms: time from sending the request to the answer.
        date: the server's clock, from its ``Date`` header, when it sent one.
        clock_offset_s: the server's clock less this computer's when the answer came (seconds; positive when
            this computer is behind), when the server gave its time.
    """

    outcome: HttpOutcome
    status: int | None = None
    reason: str = ""
    server: str = ""
    tls_reason: str = ""
    text: str = ""
    error: str = ""
    elapsed_ms: float = 0.0
    date: dt.datetime | None = None
    clock_offset_s: float | None = None


def build_request(host: str, port: int, path: str) -> bytes:
    """A minimal GET that any web server or web service answers (often with an error, which is fine)."""
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == 443 else f"{shown}:{port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: TLS-Readiness-Checker/{__version__}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def exchange(sslsock: ssl.SSLSocket, host: str, port: int, path: str, budget: Budget) -> HttpResult:
    """Send the request and read the status line and headers. Raises only ``Cancelled``.

    A server that refuses the client certificate after a TLS 1.3 handshake may close before our request is
    written; the alert is still waiting to be read, so a failed write is followed by a read.
    """
    write_error: OSError | None = None
    try:
        send_all(sslsock, build_request(host, port, path), budget)
    except StepTimeout:
        return HttpResult(
            HttpOutcome.TIMEOUT, error="could not send the request in time", elapsed_ms=budget.elapsed_ms()
        )
    except OSError as exc:  # ssl.SSLError included
        write_error = exc
    head = b""
    try:
        while b"\r\n\r\n" not in head and len(head) < MAX_HEADER_BYTES:
            data = recv_some(sslsock, budget)
            if not data:
                break
            head += data
    except StepTimeout:
        return HttpResult(HttpOutcome.TIMEOUT, error="no answer in time", elapsed_ms=budget.elapsed_ms())
    except OSError as exc:
        return _failure(exc, budget)
    received = dt.datetime.now(dt.UTC)
    if write_error is not None and not head:
        return _failure(write_error, budget)
    answer = parse_head(head, budget.elapsed_ms(), received)
    if answer.status in PAGE_STATUSES:
        page = head.partition(b"\r\n\r\n")[2] + _more_of_the_page(sslsock, budget)
        answer = dataclasses.replace(answer, text=page_words(page))
    return answer


def _more_of_the_page(sslsock: ssl.SSLSocket, budget: Budget) -> bytes:
    """What else of the page arrives within a short time (we asked the server to close when done)."""
    short = Budget(min(PAGE_SECONDS, max(0.0, budget.deadline - time.monotonic())), budget.cancel)
    data = b""
    with contextlib.suppress(StepTimeout, OSError):
        while len(data) < MAX_PAGE_BYTES:
            more = recv_some(sslsock, short)
            if not more:
                break
            data += more
    return data


def page_words(body: bytes, limit: int = 300) -> str:
    """A web page's words without its markup: its title and text, shortened (for the details, and to know
    what a refusal page says)."""
    text = body[:MAX_PAGE_BYTES].decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _failure(exc: OSError, budget: Budget) -> HttpResult:
    if not isinstance(exc, ssl.SSLError):
        return HttpResult(HttpOutcome.CLOSED, error=str(exc) or type(exc).__name__, elapsed_ms=budget.elapsed_ms())
    reason = reason_of(exc)
    alert = client_cert_alert(reason)
    if alert is ClientCertAlert.MISSING:
        outcome = HttpOutcome.CLIENT_CERT_REQUIRED
    elif alert is ClientCertAlert.REFUSED:
        outcome = HttpOutcome.CLIENT_CERT_REFUSED
    elif isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        outcome = HttpOutcome.CLOSED
    else:
        outcome = HttpOutcome.ERROR
    return HttpResult(outcome, tls_reason=reason, error=str(exc), elapsed_ms=budget.elapsed_ms())


def parse_head(head: bytes, elapsed_ms: float = 0.0, received: dt.datetime | None = None) -> HttpResult:
    """Read the status line and the Server and Date headers of an HTTP answer (``received``: this computer's
    time when it came, to compare the clocks)."""
    if not head:
        return HttpResult(HttpOutcome.CLOSED, error="closed without an answer", elapsed_ms=elapsed_ms)
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit() or len(parts[1]) != 3:
        return HttpResult(HttpOutcome.NOT_HTTP, error=f"the answer starts with {head[:40]!r}", elapsed_ms=elapsed_ms)
    server = ""
    date: dt.datetime | None = None
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "server":
            server = value.strip()[:200]
        elif name.strip().lower() == "date":
            date = _http_date(value.strip())
    offset = (date - received).total_seconds() if date is not None and received is not None else None
    return HttpResult(
        HttpOutcome.ANSWERED,
        int(parts[1]),
        parts[2].strip() if len(parts) > 2 else "",
        server,
        elapsed_ms=elapsed_ms,
        date=date,
        clock_offset_s=offset,
    )


def _http_date(text: str) -> dt.datetime | None:
    """An HTTP date (``Tue, 01 Dec 2026 12:00:00 GMT``), or None when it is not one."""
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= when <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC):
        return None  # no server's clock says that (and such dates cannot even be shown in every time zone)
    return when
