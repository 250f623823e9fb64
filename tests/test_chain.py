"""A server that does not send its intermediate certificate: the issuer is fetched from the address the
certificate names (directly or through the proxy), never trusted by itself, and the chain verified again."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from app.core.checks.chain import complete_chain, issuer_missing, issuer_urls
from app.core.fetch import fetch
from app.core.findings import Code
from app.core.model import CheckSettings
from app.core.net import Budget
from app.core.proxy import parse_proxy
from app.core.runner import run_checks
from app.lab.pki import LabPki
from app.lab.proxy import PracticeProxy
from tests.conftest import target
from tests.servers import Served


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return LabPki()


def _leaf_only(pki: LabPki, url: str) -> tuple[bytes, ...]:
    return (pki.issuing.issue(ca_issuers=url).cert.public_bytes(Encoding.DER),)


@pytest.mark.parametrize("form", ["der", "pem", "p7c"])
def test_the_issuer_is_fetched_in_every_form_authorities_publish(pki, form):
    body = {
        "der": pki.issuing.der,
        "pem": pki.issuing.cert.public_bytes(Encoding.PEM),
        "p7c": pkcs7.serialize_certificates([pki.issuing.cert], Encoding.DER),
    }[form]
    served = Served(body)
    try:
        chain = _leaf_only(pki, served.url)
        assert issuer_missing(chain) and issuer_urls(chain[0]) == (served.url,)
        completion = complete_chain(chain, "localhost", pki.ca.pem, Budget(5), None)
    finally:
        served.stop()
    assert completion is not None and completion.completes, completion
    assert "Practice Issuing CA" in completion.issuer


def test_a_fetched_certificate_is_never_trusted_by_itself(pki):
    """The address serves the very issuer, but no root this program trusts vouches for it (the lab's root is
    not given as an anchor): the chain still does not verify."""
    served = Served(pki.issuing.der)
    try:
        chain = _leaf_only(pki, served.url)
        completion = complete_chain(chain, "localhost", "", Budget(5), None)
    finally:
        served.stop()
    assert completion is not None and not completion.completes and completion.fetched.ok
    assert "does not verify" in completion.detail


def test_an_expired_server_certificate_without_its_intermediate_gets_both_findings(lab, server_factory):
    """The chain question is asked by itself: an expired leaf is expired and its chain is incomplete."""
    import datetime as dt

    from tests.servers import server_context  # noqa: F401 - the lab's own server is used below

    now = dt.datetime.now(dt.UTC)
    served = Served(lab.pki.issuing.der)
    try:
        leaf = lab.pki.issuing.issue(
            ca_issuers=served.url, not_before=now - dt.timedelta(days=90), not_after=now - dt.timedelta(days=1)
        )
        chain = (leaf.cert.public_bytes(Encoding.DER),)
        completion = complete_chain(chain, "localhost", lab.pki.ca.pem, Budget(5), None)
    finally:
        served.stop()
    assert completion is not None and completion.completes, completion


def test_nothing_is_fetched_when_the_chain_lacks_nothing(pki):
    issued = pki.issuing.issue(ca_issuers="http://127.0.0.1:9/never")
    full = (issued.cert.public_bytes(Encoding.DER), pki.issuing.der)
    assert not issuer_missing(full)
    assert complete_chain(full, "localhost", pki.ca.pem, Budget(1), None) is None
    no_address = (pki.issuing.issue().cert.public_bytes(Encoding.DER),)
    assert complete_chain(no_address, "localhost", pki.ca.pem, Budget(1), None) is None


def test_fetch_limits_and_failures_are_values(pki):
    big = Served(b"x" * (400 * 1024))
    missing = Served(b"", status=404)
    try:
        assert "larger than" in fetch(big.url, Budget(5)).error
        assert fetch(missing.url, Budget(5)).error == "the server answered 404 Not Found"
    finally:
        big.stop()
        missing.stop()
    assert fetch("https://127.0.0.1/x", Budget(1)).error == "only http:// addresses are fetched"
    refused = fetch("http://127.0.0.1:9/x", Budget(2))
    assert not refused.ok and "refused" in refused.error


def test_the_missing_intermediate_through_the_proxy_in_use(lab):
    proxy = PracticeProxy().start()
    try:
        settings = CheckSettings(proxy=parse_proxy(proxy.url))
        report = run_checks([target(lab.url("missing-intermediate"), anchors=lab.anchors)], settings).targets[0]
        assert Code.CERT_CHAIN_INCOMPLETE in {f.code for f in report.findings}
        assert proxy.forwarded == 1  # the issuer came through the proxy, as everything else did
    finally:
        proxy.stop()
    blocking = PracticeProxy(refuse=("127.0.0.1",)).start()  # tunnels to "localhost" only: the fetch is refused
    try:
        settings = CheckSettings(proxy=parse_proxy(blocking.url))
        report = run_checks([target(lab.url("missing-intermediate"), anchors=lab.anchors)], settings).targets[0]
    finally:
        blocking.stop()
    finding = next(f for f in report.findings if f.code is Code.CERT_CHAIN_INCOMPLETE_UNREACHABLE)
    assert finding.params["why"] == "the proxy answered 403 Forbidden"
