"""The main window: pick, check, understand. A thin front end over the engine in ``app.core``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QEvent,
    QIODevice,
    QObject,
    QStandardPaths,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
    Slot,
    qVersion,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.addresses import parse_address
from app.core.ads_client import MINIMUM_VERSION, VersionError, format_version, is_outdated, parse_version
from app.core.bundle import BundleContext, default_bundle_name, resolve_bundle_path
from app.core.catalog import Catalog
from app.core.causes import main_cause, shared_causes
from app.core.checks.client_cert import key_store_aliases
from app.core.computer import cert_store
from app.core.computer.cert_store import StoreCertificate, is_store_choice, parse_store_choice
from app.core.computer.checks import THIS_COMPUTER
from app.core.crash import register_secret
from app.core.errors import InputError
from app.core.findings import COMPUTER_CHECKS, ENDPOINT_CHECKS, Check, Finding, Status, Verdict
from app.core.log import log, log_folder
from app.core.model import RunReport
from app.core.reference import SupportSummary, encode
from app.core.runner import ComputerChecked, RunFinished, RunStarted
from app.core.summary import headline, render
from app.core.words import explain
from app.gui.banners import AdsUpgradeBanner, VerdictBanner
from app.gui.details import DetailsPanel
from app.gui.guided import GuidedTroubleshooting, open_guide
from app.gui.preferences import Preferences
from app.gui.results import ROLE, ResultsTree
from app.gui.session import CheckSession
from app.gui.settings_dialog import SettingsDialog
from app.gui.status import CHECK_LABELS, State, problem_text_colour
from app.gui.worker import CheckRequest

BUSY_SENTENCE = "A check is already running in Guided troubleshooting. Wait for it to end, then press Check again."
DEVELOPER_SITE = "https://developer.caiso.com"
SYSTEM_ACCESS_DOCUMENT = "http://www.caiso.com/Documents/SystemAccessInformation_MarketParticipants.pdf"
IDLE_TEXT = "Choose where you connect, then press Check connection."


class MainWindow(QMainWindow):
    """Environment and application pickers, the Check connection button, the verdict, results and details."""

    check_finished = Signal()  # a check ended and everything it found is shown
    bundle_written = Signal(str)  # the bundle's path
    bundle_failed = Signal(str)  # one sentence

    def __init__(self, catalog: Catalog, preferences: Preferences) -> None:
        super().__init__()
        self.catalog = catalog
        self.preferences = preferences
        self.session = CheckSession(catalog, self)  # runs every check and bundle, for this window and the guide
        self._running = False  # a check of this window's own runs
        self.session.bundle_written.connect(self._session_bundle_written)
        self.session.bundle_failed.connect(self._session_bundle_failed)
        self.session.progress.connect(self._session_event)
        self.session.counted.connect(self._session_counted)
        self.session.failed.connect(self._session_failed)
        self.session.finished.connect(self._session_finished)
        self.session.busy_changed.connect(self._busy_changed)
        self.last_report: RunReport | None = None
        self.guide: GuidedTroubleshooting | None = None
        self.proxy_password = ""  # for this session only: never stored
        self.setWindowTitle("TLS Readiness Checker")
        self._build()
        self._build_menu()
        self._restore()
        self.set_idle()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        self.environment = QComboBox()
        self.environment.setAccessibleName("Environment")
        for env in self.catalog.environments.values():
            self.environment.addItem(env.name, env.id)
        self.application = QComboBox()
        self.application.setAccessibleName("Application")
        self.environment_note = QLabel()
        self.environment_note.setAccessibleName("Environment note")
        self.environment_note.setWordWrap(True)
        self.custom_address = QLineEdit()
        self.custom_address.setAccessibleName("Custom address")
        self.custom_address.setPlaceholderText(
            "Optional: an https address to check instead (for example one your help desk reads out)"
        )
        self.client_cert = QLineEdit()
        self.client_cert.setAccessibleName("Client certificate")
        self.client_cert.setPlaceholderText("Optional: your ISO certificate file (.p12, .pfx, .pem or .jks)")
        self.client_cert.textEdited.connect(self._certificate_typed)
        self.cert_alias = ""  # which certificate of a Java key store (chosen with Choose...)
        self.cert_from_store: StoreCertificate | None = None  # one of Windows' store (chosen with Choose...)
        self.cert_alias_label = QLabel()
        self.cert_alias_label.setAccessibleName("Certificate in the key store")
        self.cert_alias_label.hide()
        self.choose_cert = QPushButton("Choose...")
        self.choose_cert.setAccessibleName("Choose client certificate file")
        self.cert_password = QLineEdit()
        self.cert_password.setAccessibleName("Certificate password")
        self.cert_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.cert_password.setPlaceholderText("Password")
        self.ads_version = QLineEdit()
        self.ads_version.setAccessibleName("ADS client version")
        self.ads_version.setPlaceholderText("For example 6.1.0.0 (in the ADS client: Help > About)")
        self.ads_hint = QLabel()
        self.ads_hint.setAccessibleName("ADS client version hint")
        self.ads_hint.setWordWrap(True)

        cert_row = QHBoxLayout()
        cert_row.addWidget(self.client_cert, 3)
        cert_row.addWidget(self.cert_alias_label)
        cert_row.addWidget(self.choose_cert)
        cert_row.addWidget(self.cert_password, 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, field in (("&Environment:", self.environment), ("&Application:", self.application)):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        form.addRow("", self.environment_note)
        label = QLabel("Custom a&ddress:")
        label.setBuddy(self.custom_address)
        form.addRow(label, self.custom_address)
        label = QLabel("Client ce&rtificate:")
        label.setBuddy(self.client_cert)
        form.addRow(label, cert_row)
        ads_row = QHBoxLayout()
        ads_row.addWidget(self.ads_version, 1)
        ads_row.addWidget(self.ads_hint, 2)
        label = QLabel("ADS client &version:")
        label.setBuddy(self.ads_version)
        form.addRow(label, ads_row)
        # The optional inputs fold away, so the window fits small screens at large scales (1366 x 768 at 150 %).
        self._form = form
        self._optional_rows = (3, 4, 5)  # custom address, client certificate, ADS client version
        self.more_options = QPushButton()
        self.more_options.setAccessibleName("More options")
        self.more_options.setFlat(True)
        self.more_options.setStyleSheet("text-align: left;")
        self.more_options.clicked.connect(lambda: self.show_more_options(not self.more_options_shown()))
        form.addRow("", self.more_options)
        self._more_shown = True
        choose = QGroupBox("What to check")
        choose.setLayout(form)

        self.check_button = QPushButton("&Check connection")
        self.check_button.setAccessibleName("Check connection")
        font = QFont(self.check_button.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.check_button.setFont(font)
        self.check_button.setMinimumHeight(self.check_button.fontMetrics().height() * 2)
        self.check_button.setAutoDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setTextVisible(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button, 2)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 3)

        self.input_problem = QLabel()
        self.input_problem.setAccessibleName("Input problem")
        self.input_problem.setWordWrap(True)
        self.input_problem.setStyleSheet(f"color: {problem_text_colour(self)}; font-weight: bold;")
        self.input_problem.hide()
        self.verdict = VerdictBanner()
        self.ads_banner = AdsUpgradeBanner()
        self.ads_banner.hide()

        self.results = ResultsTree()
        self.details = DetailsPanel()
        self.details.contacts = self.catalog.contacts
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.results)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.reference = QLabel()
        self.reference.setAccessibleName("Reference")
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reference.hide()
        self.export_button = QPushButton("Export diagnostic bundle...")
        self.export_button.setAccessibleName("Export diagnostic bundle")
        self.export_button.setEnabled(False)
        self.copy_button = QPushButton("Copy summary")
        self.copy_button.setAccessibleName("Copy summary")
        self.copy_button.setEnabled(False)
        results_buttons = QHBoxLayout()
        results_buttons.addWidget(self.export_button)
        results_buttons.addWidget(self.copy_button)
        self.guide_button = QPushButton("Guided troubleshooting...")
        self.guide_button.setAccessibleName("Guided troubleshooting")
        self.guide_button.clicked.connect(self.open_guide)
        results_buttons.addWidget(self.guide_button)
        results_buttons.addStretch(1)
        self.export_button.clicked.connect(self.export_bundle_dialog)
        self.copy_button.clicked.connect(self.copy_summary)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(choose)
        layout.addLayout(buttons)
        layout.addWidget(self.input_problem)
        layout.addWidget(self.verdict)
        layout.addWidget(self.reference)
        layout.addWidget(self.ads_banner)
        layout.addWidget(splitter, 1)
        layout.addLayout(results_buttons)
        # Scrolled only when the window is smaller than its contents (a small screen at 200 %): it always fits.
        self.setCentralWidget(_Scroller(central))
        for first, second in (
            (self.environment, self.application),
            (self.application, self.custom_address),
            (self.custom_address, self.client_cert),
            (self.client_cert, self.choose_cert),
            (self.choose_cert, self.cert_password),
            (self.cert_password, self.ads_version),
            (self.ads_version, self.check_button),
            (self.check_button, self.cancel_button),
            (self.cancel_button, self.results),
            (self.results, self.details.text),
        ):
            QWidget.setTabOrder(first, second)

        self.environment.currentIndexChanged.connect(self._environment_changed)
        self.check_button.clicked.connect(self.start_check)
        self.cancel_button.clicked.connect(self.cancel_check)
        self.choose_cert.clicked.connect(self._choose_certificate)
        self.ads_version.textChanged.connect(self._ads_version_changed)
        self.results.currentItemChanged.connect(self._selection_changed)
        self.custom_address.returnPressed.connect(self.start_check)

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.copy_action = QAction("&Copy summary", self)
        self.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_action.triggered.connect(self.copy_summary)
        file_menu.addAction(self.copy_action)
        self.export_action = QAction("&Export diagnostic bundle...", self)
        self.export_action.setEnabled(False)
        self.export_action.triggered.connect(self.export_bundle_dialog)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        settings_menu = self.menuBar().addMenu("&Settings")
        settings_action = QAction("&Settings...", self)
        settings_action.triggered.connect(self.open_settings)
        settings_menu.addAction(settings_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About TLS Readiness Checker", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        developer = QAction("The ISO's &developer site", self)
        developer.triggered.connect(lambda: QDesktopServices.openUrl(QUrl(DEVELOPER_SITE)))
        help_menu.addAction(developer)
        access = QAction("The ISO's system &access document", self)
        access.triggered.connect(lambda: QDesktopServices.openUrl(QUrl(SYSTEM_ACCESS_DOCUMENT)))
        help_menu.addAction(access)
        help_menu.addSeparator()
        guided = QAction("&Guided troubleshooting...", self)
        guided.triggered.connect(self.open_guide)
        help_menu.addAction(guided)
        open_log = QAction("Open &log folder", self)
        open_log.triggered.connect(self.open_log_folder)
        help_menu.addAction(open_log)
        check_shortcut = QAction(self)
        check_shortcut.setShortcuts([QKeySequence("F5"), QKeySequence("Ctrl+Return")])
        check_shortcut.triggered.connect(self.start_check)
        self.addAction(check_shortcut)
        cancel_shortcut = QAction(self)
        cancel_shortcut.setShortcut(QKeySequence("Escape"))
        cancel_shortcut.triggered.connect(self.cancel_check)
        self.addAction(cancel_shortcut)

    def show_more_options(self, shown: bool) -> None:
        """Show (or fold away) the optional inputs: custom address, client certificate, ADS client version."""
        self._more_shown = shown
        for row in self._optional_rows:
            self._form.setRowVisible(row, shown)
        self.more_options.setText("Fewer options" if shown else "More options (address, certificate, ADS version)...")

    def more_options_shown(self) -> bool:
        """Whether the optional inputs are shown."""
        return self._more_shown

    def fit_to_screen(self) -> None:
        """Keep the window inside the screen's free area (a screen smaller, or scaled more, than the last time)."""
        area = self.screen().availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()  # the title bar, borders
        width = min(self.width(), area.width() - extra_w)
        height = min(self.height(), area.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, 1), max(height, 1))
        frame = self.frameGeometry()
        x = min(max(frame.x(), area.x()), area.right() - frame.width() + 1)
        y = min(max(frame.y(), area.y()), area.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def _restore(self) -> None:
        geometry = self.preferences.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            area = self.screen().availableGeometry()  # a first start, on a small or scaled screen too: what fits
            width, height = min(1100, area.width() - 16), min(760, area.height() - 40)
            self.resize(width, height)
            self.move(area.center().x() - width // 2, area.center().y() - height // 2)
        self.select(self.preferences.environment or "production", self.preferences.application)
        remembered = self.preferences.certificate_path
        if is_store_choice(remembered):
            try:
                store = cert_store.this_computers_store()
                thumbprint = parse_store_choice(remembered)
                entry = cert_store.find_certificate(store, thumbprint) if store is not None else None
            except (OSError, InputError) as exc:  # the store did not open, or the setting was edited by hand
                log.info("the remembered certificate of Windows' store cannot be found: %s", exc)
                entry = None
            if entry is not None:  # still there (a renewed certificate has another thumbprint)
                self.use_store_certificate(entry)
        else:
            self.client_cert.setText(remembered)
            self._set_alias(self.preferences.certificate_alias if remembered else "")
        self.ads_version.setText(self.preferences.ads_version)
        self._ads_version_changed(self.ads_version.text())
        roomy = self.screen().availableGeometry().height() >= 700
        filled = any(f.text().strip() for f in (self.custom_address, self.client_cert, self.ads_version))
        self.show_more_options(roomy or filled)  # folded only where room is short and nothing was typed in
        self.fit_to_screen()

    def set_idle(self) -> None:
        """The state before any check: an instruction, empty results."""
        self.verdict.show_state(State.WAITING, IDLE_TEXT)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.check_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.details.show_hint()

    # ------------------------------------------------------------------ choosing

    def select(self, env_id: str, app_id: str = "") -> None:
        """Choose an environment and an application ("" for all); unknown ids fall back to the first."""
        index = self.environment.findData(env_id)
        self.environment.setCurrentIndex(max(index, 0))
        self._environment_changed()
        app_index = self.application.findData(app_id)
        self.application.setCurrentIndex(max(app_index, 0))

    def _environment_changed(self) -> None:
        env_id = self.environment.currentData()
        previous = self.application.currentData()
        self.application.clear()
        self.application.addItem("All applications", "")
        for app in self.catalog.applications_in(env_id):
            self.application.addItem(app.name, app.id)
        index = self.application.findData(previous)
        self.application.setCurrentIndex(max(index, 0))
        env = self.catalog.environments.get(env_id)
        note = (env.note or env.description) if env else ""
        self.environment_note.setText(note)
        self.environment_note.setVisible(bool(note))

    def _choose_certificate(self) -> None:
        """A file, or (on Windows, when it has some) a certificate of Windows' own store, from a menu."""
        menu = self.certificate_menu()
        if menu is None:
            self._choose_file()
            return
        menu.exec(self.choose_cert.mapToGlobal(self.choose_cert.rect().bottomLeft()))

    def certificate_menu(self) -> QMenu | None:
        """The choices of Choose...: "Choose a file..." and "From this computer: ..." for each certificate of
        Windows' store that can identify the user; None when there are none (then Choose... opens a file)."""
        try:
            store = cert_store.this_computers_store()
            offered = cert_store.client_certificates(store) if store is not None else []
        except OSError as exc:  # the store did not open: files remain
            log.info("the certificate store could not be read: %s", exc)
            offered = []
        if not offered:
            return None
        menu = QMenu(self.choose_cert)
        menu.setAccessibleName("Choose a client certificate")
        menu.addAction("Choose a file...", self._choose_file)
        menu.addSeparator()
        for entry in offered:
            action = menu.addAction(f"From this computer: {entry.label()}")
            action.triggered.connect(lambda _checked=False, chosen=entry: self.use_store_certificate(chosen))
        return menu

    def use_store_certificate(self, entry: StoreCertificate) -> None:
        """Take a certificate of Windows' store: Windows keeps its key, so no password is asked for."""
        self._set_alias("")
        self.cert_from_store = entry
        self.client_cert.setText(f"From this computer: {entry.label()}")
        self.cert_password.clear()
        self.cert_password.setEnabled(False)
        self.cert_password.setPlaceholderText("No password needed")

    def _forget_store_choice(self) -> None:
        if self.cert_from_store is not None:
            self.cert_from_store = None
            self.cert_password.setEnabled(True)
            self.cert_password.setPlaceholderText("Password")

    def certificate_choice(self) -> str:
        """What the check is to use: ``store:THUMBPRINT`` for a certificate of Windows' store, else the file."""
        if self.cert_from_store is not None:
            return f"store:{self.cert_from_store.thumbprint}"
        return self.client_cert.text().strip()

    def _certificate_fact(self) -> str | None:
        """The chosen certificate for the bundle: a file's name (never its folder), or the store's one."""
        if self.cert_from_store is not None:
            return f"Windows' certificate store: {self.cert_from_store.label()} ({self.cert_from_store.reference})"
        return Path(self.client_cert.text()).name if self.client_cert.text().strip() else None

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Your ISO certificate",
            "",
            "Certificates (*.p12 *.pfx *.pem);;Java key stores (*.jks *.keystore);;All files (*)",
        )
        if path:
            self.use_certificate_file(path)

    def use_certificate_file(self, path: str) -> None:
        """Take a certificate file; for a Java key store with several certificates, ask which one is the user's
        (their names read without the password)."""
        self._forget_store_choice()
        self.client_cert.setText(path)
        aliases = key_store_aliases(path)
        alias = ""
        if len(aliases) > 1:
            chosen, ok = QInputDialog.getItem(
                self,
                "Which certificate?",
                "This key store holds more than one certificate. Choose your ISO certificate:",
                list(aliases),
                0,
                False,
            )
            alias = chosen if ok else ""
        self._set_alias(alias)

    def _set_alias(self, alias: str) -> None:
        self.cert_alias = alias
        self.cert_alias_label.setText(f"Certificate: {alias}" if alias else "")
        self.cert_alias_label.setVisible(bool(alias))

    def _certificate_typed(self, _text: str) -> None:
        self._set_alias("")  # another file: the name chosen in the old one no longer applies
        if self.cert_from_store is not None:
            self._forget_store_choice()
            self.client_cert.clear()  # the store's label is no file name: typing starts afresh

    def _ads_version_changed(self, text: str) -> None:
        self.preferences.ads_version = text.strip()
        self.results.mark_stale(THIS_COMPUTER, Check.ADS_CLIENT, "Check again to see the version typed in")
        if not text.strip():
            self.ads_hint.setText("")
            self.ads_banner.hide()
            return
        try:
            version = parse_version(text)
        except VersionError as exc:
            self.ads_hint.setText(str(exc))
            self.ads_hint.setStyleSheet(f"color: {problem_text_colour(self)};")
            self.ads_banner.hide()
            return
        if is_outdated(version):
            self.ads_hint.setText(f"Older than {format_version(MINIMUM_VERSION)}: must be upgraded.")
            self.ads_hint.setStyleSheet(f"color: {problem_text_colour(self)}; font-weight: bold;")
            self.ads_banner.show_version(version)
            self.ads_banner.show()
        else:
            self.ads_hint.setText(f"Up to date ({format_version(MINIMUM_VERSION)} or newer).")
            self.ads_hint.setStyleSheet("")
            self.ads_banner.hide()

    # ------------------------------------------------------------------ checking

    def is_running(self) -> bool:
        """True while a check runs."""
        return self._running

    @property
    def pool(self) -> QThreadPool:
        """The session's worker threads."""
        return self.session.pool

    def chosen(self) -> tuple[str, str]:
        """The environment and application chosen (for the guide's first step)."""
        return self.environment.currentData() or "", self.application.currentData() or ""

    def request(self) -> CheckRequest:
        """What the pickers say. Raises InputError for a typed address that cannot be used."""
        register_secret(self.cert_password.text())  # no crash report may ever show a typed password
        register_secret(self.proxy_password)
        address = self.custom_address.text().strip()
        urls: tuple[str, ...] = ()
        env_id = self.environment.currentData() or ""
        app_ids: tuple[str, ...] = ()
        if address:
            urls = (parse_address(address).url,)
            env_id = ""
        elif self.application.currentData():
            app_ids = (self.application.currentData(),)
        return CheckRequest(
            env_id=env_id,
            app_ids=app_ids,
            urls=urls,
            client_cert_path=self.certificate_choice(),
            client_cert_password=self.cert_password.text(),
            client_cert_alias=self.cert_alias,
            ca_files=tuple(self.preferences.ca_files),
            timeout=self.preferences.timeout,
            ads_version=self._valid_ads_version(),
            proxy=self.preferences.proxy_address,
            proxy_user=self.preferences.proxy_user,
            proxy_password=self.proxy_password,
        )

    def _valid_ads_version(self) -> str:
        text = self.ads_version.text().strip()
        try:
            parse_version(text)
        except VersionError:
            return ""
        return text

    def start_check(self) -> None:
        """Start checking in a worker thread (does nothing while a check runs)."""
        if self.is_running():
            return
        if self.session.busy:  # the guide's check: one at a time, and the window never waits for it
            self._show_input_problem(BUSY_SENTENCE)
            return
        try:
            request = self.request()
        except InputError as exc:
            self._show_input_problem(str(exc))
            return
        self.input_problem.hide()
        self._remember_choice()
        if not self.session.start(request, self):
            return
        self._running = True
        self.last_report = None
        self.results.clear()
        self.details.show_hint("Checking...")
        self.progress.setRange(0, 0)  # busy until the targets are known
        self.verdict.show_state(State.RUNNING, "Checking...")
        self.cancel_button.setEnabled(True)

    def cancel_check(self) -> None:
        """Stop the running check (within about 50 ms)."""
        if self._running:
            self.session.cancel()
            self.verdict.show_state(State.UNKNOWN, "Cancelling...")

    @Slot(object, object)
    def _session_event(self, owner: object, event: object) -> None:
        if owner is self:
            self._apply(event)

    @Slot(object, int, int)
    def _session_counted(self, owner: object, done: int, total: int) -> None:
        if owner is self:
            self.progress.setRange(0, total)
            self.progress.setValue(done)  # the session never counts past the total

    @Slot(object, str)
    def _session_failed(self, owner: object, sentence: str) -> None:
        if owner is self:
            self._on_failed(sentence)

    @Slot(object)
    def _session_finished(self, owner: object) -> None:
        if owner is self:
            self._on_done()

    @Slot(bool)
    def _busy_changed(self, busy: bool) -> None:
        """Every Check button follows the one check of the program."""
        self.check_button.setEnabled(not busy)
        if not busy and self.input_problem.text() == BUSY_SENTENCE:
            self.input_problem.hide()  # the other check is over: what stopped this one no longer holds

    def _apply(self, event: object) -> None:
        """Show one event of this window's check (the session hands them out a frame at a time)."""
        if isinstance(event, RunStarted):
            names = {a.id: a.name for a in self.catalog.applications.values()}
            self.results.begin(event.targets, names)  # the progress bar follows the session's count
            count = len(event.targets)
            self.verdict.show_state(State.RUNNING, f"Checking {count} address{'es' if count != 1 else ''}...")
            return
        if isinstance(event, ComputerChecked):
            self.results.show_computer(event.findings)
            return
        self.results.on_event(event)
        if isinstance(event, RunFinished):
            self._finish(event.report)

    def _finish(self, report: RunReport) -> None:
        self.last_report = report
        self.details.reference = report.reference
        code = encode(SupportSummary.from_report(report))
        self.reference.setText(f"Reference: <b>{report.reference}</b> &nbsp; Support code: <b>{code}</b>")
        self.reference.setAccessibleDescription(f"Reference {report.reference}, support code {code}")
        self.reference.show()
        for control in (self.export_button, self.export_action, self.copy_button):
            control.setEnabled(True)
        self.progress.setValue(self.progress.maximum())
        if report.cancelled:
            self.details.show_hint("The check was cancelled. Lines that finished can still be read.")
            self.verdict.show_state(State.UNKNOWN, "Check cancelled. Press Check connection to start again.")
        elif report.verdict is Verdict.READY:
            self.details.show_hint("Everything needed works. Select a line to see what was checked.")
            count = len(report.targets)
            self.verdict.show_state(
                State.PASSED,
                f"This computer is ready for TLS 1.2 ({count} address{'es' if count != 1 else ''} checked).",
            )
        elif report.verdict is Verdict.ACTION_NEEDED:
            self.verdict.show_state(State.FAILED, headline(report) + " Select a red line below to read what to do.")
            self._select_first_problem()
        else:
            self.details.show_hint()
            said = headline(report) if main_cause(report) is not None else "Some addresses could not be checked."
            self.verdict.show_state(State.UNKNOWN, said + " Select a grey line below to read why.")
        self.results.show_causes(shared_causes(report))
        if report.findings:  # the certificate file itself
            self._show_input_problem(" ".join(f"{f.code.value}: {_title(f)}" for f in report.findings))

    @Slot(str)
    def _on_failed(self, sentence: str) -> None:
        self._show_input_problem(sentence)
        self.verdict.show_state(State.UNKNOWN, "Nothing was checked: " + sentence.splitlines()[0])

    def _on_done(self) -> None:
        """The session handed out the last event of this window's check."""
        self._running = False
        self.check_button.setEnabled(not self.session.busy)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self.check_finished.emit()

    def _show_input_problem(self, sentence: str) -> None:
        self.input_problem.setText(sentence)
        self.input_problem.show()

    def _select_first_problem(self) -> None:
        """Show the first failure: this computer's own first (as the list shows it), else an address's; and
        never leave the details on "Checking..." when there is nothing to select."""
        self.details.show_hint("Select a red line in the results to read what it means and what to do.")
        for check in COMPUTER_CHECKS:
            if any(f.status is Status.FAIL for f in self.results.findings_of(THIS_COMPUTER, check)):
                item = self.results.item_for(THIS_COMPUTER, check)
                if item is not None:
                    self.results.setCurrentItem(item)
                    return
        for target_id in self.results.targets:  # in the order shown
            report = self.results.reports.get(target_id)
            if report is not None and report.verdict is Verdict.ACTION_NEEDED:
                for check in ENDPOINT_CHECKS:
                    if any(f.status is Status.FAIL for f in report.findings_for(check)):
                        item = self.results.item_for(target_id, check)
                        if item is not None:
                            self.results.setCurrentItem(item)
                            return

    def _selection_changed(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        if item is None:
            self.details.show_hint()
            return
        role = item.data(0, ROLE)
        if not role or role[0] == "group":
            self.details.show_hint()
            return
        if role[0] == "cause" and role[1] in self.results.causes:
            cause = self.results.causes[role[1]]
            names = [self.results.targets[t].name for t in cause.targets if t in self.results.targets]
            self.details.show_cause(cause, names)
            return
        if role[0] == "check" and role[1] == THIS_COMPUTER:
            check = Check(role[2])
            self.details.show_findings(None, CHECK_LABELS[check], self.results.findings_of(THIS_COMPUTER, check))
            return
        target = self.results.targets.get(role[1])
        if target is None:
            return
        if role[0] == "target":
            report = self.results.reports.get(target.id)
            if report is None:
                self.details.show_hint("This address is still being checked.")
            else:
                self.details.show_target(report)
            return
        check = Check(role[2])
        if target.id not in self.results.reports and not self.results.findings_of(target.id, check):
            self.details.show_hint("This check has not finished yet.")
            return
        self.details.show_findings(target, CHECK_LABELS[check], self.results.findings_of(target.id, check))

    # ------------------------------------------------------------------ menu

    def summary_text(self) -> str:
        """The plain-text summary for an email or a ticket ("" before any check)."""
        if self.last_report is None:
            return ""
        env = self.catalog.environments.get(self.last_report.environment)
        names = {a.id: a.name for a in self.catalog.applications.values()}
        text = render(self.last_report, env.name if env else "", names, contacts=self.catalog.contacts)
        version = self.ads_version.text().strip()
        if version:
            text += f"\nADS client version (typed in): {version}\n"
        return text

    def copy_summary(self) -> None:
        """Put the summary on the clipboard."""
        text = self.summary_text()
        if not text:
            self.statusBar().showMessage("Nothing to copy yet: press Check connection first.", 5000)
            return
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage("Summary copied. Paste it into an email or a ticket.", 5000)

    def export_bundle_dialog(self) -> None:
        """Ask where to save the diagnostic bundle of the last run, then write it."""
        self.export_bundle_dialog_for(self.last_report)

    def export_bundle_dialog_for(
        self, report: RunReport | None, picture: QPixmap | None = None, owner: object | None = None
    ) -> None:
        """Ask where to save the diagnostic bundle of ``report``, then write it (see :meth:`export_bundle`)."""
        if report is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = str(Path(folder) / default_bundle_name(report))
        path, _ = QFileDialog.getSaveFileName(self, "Export diagnostic bundle", suggested, "Zip files (*.zip)")
        if path:
            self.export_bundle(path, report, picture, owner)

    def open_guide(self) -> GuidedTroubleshooting:
        """Start guided troubleshooting (step by step, for a help-desk call)."""
        if self.guide is None or not self.guide.isVisible():
            self.guide = open_guide(self, self)
        self.guide.raise_()
        return self.guide

    def export_bundle(
        self,
        path: str,
        report: RunReport | None = None,
        picture: QPixmap | None = None,
        owner: object | None = None,
    ) -> None:
        """Write the bundle for ``report`` (the last run by default) in a worker, with ``picture`` (this window
        by default, taken here on the GUI thread) as what the user saw. ``bundle_written`` or ``bundle_failed``
        follows; the session tells ``owner`` (the guide, say) too."""
        report = report or self.last_report
        owner = owner if owner is not None else self
        if report is None:
            return
        try:
            target = resolve_bundle_path(
                path if path.lower().endswith(".zip") or Path(path).is_dir() else path + ".zip", report
            )
        except InputError as exc:
            self._session_bundle_failed(owner, str(exc))
            return
        env = self.catalog.environments.get(report.environment)
        context = BundleContext(
            catalog_version=self.catalog.version,
            environment_name=env.name if env else "",
            application_names={a.id: a.name for a in self.catalog.applications.values()},
            contacts=self.catalog.contacts,
            settings={
                "time_limit_seconds": self.preferences.timeout or "per address (10 by default)",
                "extra_trusted_certificates": [Path(p).name for p in self.preferences.ca_files],
                "client_certificate": self._certificate_fact(),
                "ads_client_version": self.ads_version.text().strip() or None,
                "proxy": self.preferences.proxy_address or None,  # never its password
            },
            window_png=_png(picture if picture is not None else self.grab()),
            qt_version=qVersion(),
        )
        self.statusBar().showMessage("Writing the diagnostic bundle...")
        self.session.export_bundle(target, report, context, owner)

    @Slot(object, str, str)
    def _session_bundle_written(self, _owner: object, path: str, reference: str) -> None:
        self.statusBar().showMessage(f"Diagnostic bundle saved: {path} (reference {reference})", 15000)
        self.bundle_written.emit(path)

    @Slot(object, str)
    def _session_bundle_failed(self, owner: object, sentence: str) -> None:
        self.bundle_failed.emit(sentence)
        if owner is self:
            self._show_input_problem(sentence)
        self.statusBar().showMessage(sentence, 15000)

    def open_log_folder(self) -> None:
        """Show the folder with the program's log files."""
        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_settings(self) -> None:
        """The Settings dialog."""
        dialog = SettingsDialog(self.preferences, self, self.proxy_password)
        if dialog.exec():
            self.proxy_password = dialog.session_proxy_password

    def show_about(self) -> None:
        """Program and catalog versions, and where to find more."""
        QMessageBox.about(
            self,
            "About TLS Readiness Checker",
            f"<p><b>TLS Readiness Checker {__version__}</b></p>"
            f"<p>Catalog version {self.catalog.version}</p>"
            "<p>Checks that this computer can reach the California ISO's market systems over TLS 1.2.</p>"
            f'<p><a href="{DEVELOPER_SITE}">The ISO\'s developer site</a><br>'
            f'<a href="{SYSTEM_ACCESS_DOCUMENT}">The ISO\'s system access document</a></p>',
        )

    # ------------------------------------------------------------------ closing

    def _remember_choice(self) -> None:
        self.preferences.environment = self.environment.currentData() or ""
        self.preferences.application = self.application.currentData() or ""
        self.preferences.certificate_path = self.certificate_choice()
        self.preferences.certificate_alias = self.cert_alias

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running check, wait for the worker, remember the window, then close."""
        if self.guide is not None:
            self.guide.reject()
        self.session.shut_down(5000)
        self._remember_choice()
        self.preferences.geometry = self.saveGeometry()
        self.preferences.save()
        event.accept()


class _Scroller(QScrollArea):
    """The window's contents fill the window, and scroll only when the window is smaller than their minimum
    (a small screen at a large scale), so the window always fits the screen. (Qt's own resizing would give them
    the height their wrapped sentences prefer, and scroll at once.)"""

    def __init__(self, contents: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setWidget(contents)
        contents.installEventFilter(self)

    def _fit(self) -> None:
        contents = self.widget()
        if contents is None:
            return
        minimum = contents.minimumSizeHint()
        width = max(self.viewport().width(), minimum.width())
        contents.resize(width, max(self.viewport().height(), minimum.height()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the contents to the new size."""
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Fit again when the contents' layout changes (a banner shown, options folded)."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)


def _png(pixmap: QPixmap) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    return bytes(buffer.data().data())


def _title(finding: Finding) -> str:
    return explain(finding).title


def run_after_start(window: MainWindow) -> None:
    """Start checking once the event loop runs (``--run``)."""
    QTimer.singleShot(0, window.start_check)
