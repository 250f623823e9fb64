"""Every failure class of the practice lab yields its code, through the real engine and real sockets."""

import pytest

from app.core.findings import Code, Verdict
from app.core.scenarios import SCENARIOS, Behaviour
from app.selftest import NEEDS_AN_HONEST_ROOT_CHECK
from tests.wine import UNDER_WINE, WINE_TRUSTS_UNKNOWN_ROOTS, wine_trusts_unknown_roots

BY_SCENARIO = {f"practice-{s.name}": s for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_yields_its_codes(practice_report, scenario):
    if scenario.behaviour is Behaviour.BACKLOG_FULL:
        import sys

        if not sys.platform.startswith("linux"):
            pytest.skip("a full accept queue drops new connections only on Linux")
    if UNDER_WINE and scenario.name in NEEDS_AN_HONEST_ROOT_CHECK:
        pytest.skip(WINE_TRUSTS_UNKNOWN_ROOTS)
    report = next(t for t in practice_report.targets if t.target.id == f"practice-{scenario.name}")
    codes = {f.code for f in report.findings}
    assert set(scenario.expect) <= codes, f"{scenario.name}: got {sorted(codes)}"


def test_healthy_servers_are_ready_and_broken_ones_are_not(practice_report):
    verdicts = {t.target.id: t.verdict for t in practice_report.targets}
    for ready in (
        "practice-ready",
        "practice-tls12-only",
        "practice-legacy-too",
        "practice-expiring-soon",
        "practice-wrong-path",
    ):
        assert verdicts[ready] is Verdict.READY, ready
    for broken in ("practice-expired", "practice-legacy-only", "practice-silent", "practice-client-cert-tls13"):
        assert verdicts[broken] is Verdict.ACTION_NEEDED, broken
    assert practice_report.verdict is Verdict.ACTION_NEEDED


def test_dns_missing_name_is_not_found_without_asking_anyone(practice_report):
    report = next(t for t in practice_report.targets if t.target.id == "practice-dns-missing")
    assert [f.code for f in report.findings] == [Code.DNS_NOT_FOUND]


def test_every_kind_of_problem_shows_on_the_first_run(practice_report):
    codes = {f.code for t in practice_report.targets for f in t.findings}
    for code in (
        Code.DNS_NOT_FOUND,
        Code.TCP_REFUSED,
        Code.TCP_TIMEOUT,
        Code.CONNECTION_RESET,
        Code.NOT_TLS,
        Code.HANDSHAKE_TIMEOUT,
        Code.HANDSHAKE_FAILED,
        Code.TLS12_REFUSED,
        Code.LEGACY_TLS_ACCEPTED,
        Code.CERT_EXPIRED,
        Code.CERT_NOT_YET_VALID,
        Code.CERT_EXPIRING_SOON,
        Code.CERT_NAME_MISMATCH,
        Code.CERT_WEAK_SIGNATURE,
        Code.CERT_WEAK_KEY,
        Code.CLIENT_CERT_REQUIRED,
        Code.HTTP_FORBIDDEN,
    ):
        assert code in codes, code


@wine_trusts_unknown_roots
def test_untrusted_and_self_signed_show_on_the_first_run(practice_report):
    codes = {f.code for t in practice_report.targets for f in t.findings}
    assert Code.CERT_UNTRUSTED in codes and Code.CERT_SELF_SIGNED in codes


def test_certificate_chain_is_captured_even_when_verification_fails(practice_report):
    for name in ("practice-expired", "practice-untrusted", "practice-wrong-name", "practice-self-signed"):
        report = next(t for t in practice_report.targets if t.target.id == name)
        assert report.chain, name
        leaf = report.chain[0]
        assert leaf.subject and leaf.key_type and leaf.signature_algorithm


def test_certificate_facts_are_reported(practice_report):
    ready = next(t for t in practice_report.targets if t.target.id == "practice-ready")
    leaf = ready.chain[0]
    assert "localhost" in leaf.alt_names and "127.0.0.1" in leaf.alt_names
    assert leaf.key_type.startswith("EC") and leaf.key_bits == 256
    weak = next(t for t in practice_report.targets if t.target.id == "practice-weak-key")
    assert (weak.chain[0].key_type, weak.chain[0].key_bits) == ("RSA", 1024)
    sha1 = next(t for t in practice_report.targets if t.target.id == "practice-weak-signature")
    assert sha1.chain[0].signature_hash == "sha1"
    assert ready.protocol == "TLSv1.2" and ready.cipher
    assert {r.store for r in ready.trust} == {"mozilla", "system"}


def test_tls13_client_certificate_refusal_arrives_on_first_read(practice_report):
    report = next(t for t in practice_report.targets if t.target.id == "practice-client-cert-tls13")
    finding = next(f for f in report.findings if f.code is Code.CLIENT_CERT_REQUIRED)
    assert "TLS 1.3: the first read after the handshake ended with TLSV13_ALERT_CERTIFICATE_REQUIRED" in (
        finding.details
    )
    assert "TLS 1.2: the handshake ended" in finding.details
    # The TLS 1.3 request travels inside the encrypted handshake: seen through OpenSSL's message callback.
    assert "TLS 1.3: the server asked for a certificate during the handshake" in finding.details
