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
import time
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from app import APP_NAME
from app.core.processes import WINDOWLESS
from app.core.resources import resource_path

PROBE = "java/Probe.java"
PROBE_CLASSES = "java/classes"  # Probe.class and its inner classes, class file version 52 (Java 8), and ...
PROBE_JAR = "probe.jar"  # ... the same classes in one file, which is what the JVM runs (class data sharing needs a jar)
EXE = "java.exe" if sys.platform == "win32" else "java"
SHARING_FROM = 13  # the first Java that saves the classes a run loaded for later runs (-XX:ArchiveClassesAtExit)
SAVE_WAIT = 3.0  # seconds a JVM saving its classes may take to end by itself (about 0.7 s here), once per Java
UNUSED_DAYS = 30

_early: tuple[str, subprocess.Popen[str]] | None = None  # (the java program, its process), until taken
_saving: dict[int, tuple[Path, Path]] = {}  # a JVM saving its classes: its process id -> (its part file, the archive)


def major_version(version: str) -> int:
    """7 for ``1.7.0_80``, 17 for ``17.0.15``; 0 when unknown."""
    parts = re.findall(r"\d+", version)
    if not parts:
        return 0
    first = int(parts[0])
    return int(parts[1]) if first == 1 and len(parts) > 1 else first


def release_version(java: str) -> str:
    """The version a JDK or JRE (7 and newer) names in its ``release`` file, without starting it; "" if none."""
    return _release_field(_release_text(java), "JAVA_VERSION")


def _release_text(java: str) -> str:
    """The ``release`` file of the JDK or JRE ``java`` belongs to; "" if none."""
    try:
        return (Path(os.path.realpath(java)).parent.parent / "release").read_text(errors="replace")
    except OSError:
        return ""


def _release_field(text: str, name: str) -> str:
    match = re.search(rf'^{name}="([^"]+)"', text, re.MULTILINE)
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
    complete = (folder / "Probe.class").is_file() and (folder / PROBE_JAR).is_file()
    return folder if made_from == source and complete else None


def probe_minimum() -> int:
    """The oldest Java that can run the probe here: 8 with the compiled classes, 11 with only the source."""
    return 8 if compiled_probe() is not None else 11


def probe_command(java: str, sharing: Sequence[str] = ()) -> list[str]:
    """How to start the probe on the ``java`` program: from its classes when shipped, else from the source;
    ``sharing`` are the class data sharing options (:func:`class_sharing`)."""
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
        return [*options, *sharing, "-cp", str(classes / PROBE_JAR), "Probe"]
    return [*options, str(resource_path(PROBE))]


def cache_folder() -> Path:
    """The per-user folder for what the program can make again (``TLS_READINESS_CACHE_DIR`` overrides it)."""
    override = os.environ.get("TLS_READINESS_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def class_sharing(java: str) -> tuple[list[str], tuple[Path, Path] | None]:
    """Class data sharing for the probe on ``java`` (HotSpot Java 13 and newer, with the compiled probe). Each
    JVM otherwise reads, checks and sets up again some 800 classes (Java's TLS code, mostly) that its own archive
    does not hold: mapping an archive that an earlier run saved takes 0.1 s of the JVM's processor time off each
    run. Returns the options that map this Java's archive, or, when it has none yet, the options that have this
    run save one, with (the part file it writes, the archive it becomes once the JVM has ended well)."""
    classes = compiled_probe()
    home = Path(os.path.realpath(java)).parent.parent
    text = _release_text(java)
    release = _release_field(text, "JAVA_VERSION")
    # Eclipse OpenJ9 (IBM Semeru) has a class cache of its own and other options: its release file says so.
    if (
        classes is None
        or major_version(release) < SHARING_FROM
        or _release_field(text, "JVM_VARIANT").lower() == "openj9"
    ):
        return [], None
    jar = classes / PROBE_JAR
    # A JVM maps an archive only beside the very jar and the very JVM it was made by: each copy of the program
    # has its own archive for each Java, made again when the jar, the JVM or the JVM's own archive changes.
    made_by = [jar, *(home / part for part in _JVM_PARTS)]
    stamps = [_stamp(f) for f in made_by]
    if stamps[0] == "-":
        return [], None
    which = hashlib.sha256(f"{os.path.realpath(java)}\n{os.path.realpath(jar)}".encode()).hexdigest()[:10]
    version = hashlib.sha256("\n".join([release, *stamps]).encode()).hexdigest()[:10]
    folder = cache_folder() / "java"
    archive = folder / f"probe-{which}-{version}.jsa"
    if not str(archive).isascii():
        return [], None  # a JVM cannot open every path Windows can (a user folder's name in another script)
    quiet = "-Xlog:disable"  # a JVM's notes about archives go to its standard output, where the probe answers
    if _is_archive(archive):
        with contextlib.suppress(OSError):
            os.utime(archive)  # last used now: archives unused for a month are removed (_keep_archive)
        # Where the JVM cannot map it after all, it runs without any archive, its own too (slower, still right).
        return [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto", quiet], None
    try:
        _remove(archive)  # damaged (cut short, overwritten): made again
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return [], None
    part = folder / f"probe-{which}-{version}-{os.getpid()}.part"
    return [f"-XX:ArchiveClassesAtExit={part}", quiet], (part, archive)


# The JVM itself and its own class archive (Windows, then Linux and macOS): the key of the probe's archive.
_JVM_PARTS = ("bin/server/jvm.dll", "lib/server/libjvm.so", "lib/server/libjvm.dylib", "lib/server/classes.jsa")
_DYNAMIC_ARCHIVE = 0xF00BABA8  # the first four bytes of a HotSpot archive made at a run's exit (in the JVM's order)


def _stamp(path: Path) -> str:
    """A file's size and time, or "-" when there is none."""
    try:
        made = path.stat()
    except OSError:
        return "-"
    return f"{made.st_size}:{made.st_mtime_ns}"


def _is_archive(path: Path) -> bool:
    """Is ``path`` an archive a JVM saved (and not a file cut short or overwritten)?"""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and int.from_bytes(head, sys.byteorder) == _DYNAMIC_ARCHIVE


def _remove(path: Path) -> None:
    """Remove a file the JVM made read-only (which Windows will not delete as it is)."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o600)
    path.unlink(missing_ok=True)


def start_probe_process(java: str) -> subprocess.Popen[str]:
    """The probe's JVM, at low priority (it starts while this program's own checks run, and must not slow
    them), talking over its standard input and output."""
    # Niced from its first instruction (every JVM thread inherits it; renicing after the start would miss the
    # threads already made), so that its start-up does not slow this program's own.
    nice = shutil.which("nice") if sys.platform != "win32" else None
    sharing, saving = class_sharing(java)
    process = subprocess.Popen(
        [*([nice, "-n", "10"] if nice else []), *probe_command(java, sharing)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
        creationflags=getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0) | WINDOWLESS,
    )
    if not nice and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, 10)
    if saving is not None:
        _saving[process.pid] = saving
    return process


def end_probe(process: subprocess.Popen[str], save: bool) -> None:
    """End a probe's JVM, which has been told ``end``. One saving its classes for later runs (the first run on
    this Java) and told to ``save`` (it was given addresses and has answered them all, so it exits at once) is
    let end by itself, for up to ``SAVE_WAIT`` seconds, as it writes the archive when it exits; the archive is
    kept only from a JVM that ended well. Any other is ended now."""
    saving = _saving.pop(process.pid, None)
    if saving is not None and save:
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            process.wait(SAVE_WAIT)
    with contextlib.suppress(OSError):
        if process.poll() is None:
            process.kill()
    process.wait(10)
    if saving is not None:
        _keep_archive(*saving, kept=save and process.returncode == 0)


def _keep_archive(part: Path, archive: Path, kept: bool) -> None:
    """Put the part file in the archive's place, or remove it. Also removed: this copy's older archives for this
    Java, and any archive not used for ``UNUSED_DAYS`` (a copy of the program, or a Java, that has gone)."""
    try:
        if kept and _is_archive(part):
            os.replace(part, archive)  # whole or not at all, for another copy of the program starting now
        else:
            _remove(part)
            return
    except OSError:  # the archive in use by another copy (Windows), or the folder gone: tried again later
        with contextlib.suppress(OSError):
            _remove(part)
        return
    which = archive.name.split("-")[1]
    unused = time.time() - UNUSED_DAYS * 86400
    for old in archive.parent.glob("probe-*"):
        if old == archive or old.suffix not in (".jsa", ".part"):
            continue
        with contextlib.suppress(OSError):
            if (old.suffix == ".jsa" and old.name.split("-")[1] == which) or old.stat().st_mtime < unused:
                _remove(old)


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
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        end_probe(process, save=False)  # never given an address: nothing worth saving
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
