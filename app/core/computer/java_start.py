"""Starting the Java probe's JVM: which command runs it, and starting it early, before the rest of the program
has loaded, so that a JVM's start-up (about 0.3 s) overlaps Python's instead of adding to the check.

Only the standard library and the resource lookup are imported here: ``app.cli.launch`` calls
:func:`start_early` before it imports the engine.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from app.core.resources import resource_path

PROBE = "java/Probe.java"
PROBE_CLASSES = "java/classes"  # Probe.class and its inner classes, class file version 52 (Java 8)
EXE = "java.exe" if sys.platform == "win32" else "java"

_early: tuple[str, subprocess.Popen[str]] | None = None  # (the java program, its process), until taken


def major_version(version: str) -> int:
    """7 for ``1.7.0_80``, 17 for ``17.0.15``; 0 when unknown."""
    parts = re.findall(r"\d+", version)
    if not parts:
        return 0
    first = int(parts[0])
    return int(parts[1]) if first == 1 and len(parts) > 1 else first


def release_version(java: str) -> str:
    """The version a JDK or JRE (7 and newer) names in its ``release`` file, without starting it; "" if none."""
    release = Path(os.path.realpath(java)).parent.parent / "release"
    try:
        match = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(errors="replace"), re.MULTILINE)
    except OSError:
        return ""
    return match.group(1) if match else ""


@functools.cache
def compiled_probe() -> Path | None:
    """The folder of the compiled probe (Java 8 classes), or None when this installation has only the source, or
    classes made from another version of it (installers/compile-probe writes the source's SHA-256 beside them)."""
    folder = resource_path(PROBE_CLASSES)
    try:
        made_from = (folder / "source.sha256").read_text().strip()
        source = hashlib.sha256(resource_path(PROBE).read_bytes()).hexdigest()
    except OSError:
        return None
    return folder if made_from == source and (folder / "Probe.class").is_file() else None


def probe_minimum() -> int:
    """The oldest Java that can run the probe here: 8 with the compiled classes, 11 with only the source."""
    return 8 if compiled_probe() is not None else 11


def probe_command(java: str) -> list[str]:
    """How to start the probe on the ``java`` program: from its classes when shipped, else from the source."""
    classes = compiled_probe()
    # C1 only: the probe runs for a second or two, where the optimizing compiler costs start-up and never pays;
    # one collector thread and one compiler thread, since it starts beside this program's own work.
    options = [
        java,
        "-Djava.net.useSystemProxies=false",
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-XX:CICompilerCount=1",
    ]
    if classes is not None:
        return [*options, "-cp", str(classes), "Probe"]
    return [*options, str(resource_path(PROBE))]


def start_probe_process(java: str) -> subprocess.Popen[str]:
    """The probe's JVM, at low priority (it starts while this program's own checks run, and must not slow
    them), talking over its standard input and output."""
    # Niced from its first instruction (every JVM thread inherits it; renicing after the start would miss the
    # threads already made), so that its start-up does not slow this program's own.
    nice = shutil.which("nice") if sys.platform != "win32" else None
    process = subprocess.Popen(
        [*([nice, "-n", "10"] if nice else []), *probe_command(java)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
        creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0),
    )
    if not nice and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, 10)
    return process


def first_java() -> str | None:
    """The Java a run would try first (JAVA_HOME, then the PATH), when it can run the probe; else None."""
    home = os.environ.get("JAVA_HOME")
    for candidate in ([str(Path(home) / "bin" / EXE)] if home else []) + [shutil.which("java") or ""]:
        if candidate and os.path.isfile(candidate) and major_version(release_version(candidate)) >= probe_minimum():
            return candidate
    return None


def start_early(argv: Sequence[str]) -> None:
    """For ``tls-readiness check`` with Java on: start the probe's JVM now, for the run to take it later."""
    global _early  # noqa: PLW0603 - one early JVM per process, taken by the run
    if not argv or argv[0] != "check" or {"--skip-java", "-h", "--help"} & set(argv):
        return
    java = first_java()
    if java is None:
        return
    try:
        _early = (java, start_probe_process(java))
    except OSError:
        return
    atexit.register(_discard)


def take(java: str) -> subprocess.Popen[str] | None:
    """The JVM started early for this ``java``, if there is one still running; any other is ended."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    path, process = early
    if os.path.realpath(path) == os.path.realpath(java) and process.poll() is None:
        return process
    _end(process)
    return None


def _discard() -> None:
    global _early  # noqa: PLW0603
    if _early is not None:
        _end(_early[1])
        _early = None


def _end(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        process.wait(5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
