"""``--self-test``: it passes on a working installation and says FAILED, with exit status 1, when a step breaks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import selftest

ROOT = Path(__file__).resolve().parents[1]


def test_self_test_passes_from_source():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[1] for line in lines[1:-1]] == [
        "resources",
        "tls",
        "practice",
        "check",
        "reports",
        "window",
    ]
    assert all(line.startswith("ok ") for line in lines[1:-1])
    assert lines[-1].startswith("self-test passed: 6 of 6 steps")
    assert "Traceback" not in proc.stderr


def test_self_test_fails_when_resources_are_missing(tmp_path, monkeypatch: pytest.MonkeyPatch):
    # An installation whose resource folder is empty: every step that needs it must say FAILED, in one line.
    monkeypatch.setattr("app.core.resources.resources_dir", lambda: tmp_path)
    monkeypatch.setattr(selftest, "STEPS", (("resources", selftest._resources), ("check", selftest._check)))
    out = io.StringIO()
    assert selftest.run_self_test(out) == selftest.EXIT_FAILED
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("FAILED  resources")
    assert lines[2].startswith("FAILED  check")
    assert lines[-1].startswith("self-test FAILED: 0 of 2 steps worked")


def test_self_test_fails_when_a_finding_goes_missing(monkeypatch: pytest.MonkeyPatch):
    # The engine step compares each lab server's findings with its scenario's promise.
    from app.core import scenarios
    from app.core.findings import Code

    changed = tuple(
        scenarios.Scenario(s.name, s.behaviour, (*s.expect, Code.CERT_EXPIRED), s.http_status)
        if s.name == "ready"
        else s
        for s in scenarios.SCENARIOS
    )
    monkeypatch.setattr(scenarios, "SCENARIOS", changed)
    monkeypatch.setattr(selftest, "STEPS", (("practice lab", selftest._lab), ("check", selftest._check)))
    out = io.StringIO()
    assert selftest.run_self_test(out) == selftest.EXIT_FAILED
    assert "FAILED  check         SelfTestError: ready lacks CERT_EXPIRED" in out.getvalue()
