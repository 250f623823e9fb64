"""Verdicts against real server software: nginx, Apache httpd, openssl s_server and Java's JSSE on 127.0.0.1.

Each stack serves every site it can be set up for (tests/real_servers/sites.py); each site is checked without a
client certificate and with the right one, and the sites that ask for one also with one from another authority
and with an expired one. What the checker must say is written once per site below, whatever software serves it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from app.core.addresses import parse_address
from app.core.checks.client_cert import ClientCertificate, load_client_certificate
from app.core.checks.pkcs12 import compatible_encryption
from app.core.computer.checks import ComputerSettings
from app.core.findings import Check, Code, Verdict
from app.core.model import CheckSettings, RunReport, Target, TargetReport
from app.core.runner import run_checks
from app.core.words import words_for
from tests.keystores import jks_from_p12, needs_keytool
from tests.real_servers.sites import PASSWORD, SITE, SITES, ClientAuth, RealPki, Site
from tests.real_servers.stacks import STACKS, Stack, StackUnavailable, free_port
from tests.servers import Served

CLIENTS = (None, "right", "other-authority", "expired")
QUICK = ComputerSettings(java=False, os_stack=False)  # Java and curl have tests of their own below
WITH_JAVA_AND_CURL = ComputerSettings(java=True, os_stack=True)


@dataclass
class RealLab:
    """Every stack, started, with the test PKI and a cache of one run per stack and client certificate."""

    pki: RealPki
    stacks: dict[str, Stack]
    missing: dict[str, str]
    _runs: dict[tuple[str, str | None], RunReport]

    def client(self, name: str | None) -> ClientCertificate | None:
        if name is None:
            return None
        cert = load_client_certificate(self.pki.client_file(name), PASSWORD)
        assert isinstance(cert, ClientCertificate)
        return cert

    def target(self, stack: Stack, site: str) -> Target:
        host = "127.0.0.1" if SITE[site].sni_only else "localhost"  # by number: no name is sent
        url = stack.url(site, host=host)
        return Target(f"{stack.name}:{site}", site, parse_address(url), anchors=self.pki.anchors)

    def report(self, stack_name: str, site: str, client: str | None) -> TargetReport:
        key = (stack_name, client)
        if key not in self._runs:
            stack = self.stacks[stack_name]
            targets = [self.target(stack, s) for s in stack.ports]
            settings = CheckSettings(timeout=5, client_cert=self.client(client), computer=QUICK)
            self._runs[key] = run_checks(targets, settings)
        return next(t for t in self._runs[key].targets if t.target.name == site)


@pytest.fixture(scope="module")
def real_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLab]:
    folder = Path(tmp_path_factory.mktemp("real-servers"))
    issuer = Served(b"", path="/issuing.der")  # the issuing authority's certificate, at its AIA address
    pki = RealPki(folder, issuer.url, f"http://127.0.0.1:{free_port()}/issuing.der")
    issuer.body = pki.issuing.der
    stacks: dict[str, Stack] = {}
    missing: dict[str, str] = {}
    try:
        for kind in STACKS:
            stack = kind(pki, folder)
            try:
                stack.start()
            except StackUnavailable as exc:
                missing[kind.name] = str(exc)
                continue
            except BaseException:
                stack.stop()  # what it had started is stopped by process id, even when it failed to come up
                raise
            stacks[kind.name] = stack
        if not stacks:
            pytest.skip(f"no real server software here ({'; '.join(missing.values())})")
        yield RealLab(pki, stacks, missing, {})
    finally:
        for stack in stacks.values():
            stack.stop()
        issuer.stop()


def expectation(site: Site, client: str | None) -> tuple[set[Code], set[Code], bool]:
    """What must be found, what must not, and whether the address is ready."""
    if site.plain:
        return {Code.NOT_TLS}, set(), False
    if site.client_auth is not ClientAuth.NONE:
        version = {Code.TLS13_OK} if site.versions == ("TLSv1.3",) else {Code.TLS12_OK}
        if client is None:
            return {*version, Code.CLIENT_CERT_REQUIRED}, {Code.HTTP_OK, Code.CLIENT_CERT_OK}, False
        if client != "right":
            return {Code.CLIENT_CERT_REJECTED}, {Code.HTTP_OK, Code.CLIENT_CERT_OK}, False
        if site.status == 403:  # the right certificate, without access to this application
            return {Code.HTTP_FORBIDDEN}, {Code.CLIENT_CERT_OK, Code.HTTP_OK}, False
        # Ready, unless TLS 1.2 is refused (a TLS 1.3-only server shuts out Windows 10's own TLS).
        return (
            {*version, Code.CLIENT_CERT_OK, Code.HTTP_OK},
            {Code.CLIENT_CERT_NOT_REQUESTED},
            "TLSv1.2" in site.versions,
        )
    extra = {Code.CLIENT_CERT_NOT_REQUESTED} if client and site.name in ("good", "rsa-key-exchange") else set()
    table: dict[str, tuple[set[Code], set[Code], bool]] = {
        "good": ({Code.TLS12_OK, Code.TLS13_OK, Code.CERT_OK, Code.HTTP_OK, *extra}, set(), True),
        "expired": ({Code.CERT_EXPIRED}, {Code.CERT_OK}, False),
        "wrong-name": ({Code.CERT_NAME_MISMATCH}, {Code.CERT_OK}, False),
        "tls10-only": ({Code.TLS12_REFUSED, Code.LEGACY_TLS_ACCEPTED}, {Code.HANDSHAKE_FAILED}, False),
        "tls13-only": ({Code.TLS12_REFUSED, Code.TLS13_OK}, {Code.HANDSHAKE_FAILED}, False),
        "missing-intermediate": ({Code.CERT_CHAIN_INCOMPLETE}, {Code.CERT_UNTRUSTED, Code.CERT_OK}, False),
        "missing-intermediate-unreachable": ({Code.CERT_CHAIN_INCOMPLETE_UNREACHABLE}, {Code.CERT_UNTRUSTED}, False),
        "private-root": ({Code.CERT_UNTRUSTED}, {Code.CERT_SELF_SIGNED, Code.CERT_OK}, False),
        "rsa-key-exchange": (
            {Code.TLS12_OK, Code.TLS12_WEAK_CIPHER, Code.HTTP_OK, *extra},
            {Code.HANDSHAKE_FAILED},
            True,
        ),
        "sni-only": ({Code.TLS_NAME_REQUIRED}, {Code.HANDSHAKE_FAILED}, False),
    }
    return table[site.name]


def cases() -> list[tuple[str, str, str | None]]:
    out = []
    for kind in STACKS:
        probe = kind.__new__(kind)  # supports() looks only at the site
        for site in SITES:
            if probe.supports(site):
                clients = CLIENTS if site.client_auth is not ClientAuth.NONE else (None, "right")
                out += [(kind.name, site.name, client) for client in clients]
    return out


@pytest.mark.parametrize(("stack", "site", "client"), cases())
def test_real_server_verdict(real_lab, stack, site, client):
    if stack in real_lab.missing:
        pytest.skip(real_lab.missing[stack])
    report = real_lab.report(stack, site, client)
    codes = {f.code for f in report.findings}
    must, must_not, ready = expectation(SITE[site], client)
    if client == "other-authority" and report.acceptable_client_cas:
        # The server names the authorities it accepts, and ours is not one: Windows and Java would send nothing.
        must, must_not = (
            (must - {Code.CLIENT_CERT_REJECTED}) | {Code.CLIENT_CERT_WRONG_ISSUER},
            must_not | {Code.CLIENT_CERT_REJECTED},
        )
    shown = "\n".join(f"{f.code.value}: {f.details[:3000]}" for f in report.findings)
    assert must <= codes, f"missing {sorted(must - codes)}:\n{shown}"
    assert not (must_not & codes), f"should not say {sorted(must_not & codes)}:\n{shown}"
    assert (report.verdict is Verdict.READY) is ready, shown


CONTRADICTIONS = (
    (
        {Code.CLIENT_CERT_OK},
        {Code.CLIENT_CERT_REJECTED, Code.CLIENT_CERT_REQUIRED, Code.CLIENT_CERT_WRONG_ISSUER, Code.HTTP_FORBIDDEN},
    ),
    (
        {Code.HTTP_OK},
        {Code.CLIENT_CERT_REJECTED, Code.CLIENT_CERT_REQUIRED, Code.CLIENT_CERT_WRONG_ISSUER, Code.HTTP_FORBIDDEN},
    ),
    ({Code.CERT_OK}, {Code.CERT_UNTRUSTED, Code.CERT_EXPIRED, Code.CERT_NAME_MISMATCH, Code.CERT_CHAIN_INCOMPLETE}),
    ({Code.TLS12_OK}, {Code.TLS12_REFUSED, Code.HANDSHAKE_FAILED}),
)


def test_findings_never_contradict_each_other(real_lab):
    checked = 0
    for stack, site, client in cases():
        if stack in real_lab.missing:
            continue
        codes = {f.code for f in real_lab.report(stack, site, client).findings}
        for one, others in CONTRADICTIONS:
            assert not (one & codes and others & codes), (stack, site, client, sorted(codes))
        checked += 1
    assert checked > 50


def test_the_server_refusing_the_client_is_never_ready(real_lab):
    for stack, site, client in cases():
        if stack in real_lab.missing or SITE[site].client_auth is ClientAuth.NONE or client == "right":
            continue
        assert real_lab.report(stack, site, client).verdict is not Verdict.READY, (stack, site, client)


def test_the_servers_own_words_are_in_the_details(real_lab):
    """nginx's 400 page and IIS's 403.7 (as the JSSE server answers) are what the help desk reads."""
    if "nginx" in real_lab.missing or "jsse" in real_lab.missing:
        pytest.skip("needs nginx and Java")
    nginx = real_lab.report("nginx", "mtls-http", None).findings_for(Check.CLIENT_CERT)[0]
    assert "No required SSL certificate was sent" in nginx.details
    iis = real_lab.report("jsse", "mtls-http", None).findings_for(Check.CLIENT_CERT)[0]
    assert "403.7" in iis.details
    wrong = real_lab.report("nginx", "mtls-http", "other-authority").findings_for(Check.CLIENT_CERT)[0]
    assert "The SSL certificate error" in wrong.details


@pytest.mark.parametrize(
    ("stack", "site"),
    [
        ("nginx", "mtls-http"),  # TLS 1.2, verified at the HTTP level
        ("nginx", "mtls-http13"),
        ("apache", "mtls12"),
        ("apache", "mtls-later"),  # asked by renegotiation, after the request
        ("s_server", "mtls13"),
        ("jsse", "mtls12"),
        ("jsse", "mtls13"),
    ],
)
def test_a_certificate_from_an_authority_the_server_does_not_name(real_lab, stack, site):
    """TLS 1.2 and TLS 1.3: the server's list against the user's chain, named in plain words."""
    if stack in real_lab.missing:
        pytest.skip(real_lab.missing[stack])
    report = real_lab.report(stack, site, "other-authority")
    [finding] = report.findings_for(Check.CLIENT_CERT)
    assert finding.code is Code.CLIENT_CERT_WRONG_ISSUER, report.findings
    assert "ISO Test Client CA" in finding.params["cas"]
    assert finding.params["issuer"] not in finding.params["cas"] and finding.params["issuer"].startswith("CN=")
    assert finding.params.get("variant") == "partial"  # the file holds the certificate alone: both causes named
    words = words_for(finding.code, finding.params)
    assert finding.params["issuer"] in words.explanation and "User Access Administrator" in words.action
    assert report.verdict is Verdict.ACTION_NEEDED
    right = real_lab.report(stack, site, "right").findings_for(Check.CLIENT_CERT)[0]
    assert right.code is Code.CLIENT_CERT_OK  # the right authority is matched by the same list


def test_a_file_with_its_whole_chain_is_told_it_is_the_authority(real_lab, tmp_path):
    """With the authority's own certificate in the file, the names are all known: no other cause to name."""
    if "s_server" in real_lab.missing:
        pytest.skip(real_lab.missing["s_server"])
    issued = real_lab.pki.clients["other-authority"]
    path = tmp_path / "with-root.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client", issued.key, issued.cert, [real_lab.pki.retired_client_ca.cert], compatible_encryption(b"pw")
        )
    )
    cert = load_client_certificate(path, "pw")
    assert isinstance(cert, ClientCertificate) and cert.chain_complete
    target = real_lab.target(real_lab.stacks["s_server"], "mtls13")
    report = run_checks([target], CheckSettings(timeout=5, client_cert=cert, computer=QUICK)).targets[0]
    [finding] = report.findings_for(Check.CLIENT_CERT)
    assert finding.code is Code.CLIENT_CERT_WRONG_ISSUER and "variant" not in finding.params
    assert "Retired Client CA" in finding.params["issuer"]


def test_a_tls13_certificate_request_and_its_authorities_are_seen(real_lab):
    if "s_server" in real_lab.missing:
        pytest.skip(real_lab.missing["s_server"])
    finding = real_lab.report("s_server", "mtls13", "right").findings_for(Check.CLIENT_CERT)[0]
    assert finding.code is Code.CLIENT_CERT_OK
    assert "TLS 1.3: the server asked for a certificate during the handshake" in finding.details
    assert "ISO Test Client CA" in finding.params["cas"]


@pytest.mark.parametrize("stack", ["apache", "jsse"])
def test_a_certificate_asked_for_after_the_request_is_seen(real_lab, stack):
    """Apache's SSLVerifyClient inside a <Location>, and JSSE: asked for by renegotiating, after the request."""
    if stack in real_lab.missing:
        pytest.skip(real_lab.missing[stack])
    for client, code in ((None, Code.CLIENT_CERT_REQUIRED), ("right", Code.CLIENT_CERT_OK)):
        finding = real_lab.report(stack, "mtls-later", client).findings_for(Check.CLIENT_CERT)[0]
        assert finding.code is code, (stack, client, finding)
        assert "after our request (renegotiation)" in finding.details


def test_a_missing_intermediate_is_fetched_and_named(real_lab):
    for stack in real_lab.stacks:
        report = real_lab.report(stack, "missing-intermediate", None)
        finding = next(f for f in report.findings if f.code is Code.CERT_CHAIN_INCOMPLETE)
        assert "Real Server Test Issuing CA" in finding.params["issuer"]
        assert "it completes the chain" in finding.details
        dead = real_lab.report(stack, "missing-intermediate-unreachable", None)
        unreachable = next(f for f in dead.findings if f.code is Code.CERT_CHAIN_INCOMPLETE_UNREACHABLE)
        assert "refused" in unreachable.params["why"]


def test_a_private_root_sent_along_is_named_not_called_self_signed(real_lab):
    for stack in real_lab.stacks:
        finding = next(
            f for f in real_lab.report(stack, "private-root", None).findings if f.code is Code.CERT_UNTRUSTED
        )
        assert "Private Company Root" in finding.params["issuer"]


# ---- Java and the system's curl, presenting the user's certificate --------------------------------------------

needs_java_and_curl = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("curl") is None, reason="needs a Java runtime and the system's curl"
)


@needs_java_and_curl
@pytest.mark.parametrize("stack", ["apache", "nginx"])
def test_curl_and_java_present_the_users_certificate(real_lab, stack):
    """With the right certificate, Windows' (here curl's) and Java's connections are let in too; without one, or
    with another authority's (one the server does not name), their refusal is the certificate's finding, not a
    failure of TLS 1.2."""
    if stack in real_lab.missing:
        pytest.skip(real_lab.missing[stack])
    site = "mtls12" if stack == "apache" else "mtls-http"
    target = real_lab.target(real_lab.stacks[stack], site)
    for client, own in (("right", Code.CLIENT_CERT_OK), ("other-authority", Code.CLIENT_CERT_WRONG_ISSUER)):
        settings = CheckSettings(timeout=5, client_cert=real_lab.client(client), computer=WITH_JAVA_AND_CURL)
        report = run_checks([target], settings).targets[0]
        codes = {f.code for f in report.findings}
        shown = "\n".join(f"{f.code.value}: {f.details[:200]}" for f in report.findings)
        assert own in codes, shown
        assert [f.code for f in report.findings_for(Check.OS_STACK)] == [Code.OS_STACK_TLS12_OK], shown
        assert [f.code for f in report.findings_for(Check.JAVA)] == [Code.JAVA_TLS12_OK], shown
        if client == "right":
            assert "HTTP 200" in report.findings_for(Check.OS_STACK)[0].details, shown
            assert "HTTP 200" in report.findings_for(Check.JAVA)[0].details, shown


@needs_java_and_curl
def test_the_one_time_copy_of_the_certificate_is_used_then_removed(real_lab, tmp_path, monkeypatch):
    import tempfile

    if "apache" in real_lab.missing:
        pytest.skip(real_lab.missing["apache"])
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    site = real_lab.target(real_lab.stacks["apache"], "mtls12")  # refuses the handshake without the certificate
    settings = CheckSettings(timeout=5, client_cert=real_lab.client("right"), computer=WITH_JAVA_AND_CURL)
    report = run_checks([site], settings).targets[0]
    assert "HTTP 200" in report.findings_for(Check.OS_STACK)[0].details  # curl was let in: it presented the copy
    assert "HTTP 200" in report.findings_for(Check.JAVA)[0].details  # and so was Java
    assert not list(tmp_path.glob("tlsrc-cert-*")), "the copy of the certificate was left behind"


@pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime")
def test_java_names_a_wrong_name_as_such(real_lab):
    from app.core.computer.java import find_runtimes, probe_findings, start_probe

    stack = next(iter(real_lab.stacks.values()))
    wrong = real_lab.target(stack, "wrong-name")
    probe = start_probe(find_runtimes())
    assert probe is not None
    try:
        answer = probe.submit(wrong, real_lab.pki.anchors.pem, 5).result(30)
    finally:
        probe.stop()
    found, _ = probe_findings(wrong, probe.version, answer)
    assert [f.code for f in found] == [Code.JAVA_CERT_NAME_MISMATCH], found


@needs_keytool
@pytest.mark.parametrize(("stack", "site"), [("nginx", "mtls-http"), ("apache", "mtls12"), ("jsse", "mtls13")])
def test_a_java_key_store_against_real_servers(real_lab, tmp_path, stack, site):
    """A .jks made by keytool: accepted, refused (another authority), and with a wrong password."""
    if stack in real_lab.missing:
        pytest.skip(real_lab.missing[stack])
    target = real_lab.target(real_lab.stacks[stack], site)
    for client, expected in (("right", Code.CLIENT_CERT_OK), ("other-authority", Code.CLIENT_CERT_WRONG_ISSUER)):
        store = jks_from_p12(real_lab.pki.client_file(client), PASSWORD, tmp_path / f"{client}.jks", "jks-Pass-1")
        cert = load_client_certificate(store, "jks-Pass-1")
        assert isinstance(cert, ClientCertificate), cert
        report = run_checks([target], CheckSettings(timeout=5, client_cert=cert, computer=QUICK)).targets[0]
        codes = [f.code for f in report.findings_for(Check.CLIENT_CERT)]
        assert codes == [expected], report.findings
        ready = client == "right" and SITE[site].status == 200 and "TLSv1.2" in SITE[site].versions
        assert (report.verdict is Verdict.READY) == ready
    wrong = load_client_certificate(tmp_path / "right.jks", "not-the-password")
    run = run_checks([target], CheckSettings(timeout=5, client_cert=wrong, computer=QUICK))
    assert [f.code for f in run.findings] == [Code.CLIENT_CERT_BAD_PASSWORD] and run.verdict is not Verdict.READY
