"""The report as plain text: for the terminal, an email or a ticket. Problems first, in plain words."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping

from app import __version__
from app.core.causes import main_cause, shared_causes
from app.core.contacts import Contact, advice
from app.core.findings import PROBLEM_STATUSES, STATUS_OF, STATUS_RANK, Finding, Status, Verdict
from app.core.model import RunReport, TargetReport
from app.core.reference import SupportSummary, encode
from app.core.words import GENERIC_PARAMS, STATUS_WORDS, VERDICT_WORDS, explain, for_command_line, words_for

WIDTH = 100
_MARK = {Verdict.READY: "[ READY  ]", Verdict.ACTION_NEEDED: "[ ACTION ]", Verdict.COULD_NOT_CHECK: "[   ?    ]"}


def headline(report: RunReport) -> str:
    """One sentence: the answer of the run."""
    total = len(report.targets)
    bad = sum(1 for t in report.targets if t.verdict is Verdict.ACTION_NEEDED)
    unknown = sum(1 for t in report.targets if t.verdict is Verdict.COULD_NOT_CHECK)
    if report.cancelled:
        return "The check was cancelled before it finished."
    if report.verdict is Verdict.READY:
        if total == 1:
            return "This computer is ready for TLS 1.2 (1 address checked)."
        return f"This computer is ready for TLS 1.2 ({total} addresses checked, all ready)."
    computer = any(f.status is Status.FAIL for f in report.computer)
    also = " This computer needs attention too." if computer else ""
    cause = main_cause(report)
    if cause is not None:  # one reason stops them all: name it once
        count = len(cause.targets)
        what = "need attention" if cause.status is Status.FAIL else "could not be checked"
        return f"{explain(cause.finding).title}: {count} of {total} addresses {what}.{also}"
    if report.verdict is Verdict.ACTION_NEEDED:
        if bad == 0:
            return "This computer needs attention." if computer else "Your client certificate needs attention."
        noun = "address needs" if bad == 1 else "addresses need"
        shared = shared_causes(report)
        most = f" For {len(shared[0].targets)} of them: {explain(shared[0].finding).title}." if shared else ""
        return f"{bad} of {total} {noun} attention.{most}{also}"
    return f"{unknown} of {total} addresses could not be checked."


def render(
    report: RunReport,
    environment_name: str = "",
    application_names: Mapping[str, str] | None = None,
    verbose: bool = False,
    command_line: bool = False,
    contacts: Mapping[str, Contact] | None = None,
) -> str:
    """The whole report as text. ``verbose`` adds the technical details of every finding; ``command_line`` says
    where to act in the command's terms (``--bundle``), not the window's (the File menu); ``contacts`` (the
    catalog's) adds whom to contact to each problem."""
    names = application_names or {}
    out = [
        f"TLS Readiness Checker {__version__}" + (f" - {environment_name}" if environment_name else ""),
        f"Checked {report.started:%Y-%m-%d %H:%M} UTC in {report.elapsed_ms / 1000:.1f} s",
        "",
        f"RESULT: {headline(report)}",
        f"Reference: {report.reference}    Support code: {encode(SupportSummary.from_report(report))}",
        "",
    ]
    if report.computer:
        out.append("This computer")
        shown = (
            report.computer
            if verbose
            else tuple(f for f in report.computer if STATUS_RANK[f.status] >= STATUS_RANK[Status.INFO])
        )
        for f in sorted(shown, key=lambda f: -STATUS_RANK[f.status]):
            out.extend(_finding_lines(f, verbose, command_line=command_line, contacts=contacts))
        out.append("")
    if report.findings:
        out.append("Your client certificate")
        for f in report.findings:
            out.extend(_finding_lines(f, verbose, command_line=command_line, contacts=contacts))
        out.append("")
    groups: dict[str, list[TargetReport]] = {}
    for t in report.targets:
        groups.setdefault(t.target.application, []).append(t)
    for app, targets in groups.items():
        if app:
            out.append(names.get(app, app))
        for t in targets:
            out.append(f"  {_MARK[t.verdict]} {t.target.name}")
            if t.target.name != t.target.address.url:
                out.append(f"             {t.target.address.url}")
            shown = (
                t.findings
                if verbose
                else tuple(f for f in t.findings if STATUS_RANK[f.status] >= STATUS_RANK[Status.WARNING])
            )
            for f in sorted(shown, key=lambda f: -STATUS_RANK[f.status]) if not verbose else shown:
                out.extend(_finding_lines(f, verbose, indent=13, command_line=command_line, contacts=contacts))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _finding_lines(
    finding: Finding,
    verbose: bool,
    indent: int = 2,
    command_line: bool = False,
    contacts: Mapping[str, Contact] | None = None,
) -> list[str]:
    words = explain(finding)
    if command_line:
        words = dataclasses.replace(words, action=for_command_line(words.action))
    pad = " " * indent
    lines = [f"{pad}{STATUS_WORDS[finding.status].upper()}: {words.title} [{finding.code.value}]"]
    if finding.status in (Status.FAIL, Status.ERROR, Status.WARNING) or verbose:
        lines += _wrap("What happened: " + words.explanation, pad + "  ")
        lines += _wrap("What to do: " + words.action, pad + "  ")
    if contacts and finding.status in PROBLEM_STATUSES:
        whom, _said = advice(words, finding.code.value, "", "", contacts)
        for line in whom:
            lines += _wrap("Whom to contact: " + (for_command_line(line) if command_line else line), pad + "  ")
    if verbose and finding.details:
        for detail in finding.details.splitlines():
            lines += _wrap("Details: " + detail, pad + "  ")
    return lines


def _wrap(text: str, pad: str) -> list[str]:
    # A link is never cut in two: it must still work when pasted.
    return textwrap.wrap(
        text, WIDTH, initial_indent=pad, subsequent_indent=pad + "  ", break_long_words=False, break_on_hyphens=False
    ) or [pad]


def render_support_code(code: str, summary: SupportSummary) -> str:
    """A support code expanded for the help desk: the verdict, then the main problems in plain words."""
    plural = "es" if summary.targets != 1 else ""
    out = [
        f"Support code {code}: {VERDICT_WORDS[summary.verdict].lower()}; {summary.targets} address{plural} checked.",
        "",
    ]
    if not summary.causes:
        out.append("No problems were recorded.")
    elif summary.kinds > len(summary.causes):
        out += [f"The main problems ({len(summary.causes)} of {summary.kinds} kinds):", ""]
    else:
        out += ["The problems:" if len(summary.causes) > 1 else "The problem:", ""]
    for finding_code in summary.causes:
        words = words_for(finding_code, GENERIC_PARAMS)
        out.append(f"  {STATUS_WORDS[STATUS_OF[finding_code]].upper()}: {words.title} [{finding_code.value}]")
        out += _wrap("What happened: " + words.explanation, "    ")
        out += _wrap("What to do: " + for_command_line(words.action), "    ")
        out.append("")
    out.append("The diagnostic bundle with the run's reference names each address and every problem.")
    return "\n".join(out).rstrip() + "\n"
