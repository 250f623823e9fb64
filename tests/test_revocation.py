"""Revocation as Windows checks it, against real local servers (:mod:`tests.real_servers.authorities`): nginx
serves the sites (HTTPS, one of them stapling an OCSP answer) and the authorities' lists (plain HTTP);
``openssl ocsp`` answers OCSP; one address refuses connections, one accepts and never answers; the practice
proxy forwards, or refuses with 403.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.core.checks import revocation
from app.core.checks.revocation import RevocationChecker, RevocationStatus
from app.core.computer.checks import ComputerSettings
from app.core.findings import Check, Code, Finding, Status, Verdict
from app.core.model import CheckSettings, RunReport, TargetReport
from app.core.proxy import parse_proxy
from app.core.runner import run_checks
from app.lab.pki import Authority
from app.lab.proxy import PracticeProxy
from tests.real_servers.authorities import AuthorityLab

QUICK = ComputerSettings(java=False, os_stack=False)
# The step time limit, what the silent responder costs. Under Wine the lane runs these tests beside PyInstaller's
# build: there a handshake cut at 2 s is the likely cause of one address, once, getting no revocation finding.
TIMEOUT = 5.0 if sys.platform == "win32" else 2.0


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def lab(authority_lab: AuthorityLab) -> AuthorityLab:
    return authority_lab


REVOCATION_SITES = (
    "good",
    "good-2",
    "revoked",
    "crl-good",
    "crl-revoked",
    "refused",
    "silent",
    "stapled",
    "long-address",
    "none-named",
)
FETCHED_BEFORE: dict[str, int] = {}  # the lab is shared with other modules: what its lists were asked before


@pytest.fixture(scope="module")
def direct(lab: AuthorityLab) -> RunReport:
    """One run over every revocation site, directly (as most tests read it)."""
    FETCHED_BEFORE.update((path, lab.fetched(path)) for path in ("/root.crl", "/issuing.crl"))
    return run_checks([lab.target(n) for n in REVOCATION_SITES], CheckSettings(timeout=TIMEOUT, computer=QUICK))


def report_of(run: RunReport, name: str) -> TargetReport:
    return next(t for t in run.targets if t.target.id == name)


def revocation_of(run: RunReport, name: str) -> list[Finding]:
    return list(report_of(run, name).findings_for(Check.REVOCATION))


def only_revocation(run: RunReport, name: str) -> Finding:
    """The address's one revocation finding; when there is not one, the failure says what the address got."""
    found = revocation_of(run, name)
    got = [f"{f.code.name}: {f.details}" for f in report_of(run, name).findings]
    assert len(found) == 1, f"{name}: {len(found)} revocation findings; all its findings: {got}"
    return found[0]


def test_ocsp_good_and_the_intermediate_on_its_list(direct):
    finding = only_revocation(direct, "good")
    assert finding.code is Code.REVOCATION_OK and finding.status is Status.PASS
    assert "OCSP GET" in finding.details and ": good in " in finding.details
    assert re.search(r"CN=Revocation Test Issuing CA,[^\n]*: good \(crl\)", finding.details)  # at the root's list
    assert report_of(direct, "good").verdict is Verdict.READY


def test_revoked_by_ocsp_and_by_the_list(direct):
    for name, source in (("revoked", "ocsp"), ("crl-revoked", "crl")):
        finding = only_revocation(direct, name)
        assert finding.code is Code.CERT_REVOKED, name
        assert f"revoked ({source})" in finding.details
        assert finding.params["whose"] == "the server's own certificate"
        assert report_of(direct, name).verdict is Verdict.ACTION_NEEDED
        assert Code.CERT_OK in {f.code for f in report_of(direct, name).findings}  # the chain itself verifies


def test_good_by_the_list_alone(direct):
    finding = only_revocation(direct, "crl-good")
    assert finding.code is Code.REVOCATION_OK
    assert "CRL http://127.0.0.1" in finding.details and "not among 2 withdrawn certificates" in finding.details


def test_refused_and_silent_responders_are_named_with_how(direct):
    refused = only_revocation(direct, "refused")
    assert refused.code is Code.REVOCATION_UNREACHABLE
    assert refused.status is (Status.FAIL if sys.platform == "win32" else Status.WARNING)
    assert "the connection was refused" in refused.params["addresses"]
    assert refused.params["addresses"].count("http://127.0.0.1") == 2  # the responder and the list
    silent = only_revocation(direct, "silent")
    assert silent.code is Code.REVOCATION_UNREACHABLE
    assert "no answer in time" in silent.params["addresses"]
    windows = sys.platform == "win32"  # Windows' own TLS refuses such a server (or waits long)
    assert report_of(direct, "refused").verdict is (Verdict.ACTION_NEEDED if windows else Verdict.READY)


def test_a_stapled_answer_is_used_as_windows_uses_it(direct):
    finding = only_revocation(direct, "stapled")
    assert finding.code is Code.REVOCATION_OK and finding.params.get("variant") == "stapled"
    assert "stapled (in the handshake): good" in finding.details
    assert "connection was refused" not in finding.details  # the responder was not asked


def test_a_long_request_is_posted(direct):
    finding = only_revocation(direct, "long-address")
    assert finding.code is Code.REVOCATION_OK
    assert "OCSP POST" in finding.details


def test_a_certificate_that_names_no_address(direct):
    finding = only_revocation(direct, "none-named")
    assert finding.code is Code.REVOCATION_NOT_CHECKED and finding.status is Status.SKIPPED


def test_answers_are_cached_for_the_run(lab, direct):
    # Nine sites depend on the root's list (for the intermediate), two on the issuing authority's list.
    assert lab.fetched("/root.crl") - FETCHED_BEFORE["/root.crl"] == 1
    assert lab.fetched("/issuing.crl") - FETCHED_BEFORE["/issuing.crl"] == 1
    assert any("revocation:" in line and "requests for the run" in line for line in direct.log)


def test_through_the_proxy_and_refused_by_it(lab):
    forwarding = PracticeProxy().start()
    refusing = PracticeProxy(refuse=("localhost",)).start()
    try:
        good = run_checks(
            [lab.target("good", host="127.0.0.1")],
            CheckSettings(timeout=TIMEOUT, computer=QUICK, proxy=parse_proxy(forwarding.url)),
        )
        assert revocation_of(good, "good")[0].code is Code.REVOCATION_OK
        assert forwarding.forwarded >= 2  # the OCSP request and the root's list went through it
        blocked = run_checks(
            [lab.target("via-localhost", host="127.0.0.1")],
            CheckSettings(timeout=TIMEOUT, computer=QUICK, proxy=parse_proxy(refusing.url)),
        )
        finding = only_revocation(blocked, "via-localhost")
        assert finding.code is Code.REVOCATION_UNREACHABLE
        assert f"http://localhost:{lab.ocsp_port}/ (blocked by the proxy (answer 403))" in finding.params["addresses"]
    finally:
        forwarding.stop()
        refusing.stop()


def test_answers_signed_by_someone_else_or_out_of_date_are_not_used(lab):
    cert = lab.site["good"].issued.cert
    now = dt.datetime.now(dt.UTC)
    stranger = Authority("Someone Else", ec.generate_private_key(ec.SECP256R1()))
    forged = lab.good_answer(cert, signer=stranger)
    answer = revocation.read_ocsp(forged, cert, lab.issuing.cert, now)
    assert not answer.usable and "someone other" in answer.text
    good = lab.good_answer(cert)
    assert revocation.read_ocsp(good, cert, lab.issuing.cert, now).usable
    later = revocation.read_ocsp(good, cert, lab.issuing.cert, now + dt.timedelta(days=2))
    assert not later.usable and "out of date" in later.text
    endless = lab.good_answer(cert, lasting=None)  # no next update: good for a while, never forever
    assert revocation.read_ocsp(endless, cert, lab.issuing.cert, now).usable
    old = revocation.read_ocsp(
        lab.good_answer(cert, age=dt.timedelta(days=10), lasting=None), cert, lab.issuing.cert, now
    )
    assert not old.usable and "says no end" in old.text
    crl = revocation.load_crl(lab.issuing.crl())
    assert revocation.read_crl(crl, cert, lab.issuing.cert, now).status is RevocationStatus.GOOD
    assert "out of date" in revocation.read_crl(crl, cert, lab.issuing.cert, now + dt.timedelta(days=9)).text
    assert "another authority" in revocation.read_crl(crl, cert, stranger.cert, now).text


class CountingResponder:
    """A slow responder that counts how many connections it holds at once (it answers 404 after 0.2 s)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.active = self.most = self.served = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            conn.recv(4096)
            time.sleep(0.2)
            conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        finally:
            conn.close()
            with self._lock:
                self.active -= 1
                self.served += 1


def test_at_most_two_connections_at_once_to_one_revocation_server(lab):
    responder = CountingResponder()
    leaves = [lab.issuing.issue(ocsp_url=responder.url) for _ in range(6)]
    checker = RevocationChecker(None, threading.Event(), TIMEOUT, workers=8)
    try:
        with ThreadPoolExecutor(6) as pool:
            results = list(
                pool.map(
                    lambda leaf: checker.check_chain((_der(leaf.cert), _der(lab.issuing.cert), _der(lab.root.cert))),
                    leaves,
                )
            )
    finally:
        checker.close()
        responder.sock.close()
    assert all(r.certificates[0].status is RevocationStatus.UNREACHABLE for r in results)
    assert "the server answered with error 404" in results[0].certificates[0].attempts[0].how
    assert responder.served == 6  # one question per certificate
    assert responder.most == revocation.CONNECTIONS_PER_SERVER == 2
