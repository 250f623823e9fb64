"""Java key stores made by Java's own ``keytool`` for the tests (passwords through the environment, never on a
command line, as the program itself does)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

KEYTOOL = shutil.which("keytool")
needs_keytool = pytest.mark.skipif(KEYTOOL is None, reason="needs Java's keytool (OpenJDK)")


def keytool(*args: str, **passwords: str) -> None:
    """Run keytool; ``passwords`` become environment variables named by the ``:env`` options in ``args``."""
    assert KEYTOOL is not None
    done = subprocess.run(
        [KEYTOOL, *args, "-noprompt"],
        env={**os.environ, **passwords},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def jks_from_p12(
    p12: Path, p12_password: str, dest: Path, store_password: str, key_password: str | None = None, alias: str = ""
) -> Path:
    """Copy a .p12's entry into a JKS key store (added to ``dest`` if it exists), its key under
    ``key_password`` (the store's own unless told otherwise, as Java programs need it)."""
    keytool(
        "-importkeystore",
        "-srckeystore",
        str(p12),
        "-srcstoretype",
        "PKCS12",
        "-srcstorepass:env",
        "SRC",
        *(["-srcalias", _first_alias(p12, p12_password), "-destalias", alias] if alias else []),
        "-destkeystore",
        str(dest),
        "-deststoretype",
        "JKS",
        "-deststorepass:env",
        "DEST",
        "-destkeypass:env",
        "KEY",
        SRC=p12_password,
        DEST=store_password,
        KEY=key_password or store_password,
    )
    return dest


def _store(dest: Path, kind: str) -> tuple[str, ...]:
    return ("-keystore", str(dest), "-storetype", kind, "-storepass:env", "PW")


def jks_key_pair(dest: Path, alias: str, store_password: str, kind: str = "JKS") -> Path:
    """Add a new self-signed key pair named ``alias`` to a key store (JKS, or another kind keytool writes)."""
    keytool(
        "-genkeypair", "-alias", alias, "-keyalg", "EC", "-dname", f"CN={alias}", *_store(dest, kind),
        "-keypass:env", "PW", PW=store_password,
    )  # fmt: skip
    return dest


def jks_trusted(
    dest: Path, pem: Path, alias: str = "company-root", password: str = "changeit", kind: str = "JKS"
) -> Path:
    """Add a trusted certificate to a trust store (as a company's ``cacerts.jks`` holds its root)."""
    keytool("-importcert", "-alias", alias, "-file", str(pem), *_store(dest, kind), PW=password)
    return dest


def _first_alias(p12: Path, password: str) -> str:
    from cryptography.hazmat.primitives.serialization import pkcs12

    loaded = pkcs12.load_pkcs12(p12.read_bytes(), password.encode())
    name = loaded.cert.friendly_name if loaded.cert else None
    return name.decode() if name else "1"
