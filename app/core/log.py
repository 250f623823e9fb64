"""The program's log: a rotating file in the per-user log folder, and each run's own lines for the bundle.

Nothing secret is ever logged: no password, no key, no proxy credentials (callers log only facts such as
addresses and finding codes).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
from pathlib import Path

import platformdirs

from app import APP_NAME

LOGGER_NAME = "tls_readiness"
LOG_FILE = "tls-readiness.log"
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(message)s"
MAX_BYTES = 1_000_000
BACKUPS = 4

log = logging.getLogger(LOGGER_NAME)
log.addHandler(logging.NullHandler())  # nothing on the console unless set up (the CLI prints its own sentences)


def log_folder() -> Path:
    """The per-user log folder (Windows: ``%LOCALAPPDATA%``, macOS: ``~/Library/Logs``, Linux: ``~/.local/state``);
    ``TLS_READINESS_LOG_DIR`` overrides it."""
    override = os.environ.get("TLS_READINESS_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def setup_logging(folder: Path | None = None, level: int = logging.INFO) -> Path | None:
    """Send the program's log to a rotating file; returns its path, or None when the folder cannot be made
    (the program then runs without a log file rather than failing)."""
    folder = folder or log_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    for old in [h for h in log.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.setLevel(level)
    return folder / LOG_FILE


class RunLog(logging.Handler):
    """Keeps the lines logged while one run is going on (for that run's bundle)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lines: list[str] = []
        self._run_thread_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        """Store one formatted line."""
        with self._run_thread_lock:
            self.lines.append(self.format(record))

    def __enter__(self) -> RunLog:
        log.addHandler(self)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        log.removeHandler(self)
