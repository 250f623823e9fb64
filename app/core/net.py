"""Socket operations that honour a deadline and a cancel flag.

Every blocking step (connect, handshake, read, write) runs on a non-blocking socket and waits in ``select()``
until the socket is ready, the deadline passes, or the run is cancelled. A run's :class:`CancelFlag` owns a
socket that becomes readable on cancel, so every waiting thread wakes at once without polling (a plain
``threading.Event`` also works, checked every 50 ms).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from app.core.errors import Cancelled

SLICE = 0.05
T = TypeVar("T")


def wait_for(future: Future[T], cancel: threading.Event | CancelFlag) -> T:
    """A future's result, waited for in slices so that a cancel is seen within one (raises Cancelled)."""
    while True:
        try:
            return future.result(timeout=SLICE)
        except FutureTimeout:
            if cancel.is_set():
                raise Cancelled from None


class CancelFlag:
    """A run's cancel flag: set once, seen at once by every thread waiting in :func:`wait_io`.

    Behaves like ``threading.Event`` (``set``, ``is_set``, ``wait``); :meth:`close` it when the run is over.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._closed = False

    def set(self) -> None:
        """Cancel: wake every waiter."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            if not self._closed:
                with contextlib.suppress(OSError):
                    self._writer.send(b"x")

    def is_set(self) -> bool:
        """True once cancelled."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until cancelled (or ``timeout``)."""
        return self._event.wait(timeout)

    def fileno(self) -> int:
        """A socket that is readable once cancelled (never read from, so it stays readable)."""
        return self._reader.fileno()

    def close(self) -> None:
        """Release the sockets (the flag still answers ``is_set``)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._reader.close()
                self._writer.close()


Opener = Callable[["Budget"], socket.socket]  # opens a connection to the server (directly or through a proxy)


class StepTimeout(Exception):
    """A step took longer than its time limit."""


@dataclass
class Budget:
    """The time a step may take and the run's cancel flag.

    Attributes:
        seconds: the time limit of the step.
        cancel: set when the user cancels; every wait checks it.
    """

    seconds: float
    cancel: threading.Event | CancelFlag = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        """The monotonic time at which the step times out."""
        return self.started + self.seconds

    def fresh(self) -> Budget:
        """A new budget of the same length for the next step, sharing the cancel flag."""
        return Budget(self.seconds, self.cancel)

    def elapsed_ms(self) -> float:
        """Milliseconds since this budget started."""
        return (time.monotonic() - self.started) * 1000.0

    def next_slice(self) -> float:
        """How long the next wait may be; raises :class:`Cancelled` or :class:`StepTimeout` when it is over.

        With a :class:`CancelFlag` a wait can last until the deadline (cancel wakes it); with a plain event,
        at most 50 ms so that the flag is looked at often enough.
        """
        if self.cancel.is_set():
            raise Cancelled
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StepTimeout
        return remaining if isinstance(self.cancel, CancelFlag) else min(SLICE, remaining)


def wait_io(sock: socket.socket, budget: Budget, *, write: bool) -> None:
    """Wait until ``sock`` is readable (or writable), the deadline passes or the run is cancelled."""
    wake: list[socket.socket | CancelFlag] = [budget.cancel] if isinstance(budget.cancel, CancelFlag) else []
    while True:
        timeout = budget.next_slice()
        if write:
            # Windows reports a failed connect (refused, unreachable) only in the exception list; without it a
            # refusal would look like silence until the time limit. SO_ERROR then says what happened.
            _, writable, failed = select.select(wake, [sock], [sock], timeout)
            ready = writable or failed
        else:
            readable, _, _ = select.select([sock, *wake], [], [], timeout)
            ready = [s for s in readable if s is sock]
        if ready:
            return


def connect(sockaddr: tuple[object, ...], family: int, budget: Budget) -> socket.socket:
    """Open a TCP connection. Raises ``OSError`` (refused, reset, unreachable), StepTimeout or Cancelled."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(sockaddr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, 10035):  # 10035: WSAEWOULDBLOCK
            raise OSError(err, _strerror(err))
        if err != 0:
            wait_io(sock, budget, write=True)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, _strerror(err))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except BaseException:
        sock.close()
        raise


def _strerror(err: int) -> str:
    try:
        return os.strerror(err)
    except ValueError:
        return f"error {err}"


def ssl_step(sslsock: ssl.SSLSocket, step: Callable[[], T], budget: Budget) -> T:
    """Run one non-blocking SSL operation (handshake, read, write) to completion within the budget."""
    while True:
        try:
            return step()
        except ssl.SSLWantReadError:
            wait_io(sslsock, budget, write=False)
        except ssl.SSLWantWriteError:
            wait_io(sslsock, budget, write=True)


def send_all(sock: socket.socket, data: bytes, budget: Budget) -> None:
    """Send every byte of ``data`` (plain or TLS socket)."""
    view = memoryview(data)
    while view:
        if isinstance(sock, ssl.SSLSocket):
            sent = ssl_step(sock, functools.partial(sock.send, view), budget)
        else:
            wait_io(sock, budget, write=True)
            try:
                sent = sock.send(view)
            except BlockingIOError:
                continue
        view = view[sent:]


def recv_some(sock: socket.socket, budget: Budget, size: int = 16384) -> bytes:
    """Receive what is available (at least one byte), or ``b""`` when the other side closed."""
    if isinstance(sock, ssl.SSLSocket):
        if sock.pending():
            return sock.recv(size)
        return ssl_step(sock, lambda: sock.recv(size), budget)
    while True:
        wait_io(sock, budget, write=False)
        try:
            return sock.recv(size)
        except BlockingIOError:
            continue


def close_quietly(sock: socket.socket | None) -> None:
    """Close a socket, ignoring errors (it may already be broken)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.close()


def run_in_thread(func: Callable[[], T], budget: Budget, name: str) -> T:
    """Run a call that cannot be interrupted (name resolution) in a daemon thread, waiting in slices.

    A call that outlives the budget is abandoned (its thread ends on its own), so Cancel is never blocked.
    """
    box: dict[str, object] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=name, daemon=True).start()
    # An Event, unlike select(), is not woken by the cancel flag's socket: look at the flag every slice.
    while not done.wait(min(SLICE, budget.next_slice())):
        pass
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


class ServerSlots:
    """At most N connections at once to one server (host and port), across every endpoint of a run."""

    def __init__(self, per_server: int) -> None:
        self._per_server = per_server
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}

    def acquire(self, key: tuple[str, int], cancel: threading.Event | CancelFlag) -> None:
        """Wait (cancellably) for a free connection slot to ``key``."""
        sem = self._slots_of(key)
        while not sem.acquire(timeout=0.05):
            if cancel.is_set():
                raise Cancelled

    def try_acquire(self, key: tuple[str, int]) -> bool:
        """Take a free connection slot to ``key`` if there is one now (False: none is free)."""
        return self._slots_of(key).acquire(blocking=False)

    def _slots_of(self, key: tuple[str, int]) -> threading.BoundedSemaphore:
        with self._lock:
            return self._slots.setdefault(key, threading.BoundedSemaphore(self._per_server))

    def release(self, key: tuple[str, int]) -> None:
        """Give back a slot taken with :meth:`acquire`."""
        self._slots[key].release()

    @contextmanager
    def hold(self, key: tuple[str, int], cancel: threading.Event | CancelFlag) -> Iterator[None]:
        """Hold a slot for the duration of a ``with`` block."""
        self.acquire(key, cancel)
        try:
            yield
        finally:
            self.release(key)
