"""The benchmark: measures everything docs/PERFORMANCE.md reports, and writes it there and to bench/results.json.

    .venv/bin/python bench/run.py [--quick] [--build] [--only startup,sizes,...]

Sections: startup (bench/startup.py), sizes (bench/sizes.py), window (bench/window.py). ``--build`` first
builds the release installers (about a minute), so the sizes are those of what is shipped; without it, whatever
is in dist/ is measured. ``--quick`` takes fewer runs (for trying the command, not for the record). Only
loopback is used; nothing leaves the computer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "PERFORMANCE.md"
MB = 1e6


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
                f"{icu / MB:.0f} MB of it is the ICU data library that Qt for Linux needs (Qt for Windows and "
                "macOS uses the system's text services; the PySide6 Windows wheel has no ICU for Qt Core); "
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


def window(quick: bool) -> Section:
    import window as bench_window

    data = bench_window.measure(3 if quick else 10)
    stalls = data["stall_ms"]
    stopped = data["cancel_stopped_ms"]
    shown = data["cancel_shown_ms"]
    assert isinstance(stalls, list) and isinstance(stopped, list) and isinstance(shown, list)
    worst = max(stalls)
    section = Section("The window", data=data)
    section.rows.append(
        (
            "Longest GUI-thread stall during a full practice run",
            f"{worst} ms worst of {data['runs']} runs, {statistics.median(stalls)} ms median; "
            f"p99 gap {data['gap_ms_p99']} ms",
            "16 ms",
            verdict(worst <= 16, "" if worst <= 16 else "see the note below"),
        )
    )
    section.rows.append(
        (
            "Cancel latency (until every check has stopped)",
            f"{statistics.median(stopped):.0f} ms median, {max(stopped):.0f} ms worst; the window shows the "
            f"final state within {max(shown):.0f} ms",
            "200 ms",
            verdict(max(stopped) <= 200),
        )
    )
    section.method = (
        "`bench/window.py`: the real window (offscreen) checks the whole practice environment (23 addresses, "
        "with the Java and system-TLS probes) while a 5 ms timer ticks on the GUI thread; a stall is the longest "
        "gap between two ticks (so an idle thread shows 5 ms). The practice lab's servers run in the same process, so "
        "they compete for the same two cores: a harder case than real servers. Cancel is pressed at staggered "
        "moments during runs with a 30 s time limit."
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
- **Date:** {date}; commit {commit}
"""


def write_report(sections: list[Section], facts: dict[str, str], minutes: int) -> str:
    lines = [INTRO.format(minutes=minutes, **facts)]
    lines.append("| Measure | Measured | Target | |\n|---|---|---|---|")
    lines += [f"| {a} | {b} | {c} | {d} |" for s in sections for a, b, c, d in s.rows]
    for s in sections:
        lines.append(f"\n## {s.title}\n\n{s.method}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (not for the record)")
    parser.add_argument("--build", action="store_true", help="build the release installers first")
    parser.add_argument("--only", default="", help="comma-separated sections to run (the report keeps the others)")
    args = parser.parse_args()
    runners: dict[str, Callable[[], Section]] = {
        "startup": lambda: startup(args.quick),
        "sizes": lambda: sizes(args.build),
        "window": lambda: window(args.quick),
    }
    chosen = [name for name in args.only.split(",") if name] or list(runners)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored: dict[str, dict[str, object]] = previous.get("sections", {})
    for name in chosen:
        print(f"bench: {name}...", flush=True)
        s = runners[name]()
        stored[name] = {"title": s.title, "rows": s.rows, "method": s.method, "data": s.data}
    sections = [
        Section(str(v["title"]), [tuple(r) for r in v["rows"]], str(v["method"]), dict(v["data"]))  # type: ignore[misc, arg-type, call-overload]
        for k, v in stored.items()
        if k in runners
    ]
    sections.sort(key=lambda s: list(runners).index(next(k for k, v in stored.items() if v["title"] == s.title)))
    facts = machine()
    RESULTS.write_text(json.dumps({"machine": facts, "sections": stored}, indent=1) + "\n")
    REPORT.write_text(write_report(sections, facts, minutes=3))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
