"""The diagnostic bundle: contents, manifest, no secrets, atomic writing."""

import hashlib
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization

from app.core.bundle import BundleContext, BundleError, default_bundle_name, resolve_bundle_path, write_bundle
from app.core.checks.client_cert import ClientCertificate, load_client_certificate
from app.core.model import CheckSettings
from app.core.resources import resource_path
from app.core.runner import run_checks
from tests.conftest import target

SCHEMA = json.loads(resource_path("report.schema.json").read_text())


def read(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_bundle_contents_and_manifest(tmp_path, practice_report):
    context = BundleContext(
        catalog_version="2026.11.24",
        environment_name="Practice (this computer)",
        window_png=b"\x89PNG\r\n\x1a\nnot really",
        qt_version="6.11.3",
    )
    result = write_bundle(tmp_path / "b.zip", practice_report, context)
    files = read(result.path)
    assert {"report.json", "report.html", "environment.json", "log.txt", "manifest.json", "window.png"} <= set(files)
    assert any(name.startswith("certificates/") and name.endswith(".pem") for name in files)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"], name
        assert len(files[name]) == entry["bytes"]
    assert manifest["failed_sections"] == {} and manifest["reference"] == practice_report.reference
    report = json.loads(files["report.json"])
    jsonschema.validate(report, SCHEMA)
    assert report["reference"] == practice_report.reference
    html = files["report.html"].decode()
    assert html.index("Action needed") < html.index("What needs attention")  # the verdict first
    assert "<script" not in html and "src=" not in html  # self-contained: its only links are to itself
    links = re.findall(r'href="([^"]*)"', html)
    assert links and all(link.startswith("#") for link in links)
    for link in links:
        assert f'id="{link[1:]}"' in html, link  # every summary line leads to its problem, every address to its part
    for section in ("Summary", "What needs attention", "This computer", "Settings used", "Technical details"):
        assert f"<h2>{section}</h2>" in html, section
    assert "TLS 1.2 only" in html and "C:ClientHello" in html  # what was offered, and the messages seen
    assert 'class="bad"' in html  # problem rows are marked
    env = json.loads(files["environment.json"])
    assert env["openssl"] and env["python"] and env["qt"] == "6.11.3" and env["catalog_version"] == "2026.11.24"
    assert practice_report.reference in files["log.txt"].decode()
    expired = next(n for n in files if n.endswith("practice-expired.pem"))
    assert files[expired].startswith(b"-----BEGIN CERTIFICATE-----")


def test_default_name_carries_date_time_and_reference(practice_report):
    name = default_bundle_name(practice_report)
    assert name.startswith(f"tls-readiness-{practice_report.started:%Y%m%d-%H%M%S}-")
    assert name.endswith(f"{practice_report.reference}.zip")


def test_a_section_that_fails_is_recorded_and_the_rest_goes_in(tmp_path, practice_report):
    class Broken(dict[str, str]):
        def get(self, *args):
            raise RuntimeError("names unavailable")

    broken = Broken({"lab-certificate": "Practice"})
    result = write_bundle(tmp_path / "b.zip", practice_report, BundleContext(application_names=broken))
    files = read(result.path)
    assert "report.html" not in files and "report.json" in files and "log.txt" in files
    manifest = json.loads(files["manifest.json"])
    assert "report.html" in manifest["failed_sections"]
    assert "names unavailable" in manifest["failed_sections"]["report.html"]


def test_no_password_or_private_key_in_any_file(tmp_path, lab, monkeypatch):
    secret = "Bundle-Secret-Passw0rd!"
    p12 = tmp_path / "me.p12"
    p12.write_bytes(lab.pki.client_p12(secret))
    cert = load_client_certificate(p12, secret)
    assert isinstance(cert, ClientCertificate)
    monkeypatch.setenv("https_proxy", "http://alice:Proxy-Secret-9@proxy.example:8080")
    report = run_checks([target(lab.url("client-cert-tls12"), anchors=lab.anchors)], CheckSettings(client_cert=cert))
    assert "CLIENT_CERT_OK" in {f.code.value for t in report.targets for f in t.findings}
    result = write_bundle(tmp_path / "b.zip", report, BundleContext(settings={"client_certificate": p12.name}))
    key = lab.pki.client.key
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret_numbers = str(key.private_numbers().private_value).encode()
    everything = b"".join(read(result.path).values()) + result.path.read_bytes()
    for forbidden in (
        secret.encode(),
        b"PRIVATE KEY",
        key_der,
        key_der[-32:],
        secret_numbers,
        b"Proxy-Secret-9",
        b"alice",
    ):
        assert forbidden not in everything
    env = json.loads(read(result.path)["environment.json"])
    assert env["proxy_environment"]["https_proxy"] == "http://proxy.example:8080"


def test_bundle_paths_are_checked_before_the_run(tmp_path):
    with pytest.raises(BundleError, match=r"must end in \.zip"):
        resolve_bundle_path(tmp_path / "bundle.txt")
    with pytest.raises(BundleError, match="does not exist"):
        resolve_bundle_path(tmp_path / "missing" / "b.zip")
    assert resolve_bundle_path(tmp_path) == tmp_path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses RLIMIT_FSIZE to fill the 'disk'")
def test_a_failure_mid_write_leaves_nothing_behind(tmp_path):
    # A real write failure: the child process may not write files larger than 20 kB, so the zip fails
    # part-way (EFBIG), as on a full disk.
    out = tmp_path / "out"
    out.mkdir()
    (out / "existing.txt").write_text("the user's own file")
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from app.lab import start_lab
        from app.core.model import CheckSettings
        from app.core.runner import run_checks
        from app.core.catalog import load_catalog
        from app.core.plan import plan_targets
        from app.core.bundle import write_bundle, BundleError
        from pathlib import Path
        lab = start_lab()
        report = run_checks(plan_targets(load_catalog(use_user_catalog=False), "practice",
                                         ["lab-certificate"], lab_provider=lambda: lab))
        lab.stop()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
        try:
            write_bundle(Path({str(out / "bundle.zip")!r}), report)
        except BundleError as exc:
            print("BundleError:", exc)
            sys.exit(3)
        sys.exit(0)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "could not be written" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["existing.txt"]  # no bundle, no temporary file


def test_cli_writes_a_bundle(tmp_path):
    from app.cli.main import main

    code = main(["check", "--env", "practice", "--app", "lab-access", "--bundle", str(tmp_path)])
    assert code == 1
    (bundle,) = tmp_path.glob("tls-readiness-*.zip")
    assert "report.html" in read(bundle)
    assert main(["check", "--env", "practice", "--bundle", str(tmp_path / "nope" / "b.zip")]) == 2
