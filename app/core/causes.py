"""Problems grouped by cause: when many addresses fail for the same reason (the proxy, no network, the
certificate file, the clock), that reason is one thing to fix, said once, with the addresses it stops.

Shared by the verdict's sentence (:func:`app.core.summary.headline`), the results list, the guide and the
text report.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.findings import CODE_NUMBERS, PROBLEM_STATUSES, STATUS_RANK, Code, Finding, Status
from app.core.model import RunReport

SHARED_AT = 3  # addresses with the same problem that make it one cause (or every address, when 2 or more)


@dataclass(frozen=True)
class SharedCause:
    """One problem found at many addresses.

    Attributes:
        code: its finding code.
        finding: the first of its findings (for its words; the others differ only in the address).
        targets: the ids of the addresses it was found at, in the run's order.
    """

    code: Code
    finding: Finding
    targets: tuple[str, ...]

    @property
    def status(self) -> Status:
        """Its status (fail, or error for "could not be checked")."""
        return self.finding.status


def shared_causes(report: RunReport) -> list[SharedCause]:
    """The problems found at :data:`SHARED_AT` or more addresses (or at every address of a run of two or more),
    the one that stops the most addresses first."""
    seen: dict[Code, tuple[Finding, list[str]]] = {}
    for target in report.targets:
        for code in dict.fromkeys(f.code for f in target.findings if f.status in PROBLEM_STATUSES):
            finding = next(f for f in target.findings if f.code is code)
            seen.setdefault(code, (finding, []))[1].append(target.target.id)
    total = len(report.targets)
    causes = [
        SharedCause(code, finding, tuple(ids))
        for code, (finding, ids) in seen.items()
        if len(ids) >= SHARED_AT or (total >= 2 and len(ids) == total)
    ]
    return sorted(causes, key=lambda c: (-len(c.targets), -STATUS_RANK[c.status], CODE_NUMBERS[c.code]))


def main_cause(report: RunReport) -> SharedCause | None:
    """The shared cause found at every address with a problem (so fixing it is the first thing to do), if any."""
    troubled = {t.target.id for t in report.targets if any(f.status in PROBLEM_STATUSES for f in t.findings)}
    for cause in shared_causes(report):
        if troubled and troubled <= set(cause.targets):
            return cause
    return None
