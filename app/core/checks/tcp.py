"""TCP: open a connection to the server, trying the next address when one fails."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from enum import StrEnum

from app.core.checks.dns import ResolvedAddress
from app.core.net import Budget, StepTimeout, connect


class TcpOutcome(StrEnum):
    """How a connection attempt ended."""

    CONNECTED = "connected"
    REFUSED = "refused"  # the computer answered: nothing listens on that port
    TIMEOUT = "timeout"  # no answer at all: a firewall usually drops the attempt
    RESET = "reset"
    UNREACHABLE = "unreachable"  # no route to that network from this computer
    ERROR = "error"


_REFUSED = {errno.ECONNREFUSED, 10061}
_RESET = {errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, 10054, 10053}
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, 10051, 10065}


@dataclass(frozen=True)
class TcpAttempt:
    """One attempt to connect to one address.

    Attributes:
        address: the IP address tried.
        outcome: connected, refused, timed out, reset, unreachable or another error.
        elapsed_ms: how long the attempt took.
        error: the system's message when it failed.
    """

    address: str
    outcome: TcpOutcome
    elapsed_ms: float
    error: str = ""


@dataclass(frozen=True)
class TcpResult:
    """The result of connecting to the server.

    Attributes:
        attempts: every attempt, in order; the last one connected when any did.
        address: the address that accepted the connection, for the checks that follow.
    """

    attempts: tuple[TcpAttempt, ...]
    address: ResolvedAddress | None = None

    @property
    def connected(self) -> bool:
        """True when one of the addresses accepted the connection."""
        return self.address is not None

    @property
    def outcome(self) -> TcpOutcome:
        """Connected when any address worked; otherwise the most telling failure (timeout before refused)."""
        if self.connected:
            return TcpOutcome.CONNECTED
        order = [TcpOutcome.TIMEOUT, TcpOutcome.RESET, TcpOutcome.REFUSED, TcpOutcome.UNREACHABLE]
        outcomes = {a.outcome for a in self.attempts}
        return next((o for o in order if o in outcomes), TcpOutcome.ERROR)

    @property
    def elapsed_ms(self) -> float:
        """Time taken by the successful attempt (or the last one)."""
        return self.attempts[-1].elapsed_ms if self.attempts else 0.0


def classify_os_error(exc: OSError) -> TcpOutcome:
    """Tell refused, reset and unreachable apart by error number (the same on every system's wording)."""
    if isinstance(exc, ConnectionRefusedError) or exc.errno in _REFUSED:
        return TcpOutcome.REFUSED
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError | BrokenPipeError) or exc.errno in _RESET:
        return TcpOutcome.RESET
    if exc.errno in _UNREACHABLE:
        return TcpOutcome.UNREACHABLE
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return TcpOutcome.TIMEOUT
    return TcpOutcome.ERROR


def connect_first(addresses: tuple[ResolvedAddress, ...], budget: Budget) -> tuple[TcpResult, socket.socket | None]:
    """Try each address in turn until one accepts; each attempt has the full time limit.

    Returns the result and the open connection (for the first handshake to use). Raises only
    :class:`~app.core.errors.Cancelled`.
    """
    attempts: list[TcpAttempt] = []
    for address in addresses:
        attempt_budget = budget.fresh()
        try:
            sock = connect(address.sockaddr, address.family, attempt_budget)
        except StepTimeout:
            attempts.append(TcpAttempt(address.ip, TcpOutcome.TIMEOUT, attempt_budget.elapsed_ms(), "no answer"))
            continue
        except OSError as exc:
            attempts.append(TcpAttempt(address.ip, classify_os_error(exc), attempt_budget.elapsed_ms(), _describe(exc)))
            continue
        attempts.append(TcpAttempt(address.ip, TcpOutcome.CONNECTED, attempt_budget.elapsed_ms()))
        return TcpResult(tuple(attempts), address), sock
    return TcpResult(tuple(attempts)), None


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
