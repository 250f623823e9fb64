"""The details of what is selected: the plain explanation and what to do first; the technical details and the
certificate chain folded away below."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from app.core.causes import SharedCause
from app.core.contacts import Contact, advice
from app.core.findings import PROBLEM_STATUSES, STATUS_RANK, Finding
from app.core.model import Target, TargetReport
from app.core.words import STATUS_WORDS, VERDICT_WORDS, explain, terms_used


class DetailsPanel(QWidget):
    """Plain words in "Details"; technical text in "Technical details", shown on request."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.contacts: Mapping[str, Contact] = {}  # whom the words send people to (the catalog's)
        self.reference = ""  # the run's reference, for the sentence to say or paste
        self.text = QTextBrowser()
        self.text.setAccessibleName("Details")
        self.text.setOpenExternalLinks(False)
        self.toggle = QToolButton()
        self.toggle.setText("Show technical details")
        self.toggle.setAccessibleName("Show technical details")
        self.toggle.setCheckable(True)
        self.technical = QPlainTextEdit()
        self.technical.setAccessibleName("Technical details")
        self.technical.setReadOnly(True)
        self.technical.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.technical.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 3)
        layout.addWidget(self.toggle)
        layout.addWidget(self.technical, 2)
        self.toggle.toggled.connect(self._fold)
        self.show_hint()

    def _fold(self, shown: bool) -> None:
        self.technical.setVisible(shown)
        self.toggle.setText("Hide technical details" if shown else "Show technical details")

    def show_hint(self, text: str = "Select a line in the results to read what it means and what to do.") -> None:
        """Show a short instruction instead of details."""
        self.text.setHtml(f"<p>{html.escape(text)}</p>")
        self.technical.setPlainText("")

    def show_findings(self, target: Target | None, title: str, findings: tuple[Finding, ...]) -> None:
        """The findings of one check (of an address, or of this computer when ``target`` is None)."""
        name, url = (target.name, target.address.url) if target else ("This computer", "")
        parts = [f"<h3>{html.escape(title)}</h3><p>{html.escape(name)}<br><small>{html.escape(url)}</small></p>"]
        if not findings:
            parts.append("<p>This check was not needed: an earlier step already stopped.</p>")
        where = f"{target.name} ({target.address.url})" if target else "This computer"
        for f in sorted(findings, key=lambda f: -STATUS_RANK[f.status]):
            parts.append(finding_html(f, where, self.reference, self.contacts))
        self.text.setHtml("".join(parts) + glossary_html(findings))
        self.technical.setPlainText(_technical(findings))

    def show_cause(self, cause: SharedCause, names: list[str]) -> None:
        """A problem many addresses share: what it means and what to do, once, and the addresses it stops."""
        words = explain(cause.finding)
        listed = "".join(f"<li>{html.escape(n)}</li>" for n in names)
        self.text.setHtml(
            f"<h3>{html.escape(words.title)}</h3>"
            f"<p>This one problem stops {len(names)} addresses. Fix it first: the others may then work.</p>"
            + finding_html(cause.finding, f"{len(names)} addresses", self.reference, self.contacts)
            + f"<p><b>The addresses it stops:</b></p><ul>{listed}</ul>"
            + glossary_html((cause.finding,))
        )
        self.technical.setPlainText(_technical((cause.finding,)))

    def show_target(self, report: TargetReport) -> None:
        """A summary of one endpoint: its problems in plain words, then its facts."""
        t = report.target
        problems = report.problems
        parts = [
            f"<h3>{html.escape(t.name)}: {VERDICT_WORDS[report.verdict]}</h3>",
            f"<p><small>{html.escape(t.address.url)}<br>Address from: {html.escape(t.source or 'you')}</small></p>",
        ]
        if not problems:
            parts.append("<p>Everything needed works for this address.</p>")
        for f in sorted(problems, key=lambda f: -STATUS_RANK[f.status]):
            parts.append(finding_html(f, f"{t.name} ({t.address.url})", self.reference, self.contacts))
        self.text.setHtml("".join(parts) + glossary_html(problems))
        facts = [
            f"Address: {t.address.url}",
            f"Resolved to: {', '.join(report.addresses) or '-'}",
            f"Connected to: {report.connected_address or '-'}",
            f"Protocol: {report.protocol or '-'} {report.cipher}",
            f"Time: {report.elapsed_ms:.0f} ms",
        ]
        facts += [f"Trust ({r.store}): {r.verdict.value} - {r.detail}" for r in report.trust]
        if report.acceptable_client_cas:
            facts.append(
                "Client certificate authorities the server accepts: " + "; ".join(report.acceptable_client_cas)
            )
        for i, cert in enumerate(report.chain):
            facts += [
                "",
                f"Certificate [{i}]",
                f"  Subject: {cert.subject}",
                f"  Issuer: {cert.issuer}",
                f"  Names: {', '.join(cert.alt_names) or '-'}",
                f"  Valid: {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}",
                f"  Key: {cert.key_type} {cert.key_bits} bits; signature {cert.signature_algorithm}",
                f"  SHA-256: {cert.sha256}",
                cert.pem.rstrip(),
            ]
        self.technical.setPlainText("\n".join([*facts, "", _technical(report.findings)]))


def finding_html(
    f: Finding, where: str = "", reference: str = "", contacts: Mapping[str, Contact] | None = None
) -> str:
    """A finding's words; for a problem, also whom to contact and a sentence to say or paste."""
    words = explain(f)
    text = (
        f"<p><b>{STATUS_WORDS[f.status]}: {html.escape(words.title)}</b> "
        f"<small>[{f.code.value}]</small><br>{html.escape(words.explanation)}</p>"
        f"<p><b>What to do:</b> {html.escape(words.action)}</p>"
    )
    if f.status not in PROBLEM_STATUSES or contacts is None:
        return text
    lines, said = advice(words, f.code.value, where or "This computer", reference, contacts)
    if lines:
        text += "<p><b>Whom to contact:</b><br>" + "<br>".join(html.escape(line) for line in lines) + "</p>"
    return text + f"<p><b>To say or paste:</b> <i>{html.escape(said)}</i></p>"


def glossary_html(findings: Iterable[Finding]) -> str:
    """ "Words used here": the plain meaning of each term these findings' words use, once (nothing if none)."""
    said = [explain(f) for f in findings]
    terms = terms_used(*(text for w in said for text in (w.title, w.explanation, w.action)))
    if not terms:
        return ""
    meanings = "<br>".join(f"<b>{html.escape(t.term)}</b>: {html.escape(t.meaning)}" for t in terms)
    return f"<p><small><b>Words used here</b><br>{meanings}</small></p>"


def _technical(findings: tuple[Finding, ...]) -> str:
    return "\n".join(f"{f.code.value} ({f.status.value}): {f.details}" for f in findings)
