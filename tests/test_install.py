"""The program as a wheel, installed (not editable) into a fresh virtual environment: it must find its
resources there as it does from source and frozen, and check the practice lab and pass its self-test.

Offline: the wheel is built without build isolation, and the fresh environment borrows the dependencies of the
test environment (through a ``.pth`` line, which does not carry over the editable install of this checkout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.platform == "win32", reason="builds and starts a Linux virtual environment")
def test_a_wheel_installed_into_a_fresh_environment_works(tmp_path):
    import venv  # not in every Python (the embeddable Windows one has none)

    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("tls_readiness_checker-*.whl")
    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=False)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(fresh), "platbase": str(fresh)}))
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")  # the dependencies, not this checkout
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(fresh / "bin" / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["QT_QPA_PLATFORM"] = "offscreen"
    where = subprocess.run(
        [str(fresh / "bin" / "python"), "-c", "import app.core.resources as r; print(r.resources_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), f"the resources come from {where}, not from the installed wheel"
    check = subprocess.run(  # noqa: PLW1510 - the status is what is checked
        [
            str(fresh / "bin" / "tls-readiness"),
            "check",
            "--env",
            "practice",
            "--skip-java",
            "--skip-system-tls",
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 1, check.stderr  # the practice lab's problems were found, as it is built to show
    assert json.loads(check.stdout)["environment"] == "practice"
    selftest = subprocess.run(  # noqa: PLW1510 - the status is what is checked
        [str(fresh / "bin" / "tls-readiness"), "--self-test"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr
