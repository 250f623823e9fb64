"""Guided troubleshooting: numbered steps that the help desk and the user both see on a call.

Step 1 chooses the environment and application; step 2 checks; then one page per address with problems says
what it means and what to do, with an "I did this, check again" button that re-checks only that address; the
last step offers the diagnostic bundle and shows the reference to read out when a problem remains.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from app.core.endpoint import CheckFinished
from app.core.findings import STATUS_RANK, Verdict
from app.core.model import RunReport, TargetReport
from app.core.reference import SupportSummary, encode
from app.core.runner import RunFinished, RunStarted
from app.core.words import explain
from app.gui.status import problem_text_colour
from app.gui.worker import CheckTask, TaskSignals

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

CHOOSE, CHECK, FIRST_PROBLEM, FINISH = 0, 1, 100, 900


class GuidedTroubleshooting(QWizard):
    """The step-by-step mode. Emits ``check_done`` after each check or re-check is shown."""

    check_done = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.main = window
        self.setWindowTitle("Guided troubleshooting")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.resize(760, 560)
        self.report: RunReport | None = None
        self.task: CheckTask | None = None
        self._finished_task: CheckTask | None = None
        self._recheck_page: ProblemPage | None = None
        self.signals = TaskSignals(self)
        self.signals.progress.connect(self._on_event)
        self.signals.failed.connect(self._on_failed)
        self.signals.done.connect(self._on_done)
        self.choose = ChoosePage(window)
        self.check = CheckPage(self)
        self.finish = FinishPage(self)
        self.setPage(CHOOSE, self.choose)
        self.setPage(CHECK, self.check)
        self.setPage(FINISH, self.finish)
        self._problem_ids: list[int] = []
        self._number_steps()

    # ---------------------------------------------------------------- steps

    def problem_pages(self) -> list[ProblemPage]:
        """The problem pages, in order."""
        return [page for i in self._problem_ids if isinstance(page := self.page(i), ProblemPage)]

    def _number_steps(self) -> None:
        total = 3 + len(self._problem_ids)
        self.choose.setTitle(f"Step 1 of {total}: Choose where you connect")
        self.check.setTitle(f"Step 2 of {total}: Check the connection")
        for n, page in enumerate(self.problem_pages(), start=1):
            page.setTitle(f"Step {2 + n} of {total}: Problem {n} of {len(self._problem_ids)}")
        self.finish.setTitle(f"Step {total} of {total}: Finish")

    def _show_report(self, report: RunReport) -> None:
        self.report = report
        for page_id in self._problem_ids:
            self.removePage(page_id)
        self._problem_ids = []
        troubled = [t for t in report.targets if t.verdict is not Verdict.READY]
        for n, target in enumerate(troubled):
            self.setPage(FIRST_PROBLEM + n, ProblemPage(self, target))
            self._problem_ids.append(FIRST_PROBLEM + n)
        self._number_steps()

    def remaining(self) -> list[TargetReport]:
        """Addresses that still have problems."""
        return [t for t in (self.report.targets if self.report else ()) if t.verdict is not Verdict.READY]

    # ---------------------------------------------------------------- checking

    def run_check(self, only: tuple[str, ...] = (), page: ProblemPage | None = None) -> None:
        """Check the chosen environment and application (or only one address, from a problem page)."""
        if self.task is not None:
            return
        request = self.main.request()
        request = dataclasses.replace(
            request,
            env_id=self.choose.environment.currentData() or "",
            urls=(),
            app_ids=(self.choose.application.currentData(),) if self.choose.application.currentData() else (),
            only=only,
        )
        self._recheck_page = page
        self.main.pool.waitForDone()
        self._finished_task = None
        self.task = CheckTask(request, self.main.catalog, self.signals)
        self.main.pool.start(self.task)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if self._recheck_page is None:
            self.check.on_event(event)
        if isinstance(event, RunFinished):
            if self._recheck_page is None:
                self._show_report(event.report)
            else:
                self._merge(event.report)

    def _merge(self, rerun: RunReport) -> None:
        if self.report is None or not rerun.targets:
            return
        fresh = {t.target.id: t for t in rerun.targets}
        targets = tuple(fresh.get(t.target.id, t) for t in self.report.targets)
        self.report = dataclasses.replace(self.report, targets=targets, log=self.report.log + rerun.log)
        if self._recheck_page is not None:
            self._recheck_page.show_result(fresh[self._recheck_page.target.target.id])

    @Slot(str)
    def _on_failed(self, sentence: str) -> None:
        page = self._recheck_page or self.check
        page.show_problem(sentence)

    @Slot()
    def _on_done(self) -> None:
        self._finished_task, self.task = self.task, None
        self._recheck_page = None
        self.check.completeChanged.emit()
        self.check_done.emit()

    def export_bundle(self, path: str) -> None:
        """Write the bundle of this session (re-checks included) through the main window."""
        if self.report is not None:
            self.main.export_bundle(path, self.report)

    def reject(self) -> None:
        """Closing the guide stops a check that is running."""
        if self.task is not None:
            self.task.cancel()
        self.main.pool.waitForDone(5000)
        super().reject()


class ChoosePage(QWizardPage):
    """Step 1: the environment and the application."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.setSubTitle(
            "Choose the environment and the application you use. If you are not sure, ask the person "
            "helping you; 'All applications' checks everything."
        )
        self.environment = QComboBox()
        self.environment.setAccessibleName("Guided environment")
        self.application = QComboBox()
        self.application.setAccessibleName("Guided application")
        self.catalog = window.catalog
        for env in window.catalog.environments.values():
            self.environment.addItem(env.name, env.id)
        self.environment.currentIndexChanged.connect(self._fill_applications)
        self.environment.setCurrentIndex(max(0, self.environment.findData(window.environment.currentData())))
        self._fill_applications()
        self.application.setCurrentIndex(max(0, self.application.findData(window.application.currentData())))
        form = QFormLayout(self)
        form.addRow("Environment:", self.environment)
        form.addRow("Application:", self.application)

    def _fill_applications(self) -> None:
        self.application.clear()
        self.application.addItem("All applications", "")
        for app in self.catalog.applications_in(self.environment.currentData()):
            self.application.addItem(app.name, app.id)


class CheckPage(QWizardPage):
    """Step 2: the check itself."""

    def __init__(self, wizard: GuidedTroubleshooting) -> None:
        super().__init__()
        self.guide = wizard
        self.setSubTitle("Press Check now. It takes a few seconds; nothing is changed on this computer.")
        self.button = QPushButton("Check now")
        self.button.setAccessibleName("Check now")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Guided progress")
        self.result = QLabel()
        self.result.setAccessibleName("Check result")
        self.result.setWordWrap(True)
        self._units = 0
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.progress)
        layout.addWidget(self.result, 1)
        self.button.clicked.connect(self._start)

    def _start(self) -> None:
        self.result.setText("Checking...")
        self.result.setStyleSheet("")
        self.progress.setRange(0, 0)
        self.guide.run_check()

    def on_event(self, event: object) -> None:
        """Progress while checking."""
        if isinstance(event, RunStarted):
            self._units = 0
            self.progress.setRange(0, max(1, len(event.targets) * 8))
        elif isinstance(event, CheckFinished):
            self._units += 1
            self.progress.setValue(min(self.progress.maximum(), self._units))
        elif isinstance(event, RunFinished):
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            problems = len([t for t in event.report.targets if t.verdict is not Verdict.READY])
            if problems:
                self.result.setText(
                    f"{problems} address{'es have' if problems != 1 else ' has'} problems. "
                    "Press Next to go through them one by one."
                )
            else:
                self.result.setText("This computer is ready for TLS 1.2. Press Next to finish.")

    def show_problem(self, sentence: str) -> None:
        """The check could not start."""
        self.progress.setRange(0, 1)
        self.result.setText(sentence)
        self.result.setStyleSheet(f"color: {problem_text_colour(self)};")

    def isComplete(self) -> bool:
        """Next is possible once a check has finished."""
        return self.guide.report is not None and self.guide.task is None


class ProblemPage(QWizardPage):
    """One address with problems: what it means, what to do, and a re-check of only this address."""

    def __init__(self, wizard: GuidedTroubleshooting, target: TargetReport) -> None:
        super().__init__()
        self.guide = wizard
        self.target = target
        self.setSubTitle(f"{target.target.name} ({target.target.address.url})")
        self.text = QLabel()
        self.text.setAccessibleName("Problem explanation")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.again = QPushButton("I did this, check again")
        self.again.setAccessibleName("Check again")
        self.status = QLabel()
        self.status.setAccessibleName("Re-check result")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.again)
        layout.addWidget(self.status)
        self.again.clicked.connect(self._check_again)
        self._describe(target)

    def _describe(self, target: TargetReport) -> None:
        parts = []
        for f in sorted(target.problems, key=lambda f: -STATUS_RANK[f.status]):
            words = explain(f)
            parts.append(
                f"<p><b>{html.escape(words.title)}</b> <small>[{f.code.value}]</small><br>"
                f"{html.escape(words.explanation)}</p><p><b>What to do:</b> {html.escape(words.action)}</p>"
            )
        self.text.setText("".join(parts) or "<p>This address could not be checked.</p>")

    def _check_again(self) -> None:
        self.status.setText("Checking this address again...")
        self.status.setStyleSheet("")
        self.guide.run_check(only=(self.target.target.id,), page=self)

    def show_result(self, fresh: TargetReport) -> None:
        """The result of the re-check."""
        self.target = fresh
        if fresh.verdict is Verdict.READY:
            self.status.setText("Fixed: this address works now. Press Next.")
            self.status.setStyleSheet("color: #1e8e3e; font-weight: bold;")
            self.text.setText("<p>Nothing needs attention here any more.</p>")
        else:
            titles = "; ".join(explain(f).title for f in fresh.problems)
            self.status.setText(
                f"Still a problem: {titles}. Try the next step, or press Next and send the "
                "diagnostic bundle at the end."
            )
            self.status.setStyleSheet(f"color: {problem_text_colour(self)}; font-weight: bold;")
            self._describe(fresh)

    def show_problem(self, sentence: str) -> None:
        """The re-check could not start."""
        self.status.setText(sentence)
        self.status.setStyleSheet(f"color: {problem_text_colour(self)};")


class FinishPage(QWizardPage):
    """The last step: ready, or the bundle and the reference to read out."""

    def __init__(self, wizard: GuidedTroubleshooting) -> None:
        super().__init__()
        self.guide = wizard
        self.text = QLabel()
        self.text.setAccessibleName("Guided summary")
        self.text.setWordWrap(True)
        self.reference = QLabel()
        self.reference.setAccessibleName("Guided reference")
        font = self.reference.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.reference.setFont(font)
        self.export = QPushButton("Export diagnostic bundle...")
        self.export.setAccessibleName("Guided export diagnostic bundle")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.reference)
        layout.addWidget(self.export)
        layout.addStretch(1)
        self.export.clicked.connect(self._export)

    def initializePage(self) -> None:
        """Sum up when the page is shown."""
        report = self.guide.report
        remaining = self.guide.remaining()
        if report is None:
            return
        if not remaining:
            self.text.setText("This computer is ready for TLS 1.2 for everything checked. You can close this guide.")
            self.reference.setText(f"Reference {report.reference}")
            self.export.hide()
            return
        code = encode(SupportSummary.from_report(report))
        noun = "address still has" if len(remaining) == 1 else "addresses still have"
        self.text.setText(
            f"{len(remaining)} {noun} problems. Export the diagnostic bundle and send it to the person helping "
            f"you, and read out this reference (and the support code {code}):"
        )
        self.reference.setText(report.reference)
        self.export.show()

    def _export(self) -> None:
        self.guide.main.export_bundle_dialog_for(self.guide.report)


def open_guide(window: MainWindow) -> GuidedTroubleshooting:
    """Open the guide beside the main window (not modal, so both stay visible)."""
    guide = GuidedTroubleshooting(window)
    guide.show()
    return guide
