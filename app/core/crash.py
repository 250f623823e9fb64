"""Crash reports: what went wrong inside the program, written to the log folder for support.

An exception that nothing else caught is a bug of ours, never the user's doing. Instead of a traceback on a
console (or a window that vanishes), the program writes ``crash-YYYYMMDD-HHMMSS.txt`` into the log folder, with
the program and system versions and the traceback, and tells the user in one sentence where it is. Passwords
the user typed in this session are replaced with ``***`` in the report (``register_secret``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import platform
import ssl
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import TextIO

from app import __version__
from app.core.log import log, log_folder

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret typed in this session (a password), so that no crash report can contain it."""
    if value:
        with _lock:
            _secrets.add(value)


def forget_secret(value: str) -> None:
    """Forget a secret that is no longer in use."""
    with _lock:
        _secrets.discard(value)


def _scrub(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def crash_text(kind: type[BaseException], error: BaseException, tb: TracebackType | None, where: str = "") -> str:
    """The crash report's text: versions, where it happened, the traceback (secrets scrubbed)."""
    lines = [
        f"TLS Readiness Checker {__version__} crash report",
        f"Time: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"Where: {where or threading.current_thread().name}",
        f"Program: {'frozen' if getattr(sys, 'frozen', False) else 'from source'}, Python {platform.python_version()}",
        f"System: {platform.platform()}",
        f"TLS library: {ssl.OPENSSL_VERSION}",
        "",
        *traceback.format_exception(kind, error, tb),
    ]
    return _scrub("\n".join(line.rstrip("\n") for line in lines)) + "\n"


def write_crash_report(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None, where: str = ""
) -> Path | None:
    """Write a crash report into the log folder; its path, or None when it cannot be written anywhere."""
    return save_crash_text(crash_text(kind, error, tb, where), f"{kind.__name__}: {error}")


def save_crash_text(text: str, summary: str) -> Path | None:
    """Write a report's text (from :func:`crash_text`) into the log folder, or the temporary folder when that
    cannot be written; its path, or None."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for folder in (log_folder(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{stamp}-{os.getpid()}.txt"
            n = 1
            while path.exists():
                n += 1
                path = folder / f"crash-{stamp}-{os.getpid()}-{n}.txt"
            partial = path.with_suffix(".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
        except OSError:
            continue
        log.error("crash report written to %s: %s", path, _scrub(summary))
        return path
    return None


def crash_sentence(path: Path | None) -> str:
    """What to tell the user: plain words, whom to send it to."""
    saved = (
        f"A crash report was saved as {path}."
        if path
        else "A crash report could not be saved (the log folder cannot be written)."
    )
    return (
        "Something went wrong inside TLS Readiness Checker. This is a fault in the program, not in anything you "
        f"did. {saved} Please send it to your IT department or whoever supports this program; it holds no "
        "password or key."
    )


_NATIVE_PREFIX = "native-"
_native_file: TextIO | None = None  # the open file faulthandler writes into (kept open for the process's life)


def enable_native_crash_traces() -> Path | None:
    """Have a native crash (in Qt, OpenSSL or Python itself, where no exception is raised) leave its trace in
    the log folder: Python's ``faulthandler`` writes every thread's stack into ``native-PID.txt`` if the
    process dies. Returns the report of such a crash from an earlier run, renamed ``crash-...-native.txt``,
    so that the program can say it crashed last time and where the report is (None when it did not)."""
    global _native_file  # noqa: PLW0603 - one file per process, for faulthandler's whole life
    import faulthandler

    if _native_file is not None:
        return None  # already on in this process (and earlier runs' crashes already said)
    folder = log_folder()
    found = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{_NATIVE_PREFIX}*.txt"):
            pid = old.stem.removeprefix(_NATIVE_PREFIX)
            if pid.isdigit() and _running(int(pid)):
                continue  # another copy of the program, still running: its file is its own
            try:
                if old.stat().st_size == 0:
                    old.unlink()  # a run that ended normally (or one still running, on systems that allow it)
                    continue
                stamp = dt.datetime.fromtimestamp(old.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
                target = folder / f"crash-{stamp}-{old.stem.removeprefix(_NATIVE_PREFIX)}-native.txt"
                header = f"TLS Readiness Checker {__version__} native crash (faulthandler)\n\n"
                target.write_text(header + old.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
                old.unlink()
                found = target
            except OSError:
                continue  # held open by another running copy (Windows), or not ours to touch
        own = folder / f"{_NATIVE_PREFIX}{os.getpid()}.txt"
        _native_file = own.open("w", encoding="utf-8")
        faulthandler.enable(_native_file, all_threads=True)
        atexit.register(_end_native_crash_traces)
    except OSError:
        pass  # no log folder: the program still runs, without native traces
    if found is not None:
        log.error("the program crashed in an earlier run; the report is %s", found)
    return found


def _end_native_crash_traces() -> None:
    """At a normal exit: stop writing native traces and close the (empty) file, which the next start removes."""
    import faulthandler

    global _native_file  # noqa: PLW0603
    if _native_file is not None:
        faulthandler.disable()
        _native_file.close()
        _native_file = None


def _running(pid: int) -> bool:
    """Is that process still running? (Windows keeps a running copy's open file from being touched anyway.)"""
    if pid == os.getpid():
        return False
    if sys.platform == "win32":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's
    return True


def native_crash_sentence(path: Path) -> str:
    """What to tell the user at start when the previous run crashed natively."""
    return (
        "TLS Readiness Checker stopped unexpectedly the last time it ran. This was a fault in the program, not "
        f"in anything you did. A report was saved as {path}. Please send it to your IT department or whoever "
        "supports this program; it holds no password or key."
    )
