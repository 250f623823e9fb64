"""This computer's clock against the servers', with real servers (nginx) and real shifted clocks (libfaketime).

Two ways to make the clocks disagree, both real: the program itself run under ``faketime`` (its clock 2 days
ahead or behind), and nginx run under ``faketime`` (the servers' clocks off, this computer's right). Under Wine
only the second works (a Windows program there cannot start ``faketime``); both reach the same code: the
servers' ``Date`` against this computer's time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest

from app.core.computer.checks import ComputerSettings
from app.core.findings import Check, Code, Finding, Status, Verdict
from app.core.model import CheckSettings, RunReport, TargetReport
from app.core.runner import run_checks
from tests.real_servers.authorities import AuthorityLab

QUICK = ComputerSettings(java=False, os_stack=False)
CLOCK_STEP = "First set this computer's date and time right"


def run(lab: AuthorityLab, *names: str) -> RunReport:
    return run_checks([lab.target(n) for n in names], CheckSettings(timeout=3, computer=QUICK))


def report_of(run: RunReport, name: str) -> TargetReport:
    return next(t for t in run.targets if t.target.id == name)


def clock_of(run: RunReport) -> list[Finding]:
    return [f for f in run.computer if f.check is Check.CLOCK]


def codes(report: TargetReport) -> set[Code]:
    return {f.code for f in report.findings}


# ---- the program's own clock shifted (faketime), as on a computer whose clock is wrong ------------------------


def shifted_check(lab: AuthorityLab, shift: str) -> dict[str, object]:
    if sys.platform == "win32" or shutil.which("faketime") is None:
        pytest.skip("faketime shifts a Linux program's clock (the servers' clocks are shifted below instead)")
    urls = [arg for n in ("short-lived", "short-lived-2") for arg in ("--url", lab.url(n))]
    options = ["--ca-file", str(lab.folder / "root.pem"), "--skip-java", "--skip-system-tls", "--timeout", "3"]
    proc = subprocess.run(
        ["faketime", "-f", shift, sys.executable, "-m", "app", "check", *urls, *options, "--json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        # libfaketime shifts the time of day only: the waits (monotonic) stay true.
        env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
    )
    assert proc.returncode == 1, proc.stderr
    report: dict[str, object] = json.loads(proc.stdout)
    return report


def _json_clock(report: dict[str, object]) -> dict[str, str]:
    [finding] = [f for f in report["computer"]["findings"] if f["code"] == "CLOCK_WRONG"]  # type: ignore[index]
    return finding  # type: ignore[no-any-return]


def _json_certificate_findings(report: dict[str, object], code: str) -> list[dict[str, str]]:
    found = [f for t in report["targets"] for f in t["findings"] if f["code"] == code]  # type: ignore[attr-defined]
    return found


def test_this_clock_two_days_ahead(authority_lab):
    report = shifted_check(authority_lab, "+2d")
    clock = _json_clock(report)
    assert clock["status"] == "fail"
    assert "2 days ahead" in clock["explanation"]
    offsets = [t["clock_offset_s"] for t in report["targets"]]  # type: ignore[attr-defined]
    assert all(-2 * 86400 - 60 < o < -2 * 86400 + 60 for o in offsets), offsets  # read by the clock reading
    expired = _json_certificate_findings(report, "CERT_EXPIRED")
    assert len(expired) == 2  # both addresses, each explained by the clock
    for finding in expired:
        assert "clock" in finding["title"] and finding["action"].startswith(CLOCK_STEP)
        assert "By the servers' time it is still valid" in finding["explanation"]


def test_this_clock_two_days_behind(authority_lab):
    report = shifted_check(authority_lab, "-2d")
    clock = _json_clock(report)
    assert "2 days behind" in clock["explanation"]
    early = _json_certificate_findings(report, "CERT_NOT_YET_VALID")
    assert len(early) == 2
    assert all(f["action"].startswith(CLOCK_STEP) for f in early)
    assert not _json_certificate_findings(report, "CERT_EXPIRED")


# ---- the servers' clocks shifted (nginx under faketime): the same reading, and it runs under Wine too -------


def test_servers_two_days_ahead_of_this_computer(authority_lab):
    result = run(authority_lab, "ahead")
    [clock] = clock_of(result)
    assert clock.code is Code.CLOCK_WRONG and clock.status is Status.FAIL
    assert clock.params["difference"] == "2 days behind"
    [early] = [f for f in report_of(result, "ahead").findings if f.code is Code.CERT_NOT_YET_VALID]
    assert early.params.get("variant") == "clock"
    assert result.verdict is Verdict.ACTION_NEEDED


def test_servers_two_days_behind_this_computer(authority_lab):
    result = run(authority_lab, "behind")
    [clock] = clock_of(result)
    assert clock.params["difference"] == "2 days ahead"
    [expired] = [f for f in report_of(result, "behind").findings if f.code is Code.CERT_EXPIRED]
    assert expired.params.get("variant") == "clock"


def test_a_few_minutes_apart_is_not_a_wrong_clock(authority_lab):
    result = run(authority_lab, "slightly")
    assert not clock_of(result)
    report = report_of(result, "slightly")
    assert report.clock_offset_s is not None and 150 < report.clock_offset_s < 210  # nginx is 3 minutes ahead
    assert Code.CERT_OK in codes(report)


def test_an_expired_certificate_is_not_blamed_on_a_right_clock(authority_lab):
    result = run(authority_lab, "expired", "short-lived")
    assert not clock_of(result)
    [expired] = [f for f in report_of(result, "expired").findings if f.code is Code.CERT_EXPIRED]
    assert "variant" not in expired.params


def test_the_servers_median_decides(authority_lab):
    # One server two days ahead, two on time: this computer's clock is right, that server's is wrong.
    result = run(authority_lab, "ahead", "short-lived", "short-lived-2")
    assert not clock_of(result)
    [early] = [f for f in report_of(result, "ahead").findings if f.code is Code.CERT_NOT_YET_VALID]
    assert "variant" not in early.params


def test_one_wrong_server_beside_one_right_proves_nothing(authority_lab):
    # Their median is a day off, but only one of the two says this clock is wrong: no verdict on this clock.
    result = run(authority_lab, "ahead", "short-lived")
    assert not clock_of(result)


def test_a_date_no_server_clock_can_say_is_not_read():
    from app.core.checks.http import parse_head

    head = b"HTTP/1.1 200 OK\r\nDate: Fri, 31 Dec 9999 23:59:59 GMT\r\n\r\n"
    assert parse_head(head, 1.0, dt.datetime.now(dt.UTC)).clock_offset_s is None
