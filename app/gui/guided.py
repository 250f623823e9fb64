"""Guided troubleshooting: numbered steps that the help desk and the user both see on a call.

Step 1 chooses the environment and application; step 2 checks; then one page per problem of this computer
(the ADS client, Windows' settings, Java, the proxy, the clock, the certificate file) and one per address with
problems says what it means and what to do, with an "I did this, check again" button that checks again only
that (an address alone, or this computer alone); the last step offers the diagnostic bundle and shows the
reference it carries, to read out when a problem remains. Its checks go through the program's one
:class:`~app.gui.session.CheckSession`: while the main window checks, the guide waits its turn (and the
other way round), and neither freezes.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Protocol

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.catalog import Catalog
from app.core.causes import SharedCause, shared_causes
from app.core.errors import InputError
from app.core.findings import PROBLEM_STATUSES, STATUS_RANK, Finding, Verdict
from app.core.model import RunReport, TargetReport
from app.core.reference import SupportSummary, encode
from app.core.runner import RunFinished
from app.core.words import explain
from app.gui.details import finding_html, glossary_html
from app.gui.session import CheckSession
from app.gui.status import CHECK_LABELS, problem_text_colour
from app.gui.worker import CheckRequest

CHOOSE, CHECK, FIRST_PROBLEM, FINISH = 0, 1, 100, 900
NOT_AN_ADDRESS = "(this computer only)"  # a re-check that keeps no address: this computer's checks alone
BUSY = "A check is already running in the main window. Wait for it to end, then press again."


class GuideHost(Protocol):
    """What the guide needs of the window that opens it."""

    catalog: Catalog
    session: CheckSession

    def request(self) -> CheckRequest:
        """What the window's fields say (certificate, ADS version, proxy). Raises InputError."""
        ...

    def chosen(self) -> tuple[str, str]:
        """The environment and application chosen in the window."""
        ...

    def export_bundle_dialog_for(
        self, report: RunReport | None, picture: QPixmap | None = None, owner: object | None = None
    ) -> None:
        """Ask where, then write ``report``'s bundle with ``picture`` as what the user saw."""
        ...

    def export_bundle(
        self, path: str, report: RunReport | None = None, picture: QPixmap | None = None, owner: object | None = None
    ) -> None:
        """Write ``report``'s bundle to ``path``."""
        ...


def computer_problems(report: RunReport) -> list[Finding]:
    """What stops this computer as a whole (and the certificate file), worst first: the guide's first pages."""
    found = [f for f in (*report.findings, *report.computer) if f.status in PROBLEM_STATUSES]
    return sorted(found, key=lambda f: -STATUS_RANK[f.status])


class GuidedTroubleshooting(QWizard):
    """The step-by-step mode. Emits ``check_done`` after each check or re-check is shown."""

    check_done = Signal()

    def __init__(self, host: GuideHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.session = host.session
        self.setWindowTitle("Guided troubleshooting")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.resize(760, 560)
        self.report: RunReport | None = None
        self.running = False
        self._recheck_page: ProblemPage | ComputerPage | CausePage | None = None
        self.session.progress.connect(self._session_event)
        self.session.counted.connect(self._session_counted)
        self.session.failed.connect(self._session_failed)
        self.session.finished.connect(self._session_finished)
        self.session.busy_changed.connect(self._busy_changed)
        self.session.bundle_written.connect(self._bundle_written)
        self.session.bundle_failed.connect(self._bundle_failed)
        self.choose = ChoosePage(host)
        self.check = CheckPage(self)
        self.finish = FinishPage(self)
        self.setPage(CHOOSE, self.choose)
        self.setPage(CHECK, self.check)
        self.setPage(FINISH, self.finish)
        self._problem_ids: list[int] = []
        self._number_steps()

    # ---------------------------------------------------------------- steps

    def problem_pages(self) -> list[ProblemPage]:
        """The pages of addresses with problems, in order."""
        return [page for i in self._problem_ids if isinstance(page := self.page(i), ProblemPage)]

    def computer_pages(self) -> list[ComputerPage]:
        """The pages of this computer's own problems, in order (they come first)."""
        return [page for i in self._problem_ids if isinstance(page := self.page(i), ComputerPage)]

    def _number_steps(self) -> None:
        """Before the check the number of steps is not known, so none is given; after it, it stays fixed."""
        if self.report is None:
            self.choose.setTitle("Step 1: Choose where you connect")
            self.check.setTitle("Step 2: Check the connection")
            self.finish.setTitle("Last step: Finish")
            return
        total = 3 + len(self._problem_ids)
        self.choose.setTitle(f"Step 1 of {total}: Choose where you connect")
        self.check.setTitle(f"Step 2 of {total}: Check the connection")
        pages = [self.page(i) for i in self._problem_ids]
        for n, page in enumerate(pages, start=1):
            page.setTitle(f"Step {2 + n} of {total}: Problem {n} of {len(pages)}")
        self.finish.setTitle(f"Step {total} of {total}: Finish")

    def _show_report(self, report: RunReport) -> None:
        self.report = report
        for page_id in self._problem_ids:
            self.removePage(page_id)
        self._problem_ids = []
        pages: list[QWizardPage] = [ComputerPage(self, f) for f in computer_problems(report)]
        causes = shared_causes(report)
        pages += [CausePage(self, c) for c in causes]  # one page for a problem many addresses share
        shared = {c.code for c in causes}
        pages += [
            ProblemPage(self, t)
            for t in report.targets
            if t.verdict is not Verdict.READY
            and not {f.code for f in t.problems if f.status in PROBLEM_STATUSES} <= shared
        ]
        for n, page in enumerate(pages):
            self.setPage(FIRST_PROBLEM + n, page)
            self._problem_ids.append(FIRST_PROBLEM + n)
        self._number_steps()

    def remaining(self) -> list[TargetReport]:
        """Addresses that still have problems."""
        return [t for t in (self.report.targets if self.report else ()) if t.verdict is not Verdict.READY]

    def remaining_computer(self) -> list[Finding]:
        """This computer's problems that remain."""
        return computer_problems(self.report) if self.report else []

    # ---------------------------------------------------------------- checking

    def run_check(self, only: tuple[str, ...] = (), page: ProblemPage | ComputerPage | CausePage | None = None) -> bool:
        """Check the chosen environment and application (or only one address, or only this computer, from a
        problem page). False when it could not start: another check runs, or the window's fields are wrong."""
        if self.running:
            return False
        if self.session.busy:
            (page or self.check).show_problem(BUSY)
            return False
        try:
            request = self.host.request()
        except InputError as exc:
            (page or self.check).show_problem(str(exc))
            return False
        request = dataclasses.replace(
            request,
            env_id=self.choose.environment.currentData() or "",
            urls=(),
            app_ids=(self.choose.application.currentData(),) if self.choose.application.currentData() else (),
            only=only,
        )
        self._recheck_page = page
        if not self.session.start(request, self):
            (page or self.check).show_problem(BUSY)
            return False
        self.running = True
        return True

    @Slot(object, object)
    def _session_event(self, owner: object, event: object) -> None:
        if owner is not self:
            return
        if self._recheck_page is None:
            self.check.on_event(event)
        if isinstance(event, RunFinished):
            if self._recheck_page is None:
                self._show_report(event.report)
            else:
                self._merge(event.report)

    @Slot(object, int, int)
    def _session_counted(self, owner: object, done: int, total: int) -> None:
        if owner is self and self._recheck_page is None:
            self.check.show_count(done, total)

    def _merge(self, rerun: RunReport) -> None:
        if self.report is None:
            return
        fresh = {t.target.id: t for t in rerun.targets}
        targets = tuple(fresh.get(t.target.id, t) for t in self.report.targets)
        # Every re-check looks at this computer again: its findings are the newest.
        self.report = dataclasses.replace(
            self.report,
            targets=targets,
            computer=rerun.computer,
            findings=rerun.findings,
            log=self.report.log + rerun.log,
        )
        page = self._recheck_page
        if isinstance(page, ProblemPage) and page.target.target.id in fresh:
            page.show_result(fresh[page.target.target.id])
        elif isinstance(page, ComputerPage | CausePage):
            page.show_result(self.report)

    @Slot(object, str)
    def _session_failed(self, owner: object, sentence: str) -> None:
        if owner is self:
            (self._recheck_page or self.check).show_problem(sentence)

    @Slot(object)
    def _session_finished(self, owner: object) -> None:
        if owner is not self:
            return
        self.running = False
        self._recheck_page = None
        self.check.completeChanged.emit()
        self.check_done.emit()

    @Slot(bool)
    def _busy_changed(self, busy: bool) -> None:
        """The guide's Check buttons follow the program's one check."""
        buttons: list[QPushButton] = [self.check.button]
        buttons += [p.again for p in self.problem_pages()]
        buttons += [p.again for p in self.computer_pages()]
        buttons += [p.again for i in self._problem_ids if isinstance(p := self.page(i), CausePage)]
        for button in buttons:
            button.setEnabled(not busy)

    # ---------------------------------------------------------------- the bundle

    def export_bundle(self, path: str) -> None:
        """Write this guide's bundle (its re-checks included, the guide's picture as what was seen)."""
        if self.report is not None:
            self.host.export_bundle(path, self.report, self.grab(), self)

    def export_bundle_dialog(self) -> None:
        """Ask where, then write this guide's bundle."""
        self.host.export_bundle_dialog_for(self.report, self.grab(), self)

    @Slot(object, str, str)
    def _bundle_written(self, owner: object, path: str, reference: str) -> None:
        if owner is self:
            self.finish.show_saved(path, reference)

    @Slot(object, str)
    def _bundle_failed(self, owner: object, sentence: str) -> None:
        if owner is self:
            self.finish.show_problem(sentence)

    def reject(self) -> None:
        """Closing the guide stops its own check (the main window's goes on); nothing waits here."""
        if self.running:
            self.session.cancel()
        super().reject()


class ChoosePage(QWizardPage):
    """Step 1: the environment and the application."""

    def __init__(self, window: GuideHost) -> None:
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
        env_id, app_id = window.chosen()
        self.environment.setCurrentIndex(max(0, self.environment.findData(env_id)))
        self._fill_applications()
        self.application.setCurrentIndex(max(0, self.application.findData(app_id)))
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
        if isinstance(event, RunFinished):
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.result.setText(check_result_text(event.report))

    def show_count(self, done: int, total: int) -> None:
        """Steps done of all the check's steps."""
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_problem(self, sentence: str) -> None:
        """The check could not start."""
        self.progress.setRange(0, 1)
        self.result.setText(sentence)
        self.result.setStyleSheet(f"color: {problem_text_colour(self)};")

    def isComplete(self) -> bool:
        """Next is possible once a check has finished."""
        return self.guide.report is not None and not self.guide.running


def check_result_text(report: RunReport) -> str:
    """What the check found, from the report's own verdict: "ready" only when the whole report says so."""
    computer = len(computer_problems(report))
    addresses = len([t for t in report.targets if t.verdict is not Verdict.READY])
    if report.cancelled:
        return "The check was cancelled. Press Check now to start again."
    if report.verdict is Verdict.READY:
        return "This computer is ready for TLS 1.2. Press Next to finish."
    return f"{found_text(computer, addresses)}. Press Next to go through them one by one."


def found_text(computer: int, addresses: int, still: bool = False) -> str:
    """ "This computer has 1 problem and 4 addresses have problems" (with "still" after a re-check)."""
    yet = " still" if still else ""
    parts = []
    if computer:
        parts.append(f"this computer{yet} has {computer} problem{'s' if computer != 1 else ''}")
    if addresses:
        parts.append(
            f"{addresses} address{'es' if addresses != 1 else ''}{yet} {'have' if addresses != 1 else 'has'} problems"
        )
    found = " and ".join(parts) or "some things could not be checked"
    return found[0].upper() + found[1:]


class _StepPage(QWizardPage):
    """A problem's page: what it means and what to do, a button to check again, and what that found."""

    def __init__(self, wizard: GuidedTroubleshooting) -> None:
        super().__init__()
        self.guide = wizard
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

    def _check_again(self) -> None:
        raise NotImplementedError

    def show_problem(self, sentence: str) -> None:
        """The re-check could not start."""
        self.status.setText(sentence)
        self.status.setStyleSheet(f"color: {problem_text_colour(self)};")


class ComputerPage(_StepPage):
    """One problem of this computer as a whole (the ADS client, Windows' settings, Java, the proxy, the clock,
    the certificate file), with a re-check of this computer alone."""

    def __init__(self, wizard: GuidedTroubleshooting, finding: Finding) -> None:
        super().__init__(wizard)
        self.finding = finding
        place = "Your certificate file" if finding in (wizard.report.findings if wizard.report else ()) else ""
        self.setSubTitle(f"This computer: {place or CHECK_LABELS.get(finding.check, finding.check.value)}")
        self.text.setText(_findings_html([finding], wizard, "This computer"))

    def _check_again(self) -> None:
        if self.guide.run_check(only=(NOT_AN_ADDRESS,), page=self):
            self.status.setText("Checking this computer again...")
            self.status.setStyleSheet("")

    def show_result(self, report: RunReport) -> None:
        """After the re-check: is this problem still there?"""
        still = [f for f in computer_problems(report) if f.code is self.finding.code]
        if not still:
            self.status.setText("Fixed: this problem is gone. Press Next.")
            self.status.setStyleSheet("color: #1e8e3e; font-weight: bold;")
            self.text.setText("<p>Nothing needs attention here any more.</p>")
        else:
            self.finding = still[0]
            self.text.setText(_findings_html(still[:1], self.guide, "This computer"))
            self.status.setText("Still a problem. Try the step again, or press Next and send the diagnostic bundle.")
            self.status.setStyleSheet(f"color: {problem_text_colour(self)}; font-weight: bold;")


class CausePage(_StepPage):
    """One problem that many addresses share (the proxy, no network...): said once, with the addresses it
    stops, and a re-check of those addresses."""

    def __init__(self, wizard: GuidedTroubleshooting, cause: SharedCause) -> None:
        super().__init__(wizard)
        self.cause = cause
        names = self._names()
        self.setSubTitle(f"One problem stops {len(names)} addresses: fix it first")
        self.text.setText(_findings_html([cause.finding], wizard, f"{len(names)} addresses", _listed(names)))

    def _names(self) -> list[str]:
        report = self.guide.report
        known = {t.target.id: t.target.name for t in report.targets} if report else {}
        return [known.get(t, t) for t in self.cause.targets]

    def _check_again(self) -> None:
        if self.guide.run_check(only=self.cause.targets, page=self):
            self.status.setText(f"Checking these {len(self.cause.targets)} addresses again...")
            self.status.setStyleSheet("")

    def show_result(self, report: RunReport) -> None:
        """After the re-check: which of its addresses still have it?"""
        still = [
            t.target.name
            for t in report.targets
            if t.target.id in self.cause.targets and any(f.code is self.cause.code for f in t.findings)
        ]
        if not still:
            self.status.setText("Fixed: this problem is gone. Press Next.")
            self.status.setStyleSheet("color: #1e8e3e; font-weight: bold;")
            self.text.setText("<p>Nothing needs attention here any more.</p>")
        else:
            where = f"{len(still)} addresses"
            self.text.setText(_findings_html([self.cause.finding], self.guide, where, _listed(still)))
            self.status.setText(f"Still a problem for {len(still)} addresses. Try the step again, or press Next.")
            self.status.setStyleSheet(f"color: {problem_text_colour(self)}; font-weight: bold;")


def _listed(names: list[str]) -> str:
    return "<p><b>The addresses it stops:</b> " + html.escape(", ".join(names)) + "</p>"


def _findings_html(findings: list[Finding], guide: GuidedTroubleshooting, where: str, more: str = "") -> str:
    """Problems' words, whom to contact and the sentence to read out, then ``more`` and the meanings of the
    words used, as in the main window's Details."""
    reference = guide.report.reference if guide.report else ""
    parts = [finding_html(f, where, reference, guide.host.catalog.contacts) for f in findings]
    return "".join(parts) + more + glossary_html(findings)


class ProblemPage(_StepPage):
    """One address with problems: what it means, what to do, and a re-check of only this address."""

    def __init__(self, wizard: GuidedTroubleshooting, target: TargetReport) -> None:
        super().__init__(wizard)
        self.target = target
        self.setSubTitle(f"{target.target.name} ({target.target.address.url})")
        self._describe(target)

    def _describe(self, target: TargetReport) -> None:
        where = f"{target.target.name} ({target.target.address.url})"
        ranked = sorted(target.problems, key=lambda f: -STATUS_RANK[f.status])
        self.text.setText(
            _findings_html(ranked, self.guide, where) if ranked else "<p>This address could not be checked.</p>"
        )

    def _check_again(self) -> None:
        if self.guide.run_check(only=(self.target.target.id,), page=self):
            self.status.setText("Checking this address again...")
            self.status.setStyleSheet("")

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
        self.saved = QLabel()
        self.saved.setAccessibleName("Guided bundle saved")
        self.saved.setWordWrap(True)
        self.saved.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.reference)
        layout.addWidget(self.export)
        layout.addWidget(self.saved)
        layout.addStretch(1)
        self.export.clicked.connect(self._export)

    def initializePage(self) -> None:
        """Sum up when the page is shown, from the report's own verdict (re-checks included)."""
        report = self.guide.report
        if report is None:
            return
        self.saved.clear()
        if report.verdict is Verdict.READY:
            self.text.setText("This computer is ready for TLS 1.2 for everything checked. You can close this guide.")
            self.reference.setText(f"Reference {report.reference}")
            self.export.hide()
            return
        code = encode(SupportSummary.from_report(report))
        found = found_text(len(self.guide.remaining_computer()), len(self.guide.remaining()), still=True)
        self.text.setText(
            f"{found}. Export the diagnostic bundle and send it to the person helping "
            f"you, and read out this reference (and the support code {code}):"
        )
        self.reference.setText(report.reference)
        self.export.show()

    def _export(self) -> None:
        self.guide.export_bundle_dialog()

    def show_saved(self, path: str, reference: str) -> None:
        """The bundle is written: where, and the reference it carries (the one to read out)."""
        self.saved.setStyleSheet("")
        self.saved.setText(
            f"Saved: {path}\nIt carries the reference {reference}. Send this file to the person helping you."
        )

    def show_problem(self, sentence: str) -> None:
        """The bundle could not be written."""
        self.saved.setText(sentence)
        self.saved.setStyleSheet(f"color: {problem_text_colour(self)};")


def open_guide(window: GuideHost, parent: QWidget | None = None) -> GuidedTroubleshooting:
    """Open the guide beside the main window (not modal, so both stay visible)."""
    guide = GuidedTroubleshooting(window, parent)
    guide.show()
    return guide
