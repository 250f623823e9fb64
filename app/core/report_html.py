"""The report as one self-contained HTML page (no external files, no scripts), fit for any browser and for
printing: the verdict first, then each problem with its plain explanation and next steps, then the details."""

from __future__ import annotations

import html
from collections.abc import Mapping

from app import __version__
from app.core.causes import shared_causes
from app.core.contacts import Contact, advice
from app.core.findings import PROBLEM_STATUSES, STATUS_RANK, Check, Finding, Status, Verdict
from app.core.model import RunReport, TargetReport
from app.core.reference import SupportSummary, encode
from app.core.summary import headline
from app.core.words import STATUS_WORDS, VERDICT_WORDS, Words, explain

_VERDICT_STYLE = {  # CSS class and symbol: colour is never alone
    Verdict.READY: ("ready", "&#10004;"),
    Verdict.ACTION_NEEDED: ("action", "&#10006;"),
    Verdict.COULD_NOT_CHECK: ("unknown", "?"),
}
_CSS = """
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #202124; margin: 2em auto; max-width: 60em;
       line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.meta { color: #555; }
p, td { overflow-wrap: anywhere; }
.verdict { border: 2px solid; border-radius: 6px; padding: .8em 1em; font-size: 1.25em; font-weight: bold; }
.verdict.ready { background: #e6f4ea; border-color: #1e8e3e; }
.verdict.action { background: #fce8e6; border-color: #c5221f; }
.verdict.unknown { background: #eceff1; border-color: #6b6f76; }
.problem { border-left: 4px solid #c5221f; padding: .2em 0 .2em 1em; margin: 1em 0; page-break-inside: avoid; }
.problem.warning { border-color: #c77700; } .problem.error { border-color: #6b6f76; }
.code { font-family: monospace; color: #555; font-size: .9em; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3em .5em;
  border-bottom: 1px solid #ddd; vertical-align: top; }
tr.bad td { background: #fce8e6; } .summary li.warning a { color: #8a5300; } .summary li.error a { color: #444; }
.summary a { color: #a50e0e; }
pre { background: #f5f5f5; padding: .6em; white-space: pre-wrap; word-break: break-all; font-size: .8em; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
"""


def render_html(
    report: RunReport,
    environment_name: str = "",
    application_names: Mapping[str, str] | None = None,
    catalog_version: str = "",
    settings: Mapping[str, object] | None = None,
    contacts: Mapping[str, Contact] | None = None,
) -> str:
    """The whole page: the verdict, a summary linking to each problem, the problems, this computer, the
    settings used, every address (problems marked), and per address the handshakes made."""
    names = application_names or {}
    css_class, symbol = _VERDICT_STYLE[report.verdict]
    word = VERDICT_WORDS[report.verdict]
    e = html.escape
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>TLS Readiness report {e(report.reference)}</title><style>{_CSS}</style></head><body>",
        "<h1>TLS Readiness Checker report</h1>",
        f'<p class="meta">{e(environment_name or "Addresses typed in")} &middot; checked '
        f"{report.started:%Y-%m-%d %H:%M} UTC &middot; reference <b>{e(report.reference)}</b> &middot; "
        f"support code <b>{e(encode(SupportSummary.from_report(report)))}</b></p>",
        f'<div class="verdict {css_class}" role="status">{symbol} {e(word)}: {e(headline(report))}</div>',
    ]
    problems: list[tuple[TargetReport | None, Finding]] = [
        (None, f) for f in report.computer if f.status in (Status.FAIL, Status.ERROR, Status.WARNING)
    ]
    problems += [(None, f) for f in report.findings if f.status is not Status.PASS]
    problems += [(t, f) for t in report.targets for f in t.problems]
    problems.sort(key=lambda pair: -STATUS_RANK[pair[1].status])
    if problems:
        parts.append('<nav><h2>Summary</h2><ol class="summary">')
        for n, (target, finding) in enumerate(problems, start=1):
            kind = _KIND.get(finding.status, "")
            parts.append(
                f'<li class="{kind.strip()}"><a href="#p{n}">{_where_text(target, finding)}: '
                f'{e(explain(finding).title)}</a> <span class="code">[{finding.code.value}]</span></li>'
            )
        parts.append("</ol></nav>")
    causes = shared_causes(report)
    if causes:
        parts.append(
            "<p><b>One problem, many addresses:</b> "
            + "; ".join(f"{e(explain(c.finding).title)} ({len(c.targets)} addresses)" for c in causes)
            + ". Fixing it first may fix them all.</p>"
        )
    parts.append("<h2>What needs attention</h2>")
    if not problems:
        parts.append("<p>Nothing: every address checked works from this computer.</p>")
    for n, (target, finding) in enumerate(problems, start=1):
        parts.append(_problem(target, finding, f"p{n}", contacts or {}))
    parts.append("<h2>This computer</h2>")
    parts.append(_findings_table(report.computer) if report.computer else "<p>Nothing was looked at.</p>")
    parts.append("<h2>Settings used</h2><table>")
    shown = {
        "Environment": environment_name or "Addresses typed in",
        **{_label(k): v for k, v in (settings or {}).items()},
    }
    if report.client_cert is not None:
        shown.setdefault("Client certificate", report.client_cert.name)
    for key, value in shown.items():
        parts.append(f"<tr><th>{e(key)}</th><td>{e(_value(value))}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Every address checked</h2><table><tr><th>Application</th><th>Address</th><th>Result</th></tr>")
    for n, t in enumerate(report.targets, start=1):
        row = ' class="bad"' if t.verdict is not Verdict.READY else ""
        parts.append(
            f"<tr{row}><td>{e(names.get(t.target.application, t.target.application or '-'))}</td>"
            f'<td><a href="#t{n}">{e(t.target.name)}</a><br><span class="code">{e(t.target.address.url)}</span></td>'
            f"<td>{e(VERDICT_WORDS[t.verdict])}</td></tr>"
        )
    parts.append("</table><h2>Technical details</h2>")
    for n, t in enumerate(report.targets, start=1):
        parts.append(_technical(t, f"t{n}"))
    parts.append(
        f'<p class="meta">TLS Readiness Checker {e(__version__)}'
        f"{f', catalog {e(catalog_version)}' if catalog_version else ''}.</p></body></html>\n"
    )
    return "".join(parts)


_KIND = {Status.WARNING: " warning", Status.ERROR: " error"}


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(value: object) -> str:
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _where_text(target: TargetReport | None, finding: Finding) -> str:
    if target is not None:
        return html.escape(target.target.name)
    return "Your client certificate" if finding.check is Check.CLIENT_CERT else "This computer"


def _findings_table(findings: tuple[Finding, ...]) -> str:
    e = html.escape
    rows = []
    for f in findings:
        marked = ' class="bad"' if f.status in PROBLEM_STATUSES else ""
        rows.append(
            f"<tr{marked}><td>{STATUS_WORDS[f.status]}</td><td>{e(explain(f).title)} "
            f'<span class="code">[{f.code.value}]</span></td><td><pre>{e(f.details)}</pre></td></tr>'
        )
    return f"<table><tr><th>Status</th><th>Finding</th><th>Details</th></tr>{''.join(rows)}</table>"


def _problem(target: TargetReport | None, finding: Finding, anchor: str, contacts: Mapping[str, Contact]) -> str:
    e = html.escape
    words = explain(finding)
    kind = _KIND.get(finding.status, "")
    where = _where_text(target, finding)
    if target is not None:
        where += f' <span class="code">{e(target.target.address.url)}</span>'
    return (
        f'<div class="problem{kind}" id="{anchor}"><p><b>{STATUS_WORDS[finding.status]}: {e(words.title)}</b> '
        f'<span class="code">[{finding.code.value}]</span><br>{where}</p><p>{e(words.explanation)}</p>'
        f"<p><b>What to do:</b> {e(words.action)}</p>{_whom(words, finding, contacts)}</div>"
    )


def _whom(words: Words, finding: Finding, contacts: Mapping[str, Contact]) -> str:
    if finding.status not in PROBLEM_STATUSES:
        return ""
    lines, _said = advice(words, finding.code.value, "", "", contacts)
    return "<p><b>Whom to contact:</b> " + html.escape(" ".join(lines)) + "</p>" if lines else ""


def _technical(t: TargetReport, anchor: str) -> str:
    e = html.escape
    cas = "; ".join(t.acceptable_client_cas)
    named = f"; authorities named for client certificates: {e(cas)}" if cas else ""
    facts = (
        f'<p class="meta">Addresses: {e(", ".join(t.addresses) or "-")}; connected to '
        f"{e(t.connected_address or '-')}; {e(t.protocol or '-')} {e(t.cipher)}; {t.elapsed_ms:.0f} ms"
        f"{named}</p>"
    )
    shakes = "".join(
        f"<tr><td>{e(h.offered)}</td><td>{e(h.outcome)}</td><td>{e(h.protocol or '-')} {e(h.cipher)}</td>"
        f"<td>{e(h.certificate_request or '-')}</td><td>{e('; '.join(h.alerts) or '-')}</td>"
        f'<td class="code">{e(h.messages or h.error or "-")}</td></tr>'
        for h in t.handshakes
    )
    handshakes = (
        "<table><tr><th>Offered</th><th>Outcome</th><th>Agreed</th><th>Certificate request</th><th>Alerts</th>"
        f"<th>Messages</th></tr>{shakes}</table>"
        if shakes
        else ""
    )
    certs = "".join(
        f'<p class="code">[{i}] {e(c.subject)}<br>issuer {e(c.issuer)}<br>valid '
        f"{c.not_before:%Y-%m-%d} to {c.not_after:%Y-%m-%d}; {e(c.key_type)} {c.key_bits} bits; "
        f"{e(c.signature_algorithm)}; SHA-256 {c.sha256}</p>"
        for i, c in enumerate(t.chain)
    )
    return (
        f'<h3 id="{anchor}">{e(t.target.name)}</h3><p class="code">{e(t.target.address.url)}</p>{facts}'
        f"{_findings_table(t.findings)}{handshakes}{certs}"
    )
