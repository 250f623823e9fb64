"""The results: application, then endpoint, then check, each with its live state as events arrive."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.core.causes import SharedCause
from app.core.computer.checks import THIS_COMPUTER
from app.core.endpoint import CheckFinished, CheckStarted, TargetFinished
from app.core.findings import COMPUTER_CHECKS, ENDPOINT_CHECKS, STATUS_RANK, Check, Finding
from app.core.model import Target, TargetReport
from app.core.words import explain
from app.gui.status import CHECK_LABELS, STATE_WORDS, State, icon, state_of, state_of_verdict

ROLE = Qt.ItemDataRole.UserRole  # what an item stands for: ("check", target_id, check) or ("target", target_id)


class ResultsTree(QTreeWidget):
    """The results list (accessible name "Results")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Results")
        self.setColumnCount(2)
        self.setHeaderLabels(["What was checked", "Result"])
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # The result column is as wide as its longest word, once: sizing it to its contents would measure every
        # row again at each change, which made a burst of results stall the window (bench/window.py).
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.header().setStretchLastSection(False)
        self._fit_result_column()
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)
        self._checks: dict[tuple[str, Check], QTreeWidgetItem] = {}
        self._targets: dict[str, QTreeWidgetItem] = {}
        self._findings: dict[tuple[str, Check], tuple[Finding, ...]] = {}
        self._shown: dict[int, tuple[State, str]] = {}  # what each item shows now, by id(item)
        self._computer = QTreeWidgetItem()
        self.reports: dict[str, TargetReport] = {}
        self.targets: dict[str, Target] = {}
        self.causes: dict[str, SharedCause] = {}  # the problems many addresses share, by code

    def _fit_result_column(self) -> None:
        words = [*STATE_WORDS.values(), self.headerItem().text(1)]
        widest = max(self.fontMetrics().horizontalAdvance(w) for w in words)
        self.setColumnWidth(1, widest + 3 * self.fontMetrics().averageCharWidth())

    def changeEvent(self, event: QEvent) -> None:
        """Fit the result column again when the font changes (a system font or scale setting)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_result_column()

    def clear(self) -> None:
        """Remove every item (and forget what they showed)."""
        self._shown.clear()
        super().clear()

    def begin(self, targets: tuple[Target, ...], application_names: Mapping[str, str]) -> None:
        """Show every target and check as waiting."""
        self.clear()
        self._checks.clear()
        self._targets.clear()
        self._findings.clear()
        self.reports.clear()
        self.causes.clear()
        self.targets = {t.id: t for t in targets}
        computer = QTreeWidgetItem(self, ["This computer", STATE_WORDS[State.RUNNING]])
        computer.setData(0, ROLE, ("group", THIS_COMPUTER))
        computer.setIcon(0, icon(State.RUNNING))
        computer.setExpanded(True)
        self._computer = computer
        groups: dict[str, QTreeWidgetItem] = {}
        for target in targets:
            group = groups.get(target.application)
            if group is None:
                group = QTreeWidgetItem(self, [application_names.get(target.application, "Addresses you typed")])
                group.setData(0, ROLE, ("group", target.application))
                group.setExpanded(True)
                groups[target.application] = group
            item = QTreeWidgetItem(group, [target.name, STATE_WORDS[State.WAITING]])
            item.setToolTip(0, target.address.url)
            item.setData(0, ROLE, ("target", target.id))
            self._set(item, State.WAITING)
            self._targets[target.id] = item
            for check in ENDPOINT_CHECKS:
                child = QTreeWidgetItem(item, [CHECK_LABELS[check], ""])
                child.setData(0, ROLE, ("check", target.id, check.value))
                self._set(child, State.WAITING)
                self._checks[(target.id, check)] = child

    def on_event(self, event: object) -> None:
        """Update from one run event (ignores events it does not know)."""
        if isinstance(event, CheckStarted):
            item = self._checks.get((event.target_id, event.check))
            if item is not None:
                self._set(item, State.RUNNING)
            target = self._targets.get(event.target_id)
            if target is not None and target.data(1, Qt.ItemDataRole.DisplayRole) == STATE_WORDS[State.WAITING]:
                self._set(target, State.RUNNING)
        elif isinstance(event, CheckFinished):
            self._findings[(event.target_id, event.check)] = event.findings
            item = self._checks.get((event.target_id, event.check))
            if item is not None:
                self._set(item, state_of(event.findings), _headline(event.findings))
        elif isinstance(event, TargetFinished):
            report = event.report
            self.reports[report.target.id] = report
            for check in ENDPOINT_CHECKS:
                found = report.findings_for(check)
                item = self._checks.get((report.target.id, check))
                if item is None:
                    continue
                self._findings[(report.target.id, check)] = found
                self._set(item, state_of(found), _headline(found))
            target = self._targets.get(report.target.id)
            if target is not None:
                state = state_of_verdict(report.verdict)
                self._set(target, state)
                target.setExpanded(state is not State.PASSED)

    def show_computer(self, findings: tuple[Finding, ...]) -> None:
        """The checks of this computer as a whole, one line per subject that has findings."""
        group = self._computer
        group.takeChildren()
        for check in COMPUTER_CHECKS:
            found = tuple(f for f in findings if f.check is check)
            if not found:
                continue
            self._findings[(THIS_COMPUTER, check)] = found
            child = QTreeWidgetItem(group, [CHECK_LABELS[check], ""])
            child.setData(0, ROLE, ("check", THIS_COMPUTER, check.value))
            self._set(child, state_of(found), _headline(found))
            self._checks[(THIS_COMPUTER, check)] = child
        self._set(group, state_of(findings))

    def show_causes(self, causes: list[SharedCause]) -> None:
        """Each problem many addresses share, once, under "This computer", with the addresses it stops under it
        (their own lines stay below, in their applications)."""
        for index, cause in enumerate(causes, start=1):
            names = [self.targets[t].name for t in cause.targets if t in self.targets]
            item = QTreeWidgetItem([f"{_headline((cause.finding,))} ({len(names)} addresses)", ""])
            self.insertTopLevelItem(index, item)
            item.setData(0, ROLE, ("cause", cause.code.value))
            self._set(item, state_of((cause.finding,)))
            for target_id, name in zip(cause.targets, names, strict=False):
                child = QTreeWidgetItem(item, [name, ""])
                child.setData(0, ROLE, ("target", target_id))
                self._set(child, state_of((cause.finding,)))
            self.causes[cause.code.value] = cause
        shared = {c.code for c in causes}
        for target_id, report in self.reports.items():
            own = {f.code for f in report.problems}
            line = self._targets.get(target_id)
            if line is not None and own and own <= shared:
                line.setExpanded(False)  # said once above: its lines would repeat it

    def mark_stale(self, target_id: str, check: Check, headline: str) -> None:
        """A line whose answer no longer holds (the ADS version typed in changed): waiting for a new check."""
        item = self._checks.get((target_id, check))
        if item is not None:
            self._set(item, State.WAITING, headline)

    def findings_of(self, target_id: str, check: Check) -> tuple[Finding, ...]:
        """The findings shown for one check."""
        return self._findings.get((target_id, check), ())

    def item_for(self, target_id: str, check: Check | None = None) -> QTreeWidgetItem | None:
        """The item of a target, or of one of its checks."""
        return self._targets.get(target_id) if check is None else self._checks.get((target_id, check))

    def _set(self, item: QTreeWidgetItem, state: State, headline: str = "") -> None:
        shown = (state, headline)
        if self._shown.get(id(item)) == shown:
            return  # nothing changes: no Qt call at all
        self._shown[id(item)] = shown
        item.setIcon(0, icon(state))
        word = STATE_WORDS[state]
        item.setText(1, word)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{item.text(0)}: {word}. {headline}".strip())
        if headline:
            item.setToolTip(1, headline)


def _headline(findings: tuple[Finding, ...]) -> str:
    if not findings:
        return ""
    worst = max(findings, key=lambda f: STATUS_RANK[f.status])
    return explain(worst).title
