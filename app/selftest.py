"""``--self-test``: proves that an installed (or frozen) program works, without the network.

Each step prints one line, ``ok`` or ``FAILED`` with what went wrong; the exit status is 0 only if every step
worked. The steps: the resource files, the TLS library, the practice lab started in this process, a check of
seven lab servers through the engine (each must give the findings its scenario promises), the reports and a
diagnostic bundle, and the window rendered offscreen after a real check. Nothing is written outside a temporary
folder, which is removed at the end.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app import __version__

if TYPE_CHECKING:
    from app.lab.server import PracticeLab

EXIT_PASSED = 0
EXIT_FAILED = 1
WINDOW_TIMEOUT_MS = 30_000

# Lab scenarios checked by the engine step: quick ones that cover the protocol, certificate and HTTP checks.
# Scenarios whose codes depend on this computer's store refusing an unknown authority (which Wine's does not).
NEEDS_AN_HONEST_ROOT_CHECK = frozenset({"untrusted", "self-signed", "private-root"})
CHECKED_SCENARIOS = ("ready", "tls12-only", "legacy-too", "expired", "wrong-name", "untrusted", "no-common-cipher")


class SelfTestError(Exception):
    """A step did not do what it must (one sentence)."""


@dataclass
class _State:
    work: Path
    lab: PracticeLab | None = None
    report: object = None
    notes: list[str] = field(default_factory=list)


def _resources(state: _State) -> str:
    from app.core.catalog import load_catalog
    from app.core.findings import Code
    from app.core.resources import resource_path
    from app.core.words import load_words

    catalog = load_catalog(use_user_catalog=False)
    catalog.environment("practice")
    words = load_words()
    missing = [c.value for c in Code if c.value not in words]
    if missing:
        raise SelfTestError(f"no words for {', '.join(missing)}")
    for name in ("report.schema.json", "java/Probe.java", "icons/tls-readiness.png"):
        if not resource_path(name).is_file():
            raise SelfTestError(f"{name} is missing")
    count = sum(len(catalog.select(env.id, ())) for env in catalog.environments.values())
    return f"catalog {catalog.version} ({count} addresses), words for {len(words)} codes"


def _tls(state: _State) -> str:
    import certifi
    import cryptography

    context = ssl.create_default_context(cafile=certifi.where())
    roots = len(context.get_ca_certs())
    if roots < 50:
        raise SelfTestError(f"the public root certificates hold only {roots} certificates")
    if not ssl.HAS_TLSv1_2:
        raise SelfTestError(f"{ssl.OPENSSL_VERSION} cannot speak TLS 1.2")
    return f"{ssl.OPENSSL_VERSION}, cryptography {cryptography.__version__}, {roots} public roots"


def _lab(state: _State) -> str:
    from app.lab.server import start_lab

    lab = start_lab()  # its own, stopped at the end: a shared lab in this process is left alone
    state.lab = lab
    return f"{len(lab.urls())} practice servers on 127.0.0.1"


def _check(state: _State) -> str:
    from app.core.catalog import load_catalog
    from app.core.computer.checks import ComputerSettings
    from app.core.model import CheckSettings
    from app.core.plan import plan_targets
    from app.core.runner import run_checks
    from app.core.scenarios import SCENARIOS
    from app.core.system import WINE_TRUSTS_UNKNOWN_ROOTS, wine_version

    lab = state.lab
    if lab is None:
        raise SelfTestError("there is no practice lab, because its step failed")
    catalog = load_catalog(use_user_catalog=False)
    lab_of = {e.id: e.lab for e in catalog.select("practice", (), True) if e.lab}
    by_lab = {name: endpoint_id for endpoint_id, name in lab_of.items()}
    targets = plan_targets(
        catalog, "practice", only=[by_lab[name] for name in CHECKED_SCENARIOS], lab_provider=lambda: lab
    )
    started = time.perf_counter()
    report = run_checks(targets, CheckSettings(computer=ComputerSettings()), environment="practice")
    elapsed = time.perf_counter() - started
    expected = {s.name: set(s.expect) for s in SCENARIOS}
    wrong, unjudged = [], []
    for target in report.targets:
        scenario = lab_of[target.target.id]
        if scenario in NEEDS_AN_HONEST_ROOT_CHECK and wine_version():
            unjudged.append(scenario)
            continue
        missing = expected[scenario] - {f.code for f in target.findings}
        if missing:
            wrong.append(f"{scenario} lacks {', '.join(sorted(c.value for c in missing))}")
    if len(report.targets) != len(CHECKED_SCENARIOS):
        raise SelfTestError(f"{len(report.targets)} addresses checked instead of {len(CHECKED_SCENARIOS)}")
    if wrong:
        raise SelfTestError("; ".join(wrong))
    state.report = report
    note = f" ({', '.join(unjudged)} not judged: {WINE_TRUSTS_UNKNOWN_ROOTS})" if unjudged else ""
    return f"{len(report.targets)} addresses, every finding as expected, {elapsed * 1000:.0f} ms{note}"


def _reports(state: _State) -> str:
    from app.core.bundle import write_bundle
    from app.core.model import RunReport
    from app.core.report_html import render_html
    from app.core.report_json import report_json

    report = state.report
    if not isinstance(report, RunReport):
        raise SelfTestError("there is no report, because the check step failed")
    data = json.loads(report_json(report))
    if len(data["targets"]) != len(report.targets):
        raise SelfTestError("the JSON report does not hold every address")
    html = render_html(report)
    if report.reference not in html:
        raise SelfTestError("the HTML report lacks the run's reference")
    result = write_bundle(state.work / "bundle.zip", report)
    with zipfile.ZipFile(result.path) as bundle:
        names = set(bundle.namelist())
        bad = bundle.testzip()
    if bad or not {"report.json", "report.html", "manifest.json"} <= names:
        raise SelfTestError("the diagnostic bundle is incomplete")
    return f"JSON, HTML and a bundle of {len(names)} files ({result.path.stat().st_size // 1024} KB)"


def _window(state: _State) -> str:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer, qInstallMessageHandler
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from app.gui import create_window
    from app.gui.preferences import Preferences

    lab = state.lab
    if lab is None:
        raise SelfTestError("there is no practice lab, because its step failed")
    if QApplication.instance() is None:
        QApplication([sys.argv[0] if sys.argv else "tls-readiness"])
    qInstallMessageHandler(_quiet_offscreen)
    prefs = Preferences(QSettings(str(state.work / "settings.ini"), QSettings.Format.IniFormat))
    ca = state.work / "practice-ca.pem"
    ca.write_text(lab.pki.ca.pem)
    prefs.ca_files = [str(ca)]
    window = create_window(["--env", "practice"], prefs)
    window.resize(1000, 700)
    window.show()
    window.custom_address.setText(lab.url("ready"))
    loop = QEventLoop()
    window.check_finished.connect(loop.quit)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(WINDOW_TIMEOUT_MS)
    started = time.perf_counter()
    window.start_check()
    loop.exec()
    elapsed = time.perf_counter() - started
    report = window.last_report
    try:
        if report is None:
            window.cancel_check()
            raise SelfTestError(f"the window's check did not finish within {WINDOW_TIMEOUT_MS // 1000} s")
        picture = state.work / "window.png"
        if not window.grab().save(str(picture)):
            raise SelfTestError("the window could not be drawn to a picture")
        image = QImage(str(picture))
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        if len(colours) < 20:
            raise SelfTestError(f"the window's picture is nearly blank ({len(colours)} colours)")
        verdict = report.verdict.value
        if verdict != "ready":
            raise SelfTestError(f"the window's check of a healthy server said '{verdict}'")
        return f"{image.width()}x{image.height()} on '{QApplication.platformName()}', check in {elapsed:.1f} s"
    finally:
        window.close()
        window.deleteLater()


def _quiet_offscreen(_kind: object, _context: object, message: str) -> None:
    """Qt's messages go to stderr as usual, except the offscreen platform's notice that it cannot size windows."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


STEPS: tuple[tuple[str, Callable[[_State], str]], ...] = (
    ("resources", _resources),
    ("tls library", _tls),
    ("practice lab", _lab),
    ("check", _check),
    ("reports", _reports),
    ("window", _window),
)


def run_self_test(out: TextIO | None) -> int:
    """Run every step, print one line each, and return 0 only if all of them worked."""
    stream = out
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if stream is not None:
            stream.write(line + "\n")
            stream.flush()

    # The window step draws offscreen unless a window system was chosen on purpose (an empty choice is none: Qt
    # would try the desktop's and abort where there is no display).
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    say(f"TLS Readiness Checker {__version__} self-test{frozen}, Python {sys.version.split()[0]}, {sys.platform}")
    started = time.perf_counter()
    passed = 0
    with tempfile.TemporaryDirectory(prefix="tlsrc-self-test-") as work:
        state = _State(Path(work))
        try:
            for name, step in STEPS:
                step_started = time.perf_counter()
                try:
                    detail = step(state)
                except Exception as exc:  # every failure becomes one line, never a traceback
                    say(f"FAILED  {name:<13} {type(exc).__name__}: {exc}")
                    continue
                passed += 1
                say(f"ok      {name:<13} {detail} [{(time.perf_counter() - step_started) * 1000:.0f} ms]")
        finally:
            if state.lab is not None:
                state.lab.stop()
    total = time.perf_counter() - started
    verdict = "passed" if passed == len(STEPS) else "FAILED"
    say(f"self-test {verdict}: {passed} of {len(STEPS)} steps worked in {total:.1f} s")
    if stream is None:  # a windowed program on Windows has no console: leave the lines in the log folder
        from app.core.log import log_folder

        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "self-test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return EXIT_PASSED if passed == len(STEPS) else EXIT_FAILED
