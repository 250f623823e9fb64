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
    import tempfile

    from app.core.checks.client_cert import ClientCertificate, load_client_certificate

    curl_behind_wrapper(
        tmp_path, monkeypatch, f"open({str(tmp_path / 'argv.txt')!r}, 'a').write(' '.join(sys.argv) + '\\n')"
    )
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


def curl_behind_wrapper(tmp_path, monkeypatch, first: str) -> None:
    """Put a program called curl first on the PATH: it runs the Python lines ``first`` (os, sys and time are
    imported), then the real curl with its arguments. Its version is asked afresh at each check."""
    import os
    import sys

    from app.core.computer import os_stack

    real_curl = shutil.which("curl")
    wrapper = tmp_path / "bin" / "curl"
    wrapper.parent.mkdir(exist_ok=True)
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys, time\n{first}\nos.execv({real_curl!r}, [{real_curl!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")
    os_stack._version_text.cache_clear()
    monkeypatch.setattr(os_stack, "_version_text", os_stack._version_text.__wrapped__)


def _counting_curl(tmp_path, monkeypatch, version_line: str = ""):
    """The real curl behind a wrapper that writes down each start (and can claim another version for -V)."""
    starts = tmp_path / "starts.txt"
    curl_behind_wrapper(
        tmp_path,
        monkeypatch,
        f"open({str(starts)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"if sys.argv[1:] == ['-V'] and {version_line!r}:\n"
        f"    print({version_line!r}); sys.exit(0)",
    )
    return starts


SCENES = ("ready", "untrusted", "expired", "legacy-only", "forbidden", "client-cert-page")


def test_one_curl_process_asks_every_address_and_says_what_one_each_would(lab, tmp_path, monkeypatch):
    """curl 7.75 and newer asks every address of a run in one process; each address gets the answer a curl of
    its own gets (exit code, HTTP status, message, the page's words)."""
    import tempfile

    from app.core.computer.os_stack import CurlBatch, CurlJob, curl_request, find_curl
    from app.core.net import Budget

    curl = find_curl()
    assert curl is not None
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its files go: to see that none is left
    targets = [target(lab.url(name), anchors=lab.anchors) for name in SCENES]
    batch = CurlBatch(curl, [CurlJob(t.address.url, 5, lab.anchors.pem) for t in targets], None, None)
    try:
        together = [answer.result(timeout=20) for answer in batch.answers]
    finally:
        batch.close()
    alone = [curl_request(curl, t, Budget(5), lab.anchors.pem) for t in targets]
    for name, one, each in zip(SCENES, together, alone, strict=True):
        assert (one.exit_code, one.http_status, one.page) == (each.exit_code, each.http_status, each.page), name
        assert one.message in each.message, name  # curl's own line adds "curl: (60) " and more
        assert bool(one.message) == (one.exit_code != 0), name
    assert together[SCENES.index("forbidden")].http_status == "403"
    assert together[SCENES.index("untrusted")].exit_code == 60
    assert not list(tmp_path.glob("tlsrc-*"))

    starts = _counting_curl(tmp_path, monkeypatch)
    report = run_checks(targets, CheckSettings(computer=WITH_CURL, revocation=False))
    lines = starts.read_text().splitlines()
    assert lines == ["-V", "--config -"], lines  # its version once, then one process for all six addresses
    by_name = dict(zip(SCENES, report.targets, strict=True))
    assert [f.code for f in os_stack(by_name["ready"])] == [Code.OS_STACK_TLS12_OK]
    assert [f.code for f in os_stack(by_name["forbidden"])] == [Code.OS_STACK_TLS12_OK]
    assert os_stack(by_name["untrusted"]) == ()  # the certificate's own finding says it already


@pytest.mark.parametrize(
    "version",
    [
        "curl 7.74.0 (x86_64-pc-linux-gnu) libcurl/7.74.0 OpenSSL/3.0\nFeatures: AsynchDNS HTTPS-proxy SSL",  # too old
        "curl 8.4.0 (x86_64-pc-linux-gnu) libcurl/8.4.0 OpenSSL/3.0\nFeatures: HTTPS-proxy SSL",  # names block it
        # SChannel checks revocation in the one thread every transfer shares (here the real curl does the work)
        "curl 8.4.0 (x86_64-pc-win32) libcurl/8.4.0 Schannel WinIDN\nFeatures: AsynchDNS HTTPS-proxy SSL SSPI",
    ],
)
def test_a_curl_that_cannot_ask_all_at_once_asks_each_address_itself(lab, tmp_path, monkeypatch, version):
    starts = _counting_curl(tmp_path, monkeypatch, version)
    targets = [target(lab.url(name), anchors=lab.anchors) for name in ("ready", "tls12-only")]
    report = run_checks(targets, CheckSettings(computer=WITH_CURL, revocation=False))
    lines = starts.read_text().splitlines()
    assert lines[0] == "-V" and len(lines) == 3 and all("--tls-max 1.2" in line for line in lines[1:]), lines
    for t in report.targets:
        assert [f.code for f in os_stack(t)] == [Code.OS_STACK_TLS12_OK]


def test_the_batch_keeps_to_each_servers_connection_slots(lab, tmp_path, monkeypatch):
    """Three addresses of one server, at most two connections to it: the run's curl asks one (it leaves a
    connection for the address's own checks), and the other two run a curl of their own when a slot is free."""
    starts = _counting_curl(tmp_path, monkeypatch)
    url = lab.url("ready")
    targets = [target(f"{url}page{n}", anchors=lab.anchors) for n in range(3)]
    report = run_checks(targets, CheckSettings(computer=WITH_CURL, revocation=False, connections_per_server=2))
    lines = starts.read_text().splitlines()
    assert lines.count("--config -") == 1 and len(lines) == 4, lines
    for t in report.targets:
        assert [f.code for f in os_stack(t)] == [Code.OS_STACK_TLS12_OK]


def test_cancel_ends_the_runs_curl_at_once(lab, tmp_path, monkeypatch):
    """An address whose own checks are done waits for the run's curl, which here takes 30 s to start: Cancel
    ends curl and the run at once, instead of when curl's time is up."""
    import tempfile
    import threading
    import time

    from app.core.endpoint import CheckFinished
    from app.core.runner import Run

    curl_behind_wrapper(tmp_path, monkeypatch, "if sys.argv[1:] == ['--config', '-']:\n    time.sleep(30)")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its files go: to see that none is left
    run = Run([target(lab.url("ready"), anchors=lab.anchors)], CheckSettings(computer=WITH_CURL, timeout=30))
    waiting = threading.Event()
    run._listener = lambda e: waiting.set() if isinstance(e, CheckFinished) and e.check is Check.CLIENT_CERT else None
    run.start()
    assert waiting.wait(20), "the address's own checks did not end"
    batch = run._curl
    assert batch is not None and batch._process is not None
    time.sleep(0.3)
    assert run.wait(0) is None  # still waiting for curl
    began = time.monotonic()
    threading.Thread(target=run.cancel).start()
    report = run.wait(10)
    assert report is not None and report.cancelled
    assert time.monotonic() - began < 6  # far less than curl's 30 s (a guard against a hang, not a timing)
    assert batch._process.wait(5) is not None
    assert not list(tmp_path.glob("tlsrc-*"))


def test_a_batch_whose_curl_dies_halfway_still_answers_every_address(lab, tmp_path, monkeypatch):
    """The run's curl gives one answer and is then killed: the address it answered has its finding, the others
    have none from curl (curl said nothing about them), none is an internal error, nothing waits for curl's
    time limit, and no file is left behind."""
    import tempfile
    import time

    real_curl = shutil.which("curl")
    curl_behind_wrapper(
        tmp_path,
        monkeypatch,
        "if sys.argv[1:] == ['--config', '-']:\n"
        "    import subprocess\n"
        f"    curl = subprocess.Popen([{real_curl!r}, *sys.argv[1:]], stderr=subprocess.PIPE)\n"
        "    for line in curl.stderr:\n"
        "        sys.stderr.buffer.write(line)\n"
        "        sys.stderr.flush()\n"
        "        if line.startswith(b'tlsrc-answer'):\n"
        "            curl.kill()\n"
        "            os._exit(9)\n"
        "    sys.exit(curl.wait())",
    )
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its files go: to see that none is left
    targets = [target(lab.url(name), anchors=lab.anchors) for name in ("ready", "forbidden", "client-cert-page")]
    began = time.monotonic()
    report = run_checks(targets, CheckSettings(computer=WITH_CURL, revocation=False, timeout=30))
    assert time.monotonic() - began < 20  # far less than the 30 s limit (a guard against a hang, not a timing)
    found = sorted([f.code for f in os_stack(t)] for t in report.targets)
    assert found == [[], [], [Code.OS_STACK_TLS12_OK]], found
    assert not [f for t in report.targets for f in t.findings if f.code is Code.INTERNAL_ERROR]
    assert not list(tmp_path.glob("tlsrc-*"))
