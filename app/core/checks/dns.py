"""DNS: every address of the server's name."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum

from app.core.net import Budget, StepTimeout, run_in_thread


class DnsOutcome(StrEnum):
    """How the lookup ended."""

    FOUND = "found"
    NOT_FOUND = "not_found"  # the name does not exist
    FAILED = "failed"  # no answer from the name servers, or another error
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class ResolvedAddress:
    """One address of the server.

    Attributes:
        family: ``socket.AF_INET`` or ``socket.AF_INET6``.
        sockaddr: what ``connect`` takes.
    """

    family: int
    sockaddr: tuple[object, ...]

    @property
    def ip(self) -> str:
        """The IP address as text."""
        return str(self.sockaddr[0])


@dataclass(frozen=True)
class DnsResult:
    """The result of looking up a server's name.

    Attributes:
        host: the name looked up.
        outcome: found, not found, failed or timed out.
        addresses: every address found, in the order the system gave them.
        elapsed_ms: how long the lookup took.
        error: the system's message when the lookup failed.
    """

    host: str
    outcome: DnsOutcome
    addresses: tuple[ResolvedAddress, ...] = ()
    elapsed_ms: float = 0.0
    error: str = ""


# RFC 6761 section 6.4: names under .invalid never exist, and resolvers should say so without asking anyone.
_NEVER_EXISTS = ("invalid",)
_NOT_FOUND_ERRORS = {
    getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY") if hasattr(socket, name)
}


def resolve(host: str, port: int, budget: Budget) -> DnsResult:
    """Look up every address of ``host``. Raises only :class:`~app.core.errors.Cancelled`."""
    if host.rsplit(".", 1)[-1] in _NEVER_EXISTS:
        return DnsResult(host, DnsOutcome.NOT_FOUND, error="names ending in .invalid never exist (RFC 6761)")
    try:
        infos = run_in_thread(
            lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP),
            budget,
            name=f"dns {host}",
        )
    except StepTimeout:
        return DnsResult(host, DnsOutcome.TIMEOUT, elapsed_ms=budget.elapsed_ms(), error="no answer in time")
    except socket.gaierror as exc:
        outcome = DnsOutcome.NOT_FOUND if exc.errno in _NOT_FOUND_ERRORS else DnsOutcome.FAILED
        return DnsResult(host, outcome, elapsed_ms=budget.elapsed_ms(), error=str(exc))
    except (OSError, UnicodeError) as exc:
        return DnsResult(host, DnsOutcome.FAILED, elapsed_ms=budget.elapsed_ms(), error=str(exc))
    seen: list[ResolvedAddress] = []
    for family, _, _, _, sockaddr in infos:
        address = ResolvedAddress(int(family), tuple(sockaddr))
        if address not in seen:
            seen.append(address)
    return DnsResult(host, DnsOutcome.FOUND, tuple(seen), budget.elapsed_ms())
