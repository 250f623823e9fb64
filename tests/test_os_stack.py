"""The system's own TLS stack, through the real curl, against the practice lab."""

import shutil

import pytest

from app.core.computer.checks import ComputerSettings
from app.core.findings import Check, Code
from app.core.model import CheckSettings
from app.core.proxy import parse_proxy
from app.core.runner import run_checks
from app.lab.proxy import PracticeProxy
from tests.conftest import target

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs the system's curl")
WITH_CURL = ComputerSettings(os_stack=True)


def os_stack(report):
    return report.findings_for(Check.OS_STACK)


def test_healthy_server_through_the_system_stack(lab):
    report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], CheckSettings(computer=WITH_CURL)).targets[0]
    assert [f.code for f in os_stack(report)] == [Code.OS_STACK_TLS12_OK]


def test_failures_through_the_system_stack(lab):
    from app.core.computer.os_stack import curl_request, find_curl, os_stack_findings
    from app.core.net import Budget

    curl = find_curl()
    assert curl is not None
    for name, why in (
        ("untrusted", "the certificate was not accepted"),
        ("expired", "the certificate was not accepted"),
        ("legacy-only", "the TLS handshake failed"),
    ):
        t = target(lab.url(name), anchors=lab.anchors)
        (finding,) = os_stack_findings(t, curl_request(curl, t, Budget(5), lab.anchors.pem))
        assert (finding.code, finding.params["why"]) == (Code.OS_STACK_TLS12_FAILED, why), name


def test_problems_already_named_are_not_named_again(lab):
    targets = [target(lab.url(n), anchors=lab.anchors) for n in ("untrusted", "legacy-only")]
    for report in run_checks(targets, CheckSettings(computer=WITH_CURL)).targets:
        assert os_stack(report) == ()


def test_off_by_default_and_through_a_proxy(lab):
    plain = run_checks([target(lab.url("ready"), anchors=lab.anchors)]).targets[0]
    assert os_stack(plain) == ()
    proxy = PracticeProxy(username="bob", password="Curl-Secret-1").start()
    try:
        settings = CheckSettings(
            computer=WITH_CURL, proxy=parse_proxy(f"http://bob:Curl-Secret-1@127.0.0.1:{proxy.port}")
        )
        report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], settings).targets[0]
    finally:
        proxy.stop()
    assert [f.code for f in os_stack(report)] == [Code.OS_STACK_TLS12_OK]
    assert proxy.tunnels >= 7


def test_curl_presents_the_users_certificate_whose_password_never_reaches_a_command_line(lab, tmp_path, monkeypatch):
    """The real curl, behind a wrapper that writes down its command line: the one-time password of the
    certificate's copy travels on standard input, and the copy is gone after the run."""
    import os
    import sys
    import tempfile

    from app.core.checks.client_cert import ClientCertificate, load_client_certificate

    real_curl = shutil.which("curl")
    wrapper = tmp_path / "bin" / "curl"
    wrapper.parent.mkdir()
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"open({str(tmp_path / 'argv.txt')!r}, 'a').write(' '.join(sys.argv) + '\\n')\n"
        f"os.execv({real_curl!r}, [{real_curl!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    copies = tmp_path / "temp"
    copies.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(copies))
    p12 = tmp_path / "me.p12"
    p12.write_bytes(lab.pki.client_p12("Users-Own-Secret-9"))
    cert = load_client_certificate(p12, "Users-Own-Secret-9")
    assert isinstance(cert, ClientCertificate)
    import secrets

    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: "One-Time-Copy-Secret-7")  # to look for it
    settings = CheckSettings(computer=WITH_CURL, client_cert=cert)
    run = run_checks([target(lab.url("client-cert-tls12"), anchors=lab.anchors)], settings)
    report = run.targets[0]
    assert [f.code for f in os_stack(report)] == [Code.OS_STACK_TLS12_OK]
    assert "HTTP 200" in os_stack(report)[0].details  # let in: curl presented the certificate
    argv = (tmp_path / "argv.txt").read_text()
    words = argv.split()
    assert "-" in words and "--config" in words and "Users-Own-Secret-9" not in argv
    assert "One-Time-Copy-Secret-7" not in argv, "the copy's password was on curl's command line"
    from app.core.report_json import report_json

    assert "One-Time-Copy-Secret-7" not in report_json(run, "test") + "\n".join(run.log)
    assert not {"--pass", "--cert", "-E", "--key"} & set(words), "certificate options on curl's command line"
    assert not list(copies.glob("tlsrc-cert-*")), "the copy of the certificate was left behind"
