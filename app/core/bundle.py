"""The diagnostic bundle: one ``.zip`` a support engineer can diagnose from, without the user's computer.

It holds ``report.json``, ``report.html``, the certificate chains the servers sent (``certificates/*.pem``),
a picture of the window when exported from it, ``environment.json`` (systems and versions, proxy settings
without credentials, time limits), this run's ``log.txt``, and ``manifest.json`` listing every other file with
its SHA-256. Each section is gathered on its own: one that fails records its error and the rest still go in.
It never holds a password or private key. It is written to a temporary file beside the target and renamed
into place, so a crash or a full disk never leaves half a bundle under the chosen name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import ssl
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app import __version__
from app.core.contacts import Contact
from app.core.errors import InputError
from app.core.model import RunReport
from app.core.proxy import without_credentials
from app.core.report_html import render_html
from app.core.report_json import report_json
from app.core.system import wine_version

_PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)
_PACKAGES = ("cryptography", "certifi", "truststore", "platformdirs", "PySide6-Essentials")


class BundleError(InputError):
    """The bundle could not be written where asked (one plain sentence)."""


@dataclass(frozen=True)
class BundleContext:
    """What goes into a bundle besides the report.

    Attributes:
        catalog_version: the catalog's version.
        environment_name: the environment's name, for the HTML page.
        application_names: application names by id, for the HTML page.
        settings: the settings used, as plain facts (time limits, extra trusted certificate file names).
        contacts: whom the words send people to (the catalog's), named in report.html.
        window_png: a picture of the window (when exported from it).
        qt_version: Qt's version, from the window.
    """

    catalog_version: str = ""
    environment_name: str = ""
    application_names: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    window_png: bytes | None = None
    qt_version: str = ""


@dataclass(frozen=True)
class BundleResult:
    """A written bundle: where, which files, and which sections failed (with their error)."""

    path: Path
    files: tuple[str, ...]
    failed_sections: Mapping[str, str]


def default_bundle_name(report: RunReport) -> str:
    """``tls-readiness-20261124-0512-K7QM-3XPA.zip``: the date, the time and the run's reference."""
    return f"tls-readiness-{report.started:%Y%m%d-%H%M%S}-{report.reference or 'run'}.zip"


def resolve_bundle_path(text: str | Path, report: RunReport | None = None) -> Path:
    """Where to write: a folder gets the default name; a file name must end in .zip and its folder exist."""
    path = Path(text).expanduser()
    if path.is_dir():
        if report is None:
            return path
        return path / default_bundle_name(report)
    if path.suffix.lower() != ".zip":
        raise BundleError(f"The bundle name {path.name} must end in .zip.")
    if not path.parent.is_dir():
        raise BundleError(f"The folder {path.parent} does not exist.")
    return path


def write_bundle(path: Path, report: RunReport, context: BundleContext | None = None) -> BundleResult:
    """Gather every section and write the bundle atomically. Raises :class:`BundleError` in plain words."""
    context = context or BundleContext()
    files: dict[str, bytes] = {}
    failed: dict[str, str] = {}

    def section(name: str, gather: Callable[[], Mapping[str, bytes]]) -> None:
        try:
            files.update(gather())
        except Exception:
            failed[name] = traceback.format_exc(limit=4)

    section("report.json", lambda: {"report.json": report_json(report, context.catalog_version).encode()})
    section(
        "report.html",
        lambda: {
            "report.html": render_html(
                report,
                context.environment_name,
                context.application_names,
                context.catalog_version,
                context.settings,
                context.contacts,
            ).encode()
        },
    )
    section("certificates", lambda: _certificates(report))
    if context.window_png is not None:
        section("window.png", lambda: {"window.png": context.window_png or b""})
    section("environment.json", lambda: {"environment.json": _json(_environment(context))})
    section("log.txt", lambda: {"log.txt": ("\n".join(report.log) + "\n").encode()})
    manifest = {
        "program": f"TLS Readiness Checker {__version__}",
        "reference": report.reference,
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
        "failed_sections": failed,
    }
    files["manifest.json"] = _json(manifest)
    _write_atomically(path, files)
    return BundleResult(path, tuple(sorted(files)), failed)


def _certificates(report: RunReport) -> dict[str, bytes]:
    out = {}
    for i, target in enumerate(report.targets, start=1):
        if target.chain:
            safe = re.sub(r"[^A-Za-z0-9._-]+", "_", target.target.id)[:60]
            out[f"certificates/{i:03d}-{safe}.pem"] = "".join(c.pem for c in target.chain).encode("ascii")
    return out


def _environment(context: BundleContext) -> dict[str, object]:
    from importlib import metadata  # only when a bundle is written (it costs start-up time otherwise)

    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    proxies = {name: without_credentials(os.environ[name]) for name in _PROXY_VARIABLES if name in os.environ}
    return {
        "program": __version__,
        "system": platform.platform(),
        "system_release": f"{platform.system()} {platform.release()} {platform.version()}",
        "machine": platform.machine(),
        "wine": wine_version() or "no",
        "python": sys.version,
        "openssl": ssl.OPENSSL_VERSION,
        "qt": context.qt_version or "not used",
        "packages": versions,
        "catalog_version": context.catalog_version,
        "proxy_environment": proxies,
        "settings": dict(context.settings),
        "frozen": bool(getattr(sys, "frozen", False)),
    }


def _json(data: object) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


def _write_atomically(path: Path, files: Mapping[str, bytes]) -> None:
    folder = path.parent
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".part", dir=folder)
    except OSError as exc:
        raise BundleError(f"The bundle cannot be written in {folder}: {exc.strerror or exc}.") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
            archive.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BundleError(f"The bundle could not be written to {path}: {exc.strerror or exc}.") from None
        raise
