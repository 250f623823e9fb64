"""The benchmark: measures everything docs/PERFORMANCE.md reports, and writes it there and to bench/results.json.

    .venv/bin/python bench/run.py [--quick] [--build] [--only startup,sizes,...]

Sections: environment (bench/environment.py: this program against sslyze, testssl.sh and openssl s_client behind
a latency proxy), window (bench/window.py: GUI stalls and Cancel), startup (bench/startup.py), scale
(bench/scale.py: 25 to 200 endpoints), sizes (bench/sizes.py), fuzz (the long hypothesis run). ``--build``
first builds the release installers (about a minute), so the sizes are those of what is shipped; without it,
whatever is in dist/ is measured. ``--quick`` takes fewer runs (for trying the command, not for the record).
``--baseline COMMIT`` also measures that commit's window and its two check commands, in the same run.
Only loopback is used; nothing leaves the computer (sslyze is installed from PyPI on first use).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "PERFORMANCE.md"
MB = 1e6
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # testssl.sh colours its version line


@dataclass
class Section:
    """One part of the report: table rows (what, measured, target, verdict) and a method paragraph."""

    title: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    method: str = ""
    data: dict[str, object] = field(default_factory=dict)


def verdict(met: bool | None, reason: str = "") -> str:
    if met is None:
        return "not measured" + (f": {reason}" if reason else "")
    return "met" if met else "**not met**" + (f": {reason}" if reason else "")


def startup(quick: bool) -> Section:
    import startup as bench_startup

    data = bench_startup.measure(3 if quick else 11)
    section = Section("Start-up", data=data)
    for name in ("source", "frozen"):
        figures = data.get(name)
        if not isinstance(figures, dict):
            section.rows.append((f"Launch to window shown, {name}", "not built", "", verdict(None, "run --build")))
            continue
        target = "0.5 s" if name == "frozen" else ""
        met = figures["median_s"] <= 0.5 if name == "frozen" else None
        section.rows.append(
            (
                f"Launch to window shown, {name}",
                f"{figures['median_s']:.2f} s median, {figures['worst_s']:.2f} s worst; first (cold) "
                f"{figures['first_s']:.2f} s",
                target,
                verdict(met) if name == "frozen" else "",
            )
        )
    section.method = (
        f"The program is launched {data['source']['runs'] if isinstance(data['source'], dict) else ''} times "
        f"with the practice environment chosen, on Qt's `{data['platform']}` platform"
        + (" (a real X window on Xvfb)" if data["platform"] == "xcb" else "")
        + "; it writes the wall-clock time of the window's first paint into the file named by "
        "`TLS_READINESS_STARTUP_MARK` and quits. Start-up is the time from just before the launch to that mark. "
        "The first launch is reported apart (cold file cache); median and worst are of the others. Settings and "
        "logs go to a temporary folder."
    )
    return section


def sizes(build: bool) -> Section:
    import sizes as bench_sizes

    if build:
        bench_sizes.build()
    data = bench_sizes.measure()
    section = Section("Sizes", data=data)
    folder = data.get("folder")
    if not isinstance(folder, int):
        section.rows.append(("One-folder build", "not built", "110 MB", verdict(None, "run with --build")))
        return section
    largest = data["largest"]
    assert isinstance(largest, list)
    icu = next((p["bytes"] for p in largest if "icudata" in p["file"]), 0)
    section.rows.append(
        (
            "One-folder build (Linux x86_64)",
            f"{folder / MB:.1f} MB ({folder / 2**20:.1f} MiB), {data['folder_files']} files",
            "110 MB",
            verdict(
                folder <= 110 * MB,
                f"{icu / MB:.0f} MB of it is the ICU data library that Qt for Linux needs (the PySide6 Windows "
                "wheel's Qt Core carries no ICU); "
                "without it the folder is "
                f"{(folder - icu) / MB:.0f} MB",
            ),
        )
    )
    deb = data.get("deb")
    if isinstance(deb, dict):
        release = deb["compression"] == "data.tar.xz"
        section.rows.append(
            (
                ".deb installer" + ("" if release else f" ({deb['compression']}, a CI build, not the release)"),
                f"{deb['bytes'] / MB:.1f} MB",
                "35 MB",
                verdict(deb["bytes"] <= 35 * MB) if release else verdict(None, "rebuild with --build"),
            )
        )
    if "tar_gz" in data:
        size = data["tar_gz"]
        assert isinstance(size, int)
        section.rows.append((".tar.gz (gzip -9)", f"{size / MB:.1f} MB", "", "gzip cannot reach xz's ratio"))
    if "nsis_from_linux_folder" in data:
        size = data["nsis_from_linux_folder"]
        assert isinstance(size, int)
        section.rows.append(
            ("NSIS installer, LZMA, made from the Linux folder", f"{size / MB:.1f} MB", "35 MB", "estimate")
        )
    parts = ", ".join(f"{Path(p['file']).name} {p['bytes'] / MB:.1f} MB" for p in largest[:5])
    section.method = (
        "Sizes are of `installers/build` output in `dist/`: the folder's regular files (symbolic links not "
        f"counted twice). Largest parts: {parts}. The NSIS figure compiles the Windows script over the Linux "
        "folder, so it is an estimate of the Windows installer; the real one is built by the release workflow."
    )
    return section


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """A temporary checkout of ``commit``, its Java probe compiled and its modules compiled: the machine's noise
    changes from hour to hour, so a comparison with older code is made side by side, in the same run."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tlsrc-baseline-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), commit], cwd=ROOT, check=True)
        try:
            subprocess.run([str(tree / "installers" / "compile-probe")], check=True)
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "app")], check=True)
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def baseline_window(commit: str, runs: int) -> dict[str, object]:
    """bench/window.py --lab-process on the program of ``commit``, in this run."""
    with checkout(commit) as tree:
        command = [sys.executable, str(ROOT / "bench" / "window.py"), "--runs", str(runs), "--lab-process"]
        shown = subprocess.run(
            [*command, "--tree", str(tree)], cwd=tree, capture_output=True, text=True, check=True
        ).stdout
    data: dict[str, object] = json.loads(shown)
    return data


def window(quick: bool, baseline: str = "") -> Section:
    import window as bench_window

    runs = 3 if quick else 10
    remote = bench_window.measure(runs, lab_process=True)
    inside = bench_window.measure(runs, lab_process=False)
    before = baseline_window(baseline, runs) if baseline else None
    section = Section("The window", data={"servers_in_another_process": remote, "practice_lab_inside": inside})
    if before is not None:
        section.data["baseline"] = {"commit": baseline, **before}
    for label, data in (
        ("servers in another process, as real ones", remote),
        ("practice lab inside the program", inside),
    ):
        stalls = data["stall_ms"]
        assert isinstance(stalls, list)
        worst = max(stalls)
        section.rows.append(
            (
                f"Longest GUI-thread stall during a full run ({label})",
                f"{worst} ms worst of {data['runs']} runs, {statistics.median(stalls)} ms median of runs; "
                f"99 % of frames within {data['gap_ms_p99']} ms",
                "16 ms",
                verdict(worst <= 16, "" if worst <= 16 else "see The window below"),
            )
        )
    stopped = remote["cancel_stopped_ms"] + inside["cancel_stopped_ms"]  # type: ignore[operator]
    shown = remote["cancel_shown_ms"] + inside["cancel_shown_ms"]  # type: ignore[operator]
    assert isinstance(stopped, list) and isinstance(shown, list)
    section.rows.append(
        (
            "Cancel latency (until every check has stopped)",
            f"{statistics.median(stopped):.0f} ms median, {max(stopped):.0f} ms worst; the window shows the "
            f"final state within {max(shown):.0f} ms",
            "200 ms",
            verdict(max(stopped) <= 200),
        )
    )
    p99 = max(float(remote["gap_ms_p99"]), float(inside["gap_ms_p99"]))  # type: ignore[arg-type]
    frames = "within one frame" if p99 <= 16 else f"within {p99:g} ms"
    section.method = (
        "`bench/window.py`: the real window (offscreen) checks 23 addresses (the practice scenarios, with the "
        "Java and system-TLS probes) while a 5 ms timer ticks on the GUI thread; a stall is the longest gap "
        "between two ticks (an idle thread shows 5 ms). It runs twice: with the practice servers in another "
        "process (`--lab-process`, the case of real servers) and with the practice lab inside the program "
        "(what the Practice environment does), where the servers' own work competes for the same interpreter. "
        "Cancel is pressed at staggered moments during runs with a 30 s time limit. Longest stall of each run "
        f"(ms): servers in another process {remote['stall_ms']}; practice lab inside {inside['stall_ms']}.\n\n"
        "**Why the 16 ms target is not met.** Results are applied a frame at a time (8 ms of work at most), the "
        "result column no longer re-measures every row on each change (that alone removed most of the long "
        f"stalls), and nothing is redrawn twice; 99 % of frames arrive {frames} (the table says how fast). "
        "The remaining longer stalls, in the list above, come from the interpreter lock: PySide releases it "
        "around every Qt call, and each time the GUI thread wants it back it can wait behind the 16 checking "
        "threads (a 1 ms switch interval each time). A smaller switch interval did not help measurably (tried "
        "0.2 and 0.5 ms). The cure is to run the checks in a separate process that sends its events to the "
        "window; that is a larger change, left for a later issue."
    )
    if before is not None:
        stalls = before["stall_ms"]
        assert isinstance(stalls, list)
        section.method += (
            f"\n\nThe same measure (servers in another process) on commit {baseline}, in this run after the "
            f"others: longest stall of each run (ms) {stalls}, {statistics.median(stalls)} ms median of runs, 99 % "
            f"of frames within {before['gap_ms_p99']} ms; the window showed a cancelled check's final state within "
            f"{max(before['cancel_shown_ms']):.0f} ms."  # type: ignore[call-overload]
        )
    return section


def environment(quick: bool, baseline: str = "") -> Section:
    import environment as bench_environment

    if baseline:
        with checkout(baseline) as tree:
            data = bench_environment.measure(1 if quick else 3, 50.0, (baseline, tree))
    else:
        data = bench_environment.measure(1 if quick else 3, 50.0)
    section = Section("Environment check time", data=data)
    latency = data["latency"]
    loopback = data["loopback"]
    assert isinstance(latency, dict) and isinstance(loopback, dict)
    bound = float(data["lower_bound_s"])  # type: ignore[arg-type]
    engine = latency["tls-readiness (engine)"]["median_s"]
    command = latency["tls-readiness (command)"]["median_s"]
    default = latency["tls-readiness (default command)"]["median_s"]
    section.rows.append(
        (
            "Check of 8 endpoints, 100 ms round trip: tls-readiness check with its defaults (Java and curl on)",
            f"{default:.2f} s; {default / bound:.2f}x the lower bound; {default - command:+.2f} s beside the same "
            "command with --skip-java --skip-system-tls",
            "within 2.5x of the bound, and at most 0.25 s more",
            verdict(default <= 2.5 * bound and default - command <= 0.25),
        )
    )
    if baseline:
        before = latency[f"tls-readiness (default command, {baseline})"]["median_s"]
        before_command = latency[f"tls-readiness (command, {baseline})"]["median_s"]
        section.rows.append(
            (
                f"Same check, commit {baseline}'s program with its defaults, in this run",
                f"{before:.2f} s ({before / bound:.2f}x the bound); {before - before_command:+.2f} s beside it with "
                f"--skip-java --skip-system-tls ({before_command:.2f} s)",
                "",
                "",
            )
        )
    frozen = latency.get("tls-readiness (default command, frozen)")
    if isinstance(frozen, dict):
        frozen_command = latency["tls-readiness (command, frozen)"]["median_s"]
        section.rows.append(
            (
                "Same check, the installed (frozen) program with its defaults",
                f"{frozen['median_s']:.2f} s; {frozen['median_s'] / bound:.2f}x the lower bound; "
                f"{frozen['median_s'] - frozen_command:+.2f} s beside it with --skip-java --skip-system-tls "
                f"({frozen_command:.2f} s)",
                "within 2.5x of the bound, and at most 0.25 s more",
                verdict(frozen["median_s"] <= 2.5 * bound and frozen["median_s"] - frozen_command <= 0.25),
            )
        )
    section.rows.append(
        (
            "Check of 8 endpoints, 100 ms round trip: this program's engine",
            f"{engine:.2f} s; lower bound {bound:.2f} s (3 round trips), ratio {engine / bound:.2f}",
            "within 2x of the bound",
            verdict(engine <= 2 * bound),
        )
    )
    off = latency["tls-readiness (engine, revocation off)"]["median_s"]
    servers = int(data["revocation_servers"])  # type: ignore[call-overload]
    round_trip = 2 * float(data["delay_ms"]) / 1000  # type: ignore[arg-type]
    asked = "; ".join(sorted({str(line).split("revocation: ", 1)[-1] for line in data["revocation_requests"]}))  # type: ignore[attr-defined]
    section.rows.append(
        (
            "Check of 8 endpoints, 100 ms round trip: what the revocation step adds (engine, on less off)",
            f"{engine - off:+.2f} s ({engine:.2f} s against {off:.2f} s); {servers} revocation server, {asked}",
            f"at most one round trip ({round_trip:.2f} s) per distinct revocation server",
            verdict(engine - off <= round_trip * servers),
        )
    )
    practice = data["practice_s"]
    assert isinstance(practice, dict)
    section.rows.append(
        (
            "Practice run: tls-readiness check --env practice, its defaults (revocation on)",
            f"{practice['median_s']:.2f} s median of {len(practice['all_s'])}",
            "a few seconds",
            verdict(practice["median_s"] <= 5),
        )
    )
    for name, figures in latency.items():
        shown_above = ("frozen)", *([f"{baseline})"] if baseline else []))
        if name in ("tls-readiness (engine)", "tls-readiness (default command)") or name.endswith(shown_above):
            continue
        ratio = figures["median_s"] / command
        target, met = ("5x slower than us", ratio >= 5) if name == "sslyze" else ("", None)
        section.rows.append(
            (
                f"Same check, {name}",
                f"{figures['median_s']:.2f} s"
                + ("" if name.startswith("tls-readiness") else f" ({ratio:.1f}x this program's command)"),
                target,
                verdict(met) if met is not None else "",
            )
        )
    table = ["| Tool | Loopback | 100 ms round trip |", "|---|---|---|"]
    for name in latency:
        table.append(f"| {name} | {loopback[name]['median_s']:.2f} s | {latency[name]['median_s']:.2f} s |")
    versions = data["versions"]
    assert isinstance(versions, dict)
    shown_versions = "; ".join(f"{k} {ANSI.sub('', str(v)).strip()}" for k, v in versions.items())
    section.method = (
        f"`bench/environment.py`: {data['endpoints']} practice-lab servers (ready, TLS 1.2 only, legacy too, "
        "expired, wrong name, untrusted, self-signed, expiring soon) run in their own process behind "
        f"`bench/latency_proxy.py`, which delays every byte by {data['delay_ms']:.0f} ms each way. Each tool "
        f"checks all eight, {data['runs']} times, interleaved; medians are shown. This program runs as the "
        "command a person types, with its defaults (`tls-readiness check --url ... --ca-file ...`: Java's and "
        "the system's curl's TLS 1.2 connections too), the same with `--skip-java --skip-system-tls` "
        "(protocol versions, certificate, HTTP answer), and as its engine alone (no interpreter start-up); "
        "the two commands also as the frozen program in `dist/` (what the .deb and the Windows installer put on "
        "a computer, as `installers/build` last made it), where there is one. "
        "sslyze (its own virtual environment) checks SSL 2 to TLS 1.3 and the certificate, all targets in one "
        "command; testssl.sh `--protocols` runs eight processes at once; openssl s_client makes TLS 1.3, 1.2, "
        "1.1 and 1.0 handshakes one after another per endpoint, the endpoints at once (it checks less: no "
        "HTTP, no certificate report). The lower bound: a TLS 1.2 handshake (2 round trips) and one HTTP "
        "exchange (1) on a connection the proxy accepts at once.\n\n"
        + "\n".join(table)
        + f"\n\nVersions: {shown_versions}."
        + (
            "\n\nThe lab's certificates name its authority (its OCSP responder and its list of withdrawn certificates) "
            "behind the same proxy, so the revocation questions pay the same round trip; what the revocation step adds "
            "is the engine with revocation on less the engine with it off, in the same run. The practice run is "
            "`tls-readiness check --env practice` with its defaults, the lab inside the program (its silent and "
            "no-answer scenarios wait for their 2 s time limit)."
        )
    )
    default_cpu = latency["tls-readiness (default command)"].get("median_cpu_s", 0.0)
    command_cpu = latency["tls-readiness (command)"].get("median_cpu_s", 0.0)
    default_harness = latency["tls-readiness (default command)"].get("median_harness_cpu_s", 0.0)
    command_harness = latency["tls-readiness (command)"].get("median_harness_cpu_s", 0.0)
    cores = int(data.get("cores", os.cpu_count() or 1))  # type: ignore[call-overload]
    floor = (default_cpu + default_harness) / cores
    section.method += (
        f"\n\nProcessor time (user and system, the JVM and curl included), medians behind the latency proxy: the "
        f"default command {default_cpu:.2f} s, the command with --skip-java --skip-system-tls {command_cpu:.2f} s, "
        f"on {cores} cores. The practice servers and the latency proxy, which share those cores, used "
        f"{default_harness:.2f} s and {command_harness:.2f} s during those runs. So this machine cannot run the "
        f"default command in less than ({default_cpu:.2f} + {default_harness:.2f}) / {cores} = **{floor:.2f} s** "
        "even with every core busy all the time"
        + (f": more than 2.5x the bound ({2.5 * bound:.2f} s)." if floor > 2.5 * bound else ".")
    )
    if default > 2.5 * bound or default - command > 0.25:
        section.method += (
            "\n\n**Why the default command's targets are not met.** Without Java and curl the command takes "
            f"{command:.2f} s: its own start (the interpreter, loading the engine, writing the report; the "
            f"command's time less the engine's) {command - engine:.2f} s, and the engine's {engine:.2f} s"
            + (f", already more than 2.5x the bound ({2.5 * bound:.2f} s)" if command > 2.5 * bound else "")
            + f". Java and curl add {default - command:+.2f} s. That is not waiting but work, on a machine that is "
            "busy all the time: the JVM starts before the engine is loaded, runs the probe compiled for Java 8 from "
            "a jar, maps the classes an earlier run saved (class data sharing), warms its cryptography up before "
            "the first address comes, and Java's handshake to an address starts as soon as that address's "
            "connection is open, beside this program's own; the process ends without the interpreter's teardown. "
            f"The JVM and curl cost {default_cpu - command_cpu:.2f} processor-seconds more (the JVM alone, given "
            "the 8 addresses, uses about 0.75: its start, Java's TLS code, 8 handshakes; one curl process asks all "
            "8), and the machine's floor above is that work shared out perfectly. Timelines measured by hand "
            "(2026-12-02): the JVM reaches its first instruction 0.17 s after it is started and is ready for "
            "addresses 0.44 s later, while Python loads the engine on the other core; its answers come 0.35 to 0.55 "
            "s after it reads the addresses, against 0.18 to 0.29 s when it runs alone. Tried, with no difference "
            "beyond the noise: the JVM at the same priority as this program (nice 0 and 5 instead of 10), without "
            "its warm-up, with its compile thresholds scaled from 0.5x to 10x, with a static class archive instead "
            "of the dynamic one, with smaller stacks and code cache."
        )
    return section


def scale(quick: bool) -> Section:
    import scale as bench_scale

    counts = [25, 50] if quick else [25, 50, 100, 200]
    data = bench_scale.measure(counts, 50.0)
    rows = data["rows"]
    assert isinstance(rows, list)
    last = rows[-1]
    section = Section("Scale", data=data)
    section.rows.append(
        (
            f"Peak memory, {last['endpoints']} endpoints",
            f"{last['peak_bytes'] / MB:.0f} MB",
            "150 MB",
            verdict(last["peak_bytes"] <= 150 * MB),
        )
    )
    section.rows.append(
        (
            f"Time, {rows[0]['endpoints']} to {last['endpoints']} endpoints",
            f"{rows[0]['seconds']:.2f} s to {last['seconds']:.2f} s (x{last['time_ratio']}); endpoints / 16 "
            f"grew x{last['work_ratio']}",
            "no faster than endpoints / 16",
            verdict(last["time_ratio"] <= last["work_ratio"]),
        )
    )
    table = ["| Endpoints | Time | Peak memory | Time ratio | Endpoints / 16 ratio |", "|---|---|---|---|---|"]
    for row in rows:
        table.append(
            f"| {row['endpoints']} | {row['seconds']:.2f} s | {row['peak_bytes'] / MB:.0f} MB | "
            f"x{row['time_ratio']} | x{row['work_ratio']} |"
        )
    section.method = (
        "`bench/scale.py`: healthy TLS servers, one per endpoint, in their own process behind the latency proxy "
        "(100 ms round trip); one `tls-readiness check` of the first 25, 50, 100 and 200 of them, the command a "
        "person runs. Peak memory is the command's maximum resident set size, read with `wait4` by a small helper "
        "process that starts it (Linux would otherwise count the benchmark's own memory, which forked it). The "
        "engine checks 16 "
        "endpoints at once, so time should grow no faster than endpoints / 16 (rounded up).\n\n" + "\n".join(table)
    )
    return section


def fuzz(quick: bool) -> Section:
    examples = 200 if quick else 10_000
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_fuzz.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
        ],
        cwd=ROOT,
        env={**os.environ, "TLS_READINESS_FUZZ_EXAMPLES": str(examples)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    counts: dict[str, int] = {}
    current = ""
    for line in done.stdout.splitlines():
        match = re.match(r"tests/test_fuzz.py::(\w+):", line.strip())
        if match:
            current = match.group(1)
        found = re.search(r"(\d+) passing(?: examples)?,", line)
        if found and current:
            counts[current] = counts.get(current, 0) + int(found.group(1))
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no output"
    section = Section(
        "Fuzzing",
        data={
            "examples_asked": examples,
            "passing_examples": counts,
            "seconds": elapsed,
            "summary": summary,
            "exit": done.returncode,
        },
    )
    fewest = min(counts.values()) if counts else 0
    section.rows.append(
        (
            f"Fuzz run, {len(counts)} properties",
            f"{sum(counts.values()):,} examples in {elapsed:.0f} s, fewest for one property {fewest:,}; {summary}",
            "10,000 each, all passing",
            verdict(done.returncode == 0 and fewest >= 10_000 if not quick else None, "a quick run"),
        )
    )
    table = ["| Property | Passing examples |", "|---|---|"] + [f"| `{k}` | {v:,} |" for k, v in counts.items()]
    section.method = (
        "`tests/test_fuzz.py` with hypothesis: address parsing, catalog files (random, mutated and with fields "
        "of every type), certificate files (random, truncated and mutated DER, PEM and PKCS#12, as client "
        "certificate and as extra trust), support codes (round trip, every single-character typo caught, any "
        "text). CI runs 100 examples per property; this long run is `TLS_READINESS_FUZZ_EXAMPLES=10000 "
        ".venv/bin/python -m pytest tests/test_fuzz.py`. The counts are hypothesis's own statistics (examples "
        "that passed, over its phases). The long runs found four faults, now fixed and kept as tests: an "
        "address with a password in it was echoed back in an error message; a password holding a NUL character "
        "made the certificate library panic; certificates with damaged keys raised instead of being reported; "
        "a certificate with a non-positive serial number raised a warning as an error.\n\n" + "\n".join(table)
    )
    return section


def machine() -> dict[str, str]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "system": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


INTRO = """# Performance

Every figure below was measured by one command, on the machine and the date given, and is rewritten each time
it runs:

```sh
.venv/bin/python bench/run.py --build     # about {minutes} minutes; the raw figures go to bench/results.json
```

The machine is shared and noisy, so comparisons are made within one run, and the targets are checked here, not
in timed unit tests.

- **Machine:** {cpu}; {system}; Python {python}; {openssl}
- **Written:** {date}; commit {commit}. `--only` measures some sections again and keeps the others: each
  section says when it was measured.
"""


def write_report(sections: list[Section], facts: dict[str, str], minutes: int) -> str:
    lines = [INTRO.format(minutes=minutes, **facts)]
    lines.append("| Measure | Measured | Target | |\n|---|---|---|---|")
    lines += [f"| {a} | {b} | {c} | {d} |" for s in sections for a, b, c, d in s.rows]
    for s in sections:
        when = s.data.get("measured")
        stamp = f"*Measured {when['date']}, commit {when['commit']}.*\n\n" if isinstance(when, dict) else ""
        lines.append(f"\n## {s.title}\n\n{stamp}{s.method}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (not for the record)")
    parser.add_argument("--build", action="store_true", help="build the release installers first")
    parser.add_argument("--only", default="", help="comma-separated sections to run (the report keeps the others)")
    parser.add_argument(
        "--baseline", default="", help="also measure the window and the commands on this commit, in the same run"
    )
    args = parser.parse_args()
    runners: dict[str, Callable[[], Section]] = {
        "environment": lambda: environment(args.quick, args.baseline),
        "window": lambda: window(args.quick, args.baseline),
        "startup": lambda: startup(args.quick),
        "scale": lambda: scale(args.quick),
        "sizes": lambda: sizes(args.build),
        "fuzz": lambda: fuzz(args.quick),
    }
    chosen = [name for name in args.only.split(",") if name] or list(runners)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored: dict[str, dict[str, object]] = previous.get("sections", {})
    before = previous.get("machine", {})
    for kept in stored.values():  # sections measured before sections had their own date: the file's date
        data = kept.get("data")
        if isinstance(data, dict) and "measured" not in data and before:
            data["measured"] = {"date": before.get("date", "?"), "commit": before.get("commit", "?")}
    for name in chosen:
        print(f"bench: {name}...", flush=True)
        s = runners[name]()
        now = machine()
        s.data["measured"] = {"date": now["date"], "commit": now["commit"]}
        stored[name] = {"title": s.title, "rows": s.rows, "method": s.method, "data": s.data}
    sections = [
        Section(str(v["title"]), [tuple(r) for r in v["rows"]], str(v["method"]), dict(v["data"]))  # type: ignore[attr-defined, call-overload]
        for k, v in stored.items()
        if k in runners
    ]
    sections.sort(key=lambda s: list(runners).index(next(k for k, v in stored.items() if v["title"] == s.title)))
    facts = machine()
    RESULTS.write_text(json.dumps({"machine": facts, "sections": stored}, indent=1) + "\n")
    REPORT.write_text(write_report(sections, facts, minutes=15))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
