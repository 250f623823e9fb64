"""Environment check time: this program against sslyze, testssl.sh and openssl s_client, on the same endpoints.

    .venv/bin/python bench/environment.py [--runs 3] [--delay-ms 50]

Eight practice-lab servers (started with ``tls-readiness lab`` in their own process) sit behind a latency proxy
(bench/latency_proxy.py, its own process) that delays each direction by ``--delay-ms``. Each tool checks all
eight, and each is timed as the command a person would run, the same number of times, interleaved:

- this program: ``tls-readiness check --url ... --ca-file ...`` with its defaults (Java and the system's curl on:
  the command a person runs), the same with ``--skip-java --skip-system-tls`` (protocol versions, certificate,
  HTTP answer), and its engine alone with Java and curl off, in this process (no interpreter start-up); both
  commands also as the frozen program in dist/ (what the installers install), where installers/build made one;
- sslyze (its own virtual environment in .cache/bench/sslyze, made on first use): protocol versions
  (SSL 2 to TLS 1.3) and certificate information, all eight targets in one command;
- testssl.sh ``--protocols``, eight processes at once (where installed);
- openssl s_client: TLS 1.3, 1.2, 1.1 and 1.0 handshakes, one after another per endpoint, endpoints at once.

The lab's certificates name its authority (OCSP answers, lists of withdrawn certificates) behind the same
proxy, so the revocation step pays the same latency: the engine is timed with revocation on and off. The
practice run (``tls-readiness check --env practice``, its defaults) is timed too.

The lower bound: a TLS 1.2 handshake and one HTTP exchange take three round trips.

This program's commands run from compiled bytecode, as an installed program does (pip compiles it when
installing, the frozen program carries it): its modules are compiled first, so that a machine where
PYTHONDONTWRITEBYTECODE is set does not time Python compiling the sources at every start. One untimed run of
the default command comes first: a person's first check with a Java saves the probe's classes for the next ones
(class data sharing, app/core/computer/java_start.py), and the benchmark times the checks after it. The
processor time each command used (its own and its children's: the JVM, curl) is recorded beside its wall-clock
time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SSLYZE_VENV = ROOT / ".cache" / "bench" / "sslyze"
FROZEN = ROOT / "dist" / "tls-readiness" / "tls-readiness"  # the installed program, as installers/build makes it
SCENARIOS = ("ready", "tls12-only", "legacy-too", "expired", "wrong-name", "untrusted", "self-signed", "expiring-soon")
ROUND_TRIPS = 3
AUTHORITY = "(authority)"  # the lab authority's web server: its OCSP answers and its list, behind the proxy too


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@contextmanager
def practice_lab(folder: Path, authority_url: str = "") -> Iterator[dict[str, int]]:
    """The practice lab in its own process: each scenario's port, and its authority's (``AUTHORITY``); the CA
    goes to ``folder``; its certificates name ``authority_url`` for their revocation answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "lab", "--export", str(folder)]
        + (["--authority-url", authority_url] if authority_url else []),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    ports: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 2 and parts[1].startswith("https://"):
                ports[parts[0]] = int(parts[1].rsplit(":", 1)[1].rstrip("/"))
            if line.startswith("Its authority"):
                ports[AUTHORITY] = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
            if line.startswith("Example:"):
                break
        yield ports
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def latency_proxy(targets: list[int], delay_ms: float, listen: list[int] | None = None) -> Iterator[list[int]]:
    """The latency proxy in its own process: the listening port for each target port (``listen``, or free
    ones)."""
    listen = listen or _free_ports(len(targets))
    pairs = [f"{a}:{b}" for a, b in zip(listen, targets, strict=True)]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "latency_proxy.py"), "--delay-ms", str(delay_ms), *pairs],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # asyncio's notes about connections still open when it is stopped
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield listen
    finally:
        proc.terminate()
        proc.wait(10)


def _proxy_loop() -> str:
    """The latency proxy's event loop: uvloop when installed (the test extras), else asyncio's own, which uses
    more of the measured machine's processor time."""
    try:
        return f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        return "asyncio"


def ensure_sslyze() -> Path | None:
    """sslyze in its own virtual environment (installed from PyPI on first use); None if that fails."""
    binary = SSLYZE_VENV / "bin" / "sslyze"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SSLYZE_VENV)], check=True)
        done = subprocess.run([str(SSLYZE_VENV / "bin" / "pip"), "install", "-q", "sslyze"], check=False)
        if done.returncode != 0:
            return None
    return binary


def _timed(command: list[str], ok: Callable[[int], bool] = lambda rc: True) -> float:
    return _timed_cpu(command, ok)[0]


def _timed_cpu(
    command: list[str], ok: Callable[[int], bool] = lambda rc: True, cwd: Path | None = None
) -> tuple[float, float]:
    """Wall-clock seconds and processor seconds (user and system, the command's children included; POSIX only,
    as this benchmark). A command that has not ended after 600 s is killed (and fails the benchmark)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    limit = threading.Timer(600, process.kill)
    limit.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        limit.cancel()
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if not ok(process.returncode):
        raise RuntimeError(f"{command[0]} exited with {process.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def _harness_cpu() -> float:
    """Processor seconds used so far by this benchmark's own servers (the practice lab, the latency proxy):
    its child processes still running. They share the measured machine with the tool, as a real link and real
    servers would not. POSIX (Linux's /proc) only; 0 elsewhere."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tasks = list(Path(f"/proc/{os.getpid()}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def tools(
    ports: list[int], ca: Path, asked: list[str], baseline: tuple[str, Path] | None = None
) -> dict[str, Callable[[], float | tuple[float, float]]]:
    """Each tool's run over all endpoints, as a function returning seconds, or seconds and processor seconds
    (``asked`` gathers the engine's count of revocation requests); ``baseline`` (a commit and its checkout) adds
    that commit's two commands."""
    urls = [f"https://localhost:{p}/" for p in ports]
    default = [sys.executable, "-m", "app", "check", "--ca-file", str(ca)]
    for url in urls:
        default += ["--url", url]
    skip = ["--skip-java", "--skip-system-tls"]
    ours = [*default, *skip]
    env_ok = {0, 1}  # ready, or problems found (the lab's servers have them)

    def engine(revocation: bool) -> float:
        from app.core.addresses import parse_address
        from app.core.model import CheckSettings, Target
        from app.core.runner import run_checks
        from app.core.tls_contexts import load_trust_file

        anchors = load_trust_file(ca)
        targets = [Target(u, u, parse_address(u), anchors=anchors) for u in urls]
        started = time.perf_counter()
        report = run_checks(targets, CheckSettings(revocation=revocation))
        elapsed = time.perf_counter() - started
        asked.extend(line for line in report.log if "revocation:" in line and "requests" in line)
        return elapsed

    def engine_on() -> float:
        return engine(revocation=True)

    def engine_off() -> float:
        return engine(revocation=False)

    found: dict[str, Callable[[], float | tuple[float, float]]] = {
        "tls-readiness (default command)": lambda: _timed_cpu(default, lambda rc: rc in env_ok),
        "tls-readiness (command)": lambda: _timed_cpu(ours, lambda rc: rc in env_ok),
        "tls-readiness (engine)": engine_on,
        "tls-readiness (engine, revocation off)": engine_off,
    }
    if baseline is not None:  # the same commands from an older commit's checkout (python -m app imports it)
        commit, tree = baseline
        found[f"tls-readiness (default command, {commit})"] = lambda: _timed_cpu(default, lambda rc: rc in env_ok, tree)
        found[f"tls-readiness (command, {commit})"] = lambda: _timed_cpu(ours, lambda rc: rc in env_ok, tree)
    if FROZEN.exists():  # what the .deb and the Windows installer put on a computer: the same commands, frozen
        frozen = [str(FROZEN), *default[3:]]
        found["tls-readiness (default command, frozen)"] = lambda: _timed_cpu(frozen, lambda rc: rc in env_ok)
        found["tls-readiness (command, frozen)"] = lambda: _timed_cpu([*frozen, *skip], lambda rc: rc in env_ok)
    sslyze = ensure_sslyze()
    if sslyze:
        command = [str(sslyze), "--quiet", "--certinfo", "--certinfo_ca_file", str(ca), "--sslv2", "--sslv3"]
        command += ["--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", *(f"localhost:{p}" for p in ports)]
        found["sslyze"] = lambda: _timed(command)
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if testssl:
        commands = [
            [testssl, "--protocols", "--quiet", "--color", "0", "--warnings", "off", "--ip", "one", f"localhost:{p}"]
            for p in ports
        ]
        found["testssl.sh --protocols"] = lambda: _all_at_once([[c] for c in commands])
    openssl = shutil.which("openssl")
    if openssl:

        def one_endpoint(port: int) -> list[list[str]]:
            return [
                [
                    openssl,
                    "s_client",
                    "-connect",
                    f"localhost:{port}",
                    "-servername",
                    "localhost",
                    "-CAfile",
                    str(ca),
                    version,
                ]
                for version in ("-tls1_3", "-tls1_2", "-tls1_1", "-tls1")
            ]

        found["openssl s_client (4 versions)"] = lambda: _all_at_once([one_endpoint(p) for p in ports])
    return found


def _all_at_once(sequences: list[list[list[str]]]) -> float:
    """Run the sequences at once (the commands of one sequence one after another) and time them all."""

    def run(sequence: list[list[str]]) -> None:
        for command in sequence:
            subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=600,
                check=False,
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(len(sequences)) as pool:
        list(pool.map(run, sequences))
    return time.perf_counter() - started


def measure(runs: int, delay_ms: float, baseline: tuple[str, Path] | None = None) -> dict[str, object]:
    """Median seconds per tool, with no added latency and behind the latency proxy (``baseline``: see tools)."""
    results: dict[str, object] = {"endpoints": len(SCENARIOS), "delay_ms": delay_ms, "runs": runs}
    [authority] = _free_ports(1)  # the proxy's port for the lab's authority, named in the lab's certificates
    asked: list[str] = []
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], check=True)
    with (
        tempfile.TemporaryDirectory(prefix="tlsrc-bench-") as work,
        practice_lab(Path(work), f"http://127.0.0.1:{authority}") as lab,
    ):
        ca = Path(work) / "practice-ca.pem"
        targets = [lab[s] for s in SCENARIOS]
        for label, delay in (("loopback", 0.0), ("latency", delay_ms)):
            listen = [*_free_ports(len(targets)), authority]
            with latency_proxy([*targets, lab[AUTHORITY]], delay, listen) as proxied:
                ports = proxied[:-1]
                runners = tools(ports, ca, asked, baseline)
                if label == "loopback":  # untimed: makes the Java probe's class archive, as a first check does
                    for first in [name for name in runners if name.startswith("tls-readiness (default command")]:
                        runners[first]()
                times: dict[str, list[float]] = {name: [] for name in runners}
                cpu: dict[str, list[float]] = {name: [] for name in runners}
                harness: dict[str, list[float]] = {name: [] for name in runners}
                for _ in range(runs):
                    for name, run in runners.items():
                        before = _harness_cpu()
                        measured = run()
                        harness[name].append(_harness_cpu() - before)
                        if isinstance(measured, tuple):
                            cpu[name].append(measured[1])
                            measured = measured[0]
                        times[name].append(measured)
                results[label] = {
                    name: {
                        "median_s": round(statistics.median(t), 3),
                        "all_s": [round(x, 3) for x in t],
                        **({"median_cpu_s": round(statistics.median(cpu[name]), 3)} if cpu[name] else {}),
                        # the servers' and the proxy's processor time during the tool's run
                        "median_harness_cpu_s": round(statistics.median(harness[name]), 3),
                    }
                    for name, t in times.items()
                }
    results["cores"] = os.cpu_count() or 1
    # The practice run, as a person starts it (the lab inside the program; revocation answered by its authority).
    practice = [sys.executable, "-m", "app", "check", "--env", "practice"]
    taken = [_timed(practice, lambda rc: rc in (0, 1)) for _ in range(runs)]
    results["practice_s"] = {"median_s": round(statistics.median(taken), 3), "all_s": [round(x, 3) for x in taken]}
    results["lower_bound_s"] = round(ROUND_TRIPS * 2 * delay_ms / 1000, 3)
    results["revocation_requests"] = sorted(set(asked))  # the engine's own count, per run
    results["revocation_servers"] = 1  # the lab's authority: its OCSP answers and its list
    versions = {"python": sys.version.split()[0], "latency proxy loop": _proxy_loop()}
    sslyze = SSLYZE_VENV / "bin" / "pip"
    if sslyze.exists():
        shown = subprocess.run([str(sslyze), "show", "sslyze"], capture_output=True, text=True, check=False).stdout
        versions["sslyze"] = next((line.split()[1] for line in shown.splitlines() if line.startswith("Version")), "")
    for tool, args in (("testssl", ["--version"]), ("openssl", ["version"])):
        path = shutil.which(tool)
        if path:
            out = subprocess.run([path, *args], capture_output=True, text=True, check=False).stdout
            versions[tool] = next(
                (line.strip() for line in out.splitlines() if "testssl" in line or "OpenSSL" in line), ""
            )
    results["versions"] = versions
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(json.dumps(measure(args.runs, args.delay_ms), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
