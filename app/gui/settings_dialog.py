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
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import InputError
from app.core.model import DEFAULT_TIMEOUT
from app.core.proxy import parse_proxy
from app.core.tls_contexts import load_trust_file
from app.gui.preferences import Preferences
from app.gui.status import problem_text_colour


class SettingsDialog(QDialog):
    """Edits :class:`Preferences`; nothing changes unless the person presses OK."""

    def __init__(
        self, preferences: Preferences, parent: QWidget | None = None, session_proxy_password: str = ""
    ) -> None:
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
        self.proxy = QLineEdit(preferences.proxy_address)
        self.proxy.setAccessibleName("Proxy address")
        self.proxy.setPlaceholderText("Empty for direct connections; for example http://proxy.example:8080")
        self.proxy_user = QLineEdit(preferences.proxy_user)
        self.proxy_user.setAccessibleName("Proxy user name")
        self.session_proxy_password = session_proxy_password
        self.proxy_password = QLineEdit(session_proxy_password)
        self.proxy_password.setAccessibleName("Proxy password")
        self.proxy_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.proxy_password.setPlaceholderText("Kept until the program closes, never saved")
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
        form.addRow("Proxy:", self.proxy)
        form.addRow("Proxy user name:", self.proxy_user)
        form.addRow("Proxy password:", self.proxy_password)
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
            self,
            "Trusted certificate file",
            "",
            "Certificates (*.pem *.crt *.cer);;Java trust stores (*.jks cacerts);;All files (*)",
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
        """Save and close (a proxy address that cannot be used keeps the dialog open with a sentence)."""
        address = self.proxy.text().strip()
        if address:
            try:
                parsed = parse_proxy(address, "Settings")
            except InputError as exc:
                self.problem.setText(str(exc))
                self.problem.show()
                return
            if parsed.username or parsed.password:
                self.problem.setText("Put the proxy's user name and password in their own fields, not in the address.")
                self.problem.show()
                return
        self.preferences.proxy_address = address
        self.preferences.proxy_user = self.proxy_user.text().strip()
        self.session_proxy_password = self.proxy_password.text()
        if self.timeout.value() != self._shown_timeout or self.preferences.timeout is not None:
            self.preferences.timeout = self.timeout.value()
        self.preferences.ca_files = self.files()
        self.preferences.remember_certificate = self.remember.isChecked()
        self.preferences.save()
        super().accept()
