"""Render the real window in its main states to docs/screenshots/ (offscreen; no display needed).

    .venv/bin/python scripts/screenshots.py [--dark] [--scale 2] [--screen 1366x768] [--out DIR]

States: idle, running, ready, problems (a failure selected), ads-outdated, this-computer, and the guide's check,
computer, problem and finish pages. ``--screen`` puts the window on a screen of that size (less a 40-pixel
taskbar), sized as a first start there sizes it; without it the window is 1180 x 800. Uses the practice lab, so
nothing leaves the computer. Settings go to a temporary file, never to the user's own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dark", action="store_true", help="use the dark colour scheme")
    parser.add_argument("--scale", default="1", help="screen scale factor, e.g. 2 for 200 %%")
    parser.add_argument("--screen", help="a screen of this size in pixels, such as 1366x768")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="output folder")
    args = parser.parse_args()
    args.out = str(Path(args.out).resolve())  # before any change of folder
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.screen:
        import json

        width, height = (int(n) for n in args.screen.lower().split("x"))
        folder = Path(tempfile.mkdtemp(prefix="tlsrc-screen-"))
        screen = {"name": "s", "x": 0, "y": 0, "width": width, "height": height - 40, "logicalDpi": 96}
        (folder / "screen.json").write_text(json.dumps({"screens": [{**screen, "logicalBaseDpi": 96}]}))
        os.chdir(folder)  # named without a drive letter: Qt splits its platform options at ":"
        os.environ["QT_QPA_PLATFORM"] = "offscreen:configfile=screen.json"
    os.environ["QT_SCALE_FACTOR"] = args.scale

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication(["screenshots"])
    if args.dark:
        # What a dark system theme hands to Qt: a dark palette (the offscreen platform has no theme of its own).
        from PySide6.QtGui import QColor, QPalette

        qt_app.setStyle("Fusion")
        qt_app.styleHints().setColorScheme(Qt.ColorScheme.Dark)
        palette = QPalette()
        for role, colour in (
            (QPalette.ColorRole.Window, "#202124"),
            (QPalette.ColorRole.WindowText, "#e8eaed"),
            (QPalette.ColorRole.Base, "#171717"),
            (QPalette.ColorRole.AlternateBase, "#2a2a2a"),
            (QPalette.ColorRole.Text, "#e8eaed"),
            (QPalette.ColorRole.Button, "#303134"),
            (QPalette.ColorRole.ButtonText, "#e8eaed"),
            (QPalette.ColorRole.Highlight, "#1f6fd1"),
            (QPalette.ColorRole.HighlightedText, "#ffffff"),
            (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
            (QPalette.ColorRole.ToolTipBase, "#303134"),
            (QPalette.ColorRole.ToolTipText, "#e8eaed"),
        ):
            palette.setColor(role, QColor(colour))
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
        qt_app.setPalette(palette)

    from app.core.findings import Check
    from app.gui import create_window
    from app.gui.preferences import Preferences
    from app.lab import shared_lab, stop_shared_lab

    lab = shared_lab()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = (
        ("-dark" if args.dark else "")
        + (f"-{args.screen}" if args.screen else "")
        + (f"-x{args.scale}" if args.scale != "1" else "")
    )
    work = Path(tempfile.mkdtemp(prefix="tlsrc-shots-"))
    prefs = Preferences(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    ca = work / "practice-ca.pem"
    ca.write_text(lab.pki.ca.pem)

    window = create_window(["--env", "practice"], prefs)
    if not args.screen:
        window.resize(1180, 800)
    window.show()

    def settle(ms: int = 150) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(name: str) -> None:
        settle()
        path = out / f"{name}{suffix}.png"
        window.grab().save(str(path))
        print(path)

    def guide_shot(guide: object, name: str) -> None:
        settle()
        path = out / f"{name}{suffix}.png"
        guide.grab().save(str(path))  # type: ignore[attr-defined]
        print(path)

    def run_to_end() -> None:
        loop = QEventLoop()
        window.check_finished.connect(loop.quit)
        window.start_check()
        loop.exec()
        window.check_finished.disconnect(loop.quit)

    shot("idle")
    prefs.timeout = 30  # keep the silent servers busy while the "running" picture is taken
    window.start_check()
    loop = QEventLoop()
    QTimer.singleShot(400, loop.quit)
    loop.exec()
    shot("running")
    window.cancel_check()
    loop = QEventLoop()
    window.check_finished.connect(loop.quit)
    loop.exec()
    prefs.timeout = None

    prefs.ca_files = [str(ca)]
    window.custom_address.setText(lab.url("ready"))
    run_to_end()
    shot("ready")

    window.custom_address.clear()
    run_to_end()
    item = window.results.item_for("practice-expired", Check.CERTIFICATE)
    if item is not None:
        window.results.setCurrentItem(item)
        window.results.scrollToItem(item)
    shot("problems")

    window.ads_version.setText("6.0.10.2")
    shot("ads-outdated")
    window.select("practice", "lab-protocol")
    run_to_end()
    from app.core.computer.checks import THIS_COMPUTER

    item = window.results.item_for(THIS_COMPUTER, Check.ADS_CLIENT)
    if item is not None:
        window.results.setCurrentItem(item)
        window.results.scrollToTop()
    shot("this-computer")
    window.ads_version.clear()
    window.select("practice", "")

    # Guided troubleshooting: the check step, this computer's page (an ADS client to upgrade), a problem page and
    # the last step, beside the window.
    window.ads_version.setText("6.0.10.2")
    guide = window.open_guide()
    guide.choose.environment.setCurrentIndex(guide.choose.environment.findData("practice"))
    guide.choose.application.setCurrentIndex(guide.choose.application.findData("lab-certificate"))
    guide.next()
    loop = QEventLoop()
    guide.check_done.connect(loop.quit)
    guide.check.button.click()
    loop.exec()
    guide_shot(guide, "guided-check")
    guide.next()
    guide_shot(guide, "guided-computer")
    guide.next()
    guide_shot(guide, "guided-problem")
    while guide.currentId() != 900:
        guide.next()
    guide_shot(guide, "guided-finish")
    guide.reject()
    window.close()
    stop_shared_lab()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
