"""Windows' certificate store: its certificates listed and checked from snapshots on any system, from Windows'
(Wine's) real store on Windows; presented by Windows itself (curl.exe), read from curl.exe's recorded answers."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.cli.main import main
from app.core.addresses import parse_address
from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    certificate_from_store,
    local_findings,
    presented_copy,
)
from app.core.computer import cert_store
from app.core.computer.cert_store import (
    KeyState,
    SnapshotCertStore,
    StoreCertificate,
    StoreError,
    client_certificates,
    find_certificate,
    parse_store_choice,
)
from app.core.computer.checks import ComputerSettings
from app.core.computer.os_stack import TURNED_OFF, CurlResult, store_certificate_findings, store_presenter
from app.core.findings import Check, Code, Status, Verdict
from app.core.model import CheckSettings, Target
from app.core.runner import run_checks
from app.core.words import words_for


def _cert(name: str, *, usage=ExtendedKeyUsageOID.CLIENT_AUTH, days: int = 300, issuer: str = "ISO Test Client CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def snapshot() -> SnapshotCertStore:
    """What a user's Personal store typically holds: their ISO certificate, an old one, a web server's
    certificate an IT person left there, a certificate whose key is elsewhere, and one on a smart card."""
    return SnapshotCertStore(
        [
            StoreCertificate("CurrentUser", _cert("Pat Doe x1234"), KeyState.NOT_EXPORTABLE, "ISO MAP-Stage"),
            StoreCertificate("CurrentUser", _cert("Pat Doe x1234 (old)", days=-20), KeyState.EXPORTABLE),
            StoreCertificate(
                "LocalMachine", _cert("server.example", usage=ExtendedKeyUsageOID.SERVER_AUTH), KeyState.EXPORTABLE
            ),
            StoreCertificate("CurrentUser", _cert("No Key Here"), KeyState.NONE),
            StoreCertificate("CurrentUser", _cert("Smart Card", usage=None), KeyState.PRESENT),
        ],
        "a user's Personal store",
    )


def test_only_certificates_that_can_identify_a_person_are_offered(snapshot):
    offered = client_certificates(snapshot)
    assert [c.label().split(",")[0] for c in offered] == ["Pat Doe x1234", "Pat Doe x1234 (old)", "Smart Card"]
    first = offered[0]
    assert first.reference == f"CurrentUser\\MY\\{first.thumbprint}" and len(first.thumbprint) == 40
    assert first.label().startswith("Pat Doe x1234, issued by ISO Test Client CA, valid until ")
    assert find_certificate(snapshot, first.thumbprint.lower()) == first  # as typed, in any case
    spaced = " ".join(first.thumbprint[i : i + 2] for i in range(0, 40, 2))  # as Windows' dialog shows it
    assert find_certificate(snapshot, spaced) == first


def test_a_snapshot_round_trips_and_bad_ones_are_one_sentence(snapshot, tmp_path):
    path = tmp_path / "store.json"
    path.write_text(snapshot.dump())
    assert SnapshotCertStore.load(path).certificates() == snapshot.certificates()
    path.write_text(json.dumps({"certificates": [{"location": "CurrentUser", "der": "not base64!"}]}))
    with pytest.raises(StoreError, match="cannot be read"):
        SnapshotCertStore.load(path)


@pytest.mark.parametrize("text", ["store:12", "store:" + "G" * 40, "store:" + "0" * 41])
def test_a_thumbprint_that_cannot_be_one_is_said_so(text):
    with pytest.raises(StoreError, match="not a certificate thumbprint"):
        parse_store_choice(text)


def test_a_store_certificate_is_checked_as_a_file_is(snapshot):
    old = client_certificates(snapshot)[1]
    cert = certificate_from_store(old)
    assert isinstance(cert, ClientCertificate) and cert.in_store
    assert cert.name == "Windows' certificate store (Pat Doe x1234 (old))"
    [finding] = local_findings(cert)
    assert finding.code is Code.CLIENT_CERT_EXPIRED
    assert "Windows' certificate store (Pat Doe x1234 (old))" in words_for(finding.code, finding.params).explanation
    with presented_copy(cert) as copy:  # nothing is copied: Windows presents it
        assert copy is not None and copy.store == old.reference and copy.path == "" and copy.password == ""
    keyless = next(c for c in snapshot.certificates() if c.key is KeyState.NONE)  # typed in by its thumbprint
    problem = certificate_from_store(keyless)
    assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_KEY_UNUSABLE
    with pytest.raises(ValueError, match="presented by Windows"):
        import ssl

        cert.load_into(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


# ---- what Windows answered, through curl.exe (recorded: curl 8 with SChannel on Windows 10/11) ---------------

STORE_CERT = certificate_from_store(StoreCertificate("CurrentUser", _cert("Pat Doe x1234"), KeyState.PRESENT))
TARGET = Target("ads", "ADS", parse_address("https://ads.example/"))
ISO_CA = ("CN=ISO Test Client CA",)
RECORDED = [
    (CurlResult(0, "200", ""), ISO_CA, Code.CLIENT_CERT_OK),
    (CurlResult(58, "000", "schannel: client cert not found in cert store"), ISO_CA, Code.CLIENT_CERT_KEY_UNUSABLE),
    (
        CurlResult(
            35,
            "000",
            "schannel: AcquireCredentialsHandle failed: SEC_E_NO_CREDENTIALS (0x8009030E) - No credentials are"
            " available in the security package",
        ),
        ISO_CA,
        Code.CLIENT_CERT_KEY_UNUSABLE,
    ),
    (
        CurlResult(
            35,
            "000",
            "schannel: next InitializeSecurityContext failed: SEC_E_ILLEGAL_MESSAGE (0x80090326) - This error"
            " usually occurs when a fatal SSL/TLS alert is received (e.g. handshake failed).",
        ),
        ISO_CA,
        Code.CLIENT_CERT_REJECTED,
    ),
    (
        CurlResult(0, "400", "", "400 No required SSL certificate was sent nginx"),
        ("CN=ISO Other CA",),
        Code.CLIENT_CERT_WRONG_ISSUER,
    ),
    (CurlResult(0, "400", "", "400 No required SSL certificate was sent nginx"), ISO_CA, Code.CLIENT_CERT_REJECTED),
    (CurlResult(28, "000", "Operation timed out after 10000 milliseconds"), ISO_CA, Code.CLIENT_CERT_NOT_PRESENTED),
    (  # not a refusal: Windows could not check the server's revocation (behind a proxy, say)
        CurlResult(
            35,
            "000",
            "schannel: next InitializeSecurityContext failed: Unknown error (0x80092012) - The revocation function"
            " was unable to check revocation for the certificate.",
        ),
        ISO_CA,
        Code.CLIENT_CERT_NOT_PRESENTED,
    ),
]


@pytest.mark.parametrize(("result", "cas", "code"), RECORDED)
def test_windows_answer_is_the_certificates_verdict(result, cas, code):
    assert isinstance(STORE_CERT, ClientCertificate)
    [finding] = store_certificate_findings(TARGET, result, STORE_CERT, True, cas)
    assert finding.code is code, finding
    words = words_for(finding.code, finding.params)
    assert "{" not in words.explanation + words.action  # every placeholder filled
    if code is Code.CLIENT_CERT_WRONG_ISSUER:
        assert finding.params["variant"] == "store" and "ISO Test Client CA" in words.explanation
    if result.exit_code:
        assert result.message[:30] in finding.details  # Windows' own words, for support


def test_let_in_without_access_is_said_as_for_a_file():
    assert isinstance(STORE_CERT, ClientCertificate)
    found = store_certificate_findings(TARGET, CurlResult(0, "403", "", "Forbidden"), STORE_CERT, True, ISO_CA)
    assert [(f.check, f.code) for f in found] == [
        (Check.CLIENT_CERT, Code.CLIENT_CERT_OK),
        (Check.HTTP, Code.HTTP_FORBIDDEN),
    ]
    assert "User Access Administrator" in words_for(found[1].code, found[1].params).action


def test_a_refusal_is_never_read_as_not_asked():
    """A server that asks only optionally (nothing seen without the certificate) and refuses Windows' one."""
    assert isinstance(STORE_CERT, ClientCertificate)
    refused = CurlResult(0, "400", "", "400 The SSL certificate error nginx")
    [finding] = store_certificate_findings(TARGET, refused, STORE_CERT, False, ())
    assert finding.code is Code.CLIENT_CERT_REJECTED
    [fine] = store_certificate_findings(TARGET, CurlResult(0, "200", ""), STORE_CERT, False, ())
    assert fine.code is Code.CLIENT_CERT_NOT_REQUESTED


def test_turned_off_says_how_to_turn_it_on():
    assert isinstance(STORE_CERT, ClientCertificate)
    [finding] = store_certificate_findings(TARGET, None, STORE_CERT, True, ISO_CA, TURNED_OFF)
    assert finding.params["variant"] == "off" and "--skip-system-tls" in words_for(finding.code, finding.params).action


@pytest.mark.skipif(sys.platform == "win32", reason="the curl here is not Windows' own")
def test_only_windows_own_curl_presents_a_store_certificate():
    curl, why = store_presenter()
    assert curl is None and why  # Linux's curl is built on OpenSSL: it would read the store's name as a file


def test_without_windows_the_answer_is_unknown_never_ready():
    assert isinstance(STORE_CERT, ClientCertificate)
    [finding] = store_certificate_findings(TARGET, None, STORE_CERT, True, ISO_CA, "this is not Windows")
    assert finding.code is Code.CLIENT_CERT_NOT_PRESENTED and finding.status is Status.ERROR
    assert "this is not Windows" in words_for(finding.code, finding.params).explanation
    [quiet] = store_certificate_findings(TARGET, None, STORE_CERT, False, ())
    assert quiet.code is Code.CLIENT_CERT_NOT_REQUESTED  # a server that asks for none needs no Windows answer


def test_a_run_with_a_store_certificate_against_a_server_that_asks(lab, snapshot):
    """Off Windows nothing can present it: the address could not be checked (never "ready", and never "none
    was presented" either), and this program's own handshakes went without it."""
    cert = certificate_from_store(client_certificates(snapshot)[0])
    target = Target("lab", "lab", parse_address(lab.url("client-cert-tls12")), anchors=lab.anchors)
    settings = CheckSettings(timeout=5, client_cert=cert, computer=ComputerSettings(java=False, os_stack=True))
    report = run_checks([target], settings)
    [t] = report.targets
    codes = [f.code for f in t.findings_for(Check.CLIENT_CERT)]
    if sys.platform == "win32":  # Windows (or Wine) without the certificate's key: not presented or unusable
        assert codes and codes[0] in (Code.CLIENT_CERT_NOT_PRESENTED, Code.CLIENT_CERT_KEY_UNUSABLE), t.findings
    else:
        assert codes == [Code.CLIENT_CERT_NOT_PRESENTED], t.findings
        assert "not Windows" in t.findings_for(Check.CLIENT_CERT)[0].params["why"]
    assert t.verdict is not Verdict.READY
    assert report.client_cert is cert


# ---- the command line ---------------------------------------------------------------------------------------


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_command_line_lists_and_takes_a_store_certificate(lab, snapshot, monkeypatch, tmp_path):
    monkeypatch.setattr(cert_store, "this_computers_store", lambda: snapshot)  # the store's seam
    code, out, err = _run("check", "--client-cert", "store:")
    assert code == 0, err
    offered = client_certificates(snapshot)
    for cert in offered:
        assert f"store:{cert.thumbprint}" in out and cert.label() in out
    assert "server.example" not in out and "No Key Here" not in out
    assert "key cannot be exported" in out and "key can be exported" in out
    ca = tmp_path / "ca.pem"
    ca.write_text(lab.pki.ca.pem)
    chosen = offered[0]
    code, out, err = _run(
        "check", "--url", lab.url("client-cert-tls12"), "--ca-file", str(ca), "--client-cert",
        f"store:{chosen.thumbprint.lower()}", "--skip-java", "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert report["client_certificate"]["store"] == chosen.reference, err
    assert report["client_certificate"]["file"] == "Windows' certificate store (Pat Doe x1234)"
    assert report["verdict"] != "ready"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--client-cert", "store:" + "A" * 40], "no certificate with the thumbprint"),
        (["--client-cert", "store:xyz"], "not a certificate thumbprint"),
        (["--client-cert", "store:" + "A" * 40, "--client-cert-password-env", "X"], "needs no password"),
    ],
)
def test_store_choices_that_cannot_be_used_are_one_sentence(snapshot, monkeypatch, argv, fragment):
    monkeypatch.setattr(cert_store, "this_computers_store", lambda: snapshot)
    code, _, err = _run("check", "--url", "https://ads.example/", *argv)
    assert code == 2 and fragment in err and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has a store")
def test_off_windows_there_is_no_store_to_choose_from():
    code, _, err = _run("check", "--client-cert", "store:")
    assert code == 2 and "only on Windows" in err


# ---- Windows' real store (Windows, and Wine's real crypt32 in the Windows lane) --------------------------------


@pytest.mark.skipif(sys.platform != "win32", reason="Windows' certificate store (runs in the Windows lane)")
@pytest.mark.parametrize("exportable", [True, False])
def test_windows_real_store_lists_and_checks_an_imported_certificate(tmp_path, exportable):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    from app.core.checks.pkcs12 import compatible_encryption
    from tests.windows_store import imported

    # RSA: what the ISO issues, and the only kind Wine's PFXImportCertStore imports. The .pfx carries the
    # issuing authority too, as the ISO's do: Windows' chain engine then finds it above the certificate.
    now = dt.datetime.now(dt.UTC)

    def make(subject: str, issuer: str, signer, public, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=200))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Names of this test's own: Windows' chain engine remembers the authorities it has seen in this process.
    ca_name = f"ISO Test Client CA {x509.random_serial_number() % 10**6}"
    authority = make(ca_name, "ISO Test Root", ca_key, ca_key.public_key(), True)
    issued = make("Pat Lab x1234", ca_name, ca_key, key.public_key(), False)
    pfx = pkcs12.serialize_key_and_certificates(
        b"Pat Lab", key, issued, [authority], compatible_encryption(b"import-pw")
    )
    thumbprint = issued.fingerprint(hashes.SHA1()).hex().upper()
    with imported(pfx, "import-pw", exportable=exportable):
        live = cert_store.this_computers_store()
        assert live is not None
        entry = find_certificate(live, thumbprint)
        assert entry is not None and entry.location == "CurrentUser"
        assert entry in client_certificates(live)
        assert entry.key is (KeyState.EXPORTABLE if exportable else KeyState.NOT_EXPORTABLE)
        cert = certificate_from_store(entry)
        assert isinstance(cert, ClientCertificate) and local_findings(cert) == []
        authority_der = authority.public_bytes(serialization.Encoding.DER)
        assert entry.chain[:1] == (authority_der,), entry.chain  # found by Windows' chain engine
        assert "CN=ISO Test Root" in cert.issuer_names  # so a server naming the root matches it
        code, out, err = _run("check", "--client-cert", "store:")
        assert code == 0 and f"store:{thumbprint}" in out, err
        recorded = tmp_path / "store.json"  # a snapshot recorded from the real store reads back the same
        recorded.write_text(SnapshotCertStore(live.certificates()).dump())
        assert find_certificate(SnapshotCertStore.load(recorded), thumbprint) == entry
    after = cert_store.this_computers_store()
    assert after is not None and find_certificate(after, thumbprint) is None  # taken out again
    assert authority.public_bytes(serialization.Encoding.DER) not in {c.der for c in after.certificates()}
