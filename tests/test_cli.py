"""The command line, in-process and as a real program."""

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from app.cli.main import main
from app.core.resources import resource_path
from tests import keystores

SCHEMA = json.loads(resource_path("report.schema.json").read_text())


def run(*argv, env=None):
    out, err = io.StringIO(), io.StringIO()
    if env:
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
    try:
        code = main(list(argv), out, err)
    except SystemExit as exc:  # argparse's own exits (--help, --version)
        code = int(exc.code or 0)
    finally:
        if env:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def test_practice_run_prints_a_readable_summary():
    code, out, err = run("check", "--env", "practice")
    assert code == 1
    assert "RESULT:" in out and "need attention" in out
    assert "What happened:" in out and "What to do:" in out
    assert "[TLS12_REFUSED]" in out and "[ READY  ] A healthy server" in out
    assert "Traceback" not in out + err


def test_practice_json_validates_against_the_schema():
    code, out, _ = run("check", "--env", "practice", "--json")
    assert code == 1
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["verdict"] == "action_needed" and data["environment"] == "practice"
    from app.core.catalog import load_catalog

    practice = load_catalog(use_user_catalog=False).select("practice")
    assert data["summary"]["targets"] == len(data["targets"]) == len(practice)
    ready = next(t for t in data["targets"] if t["id"] == "practice-ready")
    assert ready["verdict"] == "ready" and ready["certificates"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_only_ready_endpoints_exit_zero(lab):
    code, out, _ = run("check", "--url", lab.url("ready"), "--env", "practice", "--app", "lab-protocol")
    assert code == 1  # lab-protocol holds broken servers too
    code, out, _ = run("check", "--env", "practice", "--app", "lab-protocol", "--json")
    code, out, _ = run("check", "--url", "https://practice-missing.invalid/")
    assert code == 1 and "DNS_NOT_FOUND" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check"], "Choose what to check"),
        (["check", "--env", "nowhere"], "There is no environment 'nowhere'"),
        (["check", "--env", "production", "--app", "nothing"], "There is no application 'nothing'"),
        (["check", "--app", "ads"], "--app needs --env"),
        (["check", "--url", "http://ads.caiso.com/"], "only https:// addresses"),
        (["check", "--url", "https://ads.caiso.com:77777/"], "from 1 to 65535"),
        (["check", "--url", "not a url"], "spaces"),
        (["check", "--env", "practice", "--timeout", "-3"], "more than 0"),
        (["check", "--env", "practice", "--timeout", "soon"], "not a number"),
        (["check", "--env", "practice", "--catalog", "/nonexistent/catalog.toml"], "does not exist"),
        (["check", "--env", "practice", "--ca-file", "/nonexistent/ca.pem"], "does not exist"),
        (["check", "--env", "practice", "--client-cert-password-env", "X"], "needs --client-cert"),
        (["check", "--frobnicate"], "Unrecognized arguments"),
        (["lab", "--port-base", "80"], "port base"),
    ],
)
def test_bad_input_gets_one_sentence_and_exit_2(argv, fragment):
    code, _out, err = run(*argv)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_files_get_one_sentence(tmp_path):
    bad_ca = tmp_path / "ca.pem"
    bad_ca.write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
    code, _, err = run("check", "--url", "https://x.invalid/", "--ca-file", str(bad_ca))
    assert code == 2 and "damaged" in err
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("hello")
    code, _, err = run("check", "--url", "https://x.invalid/", "--ca-file", str(not_pem))
    assert code == 2 and "holds no certificate (PEM, DER, PKCS #7 or a Java trust store" in err
    bad_catalog = tmp_path / "c.toml"
    bad_catalog.write_text("[[endpoints]]\nid='x'\n")
    code, _, err = run("check", "--env", "practice", "--catalog", str(bad_catalog))
    assert code == 2 and "endpoints[0] (x)" in err


def test_client_certificate_problems_are_findings_not_crashes(tmp_path, lab):
    damaged = tmp_path / "damaged.p12"
    damaged.write_bytes(b"\x30\x82\x01\x00 not really a certificate")
    code, out, _err = run("check", "--url", lab.url("ready"), "--client-cert", str(damaged), "--json")
    data = json.loads(out)
    assert data["findings"][0]["code"] == "CLIENT_CERT_UNREADABLE" and code == 1


@pytest.mark.parametrize("kind", ["p12", "jks"])
def test_passwords_never_appear_in_any_output(tmp_path, lab, kind):
    """Neither a .p12's password nor a Java key store's: not in the output, the report, the bundle or the log."""
    if kind == "jks" and keystores.KEYTOOL is None:
        pytest.skip("needs Java's keytool (OpenJDK)")
    secret = "S3cret-Pass-For-Test"
    path = tmp_path / "practice.p12"
    path.write_bytes(lab.pki.client_p12(secret))
    if kind == "jks":
        path = keystores.jks_from_p12(path, secret, tmp_path / "practice.jks", secret)
    logs = tmp_path / "logs"
    for extra in ([], ["--json"], ["--verbose"], ["--bundle", str(tmp_path / "bundle.zip")]):
        code, out, err = run(
            "check",
            "--url",
            lab.url("client-cert-tls12"),
            "--ca-file",
            str(_lab_ca(lab, tmp_path)),
            "--client-cert",
            str(path),
            "--client-cert-password-env",
            "TLSRC_TEST_PW",
            *extra,
            env={"TLSRC_TEST_PW": secret, "TLS_READINESS_LOG_DIR": str(logs)},
        )
        assert code == 0, out + err
        assert secret not in out + err
    with zipfile.ZipFile(tmp_path / "bundle.zip") as bundle:
        for name in bundle.namelist():
            assert secret.encode() not in bundle.read(name), name
    for written in logs.rglob("*"):
        if written.is_file():
            assert secret.encode() not in written.read_bytes(), written
    code, out, err = run(
        "check",
        "--url",
        lab.url("ready"),
        "--client-cert",
        str(path),
        "--client-cert-password-env",
        "TLSRC_TEST_PW",
        "--json",
        env={"TLSRC_TEST_PW": "wrong-" + secret},
    )
    assert json.loads(out)["findings"][0]["code"] == "CLIENT_CERT_BAD_PASSWORD"
    assert secret not in out + err


def _lab_ca(lab, tmp_path: Path) -> Path:
    path = tmp_path / "lab-ca.pem"
    path.write_text(lab.pki.ca.pem)
    return path


def test_missing_password_variable_is_input_error(tmp_path):
    (tmp_path / "a.p12").write_bytes(b"any")
    code, _, err = run(
        "check",
        "--url",
        "https://x.invalid/",
        "--client-cert",
        str(tmp_path / "a.p12"),
        "--client-cert-password-env",
        "TLSRC_SURELY_UNSET_VAR",
    )
    assert code == 2 and "TLSRC_SURELY_UNSET_VAR" in err


def test_catalog_listing():
    code, out, _ = run("catalog", "--env", "production")
    assert code == 0 and "adsws.prod.caiso.com" in out and "only with --all-addresses" in out


def test_the_real_program_runs_from_a_fresh_process():
    result = subprocess.run(
        [sys.executable, "-m", "app", "check", "--env", "practice", "--app", "lab-certificate", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    assert {t["application"] for t in data["targets"]} == {"lab-certificate"}


@pytest.mark.skipif(sys.platform == "win32", reason="uses a pseudo-terminal")
def test_password_is_asked_for_without_echo_when_interactive(tmp_path, lab):
    import pty
    import select
    import time

    secret = "Typed-At-The-Prompt-1"
    (tmp_path / "me.p12").write_bytes(lab.pki.client_p12(secret))
    ca = _lab_ca(lab, tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real program on a terminal
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "app",
                "check",
                "--url",
                lab.url("client-cert-tls12"),
                "--ca-file",
                str(ca),
                "--client-cert",
                str(tmp_path / "me.p12"),
            ],
        )
    seen = b""

    def read_until(marker: bytes, seconds: float) -> None:
        nonlocal seen
        end = time.monotonic() + seconds
        while marker not in seen and time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    return

    read_until(b"Password for me.p12", 60)
    os.write(fd, secret.encode() + b"\n")
    read_until(b"RESULT:", 60)
    read_until(b"\n\n\n", 2)
    _, status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert "Password for me.p12" in text
    assert secret not in text
    assert "This computer is ready for TLS 1.2" in text, text
    assert os.waitstatus_to_exitcode(status) == 0


def test_decode_expands_a_support_code():
    code, out, _ = run("check", "--env", "practice", "--app", "lab-connection", "--json")
    data = json.loads(out)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", data["reference"])
    code, out, err = run("decode", *data["support_code"].split("-"))
    assert code == 0, err
    assert "6 addresses checked." in out and len(data["support_code"].replace("-", "")) <= 12
    assert "[TCP_REFUSED]" in out and "What to do:" in out and "?" not in out
    for stand_in in ("that server", "(see the report)", "(other names)"):  # it reads without the run's details
        assert stand_in not in out
    code, _, err = run("decode", data["support_code"][:-1] + ("2" if data["support_code"][-1] != "2" else "3"))
    assert code == 2 and "does not add up" in err and "Traceback" not in err
