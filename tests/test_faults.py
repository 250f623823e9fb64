"""Fault injection, loopback only: servers that break in the ways real networks and broken servers do.

Each fault must give a finding with plain words (a title, an explanation, and next steps naming whom to
contact), finish within its time limit, and never let an exception reach the user: the run returns a report,
and the text, JSON and HTML reports render it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import trustme

from app.core.findings import Code, Status, Verdict
from app.core.model import CheckSettings, RunReport
from app.core.report_html import render_html
from app.core.report_json import report_json
from app.core.runner import run_checks
from app.core.summary import render
from app.core.tls_contexts import TrustAnchors
from app.core.words import explain
from tests.conftest import target
from tests.faults import Fault, FaultProxy
from tests.servers import TestServer, server_context

TIMEOUT = 1.5  # seconds per step: short, so the slow faults (drip, silence) are quick to test
CONTACTS = ("IT department", "ISO", "User Access Administrator")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(key_type=trustme.KeyType.ECDSA, path_length=300)


@pytest.fixture(scope="module")
def anchors(ca: trustme.CA) -> TrustAnchors:
    return TrustAnchors.from_pem("test CA", ca.cert_pem.bytes().decode())


@pytest.fixture(scope="module")
def healthy(ca: trustme.CA) -> Iterator[TestServer]:
    server = TestServer(server_context(ca.issue_cert("localhost", key_type=trustme.KeyType.ECDSA)))
    yield server
    server.stop()


# What a check says when it waited for its time limit: a fault that shows at once must give none of these.
WAITED = {Code.TCP_TIMEOUT, Code.HANDSHAKE_TIMEOUT, Code.HTTP_NO_ANSWER}


def assert_not_waited(report: RunReport) -> None:
    waited = [f.code for t in report.targets for f in t.findings if f.code in WAITED]
    assert not waited, f"the check waited for its time limit: {waited}"


def assert_no_hang(elapsed: float) -> None:
    """Not a speed test (the machine is shared): a guard against waiting far past the time limit."""
    assert elapsed < TIMEOUT * 6, f"{elapsed:.1f} s: far past the {TIMEOUT} s time limit"


def check(url: str, anchors: TrustAnchors | None) -> tuple[RunReport, float]:
    started = time.monotonic()
    report = run_checks([target(url, anchors=anchors)], CheckSettings(timeout=TIMEOUT))
    return report, time.monotonic() - started


def assert_plain_finding(report: RunReport, code: Code) -> None:
    """The finding is there, with words for a non-expert, and every report format renders the run."""
    findings = report.targets[0].findings
    assert code in {f.code for f in findings}, [f.code.value for f in findings]
    assert report.verdict is not Verdict.READY
    for finding in findings:
        if finding.status in (Status.FAIL, Status.ERROR, Status.WARNING):
            words = explain(finding)
            assert words.title and words.explanation and words.action
            assert any(contact in words.action + words.explanation for contact in CONTACTS), words
    assert render(report, "", {}, True)
    json.loads(report_json(report))
    assert report.reference in render_html(report)


@pytest.mark.parametrize(
    ("fault", "code", "slow"),
    [
        (Fault.RESET_MID_HANDSHAKE, Code.CONNECTION_RESET, False),
        (Fault.GARBAGE_AFTER_HELLO, Code.NOT_TLS, False),
        (Fault.DRIP, Code.HANDSHAKE_TIMEOUT, True),
        (Fault.SILENT, Code.HANDSHAKE_TIMEOUT, True),
        (Fault.HALF_CLOSE, Code.CONNECTION_RESET, False),
    ],
)
def test_a_broken_server_is_a_finding_within_the_time_limit(healthy, anchors, fault, code, slow):
    proxy = FaultProxy(healthy.port, fault)
    try:
        report, elapsed = check(proxy.url, anchors)
    finally:
        proxy.stop()
    assert_plain_finding(report, code)
    # The time limit covers the whole handshake, so a server that drips a byte a second cannot stretch it.
    assert_no_hang(elapsed)
    if not slow:
        assert_not_waited(report)  # a fault that shows at once is reported at once


def test_a_huge_certificate_chain(ca, anchors):
    issuer = ca
    for _ in range(150):  # about 110 KB of certificates, deeper than any verifier accepts
        issuer = issuer.create_child_ca(key_type=trustme.KeyType.ECDSA)
    leaf = issuer.issue_cert("localhost", key_type=trustme.KeyType.ECDSA)
    assert sum(len(pem.bytes()) for pem in leaf.cert_chain_pems) > 100_000
    server = TestServer(server_context(leaf))
    try:
        report, elapsed = check(server.url, anchors)
    finally:
        server.stop()
    assert_plain_finding(report, Code.CERT_INVALID)
    assert_no_hang(elapsed)
    assert_not_waited(report)


@pytest.mark.parametrize("ours_among_them", [True, False])
def test_a_certificate_with_hundreds_of_names(ca, anchors, ours_among_them):
    names = [f"host{i}.example.com" for i in range(500)] + (["localhost"] if ours_among_them else [])
    server = TestServer(server_context(ca.issue_cert(*names, key_type=trustme.KeyType.ECDSA)))
    try:
        report, elapsed = check(server.url, anchors)
    finally:
        server.stop()
    assert_no_hang(elapsed)
    assert_not_waited(report)
    if ours_among_them:
        assert report.verdict is Verdict.READY
        return
    assert_plain_finding(report, Code.CERT_NAME_MISMATCH)
    (mismatch,) = [f for f in report.targets[0].findings if f.code is Code.CERT_NAME_MISMATCH]
    explanation = explain(mismatch).explanation
    # A few names and a count, not five hundred names in a sentence.
    assert "host0.example.com" in explanation and "and 495 more" in explanation
    assert len(explanation) < 500


def test_an_internationalized_host_name():
    report, elapsed = check("https://bücher.invalid/", None)
    assert_no_hang(elapsed)
    assert_not_waited(report)
    assert_plain_finding(report, Code.DNS_NOT_FOUND)
    words = explain(report.targets[0].findings[0])
    # The name as the person typed it, then the form the network uses.
    assert "bücher.invalid (xn--bcher-kva.invalid)" in words.explanation
