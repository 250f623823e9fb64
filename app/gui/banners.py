"""The verdict banner and the ADS upgrade banner: colour, icon and words together, readable in light and dark
themes (dark text on a light tint, whatever the palette)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.ads_client import INSTALL_PAGE, MARKET_NOTICE, MINIMUM_VERSION, format_version
from app.gui.status import State, icon

_TINTS = {
    State.PASSED: ("#e6f4ea", "#1e8e3e"),
    State.FAILED: ("#fce8e6", "#c5221f"),
    State.WARNING: ("#fef7e0", "#c77700"),
    State.UNKNOWN: ("#eceff1", "#6b6f76"),
    State.RUNNING: ("#e8f0fe", "#1f6fd1"),
    State.WAITING: ("#eceff1", "#8a8f98"),
}


class Banner(QFrame):
    """A tinted strip with an icon and a sentence."""

    def __init__(self, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(accessible_name)
        self.setObjectName(accessible_name.replace(" ", ""))
        self._icon = QLabel()
        self._icon.setAccessibleName(f"{accessible_name} icon")
        self._text = QLabel()
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout = QHBoxLayout(self)
        self._layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(self._text, 1)

    def show_state(self, state: State, text: str) -> None:
        """Show a state's colour and icon with ``text``."""
        background, border = _TINTS.get(state, _TINTS[State.WAITING])
        self.setStyleSheet(
            f"#{self.objectName()} {{ background: {background}; border: 2px solid {border}; border-radius: 6px; }}"
            f"#{self.objectName()} QLabel {{ color: #202124; background: transparent; }}"
        )
        size = self.fontMetrics().height() * 2
        self._icon.setPixmap(icon(state).pixmap(QSize(size, size)))
        self._text.setText(text)
        self.setAccessibleDescription(text)
        self._state = state

    def text(self) -> str:
        """The sentence shown."""
        return self._text.text()

    def state(self) -> State:
        """The state shown."""
        return self._state


class VerdictBanner(Banner):
    """The answer of the run in one sentence (accessible name "Verdict")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Verdict", parent)
        font = self._text.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self._text.setFont(font)


class AdsUpgradeBanner(Banner):
    """Shown when the ADS client typed in is older than 6.1.0.0, with buttons to the install page and the
    market notice."""

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("ADS upgrade needed", parent)
        buttons = QVBoxLayout()
        self.install = QPushButton("Open the ADS 6.1.0.0 install page")
        self.install.setAccessibleName("Open the ADS install page")
        self.notice = QPushButton("Read the ISO's market notice")
        self.notice.setAccessibleName("Read the market notice")
        buttons.addWidget(self.install)
        buttons.addWidget(self.notice)
        self._layout.addLayout(buttons)
        self.install.clicked.connect(lambda: self._open(INSTALL_PAGE))
        self.notice.clicked.connect(lambda: self._open(MARKET_NOTICE))

    def show_version(self, version: tuple[int, int, int, int]) -> None:
        """Explain that ``version`` must be upgraded."""
        self.show_state(
            State.FAILED,
            f"Your ADS client (version {format_version(version)}) is older than {format_version(MINIMUM_VERSION)} "
            "and must be upgraded: the ISO's systems no longer accept it. Install the new version from the ISO's "
            "page (you may need your IT department's help to install programs).",
        )

    def _open(self, url: str) -> None:
        QDesktopServices.openUrl(QUrl(url))
        self.opened.emit(url)
