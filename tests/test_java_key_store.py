"""Java key stores (.jks) made by Java's own keytool: as the client certificate (--client-cert, with its password
and --client-cert-alias) and as trusted certificates (--ca-file cacerts.jks). Presented to real servers in
tests/test_real_servers.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.checks import jks
from app.core.checks.certificate import der_certificates_in_pem
from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    key_store_aliases,
    load_client_certificate,
    presented_copy,
)
from app.core.errors import TrustFileError
from app.core.findings import Code
from app.core.tls_contexts import load_trust_file
from tests.keystores import jks_from_p12, jks_key_pair, jks_trusted, needs_keytool

pytestmark = needs_keytool
STORE_PW = "St0re-Pass-For-Test"


@pytest.fixture(scope="module")
def stores(lab, tmp_path_factory) -> dict[str, Path]:
    """The practice certificate in JKS key stores of every kind a user may bring."""
    folder = Path(tmp_path_factory.mktemp("jks"))
    p12 = folder / "practice.p12"
    p12.write_bytes(lab.pki.client_p12("p12-pw"))
    made = {
        "one": jks_from_p12(p12, "p12-pw", folder / "one.jks", STORE_PW),
        "own-key-password": jks_from_p12(p12, "p12-pw", folder / "own.jks", STORE_PW, key_password="Key-Only-Pw"),
    }
    made["two"] = jks_key_pair(
        jks_from_p12(p12, "p12-pw", folder / "two.jks", STORE_PW, alias="iso"), "other", STORE_PW
    )
    ca = folder / "ca.pem"
    ca.write_text(lab.pki.ca.pem)
    made["trust"] = jks_trusted(folder / "cacerts.jks", ca)
    made["jceks"] = jks_key_pair(folder / "x.jceks", "x", STORE_PW, kind="JCEKS")
    return made


def test_a_key_store_opens_with_its_password(stores, lab):
    cert = load_client_certificate(stores["one"], STORE_PW)
    assert isinstance(cert, ClientCertificate), cert
    assert cert.key_matches and cert.alias == "practice"
    assert cert.info.subject == load_client_certificate(_p12(lab, stores), "p12-pw").info.subject  # type: ignore[union-attr]
    with presented_copy(cert) as copy:  # curl and Java get it as every other certificate
        assert copy is not None and Path(copy.path).stat().st_size > 0


@pytest.mark.parametrize(("password", "fragment"), [("wrong", "did not open"), ("", "needs its password")])
def test_a_wrong_or_missing_password_is_said_so(stores, password, fragment):
    problem = load_client_certificate(stores["one"], password)
    assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_BAD_PASSWORD
    assert fragment in problem.details and STORE_PW not in problem.details


def test_a_key_with_a_password_of_its_own_is_named(stores):
    """Java opens a key with its store's password: such a store is of no use to Java, whichever is typed."""
    for password in (STORE_PW, "Key-Only-Pw"):
        problem = load_client_certificate(stores["own-key-password"], password)
        assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_BAD_PASSWORD
        assert problem.variant == "key_store" and "store" in problem.details


def test_a_store_with_several_keys_asks_which_one(stores):
    assert set(key_store_aliases(stores["two"])) == {"iso", "other"}  # read without the password
    problem = load_client_certificate(stores["two"], STORE_PW)
    assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_CHOOSE_ONE
    assert set(problem.aliases) == {"iso", "other"}
    cert = load_client_certificate(stores["two"], STORE_PW, alias="ISO")  # keytool's names are lower-case
    assert isinstance(cert, ClientCertificate) and cert.alias == "iso"
    missing = load_client_certificate(stores["two"], STORE_PW, alias="nobody")
    assert isinstance(missing, ClientCertProblem) and missing.code is Code.CLIENT_CERT_CHOOSE_ONE
    assert "nobody" in missing.details


def test_damage_is_told_from_a_wrong_password(stores, tmp_path):
    data = stores["one"].read_bytes()
    cut = tmp_path / "cut.jks"
    cut.write_bytes(data[: len(data) // 2])
    problem = load_client_certificate(cut, STORE_PW)
    assert isinstance(problem, ClientCertProblem) and problem.code is Code.CLIENT_CERT_UNREADABLE
    assert "cut short" in problem.details
    store = jks.read_jks(data)  # whole: the seal tells the right password from a wrong one
    assert store.seal_matches(STORE_PW) and not store.seal_matches("wrong")


def test_other_key_store_kinds_are_named(stores):
    jceks = load_client_certificate(stores["jceks"], STORE_PW)
    assert isinstance(jceks, ClientCertProblem) and jceks.code is Code.CLIENT_CERT_UNREADABLE
    assert "JCEKS" in jceks.details and "PKCS12" in jceks.details
    trust = load_client_certificate(stores["trust"], "changeit")
    assert isinstance(trust, ClientCertProblem) and "trusted certificates" in trust.details


def test_a_java_trust_store_is_read_as_trusted_certificates(stores, lab, tmp_path):
    anchors = load_trust_file(stores["trust"])
    assert anchors.ders == frozenset(der_certificates_in_pem(lab.pki.ca.pem)) and len(anchors.ders) == 1
    with pytest.raises(TrustFileError, match="holds no trusted certificate"):
        load_trust_file(stores["one"])
    p12 = tmp_path / "trust.p12"
    jks_trusted(p12, _pem(lab, tmp_path), alias="root", kind="PKCS12")
    assert load_trust_file(p12).ders == anchors.ders  # Java 18's own cacerts is a PKCS#12 of this kind
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    root = x509.load_der_x509_certificate(next(iter(anchors.ders)))
    p7b = tmp_path / "chain.p7b"  # Windows' "PKCS #7" export
    p7b.write_bytes(pkcs7.serialize_certificates([root], serialization.Encoding.DER))
    assert load_trust_file(p7b).ders == anchors.ders
    der = tmp_path / "root.cer"
    der.write_bytes(next(iter(anchors.ders)))
    assert load_trust_file(der).ders == anchors.ders  # a .cer as Windows exports it


def test_the_systems_own_java_cacerts_reads(tmp_path):
    cacerts = Path("/etc/ssl/certs/java/cacerts")
    if not cacerts.is_file():
        pytest.skip("no Debian Java cacerts here")
    assert len(load_trust_file(cacerts).ders) > 50


def _p12(lab, stores: dict[str, Path]) -> Path:
    return stores["one"].parent / "practice.p12"


def _pem(lab, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text(lab.pki.ca.pem)
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    import os

    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_the_command_line_takes_a_key_store_and_its_alias(stores, lab, tmp_path):
    ca = str(_pem(lab, tmp_path))
    url = lab.url("client-cert-tls12")
    common = ("check", "--url", url, "--ca-file", ca, "--client-cert-password-env", "TLSRC_JKS_PW")
    code, out, err = _run(*common, "--client-cert", str(stores["two"]), env={"TLSRC_JKS_PW": STORE_PW})
    assert code == 2 and "iso" in err and "other" in err and "--client-cert-alias" in err and "Traceback" not in err
    code, out, err = _run(
        *common, "--client-cert", str(stores["two"]), "--client-cert-alias", "iso", "--json",
        env={"TLSRC_JKS_PW": STORE_PW},
    )  # fmt: skip
    assert code == 0, out + err
    report = json.loads(out)
    assert report["client_certificate"]["alias"] == "iso" and report["client_certificate"]["file"] == "two.jks"
    assert STORE_PW not in out + err
    code, out, err = _run(*common, "--client-cert", str(stores["one"]), "--json", env={"TLSRC_JKS_PW": "wrong"})
    assert json.loads(out)["findings"][0]["code"] == "CLIENT_CERT_BAD_PASSWORD" and code == 1
    code, _, err = _run("check", "--url", url, "--client-cert-alias", "iso")
    assert code == 2 and "--client-cert" in err
    code, out, err = _run("check", "--url", url, "--ca-file", str(stores["trust"]), "--json")
    [target] = json.loads(out)["targets"]  # the lab's authority, trusted from cacerts.jks
    assert "CERT_OK" in {f["code"] for f in target["findings"]}, out + err


def test_a_trust_file_that_starts_as_a_java_store_and_is_cut_short_is_named_as_the_file_given(tmp_path):
    """Found by the fuzz test under Wine: four bytes of a Java key store's magic number. Every refusal of a
    trusted-certificate file begins the same way, naming the file as the user gave it."""
    path = tmp_path / "company-ca.pem"
    path.write_bytes(b"\xfe\xed\xfe\xed")
    with pytest.raises(TrustFileError) as refused:
        load_trust_file(path)
    assert str(refused.value).startswith(f"The trusted-certificate file {path} is a Java trust store")
    assert "cut short" in str(refused.value)
