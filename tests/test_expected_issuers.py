"""The catalog's expected issuers against a real server (nginx, tests/real_servers/authorities.py) whose chain
ends at a private root that this computer trusts (as a company's own authority, or an inspecting proxy's) and
Mozilla's roots do not.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from app.core.checks.issuers import ExpectedIssuer, ends_at, key_fingerprint, parse_expected_issuer
from app.core.computer.checks import ComputerSettings
from app.core.findings import Code, Finding
from app.core.model import CheckSettings, TargetReport
from app.core.runner import run_checks
from app.core.words import words_for
from tests.real_servers.authorities import AuthorityLab

QUICK = ComputerSettings(java=False, os_stack=False)


def checked(lab: AuthorityLab, *expected: str) -> TargetReport:
    """The "good" site, checked as a computer whose own store trusts the lab's root (the public roots do not)."""
    issuers = tuple(parse_expected_issuer(e) for e in expected)
    target = lab.target("good", anchors=None, system_anchors=lab.anchors, expected_issuers=issuers)
    return run_checks([target], CheckSettings(timeout=3, computer=QUICK)).targets[0]


def certificate_finding(report: TargetReport) -> Finding:
    [finding] = [
        f for f in report.findings if f.code in (Code.CERT_UNTRUSTED, Code.TLS_INSPECTION_SUSPECTED, Code.CERT_OK)
    ]
    return finding


def test_no_expected_issuer_keeps_the_rule_and_admits_a_private_authority(authority_lab):
    finding = certificate_finding(checked(authority_lab))
    assert finding.code is Code.TLS_INSPECTION_SUSPECTED and "variant" not in finding.params
    words = words_for(finding.code, finding.params)
    assert "on purpose" in words.explanation  # a company's own authority is the other possibility


@pytest.mark.parametrize(
    "expected",
    ["CN=Revocation Test Root", "cn=revocation test root, O=TLS Readiness Practice Lab", "issuing-fingerprint"],
)
def test_a_chain_ending_at_an_expected_issuer_is_never_called_inspected(authority_lab, expected):
    if expected == "issuing-fingerprint":  # the intermediate's key, as IT would copy it
        expected = "sha256:" + key_fingerprint(authority_lab.issuing.cert).upper()
    report = checked(authority_lab, "CN=Some Other Root", expected)
    finding = certificate_finding(report)
    assert finding.code is Code.CERT_UNTRUSTED, report.findings
    assert finding.params["variant"] == "expected" and finding.params["issuer"] == expected
    assert Code.TLS_INSPECTION_SUSPECTED not in {f.code for f in report.findings}
    assert expected in words_for(finding.code, finding.params).explanation


def test_a_chain_ending_elsewhere_is_inspection_with_both_names(authority_lab):
    report = checked(authority_lab, "CN=DigiCert Global Root G2, O=DigiCert Inc", "CN=DigiCert Global G3 TLS")
    finding = certificate_finding(report)
    assert finding.code is Code.TLS_INSPECTION_SUSPECTED
    assert finding.params["expected"] == "CN=DigiCert Global Root G2, O=DigiCert Inc or CN=DigiCert Global G3 TLS"
    assert finding.params["seen"] == "Revocation Test Root"
    explanation = words_for(finding.code, finding.params).explanation
    assert "DigiCert Global Root G2" in explanation and "Revocation Test Root" in explanation
    assert "expected issuers: " in finding.details


def test_a_publicly_trusted_chain_needs_no_expected_issuer(authority_lab):
    # Verified against the endpoint's own anchors (as the public roots would): the expected issuers do not turn
    # a good chain into a problem, even when it ends elsewhere.
    issuers = (parse_expected_issuer("CN=Some Other Root"),)
    target = authority_lab.target("good", expected_issuers=issuers)
    report = run_checks([target], CheckSettings(timeout=3, computer=QUICK)).targets[0]
    assert certificate_finding(report).code is Code.CERT_OK


def test_ends_at_reads_names_and_fingerprints(authority_lab):
    lab = authority_lab
    ders = [
        lab.site["good"].issued.cert.public_bytes(serialization.Encoding.DER),
        lab.issuing.cert.public_bytes(serialization.Encoding.DER),
    ]
    root = ExpectedIssuer("root", fingerprint=key_fingerprint(lab.root.cert))
    by_name = parse_expected_issuer("CN=Revocation Test Root")
    assert ends_at(ders, [by_name]) is by_name  # the root is named as the last certificate's issuer
    assert ends_at(ders, [root]) is None  # a fingerprint needs the certificate itself (the root is not sent)
    assert ends_at([*ders, lab.root.der], [root]) is root
    assert ends_at(ders, [parse_expected_issuer("CN=Revocation Test Root, C=CA")]) is None  # every part given counts
    # The server's own name never counts: a re-signing device copies it from the real server's certificate.
    assert ends_at(ders, [parse_expected_issuer("CN=localhost")]) is None
