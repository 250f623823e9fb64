"""How a check's state looks: its label, its icon (painted, so no image files or fonts are needed) and the
words of each state. Colour is never alone: every state has its own shape and its own word."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from app.core.findings import STATUS_RANK, Check, Finding, Status, Verdict

CHECK_LABELS: dict[Check, str] = {
    Check.DNS: "Finding the server",
    Check.TCP: "Connecting",
    Check.TLS12: "TLS 1.2",
    Check.TLS13: "TLS 1.3",
    Check.LEGACY: "Old versions (TLS 1.0 and 1.1)",
    Check.CERTIFICATE: "Server certificate",
    Check.REVOCATION: "Certificate not withdrawn",
    Check.HTTP: "Server's answer",
    Check.CLIENT_CERT: "Your certificate",
    Check.ADS_CLIENT: "ADS client",
    Check.WINDOWS: "Windows TLS settings",
    Check.JAVA: "Java",
    Check.OS_STACK: "This computer's own TLS (curl)",
    Check.PROXY: "Proxy settings",
    Check.CLOCK: "This computer's clock",
}


class State(StrEnum):
    """The live state of one check (or endpoint) in the results."""

    WAITING = "waiting"
    RUNNING = "running"
    PASSED = "passed"
    NOTE = "note"
    WARNING = "warning"
    FAILED = "failed"
    UNKNOWN = "could not check"
    SKIPPED = "not needed"


STATE_WORDS: dict[State, str] = {
    State.WAITING: "Waiting",
    State.RUNNING: "Checking...",
    State.PASSED: "Passed",
    State.NOTE: "Note (no problem)",
    State.WARNING: "Warning",
    State.FAILED: "Problem",
    State.UNKNOWN: "Could not check",
    State.SKIPPED: "Not needed",
}

_COLOURS = {
    State.WAITING: "#8a8f98",
    State.RUNNING: "#1f6fd1",
    State.PASSED: "#1e8e3e",
    State.NOTE: "#1f6fd1",
    State.WARNING: "#c77700",
    State.FAILED: "#c5221f",
    State.UNKNOWN: "#6b6f76",
    State.SKIPPED: "#8a8f98",
}


def problem_text_colour(widget: QWidget) -> str:
    """Red text that stays readable on the widget's background, light or dark theme."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return "#f28b82" if dark else "#c5221f"


def state_of(findings: tuple[Finding, ...] | list[Finding]) -> State:
    """The state of a finished check: its worst finding decides."""
    if not findings:
        return State.SKIPPED
    worst = max((f.status for f in findings), key=lambda s: STATUS_RANK[s])
    return {
        Status.PASS: State.PASSED,
        Status.INFO: State.NOTE,
        Status.SKIPPED: State.SKIPPED,
        Status.WARNING: State.WARNING,
        Status.ERROR: State.UNKNOWN,
        Status.FAIL: State.FAILED,
    }[worst]


def state_of_verdict(verdict: Verdict) -> State:
    """The state shown for an endpoint or a run."""
    return {Verdict.READY: State.PASSED, Verdict.ACTION_NEEDED: State.FAILED, Verdict.COULD_NOT_CHECK: State.UNKNOWN}[
        verdict
    ]


def colour(state: State) -> QColor:
    """The colour of a state (always shown with its icon shape and word too)."""
    return QColor(_COLOURS[state])


_cache: dict[tuple[State, int], QIcon] = {}


def icon(state: State, size: int = 64) -> QIcon:
    """A round badge with a shape per state: tick, "i", cross, exclamation mark, dots, arc, dash, question mark."""
    key = (state, size)
    if key in _cache:
        return _cache[key]
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour(state))
    p.drawEllipse(QRectF(2 * s, 2 * s, 60 * s, 60 * s))
    pen = QPen(QColor("white"), 7 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if state is State.NOTE:  # a lower-case i
        p.drawPoint(QPointF(32 * s, 18 * s))
        p.drawLine(QPointF(32 * s, 29 * s), QPointF(32 * s, 46 * s))
    elif state is State.PASSED:
        path = QPainterPath(QPointF(18 * s, 33 * s))
        path.lineTo(QPointF(28 * s, 43 * s))
        path.lineTo(QPointF(46 * s, 22 * s))
        p.drawPath(path)
    elif state is State.FAILED:
        p.drawLine(QPointF(21 * s, 21 * s), QPointF(43 * s, 43 * s))
        p.drawLine(QPointF(43 * s, 21 * s), QPointF(21 * s, 43 * s))
    elif state is State.WARNING:
        p.drawLine(QPointF(32 * s, 16 * s), QPointF(32 * s, 36 * s))
        p.drawPoint(QPointF(32 * s, 47 * s))
    elif state is State.WAITING:
        for x in (20, 32, 44):
            p.drawPoint(QPointF(x * s, 32 * s))
    elif state is State.RUNNING:
        p.drawArc(QRectF(17 * s, 17 * s, 30 * s, 30 * s), 90 * 16, -270 * 16)
    elif state is State.SKIPPED:
        p.drawLine(QPointF(20 * s, 32 * s), QPointF(44 * s, 32 * s))
    else:  # could not check: a question mark
        path = QPainterPath(QPointF(23 * s, 24 * s))
        path.cubicTo(QPointF(23 * s, 12 * s), QPointF(42 * s, 12 * s), QPointF(41 * s, 25 * s))
        path.cubicTo(QPointF(40 * s, 32 * s), QPointF(32 * s, 31 * s), QPointF(32 * s, 38 * s))
        p.drawPath(path)
        p.drawPoint(QPointF(32 * s, 48 * s))
    p.end()
    result = QIcon(pixmap)
    _cache[key] = result
    return result
