"""Java runtimes and the real Java probe (OpenJDK on this machine) against the practice lab."""

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from app.core.computer.checks import ComputerSettings
from app.core.computer.java import JavaRuntime, find_runtimes, runtime_findings
from app.core.findings import Check, Code, Verdict
from app.core.model import CheckSettings, StoreVerdict
from app.core.proxy import parse_proxy
from app.core.runner import run_checks
from app.lab.proxy import PracticeProxy
from tests.conftest import target

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime")
WITH_JAVA = ComputerSettings(java=True)


def java_codes(report):
    return [f.code for f in report.findings_for(Check.JAVA)]


@needs_java
def test_runtimes_are_found():
    runtimes = find_runtimes()
    assert runtimes and all(rt.version for rt in runtimes)
    assert any(rt.major >= 11 for rt in runtimes)


@needs_java
def test_the_real_java_probe(lab):
    names = ["ready", "untrusted", "legacy-only", "expired"]
    report = run_checks([target(lab.url(n), anchors=lab.anchors) for n in names], CheckSettings(computer=WITH_JAVA))
    ready, untrusted, legacy, expired = report.targets
    assert java_codes(ready) == [Code.JAVA_TLS12_OK]
    assert ready.verdict is Verdict.READY
    assert {t.store: t.verdict for t in ready.trust}["java"] is StoreVerdict.TRUSTED
    # Problems this program already names are not named again through Java.
    assert java_codes(untrusted) == java_codes(legacy) == java_codes(expired) == []
    assert any(f.code is Code.JAVA_FOUND for f in report.computer)


@needs_java
def test_java_through_a_proxy_with_credentials(lab):
    proxy = PracticeProxy(username="carol", password="Java-Proxy-Secret").start()
    try:
        settings = CheckSettings(
            computer=WITH_JAVA, proxy=parse_proxy(f"http://carol:Java-Proxy-Secret@127.0.0.1:{proxy.port}")
        )
        report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], settings).targets[0]
    finally:
        proxy.stop()
    assert java_codes(report) == [Code.JAVA_TLS12_OK]


def test_runtime_interpretation():
    seven = JavaRuntime("/opt/java7/bin/java", "1.7.0_80")
    seventeen = JavaRuntime("/usr/bin/java", "17.0.15")
    assert (seven.major, seventeen.major) == (7, 17)
    codes = [f.code for f in runtime_findings([seven], environment={})]
    assert codes == [Code.JAVA_FOUND, Code.JAVA_TLS12_NOT_DEFAULT, Code.JAVA_PROBE_UNAVAILABLE]
    assert [f.code for f in runtime_findings([seventeen], environment={})] == [Code.JAVA_FOUND]
    limited = runtime_findings([seventeen], environment={"JAVA_TOOL_OPTIONS": "-Djdk.tls.client.protocols=TLSv1"})
    assert Code.JAVA_TLS12_NOT_DEFAULT in [f.code for f in limited]
    fine = runtime_findings([seventeen], environment={"_JAVA_OPTIONS": "-Djdk.tls.client.protocols=TLSv1.2,TLSv1.3"})
    assert Code.JAVA_TLS12_NOT_DEFAULT not in [f.code for f in fine]


@needs_java
def test_a_server_asking_for_a_client_certificate_is_not_a_java_or_system_failure(lab):
    settings = CheckSettings(computer=ComputerSettings(java=True, os_stack=shutil.which("curl") is not None))
    report = run_checks([target(lab.url("client-cert-tls12"), anchors=lab.anchors)], settings).targets[0]
    assert java_codes(report) == [Code.JAVA_TLS12_OK]
    assert (
        "refused the client certificate, which this test did not present" in report.findings_for(Check.JAVA)[0].details
    )
    if shutil.which("curl"):
        assert [f.code for f in report.findings_for(Check.OS_STACK)] == [Code.OS_STACK_TLS12_OK]


@needs_java
def test_tls_inspection_shows_every_store_including_java(server_factory, monkeypatch, tmp_path):
    import trustme

    from tests.servers import server_context

    company = trustme.CA(organization_name="ACME Inspection")
    store = tmp_path / "system-store.pem"
    store.write_bytes(company.cert_pem.bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(store))  # this computer trusts the company's authority
    server = server_factory(server_context(company.issue_cert("localhost")))
    report = run_checks([target(server.url)], CheckSettings(computer=WITH_JAVA)).targets[0]
    assert Code.TLS_INSPECTION_SUSPECTED in {f.code for f in report.findings}
    assert java_codes(report) == [Code.JAVA_CERT_UNTRUSTED]  # Java's own cacerts does not know it
    stores = {t.store: t.verdict for t in report.trust}
    assert stores == {
        "mozilla": StoreVerdict.NOT_TRUSTED,
        "system": StoreVerdict.TRUSTED,
        "java": StoreVerdict.NOT_TRUSTED,
    }


@needs_java
def test_the_probe_reports_a_refused_tls12_handshake(lab):
    from app.core.computer.java import probe_findings, start_probe

    probe = start_probe(find_runtimes())
    assert probe is not None
    legacy = target(lab.url("legacy-only"), anchors=lab.anchors)
    try:
        answer = probe.submit(legacy, lab.anchors.pem, 5).result(30)
    finally:
        probe.stop()
    found, trust = probe_findings(legacy, probe.version, answer)
    assert [f.code for f in found] == [Code.JAVA_TLS12_FAILED]
    assert found[0].params["why"] == "the TLS 1.2 handshake failed"
    assert trust.verdict is StoreVerdict.NOT_CHECKED


@needs_java
def test_the_probe_saves_its_classes_once_and_later_runs_map_them(lab, tmp_path, monkeypatch):
    """Class data sharing: the first run on a Java saves the classes its probe loaded; the archive is whole (a
    JVM that must map it, -Xshare:on, starts with it), later runs use it and still answer; a damaged one is
    passed over."""
    from app.core.computer.java_start import SHARING_FROM, class_sharing, compiled_probe, probe_command

    java = next((rt for rt in find_runtimes() if rt.major >= SHARING_FROM), None)
    if java is None or compiled_probe() is None:
        pytest.skip("needs Java 13 or newer and the compiled probe (installers/compile-probe)")
    monkeypatch.setenv("TLS_READINESS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("JAVA_HOME", str(Path(java.path).resolve().parent.parent))
    folder = tmp_path / "java"
    sharing, saving = class_sharing(java.path)  # it makes the folder
    assert saving is not None and any(o.startswith("-XX:ArchiveClassesAtExit=") for o in sharing)

    def java_run() -> list[Code]:
        report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], CheckSettings(computer=WITH_JAVA))
        codes: list[Code] = java_codes(report.targets[0])
        return codes

    which = saving[1].name.split("-")[1]
    replaced = folder / f"probe-{which}-0000000000.jsa"  # this copy's, for an older version of this Java
    unused = folder / "probe-0000000000-0000000000.jsa"  # a copy of the program that has gone, 40 days ago
    other = folder / "probe-1111111111-1111111111.jsa"  # another copy's, in use
    for made in (replaced, unused, other):
        made.write_bytes(b"an archive")
        made.chmod(0o444)  # as the JVM leaves them
    os.utime(unused, (time.time() - 40 * 86400,) * 2)
    assert java_run() == [Code.JAVA_TLS12_OK]
    (archive,) = set(folder.glob("probe-*.jsa")) - {other}
    assert sorted(folder.iterdir()) == sorted([archive, other])
    sharing, saving = class_sharing(java.path)
    assert saving is None and sharing[0] == f"-XX:SharedArchiveFile={archive}"
    must_map = [*probe_command(java.path, sharing), "-Xshare:on"]  # -Xshare:on refuses to start without it
    must_map.insert(-3, must_map.pop())
    started = subprocess.run(must_map, input="end\n", capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0 and started.stdout.startswith("java\t"), started.stdout + started.stderr
    assert java_run() == [Code.JAVA_TLS12_OK]
    assert sorted(folder.iterdir()) == sorted([archive, other])  # used, not made again
    archive.chmod(0o600)  # the JVM leaves it read-only
    archive.write_bytes(b"not an archive" * 100)  # cut short, or overwritten: it is made again
    assert class_sharing(java.path)[1] is not None
    assert java_run() == [Code.JAVA_TLS12_OK]
    assert archive.read_bytes()[:4] != b"not " and sorted(folder.iterdir()) == sorted([archive, other])


@needs_java
def test_a_java_still_busy_at_the_end_is_not_waited_for_to_save_its_classes(tmp_path, monkeypatch):
    """A JVM saving its classes is let end by itself only when it has answered everything: one still waiting
    for a server that never answers is ended at once, and nothing is saved."""
    from app.core.computer import java_start
    from app.core.computer.java import JavaProbe

    java = next((rt for rt in find_runtimes() if rt.major >= java_start.SHARING_FROM), None)
    if java is None or java_start.compiled_probe() is None:
        pytest.skip("needs Java 13 or newer and the compiled probe (installers/compile-probe)")
    monkeypatch.setenv("TLS_READINESS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(java_start, "SAVE_WAIT", 120.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(60)
        probe = JavaProbe(java)
        answer = probe.submit(target(f"https://127.0.0.1:{silent.getsockname()[1]}/"), "", 60.0)
        held, _ = silent.accept()  # Java is connected, and waits for a ServerHello that never comes
        with held:
            stopping = threading.Thread(target=probe.stop)
            stopping.start()
            stopping.join(60)  # well before SAVE_WAIT
            assert not stopping.is_alive()
        assert answer.result(10) is None
    assert list((tmp_path / "java").iterdir()) == []  # the part file removed, no archive
