"""The README's commands, run as a person would copy them: every command in its ``sh`` code blocks that needs no
network runs here (the others need the ISO's servers), so the README cannot drift from the program."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtual environment's programs: tls-readiness, tls-readiness-gui
NEEDS_NETWORK = re.compile(r"--env (production|map-stage)|--url https://(?!localhost|127\.0\.0\.1)")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _finds_the_iso() -> bool:
    import socket

    try:
        socket.getaddrinfo("adsws.prod.caiso.com", 443)
    except OSError:
        return False
    return True


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)  # for "python -m app" where the program is not installed as a command
    return env


def test_the_readme_has_its_two_commands_first():
    assert readme_commands()[:2] == ["scripts/run", "scripts/test"]


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_works(command, tmp_path):
    if command == "scripts/test":
        pytest.skip("the command that runs this test")
    if NEEDS_NETWORK.search(command):
        pytest.skip("needs the ISO's servers (the internet)")
    if sys.platform == "win32" and command.startswith("scripts/"):
        pytest.skip("a shell script for Debian and Ubuntu")
    args = shlex.split(command)
    if args[0] == "scripts/run":
        # Without a display it checks as text: on the practice lab when the ISO's servers cannot be found.
        if _finds_the_iso():
            pytest.skip("this computer finds the ISO's servers: scripts/run would check Production (the internet)")
        done = subprocess.run(  # noqa: PLW1510 - the status is what is checked
            [str(ROOT / args[0]), *args[1:]], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300
        )
        assert done.returncode in (0, 1), done.stderr
        assert "No display found" in done.stderr and "Practice (this computer)" in done.stdout, done.stderr
        return
    assert args[0] == "tls-readiness", f"a README command this test does not know how to run: {command}"
    installed = BIN / "tls-readiness"
    program = [str(installed) if installed.exists() else sys.executable, *([] if installed.exists() else ["-m", "app"])]
    program += args[1:]
    if args[1] == "lab":  # runs until Ctrl+C: start it, wait for the lab, then press Ctrl+C
        if sys.platform == "win32":
            pytest.skip("stops the lab with Ctrl+C, a POSIX signal here")
        proc = subprocess.Popen(program, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        seen = ""
        while "Example:" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, seen
        proc.stdout.close()
        folder = tmp_path / args[args.index("--export") + 1]
        for name in re.findall(r"--ca-file (\S+)", seen):
            assert (tmp_path / name).is_file(), f"the lab example names {name}, which does not exist"
        assert (folder / "practice-ca.pem").is_file() and (folder / "practice-client.p12").is_file()
        return
    done = subprocess.run(program, check=False, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), f"{command}: exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.strip()
