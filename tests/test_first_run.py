"""First contact, as a newcomer meets the program: the window's help without a display, input mistakes said in
one sentence, a damaged installation named as such, and a native crash that the next start reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main as cli

BIN = Path(sys.executable).parent
no_posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="starts the programs as Linux processes")


def _headless() -> dict[str, str]:
    """The environment of a terminal with no display at all."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def _gui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - the status is what is checked
        [sys.executable, "-m", "app.gui", *args], env=_headless(), capture_output=True, text=True, timeout=120
    )


@no_posix_signals
def test_the_window_without_a_display_answers_help_and_version_and_says_why_it_cannot_open():
    helped = _gui("--help")
    assert helped.returncode == 0 and "usage: tls-readiness-gui" in helped.stdout, helped.stderr
    assert "--self-test" in helped.stdout
    version = _gui("--version")
    assert version.returncode == 0 and version.stdout.startswith("TLS Readiness Checker ")
    started = _gui("--env", "practice")
    assert started.returncode == 2
    assert "No display was found" in started.stderr and "tls-readiness check --env practice" in started.stderr
    assert "xcb" not in started.stderr and "Aborted" not in started.stderr
    wrong = _gui("--nonsense")
    assert wrong.returncode == 2 and "Unrecognized arguments: --nonsense." in wrong.stderr


def run(*args: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = cli(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_lab_export_to_a_file_or_an_impossible_folder_is_one_sentence(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, _, err = run("lab", "--export", str(a_file))
    assert code == 2 and "that is a file, not a folder" in err and err.count("\n") == 1
    assert a_file.read_text() == "mine"  # nothing of the user's is touched
    code, _, err = run("lab", "--export", str(a_file / "inside"))
    assert code == 2 and "the folder cannot be made" in err and "Traceback" not in err
    assert not list(tmp_path.glob("crash-*"))


def test_a_missing_client_certificate_file_is_one_sentence(tmp_path):
    code, out, err = run("check", "--env", "practice", "--client-cert", str(tmp_path / "missing.p12"))
    assert code == 2 and out == ""
    assert err == f"tls-readiness: The certificate file {tmp_path / 'missing.p12'} does not exist (--client-cert).\n"
    code, _, err = run("check", "--env", "practice", "--client-cert", str(tmp_path))
    assert code == 2 and "is a folder, not a file" in err


def test_a_damaged_installation_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr("app.core.resources.resources_dir", lambda: tmp_path / "gone")
    code, _, err = run("catalog")
    assert code == 70
    assert "This installation of TLS Readiness Checker is damaged: its file catalog.toml is missing" in err
    assert "install the program again" in err and "the file does not exist" not in err


@no_posix_signals
def test_a_native_crash_is_reported_at_the_next_start(tmp_path):
    env = {**_headless(), "TLS_READINESS_LOG_DIR": str(tmp_path)}
    crash = (
        "from app.core.crash import enable_native_crash_traces; enable_native_crash_traces(); "
        "import faulthandler; faulthandler._sigsegv()"
    )
    died = subprocess.run(
        [sys.executable, "-c", crash], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert died.returncode != 0

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: PLW1510 - the status is what is checked
            [str(BIN / "tls-readiness"), "check", "--url", "https://127.0.0.1:9/", "--skip-java", "--skip-system-tls"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    nxt = check()
    assert "stopped unexpectedly the last time it ran" in nxt.stderr, nxt.stderr
    (report,) = tmp_path.glob("crash-*-native.txt")
    text = report.read_text()
    assert "Fatal Python error: Segmentation fault" in text and "native crash (faulthandler)" in text
    again = check()
    assert "stopped unexpectedly" not in again.stderr  # said once, for that crash


def test_the_java_probe_ships_compiled_for_java_8_and_runs_from_its_classes():
    from app.core.computer.java_start import compiled_probe, probe_command, probe_minimum

    classes = compiled_probe()
    if classes is None:
        pytest.skip("no JDK here to compile the probe (installers/compile-probe)")
    header = (classes / "Probe.class").read_bytes()[:8]
    assert header[:4] == b"\xca\xfe\xba\xbe" and int.from_bytes(header[6:8], "big") == 52  # Java 8
    assert probe_minimum() == 8
    command = probe_command("/usr/bin/java")
    assert command[-3:] == ["-cp", str(classes / "probe.jar"), "Probe"]


@no_posix_signals
def test_the_command_ends_at_once_yet_as_a_normal_exit_does(tmp_path):
    """The command skips the interpreter's teardown (app.cli.launch.leave), not what a normal exit does: its
    whole output, its status, the bundle and the log written, and the JVM it started early already ended."""
    import json
    import zipfile

    marker = f"tls-readiness-test-{os.getpid()}-{tmp_path.name}"
    env = {**_headless(), "TLS_READINESS_LOG_DIR": str(tmp_path / "logs"), "TLS_READINESS_EXIT_MARK": marker}

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: PLW1510 - the status is what is checked
            [str(BIN / "tls-readiness"), *args], env=env, capture_output=True, text=True, timeout=300
        )

    def still_running() -> list[str]:
        """Processes that command started (they inherit its environment), the JVM among them."""
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
        return found

    done = command("check", "--env", "practice", "--json", "--bundle", str(tmp_path / "b.zip"))
    assert done.returncode == 1, done.stderr  # the practice lab has problems
    assert still_running() == []
    report = json.loads(done.stdout)
    assert report["verdict"] != "ready" and len(report["targets"]) > 20
    with zipfile.ZipFile(tmp_path / "b.zip") as bundle:
        assert bundle.testzip() is None and json.loads(bundle.read("report.json"))["reference"] == report["reference"]
    log_text = (tmp_path / "logs" / "tls-readiness.log").read_text(encoding="utf-8")
    assert report["reference"] in log_text
    assert [p.stat().st_size for p in (tmp_path / "logs").glob("native-*.txt")] in ([], [0])
    # A mistake found after the JVM was started early: the JVM, never used, is ended by the exit handlers.
    refused = command("check", "--env", "no-such-place")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert still_running() == []
