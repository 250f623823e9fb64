"""Settings: the time limit per step, extra trusted certificate files, remembering the certificate file."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import InputError
from app.core.model import DEFAULT_TIMEOUT
from app.core.tls_contexts import load_trust_file
from app.gui.preferences import Preferences
from app.gui.status import problem_text_colour


class SettingsDialog(QDialog):
    """Edits :class:`Preferences`; nothing changes unless the person presses OK."""

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.preferences = preferences
        self.timeout = QDoubleSpinBox()
        self.timeout.setAccessibleName("Time limit per step")
        self.timeout.setRange(1, 300)
        self.timeout.setDecimals(0)
        self.timeout.setSuffix(" seconds")
        self.timeout.setValue(preferences.timeout or DEFAULT_TIMEOUT)
        self._shown_timeout = self.timeout.value()
        self.ca_list = QListWidget()
        self.ca_list.setAccessibleName("Extra trusted certificates")
        self.ca_list.addItems(preferences.ca_files)
        add = QPushButton("Add...")
        add.setAccessibleName("Add trusted certificate file")
        remove = QPushButton("Remove")
        remove.setAccessibleName("Remove trusted certificate file")
        self.problem = QLabel()
        self.problem.setAccessibleName("Settings problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {problem_text_colour(self)};")
        self.problem.hide()
        self.remember = QCheckBox("Remember which certificate file I use (never its password)")
        self.remember.setAccessibleName("Remember certificate file")
        self.remember.setChecked(preferences.remember_certificate)

        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        ca_box = QVBoxLayout()
        ca_box.addWidget(QLabel("Add your company's root certificate here if your IT department gives you one."))
        ca_box.addWidget(self.ca_list)
        ca_box.addLayout(buttons_row)
        ca_box.addWidget(self.problem)
        form = QFormLayout()
        form.addRow("Time limit for each step:", self.timeout)
        form.addRow("Extra trusted certificates:", ca_box)
        form.addRow("", self.remember)
        ok_cancel = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(ok_cancel)
        add.clicked.connect(self._choose)
        remove.clicked.connect(self._remove)
        ok_cancel.accepted.connect(self.accept)
        ok_cancel.rejected.connect(self.reject)

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trusted certificate file", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.add_file(path)

    def add_file(self, path: str) -> bool:
        """Add a file after checking it holds certificates; otherwise say why in one sentence."""
        try:
            load_trust_file(path)
        except InputError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return False
        self.problem.hide()
        if path not in self.files():
            self.ca_list.addItem(path)
        return True

    def _remove(self) -> None:
        for item in self.ca_list.selectedItems():
            self.ca_list.takeItem(self.ca_list.row(item))

    def files(self) -> list[str]:
        """The files listed."""
        return [self.ca_list.item(i).text() for i in range(self.ca_list.count())]

    def accept(self) -> None:
        """Save and close."""
        if self.timeout.value() != self._shown_timeout or self.preferences.timeout is not None:
            self.preferences.timeout = self.timeout.value()
        self.preferences.ca_files = self.files()
        self.preferences.remember_certificate = self.remember.isChecked()
        self.preferences.save()
        super().accept()
