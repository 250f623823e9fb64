"""The user's client certificate: opened locally, checked, presented to real servers (TLS 1.2 and 1.3)."""

import datetime as dt

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.core.checks.client_cert import ClientCertificate, ClientCertProblem, load_client_certificate, local_findings
from app.core.checks.pkcs12 import compatible_encryption
from app.core.findings import Code
from app.core.model import CheckSettings
from app.core.runner import run_checks
from tests.conftest import target

PASSWORD = "Corr3ct-Horse-Battery"


def make_cert(issuer_key=None, issuer_name=None, *, client=True, not_after=None, not_before=None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CAISO"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Pat Doex1234"),
        ]
    )
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=300))
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(issuer_key or key, hashes.SHA256())
    )
    return cert, key


def p12(tmp_path, cert, key, password=PASSWORD, name="me.p12"):
    """A .p12 as Windows exports one by default (TripleDES-SHA1), which every Windows and Java reads."""
    path = tmp_path / name
    plain = serialization.NoEncryption()
    encryption = compatible_encryption(password.encode(), rounds=2048) if password else plain
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"me", key, cert, None, encryption))
    return path


def test_opens_a_password_protected_p12(tmp_path):
    cert, key = make_cert()
    loaded = load_client_certificate(p12(tmp_path, cert, key), PASSWORD)
    assert isinstance(loaded, ClientCertificate)
    assert "Pat Doex1234" in loaded.info.subject and loaded.key_matches
    assert local_findings(loaded) == []
    assert PASSWORD not in repr(loaded)


@pytest.mark.parametrize("password", ["wrong", "", None])
def test_a_wrong_or_missing_password_is_its_own_finding(tmp_path, password):
    cert, key = make_cert()
    loaded = load_client_certificate(p12(tmp_path, cert, key), password)
    assert isinstance(loaded, ClientCertProblem) and loaded.code is Code.CLIENT_CERT_BAD_PASSWORD


@pytest.mark.parametrize(
    "content",
    [None, b"", b"garbage that is no certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
)
def test_missing_or_corrupt_files_are_unreadable(tmp_path, content):
    path = tmp_path / "cert.p12"
    if content is not None:
        path.write_bytes(content)
    loaded = load_client_certificate(path, PASSWORD)
    assert isinstance(loaded, ClientCertProblem) and loaded.code is Code.CLIENT_CERT_UNREADABLE


def test_truncated_p12_is_unreadable_or_bad_password_never_a_crash(tmp_path):
    cert, key = make_cert()
    data = p12(tmp_path, cert, key).read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        path = tmp_path / f"cut{cut}.p12"
        path.write_bytes(data[:cut])
        loaded = load_client_certificate(path, PASSWORD)
        assert isinstance(loaded, ClientCertProblem)


def test_pem_with_an_encrypted_key(tmp_path):
    cert, key = make_cert()
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    path = tmp_path / "me.pem"
    path.write_bytes(pem)
    assert isinstance(load_client_certificate(path, PASSWORD), ClientCertificate)
    for password in (None, "nope"):
        problem = load_client_certificate(path, password)
        assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_BAD_PASSWORD


def test_local_checks(tmp_path):
    now = dt.datetime.now(dt.UTC)
    expired, key = make_cert(not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1))
    soon, key2 = make_cert(not_after=now + dt.timedelta(days=5))
    server_only, key3 = make_cert(client=False)
    future, key4 = make_cert(not_before=now + dt.timedelta(days=3))
    other_key = ec.generate_private_key(ec.SECP256R1())
    cases = [
        (expired, key, Code.CLIENT_CERT_EXPIRED),
        (soon, key2, Code.CLIENT_CERT_EXPIRING_SOON),
        (server_only, key3, Code.CLIENT_CERT_WRONG_USAGE),
        (future, key4, Code.CLIENT_CERT_NOT_YET_VALID),
    ]
    for i, (cert, k, code) in enumerate(cases):
        loaded = load_client_certificate(p12(tmp_path, cert, k, name=f"{i}.p12"), PASSWORD)
        assert isinstance(loaded, ClientCertificate)
        assert code in {f.code for f in local_findings(loaded)}
    pem = tmp_path / "mismatch.pem"
    pem.write_bytes(
        expired.public_bytes(serialization.Encoding.PEM)
        + other_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    mismatch = load_client_certificate(pem, None)
    assert isinstance(mismatch, ClientCertificate) and not mismatch.key_matches
    assert Code.CLIENT_CERT_KEY_MISMATCH in {f.code for f in local_findings(mismatch)}


def lab_client(lab, tmp_path):
    path = tmp_path / "practice.p12"
    path.write_bytes(lab.pki.client_p12(PASSWORD))
    loaded = load_client_certificate(path, PASSWORD)
    assert isinstance(loaded, ClientCertificate)
    return loaded


@pytest.mark.parametrize("scenario", ["client-cert-tls12", "client-cert-tls13"])
def test_accepted_required_and_rejected_are_told_apart(lab, tmp_path, scenario):
    url = lab.url(scenario)
    without = run_checks([target(url, anchors=lab.anchors)]).targets[0]
    assert Code.CLIENT_CERT_REQUIRED in {f.code for f in without.findings}

    good = run_checks([target(url, anchors=lab.anchors)], CheckSettings(client_cert=lab_client(lab, tmp_path))).targets[
        0
    ]
    codes = {f.code for f in good.findings}
    assert Code.CLIENT_CERT_OK in codes and Code.HTTP_OK in codes, codes
    assert good.verdict.value == "ready"

    stranger = trustme.CA().issue_cert("someone")
    pem = tmp_path / "stranger.pem"
    pem.write_bytes(stranger.cert_chain_pems[0].bytes() + stranger.private_key_pem.bytes())
    wrong = load_client_certificate(pem, None)
    assert isinstance(wrong, ClientCertificate)
    refused = run_checks([target(url, anchors=lab.anchors)], CheckSettings(client_cert=wrong)).targets[0]
    finding = next(f for f in refused.findings if f.code is Code.CLIENT_CERT_REJECTED)
    version = "TLS 1.3: the first read" if scenario == "client-cert-tls13" else "TLS 1.2: the handshake ended"
    assert version in finding.details


def test_a_server_that_does_not_ask_is_reported(lab, tmp_path):
    report = run_checks(
        [target(lab.url("ready"), anchors=lab.anchors)], CheckSettings(client_cert=lab_client(lab, tmp_path))
    ).targets[0]
    assert Code.CLIENT_CERT_NOT_REQUESTED in {f.code for f in report.findings}


def test_forbidden_with_a_certificate_points_to_the_uaa(lab, tmp_path):
    from app.core.words import explain

    report = run_checks(
        [target(lab.url("forbidden"), anchors=lab.anchors)], CheckSettings(client_cert=lab_client(lab, tmp_path))
    ).targets[0]
    finding = next(f for f in report.findings if f.code is Code.HTTP_FORBIDDEN)
    assert finding.params["with_cert"] == "yes"
    assert "User Access Administrator" in explain(finding).action


def test_a_password_with_a_nul_character_is_a_finding(tmp_path):
    # Found by fuzzing: cryptography panics (a BaseException) on a password holding NUL.
    cert, key = make_cert()
    for path in (p12(tmp_path, cert, key), tmp_path / "me.pem"):
        if path.suffix == ".pem":
            path.write_bytes(
                cert.public_bytes(serialization.Encoding.PEM)
                + key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(b"pw"),
                )
            )
        result = load_client_certificate(path, "Zebra\x00Quilt")
        assert isinstance(result, ClientCertProblem)
        assert result.code is Code.CLIENT_CERT_BAD_PASSWORD
        assert "Zebra" not in result.details


# ---- what the file is made of, read from its structure (OpenSSL 3 makes both kinds) --------------------------


def openssl_p12(tmp_path, cert, key, *options):
    """A .p12 made by the openssl program; the password goes through the environment, never the command line."""
    import os
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl program")
    pem = tmp_path / "in.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    out = tmp_path / f"openssl{''.join(options)}.p12"
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-in", str(pem), "-out", str(out), "-passout", "env:P12_PASSWORD", *options],
        env={**os.environ, "P12_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    pem.unlink()
    return out


def test_a_p12_locked_the_new_way_is_named_for_older_computers(tmp_path):
    cert, key = make_cert()
    loaded = load_client_certificate(openssl_p12(tmp_path, cert, key), PASSWORD)  # OpenSSL 3's default
    assert isinstance(loaded, ClientCertificate)
    [finding] = local_findings(loaded)
    assert finding.code is Code.CLIENT_CERT_FORMAT_OLD_WINDOWS and finding.status.value == "warning"
    assert "AES-256 (PBES2)" in finding.details and "integrity SHA-256" in finding.details


def test_a_p12_locked_the_old_way_needs_no_word(tmp_path):
    cert, key = make_cert()
    path = openssl_p12(tmp_path, cert, key, "-legacy")
    loaded = load_client_certificate(path, PASSWORD)
    if isinstance(loaded, ClientCertProblem) and "cannot read" in loaded.details:
        pytest.skip("this OpenSSL has no legacy provider for RC2")
    assert isinstance(loaded, ClientCertificate), loaded
    assert local_findings(loaded) == []
    assert loaded.protection is not None and "3DES" in loaded.protection.text()


def test_a_damaged_file_is_told_from_a_wrong_password(tmp_path):
    cert, key = make_cert()
    whole = openssl_p12(tmp_path, cert, key)
    wrong = load_client_certificate(whole, "not-the-password")
    assert isinstance(wrong, ClientCertProblem) and wrong.code is Code.CLIENT_CERT_BAD_PASSWORD
    assert "the PKCS#12 file is whole" in wrong.details and "AES-256" in wrong.details
    damaged = tmp_path / "damaged.p12"
    data = whole.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # cut in the middle, as an interrupted copy leaves it
    problem = load_client_certificate(damaged, PASSWORD)
    assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_UNREADABLE
    assert "damaged" in problem.details
    assert PASSWORD not in wrong.details + problem.details


def test_a_file_without_its_authority_is_named_when_a_server_refuses_it(server_factory, ca, tmp_path):
    """A server that trusts only the root above the issuing authority needs the authority's certificate from
    the client: the file with the certificate alone is refused (and told why), the one with the chain is let in."""
    from app.core.findings import Check
    from tests.servers import server_context

    root = trustme.CA()
    issuing = root.create_child_ca()
    person = issuing.issue_cert("pat-doe-x1234.example")
    server = server_factory(server_context(ca.issue_cert("localhost"), client_ca=root))
    url = f"https://localhost:{server.port}/"
    alone, whole = tmp_path / "alone.pem", tmp_path / "whole.pem"
    alone.write_bytes(person.cert_chain_pems[0].bytes() + person.private_key_pem.bytes())
    whole.write_bytes(b"".join(p.bytes() for p in person.cert_chain_pems[:2]) + person.private_key_pem.bytes())
    pem = tmp_path / "server-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    from app.core.tls_contexts import load_trust_file

    trust = (load_trust_file(pem),)
    results = {}
    for path in (alone, whole):
        cert = load_client_certificate(path, None)
        assert isinstance(cert, ClientCertificate)
        results[path.name] = run_checks([target(url)], CheckSettings(extra_trust=trust, client_cert=cert, timeout=5))
    refused = results["alone.pem"]
    assert [f.code for f in refused.targets[0].findings_for(Check.CLIENT_CERT)] == [Code.CLIENT_CERT_REJECTED]
    [chain] = [f for f in refused.findings if f.code is Code.CLIENT_CERT_CHAIN_INCOMPLETE]
    assert chain.params["hosts"] == "localhost" and chain.params["file"] == "alone.pem"
    accepted = results["whole.pem"]
    assert [f.code for f in accepted.targets[0].findings_for(Check.CLIENT_CERT)] == [Code.CLIENT_CERT_OK]
    assert not [f for f in accepted.findings if f.code is Code.CLIENT_CERT_CHAIN_INCOMPLETE]
