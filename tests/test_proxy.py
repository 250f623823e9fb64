"""Checks through a real CONNECT proxy on 127.0.0.1."""

import json
import zipfile

import pytest

from app.cli.main import main
from app.core.findings import Check, Code, Verdict
from app.core.model import CheckSettings
from app.core.proxy import ProxyError, parse_proxy
from app.core.runner import run_checks
from app.lab.proxy import PracticeProxy
from tests.conftest import target


@pytest.fixture
def proxy():
    server = PracticeProxy().start()
    yield server
    server.stop()


@pytest.fixture
def guarded_proxy():
    server = PracticeProxy(username="alice", password="Pr0xy-Secret!").start()
    yield server
    server.stop()


def codes(report):
    return {f.code for f in report.findings}


def test_every_check_goes_through_the_proxy(lab, proxy):
    settings = CheckSettings(proxy=parse_proxy(proxy.url))
    report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], settings).targets[0]
    assert report.verdict is Verdict.READY
    assert {Code.PROXY_USED, Code.TCP_OK, Code.TLS12_OK, Code.CERT_OK, Code.HTTP_OK} <= codes(report)
    assert proxy.tunnels >= 6  # the TCP check, TLS 1.2, 1.3, 1.0, 1.1, the hello probe, the system store
    assert "(proxy" in report.connected_address
    expired = run_checks([target(lab.url("expired"), anchors=lab.anchors)], settings).targets[0]
    assert Code.CERT_EXPIRED in codes(expired)


def test_the_target_name_is_not_looked_up_here(proxy):
    # With a proxy, the proxy looks names up: a name this computer cannot resolve is no finding of ours.
    settings = CheckSettings(proxy=parse_proxy(proxy.url), timeout=2)
    report = run_checks([target("https://practice-missing.invalid/")], settings).targets[0]
    assert Code.DNS_NOT_FOUND not in codes(report)
    assert Code.PROXY_BLOCKED in codes(report)  # our practice proxy only tunnels to this computer


def test_credentials_required_accepted_and_wrong(lab, guarded_proxy):
    url = lab.url("ready")
    without = run_checks([target(url, anchors=lab.anchors)], CheckSettings(proxy=parse_proxy(guarded_proxy.url)))
    assert Code.PROXY_AUTH_REQUIRED in codes(without.targets[0])
    assert without.targets[0].findings_for(Check.TLS12) == ()
    good = parse_proxy(f"http://alice:Pr0xy-Secret%21@127.0.0.1:{guarded_proxy.port}")
    assert good.password == "Pr0xy-Secret!" and "Pr0xy" not in repr(good) and "Pr0xy" not in good.display
    ok = run_checks([target(url, anchors=lab.anchors)], CheckSettings(proxy=good)).targets[0]
    assert ok.verdict is Verdict.READY
    wrong = parse_proxy(f"http://alice:nope@127.0.0.1:{guarded_proxy.port}")
    refused = run_checks([target(url, anchors=lab.anchors)], CheckSettings(proxy=wrong)).targets[0]
    assert Code.PROXY_AUTH_REQUIRED in codes(refused)


def test_a_refused_address_and_an_unreachable_proxy(lab):
    refusing = PracticeProxy(refuse=("localhost",)).start()
    try:
        report = run_checks([target(lab.url("ready"))], CheckSettings(proxy=parse_proxy(refusing.url))).targets[0]
    finally:
        refusing.stop()
    finding = next(f for f in report.findings if f.code is Code.PROXY_BLOCKED)
    assert finding.params["status"] == "403"
    closed = PracticeProxy()
    port = closed.port
    closed.stop()  # nothing listens there any more
    unreachable = run_checks([target(lab.url("ready"))], CheckSettings(proxy=parse_proxy(f"http://127.0.0.1:{port}")))
    assert Code.PROXY_UNREACHABLE in codes(unreachable.targets[0])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("https://proxy.example:8080", "Only http://"),
        ("http://proxy.example", "needs a port"),
        ("http://:8080", "no server name"),
        ("http://user:secret@proxy.example:99999", "look like"),
    ],
)
def test_bad_proxy_settings_get_a_sentence_without_the_password(text, fragment):
    with pytest.raises(ProxyError, match=fragment) as error:
        parse_proxy(text)
    assert "secret" not in str(error.value)


def test_proxy_credentials_never_appear_in_output_or_bundle(lab, guarded_proxy, tmp_path, capsys):
    proxy_url = f"http://alice:Pr0xy-Secret%21@127.0.0.1:{guarded_proxy.port}"
    ca = tmp_path / "ca.pem"
    ca.write_text(lab.pki.ca.pem)
    for extra in (["--json"], ["--verbose"]):
        code = main(
            [
                "check",
                "--url",
                lab.url("ready"),
                "--ca-file",
                str(ca),
                "--proxy",
                proxy_url,
                "--bundle",
                str(tmp_path),
                *extra,
            ]
        )
        assert code == 0
    out = capsys.readouterr()
    everything = out.out + out.err
    for bundle in tmp_path.glob("*.zip"):
        with zipfile.ZipFile(bundle) as archive:
            everything += "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
            env = json.loads(archive.read("environment.json"))
            assert env["settings"]["proxy"] == f"http://alice@127.0.0.1:{guarded_proxy.port}"
    assert "Pr0xy-Secret" not in everything and "Pr0xy-Secret%21" not in everything
    assert main(["check", "--url", lab.url("ready"), "--proxy", "ftp://x:1"]) == 2


SCUTIL = """<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
  }
  HTTPSEnable : 1
  HTTPSPort : 3128
  HTTPSProxy : proxy.acme.example
  ProxyAutoConfigEnable : 1
  ProxyAutoConfigURLString : http://wpad.acme.example/proxy.pac
}
"""


def test_proxy_detection():
    from pathlib import Path

    from app.core.computer.proxy_settings import proxy_findings
    from app.core.computer.registry import SnapshotRegistry

    env = {"https_proxy": "http://dave:Env-Secret@proxy.acme.example:3128"}
    (found,) = proxy_findings(None, env, "")
    assert found.code is Code.PROXY_DETECTED and found.params["proxy"] == "http://proxy.acme.example:3128"
    assert "Env-Secret" not in repr(found) and "dave" not in repr(found)
    registry = SnapshotRegistry.load(Path(__file__).parent / "registry" / "windows10-company-proxy.json")
    windows = proxy_findings(registry, {}, "", used="http://proxy.acme.example:8443")
    assert [f.code for f in windows] == [Code.PROXY_DETECTED, Code.PROXY_AUTOMATIC, Code.PROXY_AUTOMATIC]
    assert windows[0].params["proxy"] == "proxy.acme.example:8443"  # the https entry
    assert windows[1].params["script"] == "http://wpad.acme.example/proxy.pac"
    assert "went through http://proxy.acme.example:8443" in windows[0].params["how"]
    mac = proxy_findings(None, {}, SCUTIL)
    assert [(f.code, f.params.get("proxy", f.params.get("script"))) for f in mac] == [
        (Code.PROXY_DETECTED, "http://proxy.acme.example:3128"),
        (Code.PROXY_AUTOMATIC, "http://wpad.acme.example/proxy.pac"),
    ]
    assert proxy_findings(None, {}, "") == []
