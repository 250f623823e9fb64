"""This computer's clock, against the servers' (the ``Date`` of their answers).

A clock that is days off makes every certificate look expired or not yet valid, and the user would be told
that the ISO's certificate has expired. When more than half of the servers that answered say this clock is more
than five minutes off, the same way (their median says by how much), the run reports CLOCK_WRONG once, and each
certificate finding the wrong clock explains says so, with setting the clock as its first step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections.abc import Sequence

from app.core.findings import Check, Code, Finding
from app.core.model import TargetReport
from app.core.words import VARIANT

MAX_SKEW = dt.timedelta(minutes=5)
_DATED = (Code.CERT_EXPIRED, Code.CERT_NOT_YET_VALID)


def servers_offset(reports: Sequence[TargetReport]) -> float | None:
    """The servers' clock less this computer's, in seconds: the median over the addresses that gave their time."""
    offsets = [r.clock_offset_s for r in reports if r.clock_offset_s is not None]
    return statistics.median(offsets) if offsets else None


def _most_agree(reports: Sequence[TargetReport]) -> bool:
    """Whether more than half of the servers that gave their time say this clock is off, the same way (one
    server with a wrong clock beside one with a right one proves nothing)."""
    offsets = [r.clock_offset_s for r in reports if r.clock_offset_s is not None]
    limit = MAX_SKEW.total_seconds()
    ahead = sum(o > limit for o in offsets)  # the servers ahead of this clock: it is behind
    behind = sum(o < -limit for o in offsets)
    return max(ahead, behind) * 2 > len(offsets)


def how_far(seconds: float) -> str:
    """A clock difference in words: "2 days and 3 hours ahead" (this computer's clock ahead of the servers')."""
    left = round(abs(seconds) / 60)
    days, left = divmod(left, 24 * 60)
    hours, minutes = divmod(left, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    amount = " and ".join(shown) or "less than a minute"
    return f"{amount} {'ahead' if seconds < 0 else 'behind'}"


def _when(moment: dt.datetime) -> str:
    """A moment as a person reads it, in this computer's time zone: "1 December 2026, 14:05 (PST)"."""
    local = moment.astimezone()
    return f"{local.day} {local:%B %Y, %H:%M} ({local.tzname() or 'local time'})"


def clock_findings(reports: Sequence[TargetReport], now: dt.datetime) -> tuple[list[Finding], tuple[TargetReport, ...]]:
    """CLOCK_WRONG when the servers say this clock is more than five minutes off (else nothing), and the reports
    with every certificate date finding the wrong clock explains worded so."""
    offset = servers_offset(reports)
    if offset is None or not _most_agree(reports):
        return [], tuple(reports)
    servers = now + dt.timedelta(seconds=offset)
    answered = sum(r.clock_offset_s is not None for r in reports)
    params = {"this_time": _when(now), "servers_time": _when(servers), "difference": how_far(offset)}
    detail = (
        f"this computer: {now:%Y-%m-%d %H:%M:%S} UTC; the servers (median of {answered}): "
        f"{servers:%Y-%m-%d %H:%M:%S} UTC; difference {offset:+.0f} s"
    )
    return [Finding(Code.CLOCK_WRONG, Check.CLOCK, params, detail)], tuple(_explained(r, servers) for r in reports)


def _explained(report: TargetReport, servers: dt.datetime) -> TargetReport:
    """The report with its certificate date findings worded for a wrong clock, when at the servers' time every
    certificate of the chain is valid."""
    if not any(f.code in _DATED for f in report.findings) or not report.chain:
        return report
    if not all(c.not_before <= servers <= c.not_after for c in report.chain):
        return report  # expired by the servers' clock too: the certificate's own problem
    findings = tuple(
        dataclasses.replace(f, params={**f.params, VARIANT: "clock"}) if f.code in _DATED else f
        for f in report.findings
    )
    return dataclasses.replace(report, findings=findings)
