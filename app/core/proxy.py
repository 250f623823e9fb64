"""Going through an HTTP proxy: the ``CONNECT`` tunnel (with Basic credentials) and the proxy setting itself.

The password is used only in the ``Proxy-Authorization`` header sent to the proxy: never shown, logged or
written (``ProxySettings.display`` and ``repr`` leave it out).
"""

from __future__ import annotations

import base64
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from app import __version__
from app.core.errors import InputError
from app.core.net import Budget, recv_some, send_all

MAX_ANSWER = 16 * 1024


class ProxyError(InputError):
    """A proxy setting that cannot be used (one plain sentence, never the password)."""


class ProxyRefusal(OSError):  # an OSError, so every check treats it as a failed connection
    """The proxy answered CONNECT with something other than 200.

    Attributes:
        status: the HTTP status (407: credentials needed or wrong; 403: the proxy refuses this address).
        reason: the status line's reason text.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the proxy answered {status} {reason}".strip())
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ProxySettings:
    """An HTTP proxy to go through.

    Attributes:
        host: the proxy's name or IP address.
        port: its port.
        username: the user name for Basic authentication, or empty.
        password: the password (kept out of every text the program shows or writes).
        source: where the setting came from ("--proxy", "Settings", "environment variable https_proxy").
    """

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    source: str = ""

    @property
    def display(self) -> str:
        """How the proxy is shown: ``http://proxy.example:8080`` (a user name is shown, a password never)."""
        user = f"{self.username}@" if self.username else ""
        return f"http://{user}{self.host}:{self.port}"

    def authorization(self) -> str:
        """The ``Proxy-Authorization`` header's value, or empty without credentials."""
        if not self.username:
            return ""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


def without_credentials(url: str) -> str:
    """A proxy address with any ``user:password@`` removed."""
    return re.sub(r"(?<=//)[^/@\s]*@", "", url)


def parse_proxy(text: str, source: str = "--proxy") -> ProxySettings:
    """``http://[user:password@]host:port``. Raises :class:`ProxyError` in plain words (never the password)."""
    raw = text.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ProxyError("The proxy address must look like http://proxy.example:8080.") from None
    if parts.scheme.lower() != "http":
        raise ProxyError("Only http:// proxies (which use CONNECT for secure connections) are supported.")
    if not parts.hostname:
        raise ProxyError("The proxy address has no server name; it must look like http://proxy.example:8080.")
    if port is None or not 1 <= port <= 65535:
        raise ProxyError("The proxy address needs a port from 1 to 65535, such as http://proxy.example:8080.")
    return ProxySettings(parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""), source)


def open_tunnel(sock: socket.socket, proxy: ProxySettings, host: str, port: int, budget: Budget) -> None:
    """Ask the proxy on ``sock`` for a tunnel to ``host:port``. Raises :class:`ProxyRefusal`, ``OSError``,
    ``StepTimeout`` or ``Cancelled``; on success ``sock`` carries the connection to the server."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", f"User-Agent: TLS-Readiness-Checker/{__version__}"]
    if proxy.username:
        lines.append(f"Proxy-Authorization: {proxy.authorization()}")
    send_all(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), budget)
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = recv_some(sock, budget, 1)  # one byte at a time: nothing of the server's may be read here
        if not data:
            raise ConnectionResetError("the proxy closed the connection without answering")
        answer += data
        if len(answer) > MAX_ANSWER:
            raise ProxyRefusal(0, "the proxy's answer is too long")
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProxyRefusal(0, f"the proxy's answer is not HTTP ({status_line[:40]!r})")
    status = int(parts[1])
    if status != 200:
        raise ProxyRefusal(status, parts[2] if len(parts) > 2 else "")
